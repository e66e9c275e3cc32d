"""Notifications 通知 (issue 4 item 6): the in-site inbox of every account, mirrored by e-mail."""

from django.conf import settings
from django.db import models

from kepuyue.common import clock


class Kind(models.TextChoices):
    """What a notification is about."""

    RETURNED = "activity.returned", "活动被退回"
    PUBLISHED = "activity.published", "活动已发布"
    RECOMMENDED = "activity.recommended", "活动被推荐"
    FEATURED = "activity.featured", "活动被重点呈现"
    RECOMMENDATION_DEADLINE = "reminder.recommendation_deadline", "推荐截止提醒"
    REVIEW_QUEUE = "reminder.review_queue", "待审核提醒"
    SUMMARY_DUE = "reminder.summary_due", "总结截止提醒"
    REGISTRATION = "registration.booked", "报名成功"
    REGISTRATION_WAITLIST = "registration.waitlist", "候补报名"
    REGISTRATION_OFFER = "registration.offer", "候补递补"
    REGISTRATION_CANCELLED = "registration.cancelled", "报名取消"
    REGISTRATION_MESSAGE = "registration.message", "主办单位通知"
    REGISTRATION_REMINDER = "reminder.registration", "活动提醒"


class Notification(models.Model):
    """One message in an account's inbox (站内通知).

    ``url`` is a path on the platform (``/org/activities/12/``); the e-mail makes it absolute with
    ``SITE_URL``. ``created`` comes from the campaign clock. ``read_at`` is set when the account
    marks it read; ``emailed_at`` once the e-mail went out (never for an account without an
    address). ``key`` is set on reminders only — ``<kind>:<object>:<Beijing day>`` — and is unique
    per account, so a reminder run twice on one day writes (and mails) once.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField("类型", max_length=40, choices=Kind.choices)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    url = models.CharField("链接", max_length=500, blank=True)
    created = models.DateTimeField("时间", default=clock.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    emailed_at = models.DateTimeField("邮件发送时间", null=True, blank=True)
    key = models.CharField("提醒标识", max_length=200, blank=True, default="", editable=False)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "created"], name="notif_inbox_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], condition=~models.Q(key=""), name="notif_sent_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.title}"
