"""Roles 角色 and their scopes (管辖范围): who may review, recommend, feature and judge what.

A publisher (单位发布员) is a staff account with a ``orgs.Membership``; every other staff role is a
``RoleGrant`` row. The permission predicates that read both are in ``kepuyue.roles.rules``.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from kepuyue.common.models import TimestampedModel


class Role(models.TextChoices):
    """The staff roles of the campaign's chain of responsibility (plan 八(二))."""

    CAST_ADMIN = "cast_admin", "中国科协管理员"
    JOINT_ACTION_MANAGER = "joint_action_manager", "联合行动牵头单位管理员"
    PLATFORM_ADMIN = "platform_admin", "平台管理员"
    JUDGE = "judge", "评审专家"


# Which scope field each role needs (exactly one for a platform administrator: a region or a
# national society).
SCOPE_FIELDS = {
    Role.CAST_ADMIN: (),
    Role.JOINT_ACTION_MANAGER: ("joint_action",),
    Role.PLATFORM_ADMIN: ("region", "organization"),
    Role.JUDGE: ("call",),
}
# Roles whose accounts must sign in with a second factor (TOTP).
TWO_FACTOR_ROLES = frozenset({Role.CAST_ADMIN, Role.JOINT_ACTION_MANAGER, Role.PLATFORM_ADMIN})


class RoleGrant(TimestampedModel):
    """One role of one account, with its scope (角色授权).

    - 中国科协管理员 ``cast_admin``: no scope; sees every non-draft activity, reopens
      recommendations, reads the audit log.
    - 联合行动牵头单位管理员 ``joint_action_manager``: ``joint_action`` (the managing unit named in the
      plan, e.g. 中国科协科普部 for 一); features recommended activities of that joint action and runs its
      calls' judging.
    - 平台管理员 ``platform_admin``: either ``region`` (a province; or a prefecture, delegated by the
      province) — scope is the organizations located there that are not part of a national
      society — or ``organization`` (a national society 全国学会) — scope is the society and its branches
      (``Organization.parent``, three levels). Reviews and recommends (plan 八(二)).
    - 评审专家 ``judge``: ``call``; scores that call's entries (never those of their own unit).

    Deleting the row revokes the role; permissions are read afresh on every request.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="role_grants"
    )
    role = models.CharField("角色", max_length=32, choices=Role.choices)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name="管辖地区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="role_grants",
    )
    organization = models.ForeignKey(
        "orgs.Organization",
        verbose_name="管辖单位（全国学会）",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_grants",
    )
    joint_action = models.ForeignKey(
        "campaigns.JointAction",
        verbose_name="联合行动",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_grants",
    )
    call = models.ForeignKey(
        "campaigns.Call",
        verbose_name="征集",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_grants",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="授权人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "角色授权"
        verbose_name_plural = "角色授权"
        ordering = ["user", "role"]
        indexes = [models.Index(fields=["role", "joint_action"], name="roles_role_ja_idx")]

    def __str__(self) -> str:
        scope = self.region or self.organization or self.joint_action or self.call
        label = Role(self.role).label
        return f"{self.user} · {label}" + (f"（{scope}）" if scope else "")

    def clean(self) -> None:
        """Exactly the scope its role needs (Chinese message naming the field)."""
        fields = ("region", "organization", "joint_action", "call")
        needed = SCOPE_FIELDS.get(Role(self.role), ())
        set_fields = [name for name in fields if getattr(self, f"{name}_id")]
        extra = [name for name in set_fields if name not in needed]
        if extra:
            raise ValidationError({name: f"角色“{Role(self.role).label}”不设此范围" for name in extra})
        if self.role == Role.PLATFORM_ADMIN:
            if len(set_fields) != 1:
                raise ValidationError("平台管理员须设置一个管辖范围：省级或地级地区，或一个全国学会")
            if self.region_id and self.region.level > 2:
                raise ValidationError({"region": "平台管理员的管辖地区须为省级或地级"})
        elif needed and not set_fields:
            raise ValidationError({needed[0]: f"角色“{Role(self.role).label}”须设置此范围"})
