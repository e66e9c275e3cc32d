"""``manage.py purge_changes``: delete change-feed rows older than
``KEPUYUE_API_CHANGES_RETENTION_DAYS`` (400) that no reader needs (superseded rows, and deletion
records past the window: a cursor older than them gets a 410 and resyncs). The latest row of a
published activity is kept. Daily from cron (Celery beat runs it at 04:20)."""

from django.core.management.base import BaseCommand

from kepuyue.api.changes import purge


class Command(BaseCommand):
    help = "清理超过保留期的变更流记录（每天运行一次；已发布活动的最新记录始终保留）"

    def handle(self, *args, **options):
        deleted = purge()
        self.stdout.write(f"已清理变更流记录 {deleted} 条")
