"""``manage.py purge_idempotency_keys``: delete stored ``Idempotency-Key`` answers past
``KEPUYUE_API_IDEMPOTENCY_RETENTION_HOURS`` (72). Hourly from cron (Celery beat runs it at :23)."""

from django.core.management.base import BaseCommand

from kepuyue.api.write import purge_idempotency_keys


class Command(BaseCommand):
    help = "删除超过保留期的幂等键记录（每小时运行一次）"

    def handle(self, *args, **options):
        deleted = purge_idempotency_keys()
        self.stdout.write(f"已删除过期幂等键记录 {deleted} 条")
