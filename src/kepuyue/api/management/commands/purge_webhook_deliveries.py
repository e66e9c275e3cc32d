"""``manage.py purge_webhook_deliveries``: delete webhook delivery rows (the delivery log) older than
``KEPUYUE_API_WEBHOOK_RETENTION_DAYS`` (30). Daily from cron (Celery beat runs it at 04:10)."""

from django.core.management.base import BaseCommand

from kepuyue.api.webhooks import purge_deliveries


class Command(BaseCommand):
    help = "删除超过保留期的 Webhook 投递记录（每天运行一次）"

    def handle(self, *args, **options):
        deleted = purge_deliveries()
        self.stdout.write(f"已删除过期投递记录 {deleted} 条")
