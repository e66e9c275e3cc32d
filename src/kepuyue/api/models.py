"""API tokens (接口令牌) and the stored results of idempotent writes (幂等键)."""

from django.conf import settings
from django.db import models

from kepuyue.common.models import TimestampedModel


class TokenKind(models.TextChoices):
    """A unit's token acts for its organization (发布单位); a scope token for an administrator's
    scope (管辖范围: a platform administrator's region or society, CAST everywhere)."""

    UNIT = "unit", "单位令牌"
    SCOPE = "scope", "管理范围令牌"


class ApiToken(TimestampedModel):
    """A bearer token of the open API. Only the SHA-256 of the secret is stored (the secret has 256
    random bits, so a fast hash is as safe as a slow one and costs nothing per request); the secret
    is shown once, when it is created. ``prefix`` (the first characters) lets people tell tokens
    apart. The token acts as ``user`` — the same rules as the account's pages decide what it may
    see and change — and a unit token only while ``user`` still belongs to ``organization``.
    A revoked token (``revoked_at``) is refused at once: every request reads the row."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="api_tokens"
    )
    organization = models.ForeignKey(
        "orgs.Organization",
        verbose_name="单位",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    kind = models.CharField("类型", max_length=8, choices=TokenKind.choices)
    name = models.CharField("名称", max_length=64)
    prefix = models.CharField("前缀", max_length=16)
    digest = models.CharField("摘要", max_length=64, unique=True, editable=False)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="吊销人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class IdempotentRequest(models.Model):
    """One write sent with an ``Idempotency-Key``: the request's fingerprint and, once done, its
    answer. The same key again with the same body gets the stored answer (nothing is written
    twice); with another body a 422. ``status`` 0 means the first request is still running."""

    token = models.ForeignKey(ApiToken, verbose_name="令牌", on_delete=models.CASCADE, related_name="+")
    key = models.CharField("幂等键", max_length=128)
    fingerprint = models.CharField("请求摘要", max_length=64)
    status = models.PositiveSmallIntegerField("状态码", default=0)
    body = models.JSONField("响应", null=True, blank=True)
    created = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "幂等请求"
        verbose_name_plural = "幂等请求"
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="api_idempotency_unique")]

    def __str__(self) -> str:
        return self.key


class WebhookEvent(models.TextChoices):
    """The events a subscription may receive (issue 16 §3)."""

    ACTIVITY_PUBLISHED = "activity.published", "活动已发布"
    ACTIVITY_RETURNED = "activity.returned", "活动被退回"
    ACTIVITY_RECOMMENDED = "activity.recommended", "活动被推荐"
    ACTIVITY_FEATURED = "activity.featured", "活动被重点呈现"
    ACTIVITY_WITHDRAWN = "activity.withdrawn", "活动已撤回"
    REGISTRATION_CREATED = "registration.created", "新报名"
    REGISTRATION_CANCELLED = "registration.cancelled", "报名已取消"
    ENTRY_PUBLISHED = "entry.published", "征集作品已发布"


class WebhookSubscription(TimestampedModel):
    """A unit's or a scope's subscription (Webhook 订阅): ``url`` receives a signed POST for each of
    ``events`` about objects the subscription's account may see (a unit: its own activities and
    their registrations; a scope: the activities of its scope). ``secret`` signs the bodies
    (HMAC-SHA256; it must be kept to sign, so it is stored, and shown to people once).
    ``failures`` counts consecutive failed deliveries; at ``WEBHOOK_DISABLE_AFTER`` the subscription
    is disabled (``disabled_at``) until someone re-enables it on the page."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="webhooks"
    )
    organization = models.ForeignKey(
        "orgs.Organization",
        verbose_name="单位",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
    )
    kind = models.CharField("类型", max_length=8, choices=TokenKind.choices)
    url = models.URLField("接收地址", max_length=500)
    events = models.JSONField("事件", default=list)
    secret = models.CharField("签名密钥", max_length=64, editable=False)
    failures = models.PositiveIntegerField("连续失败次数", default=0)
    disabled_at = models.DateTimeField("停用时间", null=True, blank=True)
    disabled_reason = models.CharField("停用原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "Webhook 订阅"
        verbose_name_plural = "Webhook 订阅"
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.url

    @property
    def active(self) -> bool:
        return self.disabled_at is None


class DeliveryState(models.TextChoices):
    PENDING = "pending", "待发送"
    DELIVERED = "delivered", "已送达"
    FAILED = "failed", "失败"


class WebhookDelivery(models.Model):
    """One event sent (or to send) to one subscription: the delivery log (投递记录). ``payload`` is
    the JSON body; ``attempts`` how many times it was tried; ``next_attempt_at`` when it is due
    again (exponential backoff); ``response_status`` / ``error`` of the last attempt."""

    subscription = models.ForeignKey(
        WebhookSubscription, verbose_name="订阅", on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField("事件", max_length=32, choices=WebhookEvent.choices)
    event_id = models.CharField("事件编号", max_length=36, db_index=True)
    payload = models.JSONField("内容")
    state = models.CharField(
        "状态", max_length=12, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", null=True, blank=True)
    response_status = models.PositiveSmallIntegerField("响应状态码", null=True, blank=True)
    error = models.CharField("错误", max_length=300, blank=True)
    created = models.DateTimeField("创建时间", auto_now_add=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)

    class Meta:
        verbose_name = "Webhook 投递"
        verbose_name_plural = "Webhook 投递"
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="api_delivery_due_idx"),
            # The retention's slices (purge_deliveries) and the log, newest first.
            models.Index(fields=["created"], name="api_delivery_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id}"


class ActivityChange(models.Model):
    """One entry of the public change feed (变更流, ``/api/v1/changes``): the activity ``activity_id``
    became, stayed or stopped being public at ``at``. ``id`` is the feed's sequence number. No
    foreign key: the row outlives a deleted activity (the feed then says "delete")."""

    activity_id = models.BigIntegerField("活动编号", db_index=True)
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "活动变更"
        verbose_name_plural = "活动变更"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.activity_id}"


class ChangeFeedPurge(models.Model):
    """One run of the change feed's retention (``changes.purge``): ``up_to`` is the highest
    sequence number of a ``delete`` row (a tombstone) it removed. A reader whose cursor is below the
    highest ``up_to`` may have missed a deletion: the feed answers it 410 (resync)."""

    up_to = models.BigIntegerField("已清理到的序号", db_index=True)
    at = models.DateTimeField("清理时间", auto_now_add=True)
    deleted = models.PositiveIntegerField("删除行数", default=0)

    class Meta:
        verbose_name = "变更流清理"
        verbose_name_plural = "变更流清理"

    def __str__(self) -> str:
        return f"≤ {self.up_to}"


class ExchangeSource(TimestampedModel):
    """Another platform whose change feed ``manage.py pull_exchange`` reads (平台间交换): its base
    URL, the local ``organization`` its activities are published under, and the feed ``cursor``
    read so far."""

    base_url = models.URLField("来源平台地址", max_length=300, unique=True)
    organization = models.ForeignKey(
        "orgs.Organization", verbose_name="本地发布单位", on_delete=models.PROTECT, related_name="+"
    )
    cursor = models.CharField("已读到", max_length=40, default="0")
    pulled_at = models.DateTimeField("最近同步", null=True, blank=True)

    class Meta:
        verbose_name = "交换来源"
        verbose_name_plural = "交换来源"

    def __str__(self) -> str:
        return self.base_url


class ExchangeLink(models.Model):
    """Provenance (来源) of a pulled activity: which source and remote id it copies, the digest of
    the remote data last applied, and when. A local change after ``synced_at`` is a conflict: the
    next remote change is reported, not applied over it."""

    source = models.ForeignKey(
        ExchangeSource, verbose_name="来源", on_delete=models.CASCADE, related_name="links"
    )
    remote_id = models.BigIntegerField("来源编号")
    remote_url = models.URLField("来源网址", max_length=500, blank=True)
    activity = models.ForeignKey(
        "activities.Activity", verbose_name="本地活动", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    digest = models.CharField("内容摘要", max_length=64)
    synced_at = models.DateTimeField("同步时间")

    class Meta:
        verbose_name = "交换记录"
        verbose_name_plural = "交换记录"
        constraints = [
            models.UniqueConstraint(fields=["source", "remote_id"], name="api_exchange_link_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.remote_id}"
