"""The audit log (审计日志): every staff write and every export of personal data."""

from django.conf import settings
from django.db import models

# Chinese names of the actions the platform records (others show their dotted name).
ACTION_LABELS = {
    "activity.create": "创建活动",
    "activity.update": "修改活动",
    "activity.submit": "提交审核",
    "activity.approve": "审核通过并发布",
    "activity.return": "退回修改",
    "activity.resubmit": "修改后重新提交",
    "activity.withdraw": "撤回",
    "activity.recommend": "推荐",
    "activity.unrecommend": "撤销推荐",
    "activity.feature": "重点呈现",
    "activity.unfeature": "取消重点呈现",
    "activity.summary": "提交总结",
    "activity.import": "批量导入活动",
    "export.activities": "导出活动",
    "export.audit": "导出审计日志",
    "campaign.reopen_recommendations": "重新开放推荐",
    "role.grant": "授予角色",
    "role.revoke": "撤销角色",
    "audit.prune": "清理审计日志",
    "account.login": "登录",
    "account.login_failed": "登录失败",
    "account.locked_out": "账号锁定",
    "account.signup": "注册公众账号",
    "account.totp_enrol": "绑定身份验证器",
    "account.totp_verify": "两步验证通过",
    "account.totp_failed": "两步验证失败",
    "account.password_change": "修改密码",
    "application.submit": "提交入驻申请",
    "application.resubmit": "重新提交入驻申请",
    "application.return": "退回入驻申请",
    "application.approve": "通过入驻申请",
    "organization.create": "创建单位",
    "organization.change": "修改单位信息",
    "membership.create": "绑定单位账号",
    "admin.add": "后台新增",
    "admin.change": "后台修改",
    "admin.delete": "后台删除",
}


class AuditEntry(models.Model):
    """One recorded act: who (``actor``, kept as text too, so deleting an account keeps the trail),
    what (``action``, e.g. ``activity.return``; the object as ``object_type`` + ``object_id`` +
    ``object_repr``), when (``at``, aware, the real time — never the campaign clock — stored UTC, shown Asia/Shanghai), from where (``ip``), and
    the details in ``data`` (e.g. ``{"from": "submitted", "to": "returned", "reason": "…"}``).

    Rows are never updated; ``manage.py prune_audit`` removes rows older than
    ``AUDIT_RETENTION_DAYS`` (never fewer than 180 days, GB/T 22239-2019 level 3 asks ≥ 6 months).
    """

    at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField("操作人账号", max_length=150, blank=True)
    organization = models.ForeignKey(
        "orgs.Organization",
        verbose_name="相关单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField("操作", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    ip = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    data = models.JSONField("详情", default=dict, blank=True)

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"], name="audit_object_idx"),
            models.Index(fields=["actor", "at"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"

    @property
    def action_label(self) -> str:
        """The action in Chinese (``退回修改``), or its dotted name when it has none."""
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def status_change(self) -> str:
        """``已提交 → 已退回`` for a workflow move of an activity, else empty."""
        if self.object_type != "activities.activity" or "to" not in self.data:
            return ""
        # The labels of the model's status choices, found by name: audit sits below activities (the
        # layers of docs/architecture.md) and imports no app it records.
        from django.apps import apps

        labels = dict(apps.get_model(self.object_type)._meta.get_field("status").flatchoices)

        def label(value: str) -> str:
            return str(labels.get(value, value))

        return f"{label(self.data.get('from', ''))} → {label(self.data['to'])}"
