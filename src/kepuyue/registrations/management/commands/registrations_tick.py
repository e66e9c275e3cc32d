"""``manage.py registrations_tick``: expire waitlist offers not confirmed in time (their places go to
the next in line) and send the day-before reminders. Idempotent; run it every 5 minutes from cron in
the embedded default (Celery beat does it in scale-out)."""

from django.core.management.base import BaseCommand

from kepuyue.registrations import services


class Command(BaseCommand):
    help = "处理过期的候补递补，并发送活动前一天的提醒"

    def handle(self, *args, **options):
        expired = services.expire_offers()
        reminded = services.send_reminders()
        self.stdout.write(f"过期递补 {expired} 条，发送提醒 {reminded} 条")
