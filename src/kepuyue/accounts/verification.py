"""Proving an e-mail address or a mobile number (邮箱/手机验证) of a public account.

Booking an activity (``kepuyue.registrations``) needs an account whose e-mail address *or* mobile
number is proved:

- **e-mail**: a link (``/accounts/verify/email/<token>/``) carrying a ``django.core.signing`` token of
  the account and the address, valid :data:`EMAIL_LINK_DAYS` days; it proves that address only (a
  later change of e-mail is not verified). Sent at sign-up and on request.
- **mobile**: a 6-digit code by text message through the SMS backend (``kepuyue.common.sms``), valid
  :data:`CODE_MINUTES` minutes for :data:`MAX_ATTEMPTS` tries, stored hashed
  (:class:`~kepuyue.accounts.models.PhoneCode`); the number becomes the account's phone once the code
  is right. A number already proved by another account is refused (one person, one number).

Expiry is measured in real time, never by the campaign clock (like sessions and lock-outs). Every
success is audited (``account.email_verified``, ``account.phone_verified``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kepuyue.audit.services import record
from kepuyue.common import sms
from kepuyue.common.compiled import PreparedRead

from . import services
from .models import PhoneCode, Profile

EMAIL_SALT = "kepuyue.accounts.verify-email"
EMAIL_LINK_DAYS = 3
CODE_MINUTES = 10
MAX_ATTEMPTS = 5


def _profile(user) -> Profile:
    profile, _created = Profile.objects.get_or_create(user=user)
    return profile


def email_verified(user, profile: Profile | None = None) -> bool:
    """Whether the account's current e-mail address is the one it proved."""
    profile = profile or Profile.objects.filter(user=user).first()
    return bool(
        profile
        and profile.email_verified_at
        and user.email
        and profile.verified_email.lower() == user.email.lower()
    )


def phone_verified(user, profile: Profile | None = None) -> bool:
    """Whether the account's mobile number was proved by a code."""
    profile = profile or Profile.objects.filter(user=user).first()
    return bool(profile and profile.phone and profile.phone_verified_at)


# The account's profile as ``Profile.objects.filter(user=user).first()`` reads it, compiled once
# (decision 0034): every booking request asks.
_PROFILE = PreparedRead(
    lambda user_id: Profile.objects.filter(user_id=user_id).order_by("pk")[:1], user_id=-7_000_000_003
)


def contact_verified(user) -> bool:
    """Whether ``user`` (a signed-in account) proved its e-mail address or its mobile number: what
    booking an activity needs. One query."""
    if user is None or not user.is_authenticated:
        return False
    # Asked by the view and again by the service in one request: read once per user instance.
    cached = getattr(user, "_kepuyue_contact_verified", None)
    if cached is not None:
        return cached
    profile = _PROFILE.first(user_id=user.pk)
    user._kepuyue_contact_verified = email_verified(user, profile) or phone_verified(user, profile)
    return user._kepuyue_contact_verified


def verified_phone(user) -> str:
    """The account's proved mobile number, or ``""``."""
    profile = Profile.objects.filter(user=user).first()
    return profile.phone if phone_verified(user, profile) else ""


# --- e-mail ----------------------------------------------------------------------------------------


def email_token(user) -> str:
    """A signed token naming the account and its current address (for the link)."""
    return signing.dumps({"u": user.pk, "e": user.email.lower()}, salt=EMAIL_SALT, compress=True)


