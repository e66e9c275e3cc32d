"""``manage.py registrations_tick``: expire waitlist offers not confirmed in time (their places go to
the next in line), send the day-before reminders and the ticket e-mails due in the outbox (decision
0031: left by a killed server, or retries). Idempotent; run it every 5 minutes from cron in
the embedded default (Celery beat does it in scale-out)."""

from django.core.management.base import BaseCommand

from kepuyue.registrations import services
from kepuyue.registrations.services import outbox


class Command(BaseCommand):
    help = "处理过期的候补递补，并发送活动前一天的提醒"

    def handle(self, *args, **options):
        expired = services.expire_offers()
        reminded = services.send_reminders()
        tickets = outbox.sweep()
        self.stdout.write(f"过期递补 {expired} 条，发送提醒 {reminded} 条，补发电子票 {tickets} 封")
