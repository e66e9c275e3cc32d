"""``manage.py purge_registrations [--days N] [--dry-run]``: delete registrants' personal data past the
retention period (default ``KEPUYUE_REGISTRATION_RETENTION_DAYS``, 180 days after the activity).
Run it daily (cron: ``30 3 * * *``; Celery beat does it in scale-out)."""

from django.core.management.base import BaseCommand, CommandError

from kepuyue.registrations import services


class Command(BaseCommand):
    help = "删除超过保存期限的报名个人信息（保留人数统计）"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="活动结束后保留的天数（默认取设置）")
        parser.add_argument("--dry-run", action="store_true", help="只统计，不删除")

    def handle(self, *args, days=None, dry_run=False, **options):
        if days is not None and days < 1:
            raise CommandError("--days 至少为 1")
        count = services.purge_personal_data(days=days, dry_run=dry_run)
        verb = "将删除" if dry_run else "已删除"
        self.stdout.write(
            f"{verb} {count} 条报名的个人信息（保存期限 {days or services.retention_days()} 天）"
        )
