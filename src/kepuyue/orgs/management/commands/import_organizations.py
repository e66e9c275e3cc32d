"""``manage.py import_organizations FILE [--dry-run]``: import participating units from CSV."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from kepuyue.orgs.services import import_organizations


class Command(BaseCommand):
    help = "从 CSV 导入参与单位（列：name,type,province,city,county,note,source_url）；可重复运行"

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV 文件，例如 data/bases.csv")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入数据库")

    def handle(self, *args, file, dry_run=False, **options):
        try:
            report = import_organizations(file, dry_run=dry_run)
        except FileNotFoundError as exc:
            raise CommandError(f"文件不存在：{file}") from exc
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        prefix = "（试运行，未写入）" if dry_run else ""
        self.stdout.write(
            f"{prefix}参与单位：新建 {report.created}，更新 {report.updated}，未变 {report.unchanged}，"
            f"未导入 {report.skipped}（共 {report.rows} 行）"
        )
        if report.problems:
            self.stdout.write(self.style.WARNING(f"需要注意的行（{len(report.problems)}）："))
            for problem in report.problems:
                value = f"“{problem.value}”" if problem.value else "（空）"
                self.stdout.write(f"  第{problem.row}行 {problem.column} {value}：{problem.reason}")
