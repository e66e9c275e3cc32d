"""``manage.py load_regions [--dir DIR]``: load China's divisions into Region (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from kepuyue.regions.services import RegionDataError, default_directory, load_regions


class Command(BaseCommand):
    help = "加载行政区划（china-division 2.7.0，2023年统计用区划代码及港澳台）；可重复运行"

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=None, help=f"数据目录（默认 {default_directory()}）")

    def handle(self, *args, dir=None, **options):
        try:
            counts = load_regions(dir)
        except RegionDataError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"行政区划：新增 {counts.created}，更新 {counts.updated}，未变 {counts.unchanged}，共 {counts.total}"
        )
        if counts.stale:
            self.stdout.write(
                self.style.WARNING(
                    f"数据库中有 {len(counts.stale)} 个代码已不在数据文件中（保留未删）：{', '.join(counts.stale)}"
                )
            )