def send_email_link(user) -> bool:
    """Mail the verification link to the account's address; ``False`` when it has none (or it is
    already proved). Sent after the current transaction commits."""
    if not user.email or email_verified(user):
        return False
    url = settings.SITE_URL.rstrip("/") + reverse("accounts:verify_email_link", args=[email_token(user)])
    body = _(
        "您好！\n\n请打开下面的链接验证您的电子邮箱（%(days)d 天内有效）：\n\n%(url)s\n\n"
        "验证后即可报名参加全国科普月活动。如果不是您本人操作，请忽略本邮件。"
    ) % {"days": EMAIL_LINK_DAYS, "url": url}
    message = mail.EmailMessage(
        subject=_("[全国科普月] 请验证您的电子邮箱"),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    transaction.on_commit(lambda: message.send(fail_silently=True))
    return True


def confirm_email(token: str):
    """Check a link's token; on success mark the address proved and return the account.

    Raises ``ValidationError`` (Chinese) for a forged, expired or outdated link (the account's
    address changed since)."""
    try:
        data = signing.loads(token, salt=EMAIL_SALT, max_age=timedelta(days=EMAIL_LINK_DAYS))
    except signing.SignatureExpired:
        raise ValidationError(_("验证链接已过期，请在“我的账号”中重新发送。"), code="expired") from None
    except signing.BadSignature:
        raise ValidationError(_("验证链接无效，请检查是否完整复制。"), code="invalid") from None
    user = (
        get_user_model().objects.filter(pk=data.get("u"), is_active=True).first()
        if isinstance(data, dict)
        else None
    )
    if user is None or not user.email or user.email.lower() != str(data.get("e", "")):
        raise ValidationError(_("验证链接与账号当前的电子邮箱不符，请重新发送。"), code="outdated")
    profile = _profile(user)
    if not email_verified(user, profile):
        profile.verified_email = user.email.lower()
        profile.email_verified_at = timezone.now()
        profile.save(update_fields=["verified_email", "email_verified_at"])
        record("account.email_verified", actor=user, obj=user)
    return user


# --- mobile ----------------------------------------------------------------------------------------


def _hash(user_id: int, phone: str, code: str) -> str:
    key = hashlib.sha256(f"{settings.SECRET_KEY}:{EMAIL_SALT}:phone".encode()).digest()
    return hmac.new(key, f"{user_id}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def send_phone_code(user, phone: str) -> None:
    """Text a fresh 6-digit code to ``phone`` (a normalised mainland mobile number) for ``user``.

    Raises ``ValidationError`` when another account already proved that number."""
    if Profile.objects.filter(phone=phone, phone_verified_at__isnull=False).exclude(user=user).exists():
        raise ValidationError(_("该手机号已被其他账号验证。"), code="phone_taken")
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = timezone.now()
    with transaction.atomic():
        PhoneCode.objects.filter(user=user).delete()
        PhoneCode.objects.create(
            user=user,
            phone=phone,
            code_hash=_hash(user.pk, phone, code),
            created_at=now,
            expires_at=now + timedelta(minutes=CODE_MINUTES),
        )
    text = _("【全国科普月】您的手机验证码是 %(code)s，%(m)d 分钟内有效。如非本人操作请忽略。") % {
        "code": code,
        "m": CODE_MINUTES,
    }
    transaction.on_commit(lambda: sms.send_sms(phone, text, fail_silently=True))


def pending_phone(user) -> str:
    """The number a code was last sent to (still valid), or ``""``."""
    row = PhoneCode.objects.filter(user=user, expires_at__gt=timezone.now()).first()
    return row.phone if row else ""


def confirm_phone_code(user, code: str) -> str:
    """Check the code typed by ``user``; on success the number becomes the account's proved phone
    and is returned. Raises ``ValidationError`` (Chinese) for a wrong or expired code, and after
    :data:`MAX_ATTEMPTS` wrong tries (a new code must be sent)."""
    # Full-width digits, spaces and dashes are accepted; what cannot be a code at all (not 6 digits)
    # is refused without counting a try: it is a slip of the keyboard, not a guess.
    code = services.six_digit_code(code)
    if not code:
        raise ValidationError(_("请输入短信中的 6 位数字验证码"), code="malformed")
    error = None
    with transaction.atomic():
        # The wrong try is counted in this transaction, and the refusal raised after it commits.
        row = PhoneCode.objects.select_for_update().filter(user=user).first()
        if row is None or row.expires_at <= timezone.now():
            error = ValidationError(_("验证码已过期，请重新获取。"), code="expired")
        elif row.attempts >= MAX_ATTEMPTS:
            error = ValidationError(_("验证码错误次数过多，请重新获取。"), code="attempts")
        elif not hmac.compare_digest(row.code_hash, _hash(user.pk, row.phone, code)):
            PhoneCode.objects.filter(pk=row.pk).update(attempts=row.attempts + 1)
            left = MAX_ATTEMPTS - row.attempts - 1
            error = ValidationError(_("验证码不正确，还可尝试 %(n)d 次。") % {"n": left}, code="wrong")
        elif (
            Profile.objects.filter(phone=row.phone, phone_verified_at__isnull=False)
            .exclude(user=user)
            .exists()
        ):
            error = ValidationError(_("该手机号已被其他账号验证。"), code="phone_taken")
        else:
            phone = row.phone
            profile = _profile(user)
            profile.phone = phone
            profile.phone_verified_at = timezone.now()
            profile.save(update_fields=["phone", "phone_verified_at"])
            row.delete()
    if error is not None:
        raise error
    record("account.phone_verified", actor=user, obj=user)
    return phone
