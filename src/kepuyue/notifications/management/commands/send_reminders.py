"""``manage.py send_reminders``: today's reminders (recommendation deadline, review queue, summary
due dates). Idempotent: a second run on the same day sends nothing. Run it once a day from cron in
the embedded default (Celery beat does it in scale-out)."""

from django.core.management.base import BaseCommand

from kepuyue.notifications.reminders import send_reminders


class Command(BaseCommand):
    help = "发送今日提醒：推荐截止、待审核积压、活动总结截止（同一天重复运行不会重复发送）"

    def handle(self, *args, **options):
        counts = send_reminders()
        self.stdout.write(
            "推荐截止提醒 {recommendation_deadline} 条，待审核提醒 {review_queue} 条，总结截止提醒 {summary_due} 条".format(
                **counts
            )
        )
