"""中国农技协乡村振兴大讲堂 (plan 六(三)3): courses (课程, a series) and their lessons (讲次).

A lesson is **offline** (线下, at a venue) or **online** (线上: a live link, then a replay link). An
offline lesson points at a published ``activities.Activity`` whose registration (``registrations``:
sessions, bookings, waitlist, tickets, check-in) takes the enrolment — the training app adds no second
booking system. Attendance (参训人次) is counted from those check-ins and, online, from the signed-in
people who opened the live or replay link (:class:`Viewing`). Topics (农业生产, 食品加工 …) are the
``themes`` of the course's brand in the campaign YAML. Rows are written by ``kepuyue.training.services``
and the admin.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kepuyue.common.models import TimestampedModel


class Mode(models.TextChoices):
    OFFLINE = "offline", _("线下")
    ONLINE = "online", _("线上")


class Course(TimestampedModel):
    """A course (课程/系列讲座) of the 大讲堂: ``topic`` is a theme slug of ``brand.themes``."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", verbose_name="科普月", on_delete=models.CASCADE, related_name="courses"
    )
    brand = models.ForeignKey(
        "campaigns.Brand",
        verbose_name="品牌活动",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="courses",
    )
    organizer = models.ForeignKey(
        "orgs.Organization", verbose_name="主办单位", on_delete=models.PROTECT, related_name="courses"
    )
    slug = models.SlugField("标识", max_length=64)
    title = models.CharField("课程名称", max_length=200)
    summary = models.TextField("课程简介", blank=True, max_length=5000)
    topic = models.SlugField("专题", max_length=64, blank=True)
    published = models.BooleanField("已发布", default=False)

    class Meta:
        verbose_name = "大讲堂课程"
        verbose_name_plural = "大讲堂课程"
        ordering = ["campaign", "title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "slug"], name="training_course_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def topic_name(self) -> str:
        """The topic's name from the brand's YAML themes (e.g. 农业生产), or the slug."""
        themes = self.brand.themes if self.brand_id else []
        return next((t["name"] for t in themes or [] if t.get("slug") == self.topic), self.topic)


class Lesson(TimestampedModel):
    """One lesson (讲次) of a course, in ``order``: a lecturer (主讲人), a time, and either an activity with
    registration (offline) or a live and a replay link (online)."""

    course = models.ForeignKey(Course, verbose_name="课程", on_delete=models.CASCADE, related_name="lessons")
    order = models.PositiveSmallIntegerField("顺序", default=0)
    title = models.CharField("讲题", max_length=200)
    lecturer = models.CharField("主讲人", max_length=100)
    lecturer_title = models.CharField("主讲人单位与职称", max_length=200, blank=True)
    mode = models.CharField("方式", max_length=8, choices=Mode.choices)
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    activity = models.ForeignKey(
        "activities.Activity",
        verbose_name="线下活动（报名与签到）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lessons",
    )
    live_url = models.URLField("直播链接", max_length=500, blank=True)
    replay_url = models.URLField("回放链接", max_length=500, blank=True)

    class Meta:
        verbose_name = "大讲堂讲次"
        verbose_name_plural = "大讲堂讲次"
        ordering = ["course", "order", "starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(mode="offline", activity__isnull=False)
                    | models.Q(mode="online", activity__isnull=True)
                ),
                name="training_lesson_offline_has_activity",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gte=models.F("starts_at")),
                name="training_lesson_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["mode", "ends_at"], name="training_lesson_replays_idx")]

    def __str__(self) -> str:
        return f"{self.course} · {self.title}"

    def clean(self):
        from django.core.exceptions import ValidationError

        from .services import lesson_problems

        problems = lesson_problems(self)
        if problems:
            raise ValidationError(problems)


class Viewing(models.Model):
    """A signed-in person opened an online lesson's live (直播) or replay (回放) link: one row per person,
    lesson and kind, counted as attendance."""

    class Kind(models.TextChoices):
        LIVE = "live", _("直播")
        REPLAY = "replay", _("回放")

    lesson = models.ForeignKey(Lesson, verbose_name="讲次", on_delete=models.CASCADE, related_name="viewings")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField("方式", max_length=8, choices=Kind.choices)
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "线上观看"
        verbose_name_plural = "线上观看"
        constraints = [
            models.UniqueConstraint(fields=["lesson", "user", "kind"], name="training_viewing_once"),
        ]

    def __str__(self) -> str:
        return f"{self.lesson_id} · {self.user_id} · {self.kind}"
