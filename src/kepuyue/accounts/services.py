"""Accounts: sign-in state, two-factor devices, public sign-up and units' applications to join.

Sign-in (GB/T 22239-2019 level 3): the password step is Django's ``login()`` behind django-axes;
then :func:`session_flags` decides, once at login and again every :data:`REFRESH_SECONDS`, whether
the session must still pass TOTP (``roles.services.needs_two_factor``), change an initial password,
and which idle limit applies. ``kepuyue.accounts.middleware`` enforces what the flags say.

Applications (单位入驻申请): :func:`submit_application` (new or re-applied after a return),
:func:`approve_application`, :func:`return_application` — each one transaction with its audit
entries — and :func:`applications_in_scope`, the only queryset staff pages read.
"""

from __future__ import annotations

import io
import time
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from kepuyue.audit.services import record
from kepuyue.common import clock
from kepuyue.common.text import clean_text, normalize_code, normalize_email, normalize_phone
from kepuyue.roles import services as roles

from .models import ApplicationStatus, OrganizationApplication, Profile

# Session keys: the flags computed at login and the last time the account was seen (epoch seconds).
FLAGS_KEY = "kepuyue_account"
SEEN_KEY = "kepuyue_seen"
# How often (seconds) a signed-in session re-reads its flags (a role granted after login asks for
# TOTP within this time) and writes its last-seen time; idle time is measured to this precision.
REFRESH_SECONDS = 60
PROOF_MAX_BYTES = 10 * 1024 * 1024
PROOF_TYPES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
# The longest reason for returning an application, in characters (the applicant reads it).
RETURN_REASON_MAX_LENGTH = 1000


# --- Sign-in state -------------------------------------------------------------------------------


def profile_of(user) -> Profile | None:
    """The account's ``Profile`` row, or ``None`` (accounts made in code before this app had none)."""
    return Profile.objects.filter(user=user).first()


def session_flags(user) -> dict:
    """What the session of ``user`` must still do, as stored in the session:
    ``{"staff": bool, "otp": bool (TOTP required), "change": bool (initial password to change)}``."""
    roles.forget(user)
    profile = profile_of(user)
    return {
        "staff": roles.is_staff_account(user),
        "otp": roles.needs_two_factor(user),
        "change": bool(profile and profile.must_change_password),
    }


def remember_login(request, user) -> None:
    """Store the flags and the last-seen time in the new session (``user_logged_in`` handler)."""
    request.session[FLAGS_KEY] = session_flags(user)
    request.session[SEEN_KEY] = time.time()


def idle_limit(flags: dict) -> int:
    """Seconds of inactivity after which the session ends: 30 minutes (``KEPUYUE_STAFF_IDLE_MINUTES``)
    for staff accounts, ``KEPUYUE_PUBLIC_IDLE_MINUTES`` for public ones."""
    minutes = (
        settings.KEPUYUE_STAFF_IDLE_MINUTES if flags.get("staff") else settings.KEPUYUE_PUBLIC_IDLE_MINUTES
    )
    return int(minutes * 60)


def require_password_change(user) -> None:
    """Mark the account's password as an initial one: it must be changed at the next sign-in."""
    Profile.objects.update_or_create(user=user, defaults={"must_change_password": True})


def password_changed(user) -> None:
    """The owner chose a new password: clear the flag, note the time, audit it."""
    Profile.objects.update_or_create(
        user=user, defaults={"must_change_password": False, "password_changed_at": clock.now()}
    )
    record("account.password_change", actor=user, obj=user)


# --- Two-factor (TOTP) ---------------------------------------------------------------------------


def confirmed_device(user) -> TOTPDevice | None:
    """The account's confirmed TOTP device, or ``None`` (it must enrol first)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def enrolment_device(user) -> TOTPDevice:
    """The unconfirmed device being enrolled (created on first call, the same key afterwards)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("身份验证器"), confirmed=False)
    return device


def six_digit_code(value) -> str:
    """A typed one-time code (an authenticator's or a text message's) as its 6 ASCII digits, or ``""``
    when it cannot be one. Through ``common.text.normalize_code``: full-width digits
    (``７４０１７４``, a Chinese input method's) are the ASCII ones, spaces and dashes
    (``740 174``, ``740-174``) are dropped. A ``""`` is refused as malformed and costs no try."""
    code = normalize_code(value)
    return code if len(code) == 6 and code.isascii() and code.isdigit() else ""


