"""Accounts (账号): the profile beside Django's user, and units' applications to join (单位入驻申请)."""

from django.conf import settings
from django.db import models

from kepuyue.common.models import TimestampedModel
from kepuyue.common.storage import private_storage
from kepuyue.orgs.validators import validate_uscc


class Profile(models.Model):
    """What the platform keeps about an account beyond ``auth.User``.

    ``must_change_password`` is set when an administrator creates the account (admin site,
    ``ensure_admin``) and cleared when its owner picks a password of their own: until then every
    page leads to the password-change page. ``phone`` is optional, for event registration later;
    pages show it masked.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="profile"
    )
    phone = models.CharField("手机号码", max_length=32, blank=True)
    must_change_password = models.BooleanField("须修改初始密码", default=False)
    # Set when the owner proved the address or number (kepuyue.accounts.verification); booking an
    # activity needs one of the two. ``verified_email`` is the address that was proved: a later
    # change of e-mail is not verified.
    verified_email = models.CharField("已验证的电子邮箱", max_length=254, blank=True)
    email_verified_at = models.DateTimeField("邮箱验证时间", null=True, blank=True)
    phone_verified_at = models.DateTimeField("手机验证时间", null=True, blank=True)
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)

    class Meta:
        verbose_name = "账号资料"
        verbose_name_plural = "账号资料"

    def __str__(self) -> str:
        return str(self.user)


class PhoneCode(models.Model):
    """A 6-digit code sent by text message to prove a mobile number (手机验证码).

    Only its hash is kept. It is valid :data:`kepuyue.accounts.verification.CODE_MINUTES` minutes
    (real time) for :data:`~kepuyue.accounts.verification.MAX_ATTEMPTS` tries; a new code replaces
    the account's earlier ones. The number becomes the profile's phone only once the code is right.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="+"
    )
    phone = models.CharField("手机号码", max_length=32)
    code_hash = models.CharField("验证码摘要", max_length=128)
    created_at = models.DateTimeField("发送时间")
    expires_at = models.DateTimeField("失效时间")
    attempts = models.PositiveSmallIntegerField("已尝试次数", default=0)

    class Meta:
        verbose_name = "手机验证码"
        verbose_name_plural = "手机验证码"

    def __str__(self) -> str:
        return f"{self.user} · {self.phone[-4:]}"


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", "待审核"
    RETURNED = "returned", "已退回"
    APPROVED = "approved", "已通过"


def proof_upload_to(instance, filename: str) -> str:
    # The name is chosen by accounts.services (a random one with the sniffed extension).
    return f"applications/{filename}"


class OrganizationApplication(TimestampedModel):
    """A unit's application to join the platform (单位入驻申请), filed by a public account.

    The platform administrator whose scope covers it (the province or prefecture of ``region``; the
    national society named as ``parent`` for a branch; CAST for a national society itself) approves
    it — the organization is created or linked and the applicant becomes its account — or returns it
    with a ``return_reason`` the applicant reads, edits and re-applies. The proof document lives in
    private storage, never under ``/media/``.
    """

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申请账号",
        on_delete=models.CASCADE,
        related_name="organization_applications",
    )
    status = models.CharField(
        "状态", max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.PENDING
    )
    name = models.CharField("单位名称", max_length=200)
    type = models.ForeignKey(
        "orgs.OrganizationType", verbose_name="单位类型", on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name="所在地区", on_delete=models.PROTECT, related_name="+"
    )
    parent = models.ForeignKey(
        "orgs.Organization",
        verbose_name="上级全国学会",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="全国学会的分支机构填写；由该学会的平台管理员审核。",
    )
    uscc = models.CharField("统一社会信用代码", max_length=18, validators=[validate_uscc])
    contact_name = models.CharField("联系人", max_length=64)
    contact_phone = models.CharField("联系电话", max_length=32)
    contact_email = models.EmailField("电子邮箱", blank=True)
    proof = models.FileField("证明材料", upload_to=proof_upload_to, storage=private_storage, max_length=200)
    proof_type = models.CharField("证明材料类型", max_length=32)
    submitted_at = models.DateTimeField("提交时间")
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    return_reason = models.TextField("退回原因", blank=True)
    organization = models.ForeignKey(
        "orgs.Organization",
        verbose_name="入驻单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applications",
    )

    class Meta:
        verbose_name = "单位入驻申请"
        verbose_name_plural = "单位入驻申请"
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["status", "region"], name="accounts_app_status_region")]

    def __str__(self) -> str:
        return self.name


class InvitationChannel(models.TextChoices):
    EMAIL = "email", "电子邮件"
    PHONE = "phone", "短信"


class Invitation(models.Model):
    """A one-time link that lets the owner of a staff-made account choose its password (账号邀请).

    Made by :func:`kepuyue.accounts.staff.invite` (a platform administrator for a unit account in its
    scope, CAST for any account). The link carries a signed, timestamped value naming this row and a
    random nonce (``django.core.signing``); only the nonce's SHA-256 is kept here. A link is good once
    (``used_at``), until ``expires_at`` (real time), and only while it is the account's latest invitation
    (a new invitation ``revoked_at`` the older ones). See ``docs/decisions/0016-staff-managed-accounts.md``.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="invitations"
    )
    nonce_hash = models.CharField("随机数摘要", max_length=64, unique=True)
    channel = models.CharField("发送方式", max_length=8, choices=InvitationChannel.choices)
    sent_to = models.CharField("发送至", max_length=254)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="邀请人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("邀请时间")
    expires_at = models.DateTimeField("失效时间")
    used_at = models.DateTimeField("使用时间", null=True, blank=True)
    revoked_at = models.DateTimeField("作废时间", null=True, blank=True)

    class Meta:
        verbose_name = "账号邀请"
        verbose_name_plural = "账号邀请"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_channel_display()}"
