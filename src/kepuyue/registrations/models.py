"""Registrations 报名/预约: how the public takes part in an activity (plan 八(一) “供公众了解参与”).

An activity's unit sets how people register (:class:`RegistrationConfig`: none, on the platform, an
external link, by phone), and, for the platform, its sessions (:class:`Session`, 场次: a time and a
number of places). A member of the public books a session (:class:`Booking`), alone or with a party,
or books for a group (a school class); a full session has a waitlist whose freed places are offered
in turn. Each confirmed booking is a ticket with a signed QR code; the unit's staff check people in
(:class:`CheckIn`). The rules are in :mod:`kepuyue.registrations.services`.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_noop

from kepuyue.common import clock
from kepuyue.common.models import TimestampedModel


class Mode(models.TextChoices):
    """How the public registers for an activity (报名方式)."""

    NONE = "none", "无需报名（现场参加）"
    PLATFORM = "platform", "在本平台报名"
    EXTERNAL = "external", "外部链接报名"
    PHONE = "phone", "电话报名"


class RegistrationConfig(TimestampedModel):
    """The registration settings of one activity (报名设置), set by its unit.

    ``opens_at``/``closes_at``: the registration window (aware datetimes; ``None`` = as soon as the
    activity is published / until each session starts). A booking is one registrant with at most
    ``max_adults`` adults and ``max_children`` children under 14 (the registrant counts as an adult
    unless a minor). Group bookings (schools, organisations) draw from each session's own
    ``group_capacity``, up to ``max_group_size`` people each. Personal data asked: name and mobile
    always (PIPL minimisation); the ID number only when ``asks_id_number`` with its stated
    ``id_number_reason``. ``consent_text`` is shown and copied into each booking. A place freed in a
    full session is offered to the first waiting party, who has ``offer_hours`` to confirm. Members may
    cancel until ``cancel_cutoff_hours`` before the session starts. ``closed``: the unit stopped
    registration (or the activity was withdrawn: ``closed_reason`` says so).
    """

    activity = models.OneToOneField(
        "activities.Activity",
        verbose_name="活动",
        on_delete=models.CASCADE,
        related_name="registration_config",
    )
    mode = models.CharField("报名方式", max_length=16, choices=Mode.choices, default=Mode.NONE)
    external_url = models.URLField("外部报名链接", max_length=500, blank=True)
    phone = models.CharField("报名电话", max_length=64, blank=True)
    opens_at = models.DateTimeField("报名开始时间", null=True, blank=True)
    closes_at = models.DateTimeField("报名截止时间", null=True, blank=True)
    max_adults = models.PositiveSmallIntegerField("每单成人上限", default=1)
    max_children = models.PositiveSmallIntegerField("每单未成年人（14岁以下）上限", default=0)
    groups_enabled = models.BooleanField("接受团体预约", default=False)
    max_group_size = models.PositiveSmallIntegerField("团体人数上限", default=50)
    asks_id_number = models.BooleanField("收集身份证号", default=False)
    id_number_reason = models.CharField("收集身份证号的理由", max_length=200, blank=True)
    consent_text = models.TextField("个人信息使用告知", blank=True)
    waitlist_enabled = models.BooleanField("满员后可候补", default=True)
    offer_hours = models.PositiveSmallIntegerField("候补确认时限（小时）", default=24)
    cancel_cutoff_hours = models.PositiveSmallIntegerField("取消截止（开场前小时数）", default=2)
    closed = models.BooleanField("已停止报名", default=False)
    closed_reason = models.CharField("停止报名原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "报名设置"
        verbose_name_plural = "报名设置"

    def __str__(self) -> str:
        return f"{self.activity} · {self.get_mode_display()}"


class Session(TimestampedModel):
    """One session (场次) of an activity: when, and how many places.

    ``booked`` counts the individual places held (confirmed bookings and open waitlist offers),
    ``group_booked`` the group places; both only ever change through a conditional ``UPDATE`` in
    the services, and the database refuses a row where they exceed the capacities (the check
    constraints), so a session is never oversold whatever the concurrency.
    """

    activity = models.ForeignKey(
        "activities.Activity",
        verbose_name="活动",
        on_delete=models.CASCADE,
        related_name="registration_sessions",
    )
    label = models.CharField("场次名称", max_length=60, blank=True)
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    capacity = models.PositiveIntegerField("名额", default=0)
    group_capacity = models.PositiveIntegerField("团体名额", default=0)
    booked = models.PositiveIntegerField("已占名额", default=0, editable=False)
    group_booked = models.PositiveIntegerField("已占团体名额", default=0, editable=False)
    closed = models.BooleanField("本场停止报名", default=False)

    class Meta:
        verbose_name = "场次"
        verbose_name_plural = "场次"
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["activity", "starts_at"], name="reg_session_activity")]
        constraints = [
            models.CheckConstraint(condition=Q(booked__lte=F("capacity")), name="reg_session_not_oversold"),
            models.CheckConstraint(
                condition=Q(group_booked__lte=F("group_capacity")), name="reg_session_groups_not_oversold"
            ),
            models.CheckConstraint(condition=Q(ends_at__gte=F("starts_at")), name="reg_session_ends_after"),
        ]

    def __str__(self) -> str:
        when = self.starts_at.astimezone(clock.BEIJING).strftime("%m-%d %H:%M")
        return f"{self.label} {when}".strip()

    @property
    def available(self) -> int:
        """Individual places still free (never negative)."""
        return max(0, self.capacity - self.booked)

    @property
    def group_available(self) -> int:
        return max(0, self.group_capacity - self.group_booked)


class Kind(models.TextChoices):
    INDIVIDUAL = "individual", gettext_noop("个人/家庭")
    GROUP = "group", gettext_noop("团体")


class Status(models.TextChoices):
    """Where a booking stands. Confirmed and offered bookings hold places; waitlisted ones wait."""

    CONFIRMED = "confirmed", gettext_noop("已报名")
    WAITLISTED = "waitlisted", gettext_noop("候补中")
    OFFERED = "offered", gettext_noop("候补递补待确认")
    CANCELLED = "cancelled", gettext_noop("已取消")
    EXPIRED = "expired", gettext_noop("递补已过期")


ACTIVE_STATUSES = (Status.CONFIRMED, Status.WAITLISTED, Status.OFFERED)
HOLDING_STATUSES = (Status.CONFIRMED, Status.OFFERED)


class Booking(models.Model):
    """One booking (报名) of a session: an individual with their party, or a group.

    Personal data (``name``, ``phone``, ``id_number``, ``guardian_name``, ``group_name``,
    ``participant_names``) is emptied and ``user`` unlinked ``REGISTRATION_RETENTION_DAYS`` after the
    activity, or when the registrant deletes it (``anonymised_at``); the counts, the status and the
    check-in stay. ``minor``: the registrant is under 14 — then ``phone`` and ``guardian_name`` are the
    guardian's, and ``guardian_consent`` is required (as it is for any child in the party).
    ``consent`` keeps the notice the registrant agreed to, as shown. ``code`` is the ticket's typed
    code (:mod:`kepuyue.registrations.tickets`); ``token`` the form's idempotency key (a double tap
    books once). Times come from the campaign clock.
    """

    session = models.ForeignKey(
        Session, verbose_name="场次", on_delete=models.RESTRICT, related_name="bookings"
    )
    activity = models.ForeignKey(
        "activities.Activity", verbose_name="活动", on_delete=models.CASCADE, related_name="bookings"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bookings",
    )
    kind = models.CharField("类型", max_length=12, choices=Kind.choices, default=Kind.INDIVIDUAL)
    status = models.CharField("状态", max_length=12, choices=Status.choices)
    adults = models.PositiveSmallIntegerField("成人", default=1)
    children = models.PositiveSmallIntegerField("未成年人", default=0)
    seats = models.PositiveIntegerField("人数")
    name = models.CharField("姓名", max_length=64, blank=True)
    phone = models.CharField("手机号码", max_length=32, blank=True)
    id_number = models.CharField("身份证号", max_length=18, blank=True)
    minor = models.BooleanField("报名人未满14周岁", default=False)
    guardian_name = models.CharField("监护人姓名", max_length=64, blank=True)
    guardian_consent = models.BooleanField("监护人同意", default=False)
    group_name = models.CharField("团体/班级名称", max_length=100, blank=True)
    participant_names = models.TextField("参加人名单", blank=True)
    consent = models.TextField("同意的告知内容", blank=True)
    code = models.CharField("票号", max_length=12, unique=True)
    token = models.CharField("提交标识", max_length=64, null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField("报名时间", default=clock.now)
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    offered_at = models.DateTimeField("递补时间", null=True, blank=True)
    offer_expires_at = models.DateTimeField("递补确认截止", null=True, blank=True)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)
    cancel_reason = models.CharField("取消原因", max_length=200, blank=True)
    checked_in_at = models.DateTimeField("签到时间", null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签到人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    anonymised_at = models.DateTimeField("个人信息删除时间", null=True, blank=True)

    class Meta:
        verbose_name = "报名"
        verbose_name_plural = "报名"
        ordering = ["created_at", "id"]
        indexes = [
            # The waitlist in order, and a session's lists by status.
            models.Index(fields=["session", "status", "created_at", "id"], name="reg_booking_session"),
            models.Index(fields=["activity", "status"], name="reg_booking_activity"),
            models.Index(fields=["user", "status"], name="reg_booking_user"),
            models.Index(fields=["status", "offer_expires_at"], name="reg_booking_offers"),
        ]
        constraints = [
            # One active individual booking per account and session: a double tap books once.
            models.UniqueConstraint(
                fields=["user", "session"],
                condition=Q(kind="individual", status__in=["confirmed", "waitlisted", "offered"]),
                name="reg_one_active_booking",
            ),
            models.CheckConstraint(condition=Q(seats__gte=1), name="reg_booking_seats"),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.session}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def holds_places(self) -> bool:
        return self.status in HOLDING_STATUSES


class CheckResult(models.TextChoices):
    """What a scan or a typed code came to (签到结果)."""

    OK = "ok", "签到成功"
    DUPLICATE = "duplicate", "重复签到"
    WRONG_SESSION = "wrong_session", "不是本场次的票"
    NOT_VALID = "not_valid", "票已取消或未确认"
    UNKNOWN = "unknown", "无效票号"
    TAMPERED = "tampered", "二维码签名无效"
    TOO_EARLY = "too_early", "签到尚未开始"
    TOO_LATE = "too_late", "签到已结束"


class CheckIn(models.Model):
    """One scan or typed code at the door (签到记录), kept for the log and for idempotent syncing.

    ``nonce`` is chosen by the scanning phone for each scan: a batch synced twice (the connection
    dropped before the answer arrived) is answered from these rows, never counted twice.
    ``scanned_at`` is when the phone scanned (offline scans are synced later, ``received_at``).
    """

    session = models.ForeignKey(
        Session, verbose_name="场次", on_delete=models.CASCADE, related_name="checkins"
    )
    booking = models.ForeignKey(
        Booking, verbose_name="报名", null=True, blank=True, on_delete=models.CASCADE, related_name="checkins"
    )
    code = models.CharField("票号", max_length=120, blank=True)
    nonce = models.CharField("扫描标识", max_length=64, unique=True)
    result = models.CharField("结果", max_length=16, choices=CheckResult.choices)
    scanned_at = models.DateTimeField("扫描时间")
    received_at = models.DateTimeField("收到时间", default=clock.now)
    offline = models.BooleanField("离线签到", default=False)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签到人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "签到记录"
        verbose_name_plural = "签到记录"
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["session", "received_at"], name="reg_checkin_session")]

    def __str__(self) -> str:
        return f"{self.code} · {self.get_result_display()}"


class TicketEmailState(models.TextChoices):
    PENDING = "pending", "待发送"
    SENT = "sent", "已发送"
    SKIPPED = "skipped", "无需发送"  # no longer confirmed, or no address, when its turn came
    FAILED = "failed", "发送失败"  # gave up after the last attempt


class TicketEmail(models.Model):
    """One ticket e-mail to send (电子票邮件发件箱): the outbox row written in the transaction of the
    booking (or the confirmed offer, or the move) that calls for it, so a killed server loses none
    (decision 0031). Sent at least once, marked ``sent`` after it left; ``attempts`` counts the tries,
    ``next_attempt_at`` is when it is due (again: a claim pushes it a lease ahead, a failure by the
    backoff); ``claim`` names the drain that took it. Times are real time (``timezone.now``), not the
    campaign clock: retries must move on under a pinned clock too."""

    booking = models.ForeignKey(
        Booking, verbose_name="报名", on_delete=models.CASCADE, related_name="ticket_emails"
    )
    state = models.CharField(
        "状态", max_length=8, choices=TicketEmailState.choices, default=TicketEmailState.PENDING
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", null=True, blank=True)
    claim = models.CharField("领取标识", max_length=32, blank=True)
    created = models.DateTimeField("创建时间", auto_now_add=True)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    error = models.CharField("错误", max_length=300, blank=True)

    class Meta:
        verbose_name = "电子票邮件"
        verbose_name_plural = "电子票邮件"
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="reg_ticketmail_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.booking_id} · {self.get_state_display()}"
