"""Deadline reminders 提醒 (issue 4 item 6), run once a day (Celery beat or ``manage.py send_reminders``).

- **Recommendation deadline** (plan 八(二) “8月20日前……推荐”): 3 days and 1 day before the campaign's
  ``review.recommendations_due`` deadline (Beijing days), to every platform administrator whose
  scope still has quota left for some joint action, with what is left.
- **Review queue**: to platform administrators whose queue holds activities waiting more than
  ``review.reminder_days`` days (``kepuyue.review.services.overdue_queues``), once a day.
- **Summary due**: 3 days before an activity's summary is due (``review.summary_due_days`` after
  its end), to the unit's publishers, for published activities that have ended without a summary.

Each reminder carries a key ``<kind>:<object>:<Beijing day>``; an account gets a key once, so
running the reminders twice on a day sends each reminder once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.urls import reverse

from kepuyue.activities import summaries
from kepuyue.activities.services import chinese_date
from kepuyue.campaigns.models import Campaign
from kepuyue.common import clock
from kepuyue.common.text import quote_title

from .events import publishers_of
from .models import Kind
from .services import notify

# Days before the recommendation deadline on which administrators hear of it.
DEADLINE_DAYS = (3, 1)
# Days before a summary's due date on which the unit hears of it.
SUMMARY_DAYS = (3,)


def _key(kind: str, obj, day: date) -> str:
    return f"{kind}:{obj}:{day.isoformat()}"


def recommendation_deadline_reminders(campaign: Campaign, at: datetime) -> int:
    """Remind administrators with quota left 3 and 1 days before the recommendation deadline;
    returns how many notifications were written."""
    from kepuyue.review import services as review
    from kepuyue.roles.models import Role, RoleGrant

    due = review.recommendation_deadline(campaign)
    if due is None or at > due:
        return 0
    today = at.astimezone(clock.BEIJING).date()
    due_day = due.astimezone(clock.BEIJING).date()
    days = (due_day - today).days
    if days not in DEADLINE_DAYS:
        return 0
    from django.contrib.auth import get_user_model

    admin_ids = RoleGrant.objects.filter(role=Role.PLATFORM_ADMIN).values("user_id")
    written = 0
    for user in get_user_model().objects.filter(pk__in=admin_ids, is_active=True).order_by("pk"):
        left = [row for row in review.quota_table(user, campaign) if row.left > 0]
        if not left:
            continue
        lines = [
            f"{row.label} · {row.joint_action.name}：剩余 {row.left} 个（共 {row.quota} 个）" for row in left
        ]
        written += len(
            notify(
                [user],
                Kind.RECOMMENDATION_DEADLINE,
                f"推荐将于{chinese_date(due_day)}截止（还有 {days} 天）",
                f"{campaign.name}各联合行动重点活动的推荐将于{chinese_date(due_day)}截止。"
                f"您管辖范围内尚有推荐名额：\n" + "\n".join(lines),
                reverse("review:published"),
                key=_key(Kind.RECOMMENDATION_DEADLINE, campaign.pk, today),
            )
        )
    return written


def review_queue_reminders(campaign: Campaign, at: datetime) -> int:
    """Remind administrators whose queue has items waiting more than ``review.reminder_days``
    days (once a day); returns how many notifications were written."""
    from kepuyue.review import services as review

    days = int((campaign.review or {}).get("reminder_days", 3))
    today = at.astimezone(clock.BEIJING).date()
    waiting: dict[int, int] = {}
    users = {}
    for grant, count in review.overdue_queues(campaign, at):
        waiting[grant.user_id] = waiting.get(grant.user_id, 0) + count
        users[grant.user_id] = grant.user
    written = 0
    for user_id, count in waiting.items():
        written += len(
            notify(
                [users[user_id]],
                Kind.REVIEW_QUEUE,
                f"有 {count} 个活动等待审核超过 {days} 天",
                f"{campaign.name}：您管辖范围内有 {count} 个活动提交后等待审核已超过 {days} 天，请尽快审核。",
                reverse("review:queue"),
                key=_key(Kind.REVIEW_QUEUE, campaign.pk, today),
            )
        )
    return written


def summary_due_reminders(campaign: Campaign, at: datetime) -> int:
    """Remind units 3 days before the summary of an ended, published activity without one is
    due; returns how many notifications were written."""
    today = at.astimezone(clock.BEIJING).date()
    due_days = summaries.due_days(campaign)
    written = 0
    for days in SUMMARY_DAYS:
        # Due on today + days ⇔ ended on (today + days − due_days), a Beijing day.
        end_day = today + timedelta(days=days - due_days)
        activities = summaries.due_without_summary(campaign, at).filter(
            ends_at__gte=clock.start_of_day(end_day), ends_at__lte=clock.end_of_day(end_day)
        )
        for activity in activities.order_by("pk"):
            due_day = summaries.summary_due(activity).astimezone(clock.BEIJING).date()
            written += len(
                notify(
                    publishers_of(activity.organizer_id),
                    Kind.SUMMARY_DUE,
                    f"请在{chinese_date(due_day)}前提交活动总结：{activity.title}",
                    f"活动{quote_title(activity.title)}已结束，请在{chinese_date(due_day)}前提交活动总结"
                    f"（照片、视频和新闻链接、实际参与人数）。逾期仍可提交，但会标记为逾期。",
                    reverse("activities:summary", args=[activity.pk]),
                    key=_key(Kind.SUMMARY_DUE, activity.pk, today),
                )
            )
    return written


def send_reminders(at: datetime | None = None) -> dict[str, int]:
    """Send every reminder due at ``at`` (default: the campaign clock) for every campaign; returns
    ``{"recommendation_deadline": n, "review_queue": n, "summary_due": n}`` — notifications
    written (0 for a second run on the same day)."""
    at = at or clock.now()
    counts = {"recommendation_deadline": 0, "review_queue": 0, "summary_due": 0}
    for campaign in Campaign.objects.order_by("pk"):
        counts["recommendation_deadline"] += recommendation_deadline_reminders(campaign, at)
        counts["review_queue"] += review_queue_reminders(campaign, at)
        counts["summary_due"] += summary_due_reminders(campaign, at)
    return counts