def throttled(device: TOTPDevice) -> str | None:
    """A Chinese message when the device refuses codes for now (too many wrong ones), else ``None``.

    django-otp doubles the wait after each wrong code (1 s, 2 s, 4 s … with ``OTP_TOTP_THROTTLE_FACTOR=1``).
    """
    allowed, info = device.verify_is_allowed()
    if allowed:
        return None
    locked_until = (info or {}).get("locked_until")
    if locked_until is not None:
        from django.utils import timezone

        seconds = max(1, int((locked_until - timezone.now()).total_seconds()) + 1)
        return _("验证码错误次数过多，请 %(s)d 秒后再试") % {"s": seconds}
    return _("验证码错误次数过多，请稍后再试")


def confirm_enrolment(device: TOTPDevice, token: str) -> bool:
    """Check the first code of a new device; on success mark it confirmed (and audit). ``token``: as
    typed (:func:`six_digit_code`)."""
    token = six_digit_code(token)
    if not token or not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record("account.totp_enrol", actor=device.user, obj=device.user)
    return True


def qr_svg(device: TOTPDevice) -> str:
    """The device's ``otpauth://`` URL as an inline SVG QR code (segno), for authenticator apps."""
    import segno

    out = io.BytesIO()
    segno.make(device.config_url, error="m").save(
        out, kind="svg", scale=5, border=2, xmldecl=False, svgns=True, title=str(_("两步验证二维码"))
    )
    return out.getvalue().decode()


def totp_secret(device: TOTPDevice) -> str:
    """The key in base32, grouped by four, for typing into an authenticator by hand."""
    from base64 import b32encode

    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


# --- Public accounts -----------------------------------------------------------------------------


def normalise_phone(phone: str) -> str:
    """An account's mobile number in its canonical form (11 digits: full-width or other digits,
    ``+86``, spaces and dashes accepted — ``common.text.normalize_phone``); ``""`` for none.
    Raises ``ValidationError`` (Chinese) for anything that is not a mobile number."""
    return normalize_phone(phone, label=_("手机号码"), mobile_only=True)


def email_taken(email: str) -> bool:
    """Whether an account already uses the mailbox ``email`` (canonical form: ``用户@例子.中国`` and
    its punycode form, or two spellings in different case, are one mailbox)."""
    email = normalize_email(email)
    user_model = get_user_model()
    return user_model.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists()


def create_public_account(*, email: str, password: str, phone: str = ""):
    """Create a public account (公众账号): the e-mail in its canonical form (lower case, IDNA
    domain: ``common.text.normalize_email``) is also the user name; the phone, optional, a mobile
    number in its canonical form.

    Raises ``ValidationError`` when the e-mail is not an address or its mailbox already has an
    account, or the phone is not a mobile number. The password must already have passed
    ``validate_password`` (the sign-up form does it).
    """
    email = normalize_email(email, label=_("电子邮箱"))
    if not email:
        raise ValidationError(_("电子邮箱：必须填写"), code="email_required")
    phone = normalise_phone(phone)
    user_model = get_user_model()
    if email_taken(email):
        raise ValidationError(_("该电子邮箱已注册，请直接登录"), code="email_taken")
    try:
        with transaction.atomic():
            user = user_model.objects.create_user(username=email, email=email, password=password)
            Profile.objects.create(user=user, phone=phone)
    except IntegrityError as exc:  # two sign-ups with one address at once
        raise ValidationError(_("该电子邮箱已注册，请直接登录"), code="email_taken") from exc
    record("account.signup", actor=user, obj=user)
    return user


# --- Applications to join (单位入驻申请) ------------------------------------------------------------


def sniff_proof(upload) -> tuple[str, str]:
    """Check a proof document by its content: PDF, JPEG or PNG, at most 10 MB.

    Returns ``(content_type, extension)``; raises ``ValidationError`` (Chinese) otherwise. The
    name and the browser's content type are not trusted.
    """
    if upload.size > PROOF_MAX_BYTES:
        raise ValidationError(_("证明材料不能超过 10 MB"), code="proof_size")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    found = next(((kind, ext) for magic, kind, ext in PROOF_TYPES if head.startswith(magic)), None)
    if found is None:
        raise ValidationError(_("证明材料须为 PDF、JPEG 或 PNG 文件"), code="proof_type")
    content_type, extension = found
    if content_type != "application/pdf":
        from PIL import Image

        try:
            with Image.open(upload) as image:
                image.verify()
        except Exception as exc:  # Pillow raises many kinds for a damaged picture
            raise ValidationError(_("证明材料图片已损坏，无法打开"), code="proof_damaged") from exc
        finally:
            upload.seek(0)
    return content_type, extension


