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
