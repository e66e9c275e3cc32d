"""Recommendations 推荐 of published activities by platform administrators, and their quotas."""

from django.conf import settings
from django.db import models

from kepuyue.common.models import TimestampedModel


class Recommendation(TimestampedModel):
    """A platform administrator's recommendation (推荐) of a published activity of a joint action
    (plan 八(二)). One per activity. ``scope`` names the administrators' scope whose quota it uses:
    ``region:<GB/T 2260 code>`` or ``org:<organization id>``. ``featured_*`` record the joint action
    manager's choice to feature it (重点呈现)."""

    activity = models.OneToOneField(
        "activities.Activity", verbose_name="活动", on_delete=models.CASCADE, related_name="recommendation"
    )
    joint_action = models.ForeignKey(
        "campaigns.JointAction", verbose_name="联合行动", on_delete=models.CASCADE, related_name="+"
    )
    scope = models.CharField("推荐范围", max_length=32)
    recommended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="推荐人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField("推荐理由", max_length=500, blank=True)
    featured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="重点呈现操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    featured_at = models.DateTimeField("重点呈现时间", null=True, blank=True)

    class Meta:
        verbose_name = "推荐"
        verbose_name_plural = "推荐"
        ordering = ["-created"]
        indexes = [models.Index(fields=["joint_action", "scope"], name="rec_ja_scope_idx")]

    def __str__(self) -> str:
        return f"{self.activity} ← {self.scope}"


class QuotaUse(models.Model):
    """How many recommendations a scope has used for one joint action (推荐名额使用).

    The counter is raised with one conditional ``UPDATE … SET used = used + 1 WHERE used < quota``
    in the same transaction as the ``Recommendation`` row, so two administrators recommending at
    the same moment can never exceed the quota (``kepuyue.review.services.recommend``).
    """

    joint_action = models.ForeignKey(
        "campaigns.JointAction", verbose_name="联合行动", on_delete=models.CASCADE, related_name="+"
    )
    scope = models.CharField("推荐范围", max_length=32)
    used = models.PositiveIntegerField("已用", default=0)

    class Meta:
        verbose_name = "推荐名额"
        verbose_name_plural = "推荐名额"
        constraints = [
            models.UniqueConstraint(fields=["joint_action", "scope"], name="review_quota_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.joint_action} {self.scope}: {self.used}"
