"""``manage.py load_films [FILE]``: seed the 光影科学梦 film catalogue from the shared list (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from kepuyue.specials import services


class Command(BaseCommand):
    help = "从 data/films_books.md 的“片名去重清单”载入“光影科学梦”片库（可重复运行）"

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default=str(services.FILM_LIST))

    def handle(self, *args, file, **options):
        try:
            counts = services.load_films(file)
        except (OSError, services.ProgrammeError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"片库：新增 {counts['created']}，更新 {counts['updated']}，未变 {counts['unchanged']}"
        )