def open_application(user) -> OrganizationApplication | None:
    """The applicant's application still in progress (pending or returned), if any."""
    return (
        OrganizationApplication.objects.filter(
            applicant=user, status__in=[ApplicationStatus.PENDING, ApplicationStatus.RETURNED]
        )
        .order_by("-id")
        .first()
    )


def can_apply(user) -> str | None:
    """Why ``user`` may not file a new application (Chinese), or ``None`` when it may."""
    if roles.organization_of(user) is not None:
        return _("当前账号已属于参与单位，无需再申请入驻")
    if OrganizationApplication.objects.filter(applicant=user, status=ApplicationStatus.PENDING).exists():
        return _("已有一份申请正在审核，请耐心等待")
    return None


APPLICATION_FIELDS = (
    "name",
    "type",
    "region",
    "parent",
    "uscc",
    "contact_name",
    "contact_phone",
    "contact_email",
)


@transaction.atomic
def submit_application(applicant, data: dict, proof=None, *, application=None) -> OrganizationApplication:
    """File a new application, or re-apply with a returned one (``application``, the applicant's own).

    ``data``: the cleaned fields of :data:`APPLICATION_FIELDS` (``region`` a ``Region``, ``type`` an
    ``OrganizationType``, ``parent`` a national society or ``None``); ``proof``: an uploaded file,
    required for a new application, optional on re-applying (the old one is kept). Status, decisions
    and the linked organization are never taken from ``data``. Raises ``ValidationError``.
    """
    if application is None:
        reason = can_apply(applicant)
        if reason:
            raise ValidationError(reason)
        if proof is None:
            raise ValidationError(_("请上传证明材料"))
        application = OrganizationApplication(applicant=applicant)
        action = "application.submit"
    else:
        application = OrganizationApplication.objects.select_for_update().get(
            pk=application.pk, applicant=applicant
        )
        if application.status != ApplicationStatus.RETURNED:
            raise ValidationError(_("只有被退回的申请可以修改后重新提交"))
        action = "application.resubmit"
    for name in APPLICATION_FIELDS:
        if name in data:
            setattr(application, name, data[name])
    for name in ("name", "contact_name"):
        setattr(application, name, clean_text(getattr(application, name)))
    try:
        application.contact_phone = normalize_phone(application.contact_phone, label=_("联系电话"))
        application.contact_email = normalize_email(application.contact_email, label=_("电子邮箱"))
    except ValidationError as exc:
        raise ValidationError(exc.messages) from None
    if proof is not None:
        content_type, extension = sniff_proof(proof)
        content = proof.read()
        if content_type != "application/pdf":
            # A photo of a licence carries where and when it was taken (EXIF, GPS): stored without
            # metadata, upright, like every other image the platform keeps (common.images).
            from kepuyue.common.images import without_metadata

            try:
                clean = without_metadata(io.BytesIO(content), formats=("JPEG", "PNG"))
            except (ValueError, OSError) as exc:
                raise ValidationError(_("证明材料图片已损坏，无法打开"), code="proof_damaged") from exc
            content, extension = clean.content, clean.extension
            content_type = "image/png" if clean.format == "png" else "image/jpeg"
        application.proof_type = content_type
        application.proof.save(f"{uuid.uuid4().hex}.{extension}", ContentFile(content), save=False)
    application.status = ApplicationStatus.PENDING
    application.submitted_at = clock.now()
    application.return_reason = ""
    application.full_clean()
    application.save()
    record(action, actor=applicant, obj=application, data={"region": application.region_id})
    return application


def _society_branch_q(society_id: int) -> Q:
    return Q(parent_id=society_id) | Q(parent__parent_id=society_id) | Q(parent__parent__parent_id=society_id)


