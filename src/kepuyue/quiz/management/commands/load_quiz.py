"""``manage.py load_quiz data/quiz/bank-2024.yaml data/quiz/rounds-kepuyue-2025.yaml``: load question
banks (``questions:``) and rounds (``rounds:``) in the order given; ``--xlsx`` files from the organizers'
template. Each file is all or nothing; a second load changes nothing."""

from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from kepuyue.quiz.services import bank


class Command(BaseCommand):
    help = "载入科普法答题的题库和轮次（YAML 或 Excel 模板）"

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+")

    def handle(self, *args, files, **options):
        for name in files:
            path = Path(name)
            try:
                if path.suffix.lower() == ".xlsx":
                    with path.open("rb") as handle:
                        saved, problems = bank.import_bank_xlsx(handle)
                    if problems:
                        raise ValidationError(problems)
                else:
                    head = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                    saved = bank.load_rounds(path) if "rounds" in head else bank.load_bank(path)
            except (OSError, yaml.YAMLError) as exc:
                raise CommandError(f"{name}: {exc}") from exc
            except ValidationError as exc:
                raise CommandError(f"{name}:\n" + "\n".join(exc.messages)) from exc
            self.stdout.write(f"{name}: 新增 {saved.created}，更新 {saved.updated}，未变 {saved.unchanged}")
