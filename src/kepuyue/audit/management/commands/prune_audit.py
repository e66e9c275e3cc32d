"""``manage.py prune_audit [--days N]``: delete audit entries older than the retention period."""

from django.core.management.base import BaseCommand, CommandError

from kepuyue.audit import services


class Command(BaseCommand):
    help = "删除超过保留期的审计日志（默认 AUDIT_RETENTION_DAYS，至少 180 天）"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="保留天数（不少于 180）")

    def handle(self, *args, days=None, **options):
        try:
            deleted = services.prune(days=days)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已删除 {deleted} 条超过保留期的审计日志")
