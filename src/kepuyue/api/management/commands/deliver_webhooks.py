"""``manage.py deliver_webhooks``: send the webhook deliveries that are due (retries with backoff).
Celery beat runs it every minute in scale-out; the embedded default runs it from cron."""

from django.core.management.base import BaseCommand

from kepuyue.api.webhooks import deliver_due


class Command(BaseCommand):
    help = "发送到期的 Webhook 投递（失败后的重试）"

    def handle(self, *args, **options):
        count = deliver_due()
        self.stdout.write(f"已尝试 {count} 次投递")