def applications_in_scope(user) -> QuerySet[OrganizationApplication]:
    """Applications the account reviews: CAST administrators all; a platform administrator of a
    province or prefecture those located there that name no parent society and are not a national
    society; a national society's administrator those of its branches. Others: none."""
    applications = OrganizationApplication.objects.all()
    if roles.is_cast_admin(user):
        return applications
    q: Q | None = None
    for grant in roles.admin_grants(user):
        if grant.region_id:
            part = (
                Q(region__code__startswith=roles.region_prefix(grant.region))
                & Q(parent__isnull=True)
                & ~Q(type_id=roles.NATIONAL_SOCIETY)
            )
        else:
            part = _society_branch_q(grant.organization_id)
        q = part if q is None else q | part
    return applications.none() if q is None else applications.filter(q)


def in_application_scope(user, application) -> bool:
    """Whether ``application`` is one ``user`` reviews (see :func:`applications_in_scope`)."""
    return application is not None and applications_in_scope(user).filter(pk=application.pk).exists()


def _locked_pending(application) -> OrganizationApplication:
    application = OrganizationApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != ApplicationStatus.PENDING:
        raise ValidationError(_("该申请已处理，不能重复审核"))
    return application


@transaction.atomic
def approve_application(application, *, actor):
    """Approve: the organization is created — or an existing one with the same USCC, else the same
    name, is linked — and the applicant becomes its account (``Membership``). Audited.

    Raises ``ValidationError`` when the application is no longer pending, the applicant already
    belongs to a unit, the same-named unit has another USCC, or the existing unit lies outside the
    approver's scope. Returns the organization.
    """
    from kepuyue.orgs.models import Membership, Organization

    application = _locked_pending(application)
    if Membership.objects.filter(user_id=application.applicant_id).exists():
        raise ValidationError(_("申请账号已属于一个参与单位"))
    organization = (
        Organization.objects.filter(uscc=application.uscc).first()
        or Organization.objects.filter(name=application.name).first()
    )
    linked = organization is not None
    if linked:
        if organization.uscc and organization.uscc != application.uscc:
            raise ValidationError(
                _("平台上已有同名单位，但统一社会信用代码不一致，请核实后退回或联系中国科协管理员")
            )
        if organization.region_id and not roles.in_scope(actor, organization):
            raise ValidationError(_("平台上的同一单位不在您的管辖范围内，请联系中国科协管理员"))
        changed = []
        if not organization.uscc:
            organization.uscc, changed = application.uscc, [*changed, "uscc"]
        if not organization.region_id:
            organization.region, changed = application.region, [*changed, "region"]
        if changed:
            organization.save(update_fields=[*changed, "updated"])
            record("organization.change", actor=actor, obj=organization, data={"fields": changed})
    else:
        organization = Organization(
            name=application.name,
            type=application.type,
            region=application.region,
            parent=application.parent,
            uscc=application.uscc,
            contact_name=application.contact_name,
            contact_phone=application.contact_phone,
            contact_email=application.contact_email,
        )
        organization.full_clean()
        organization.save()
        record("organization.create", actor=actor, obj=organization, data={"application": application.pk})
    membership = Membership.objects.create(user_id=application.applicant_id, organization=organization)
    application.status = ApplicationStatus.APPROVED
    application.decided_at = clock.now()
    application.decided_by = actor
    application.organization = organization
    application.save(update_fields=["status", "decided_at", "decided_by", "organization", "updated"])
    record(
        "application.approve",
        actor=actor,
        obj=application,
        organization=organization,
        data={"organization": organization.pk, "linked": linked},
    )
    record(
        "membership.create",
        actor=actor,
        obj=membership,
        organization=organization,
        data={"user": application.applicant.get_username()},
    )
    return organization


@transaction.atomic
def return_application(application, *, actor, reason: str) -> OrganizationApplication:
    """Return an application with a reason the applicant reads (required, at most
    :data:`RETURN_REASON_MAX_LENGTH` characters, cleaned by ``common.text.clean_text``). Audited."""
    reason = clean_text(reason, multiline=True, max_length=RETURN_REASON_MAX_LENGTH, label=_("退回原因"))
    if not reason:
        raise ValidationError(_("请填写退回原因"))
    application = _locked_pending(application)
    application.status = ApplicationStatus.RETURNED
    application.return_reason = reason
    application.decided_at = clock.now()
    application.decided_by = actor
    application.save(update_fields=["status", "return_reason", "decided_at", "decided_by", "updated"])
    record("application.return", actor=actor, obj=application, data={"reason": reason})
    return application


def is_verified(user) -> bool:
    """Whether this request's session passed TOTP (django-otp's ``is_verified``; ``False`` on a user
    object fresh from ``login()``, which the OTP middleware has not seen)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())
