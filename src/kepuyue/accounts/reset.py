"""Password reset (找回密码) by e-mail or text message, for public and staff accounts.

The flow, and the rules it keeps:

1. :func:`request_reset` takes what the visitor typed (an e-mail address or a mainland mobile number)
   and, for each active account it names (at most :data:`MAX_ACCOUNTS`), queues the delivery of a reset
   link. **A mobile number names only the account that proved it** (``verification``: a code texted to
   it, or an invitation opened by text message): a number merely typed at sign-up proves nothing —
   anyone may type anyone's number — so it never receives a reset link. Only one account can prove a
   number, so a text message goes to one account at most (should two have proved it, the latest
   proof: numbers are reassigned). The delivery checks again that the number is still the account's
   proved one. A text message names the account masked (``e***@example.com``): whoever holds a
   number learns no address from it. The link goes (:func:`deliver`, through the task
   ``kepuyue.accounts.send_password_reset``) by e-mail or through the SMS backend
   (``kepuyue.common.sms``). **No enumeration**: the visitor sees the same page whether
   or not an account exists, and the view pads every answer to :data:`RESPONSE_SECONDS`, so the time
   does not tell either (in scale-out the delivery runs in a Celery worker, not in the request).
2. The link carries Django's reset token (``default_token_generator``): an HMAC over the account's
   password hash, last sign-in and e-mail with a timestamp. It is **short-lived**
   (``PASSWORD_RESET_TIMEOUT``, 30 minutes by default) and **single-use** (a new password changes the
   hash, so the same link no longer verifies). Links are built on ``SITE_URL``, never on the request's
   ``Host`` header.
3. :func:`complete_reset` sets the new password (the platform's password rules apply). An account
   with a confirmed authenticator (TOTP) must also type its current code (:func:`check_totp`, django-otp's
   throttling applies): a stolen mailbox or phone alone cannot change a staff password. An account
   that must use TOTP but has not enrolled an authenticator yet cannot reset by itself at all: the
   message it receives says to ask an administrator (otherwise the mailbox would be enough to enrol a
   stranger's authenticator). The reset **never signs in**: the next sign-in asks for the new password
   and, for staff, the TOTP code as always; other sessions of the account end (their session hash no
   longer matches). A reset **unlocks nothing**: django-axes' lock-outs stay in force.
4. Every request that names an account, every completed reset and every wrong TOTP code on this page
   is audited (``account.password_reset_request``, ``account.password_reset``,
   ``account.password_reset_totp_failed``). The rate limits ``password_reset`` (per address),
   ``password_reset_target`` (per e-mail or number asked for: no mail-bombing) and
   ``password_reset_confirm`` (links opened per address) are applied by the views.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from kepuyue.audit.services import record
from kepuyue.common import sms
from kepuyue.common.text import has_controls, mask_email, normalize_email, normalize_phone
from kepuyue.roles import services as roles

from . import services, verification
from .models import Profile

EMAIL, PHONE = "email", "phone"
# One e-mail names at most this many accounts (an address may be one account's e-mail and another's
# user name); a number names one account at most (only one account can prove it).
MAX_ACCOUNTS = 3
# Every answer to a reset request takes at least this long (seconds), found or not.
RESPONSE_SECONDS = 0.4
MAX_IDENTIFIER_CHARS = 254
MAX_UID_CHARS = 32
MAX_TOKEN_CHARS = 64


def classify(identifier: str) -> tuple[str, str]:
    """``(EMAIL, address)`` or ``(PHONE, 11-digit number)`` for what the visitor typed, in the forms
    accounts are stored in (``kepuyue.common.text``): the address through ``normalize_email`` (lower
    case, IDNA domain: ``用户@例子.中国`` names the account signed up as ``用户@xn--fsqu00a.xn--fiqs8s``),
    the number through ``normalize_phone`` (full-width or other decimal digits, ``+86``, spaces and
    dashes accepted). The rate limit ``password_reset_target`` counts this form, so two spellings of
    one mailbox or number share it.

    Raises ``ValidationError`` (Chinese) when it is neither, or holds a control character — a message
    about the *format*, the same for every visitor, so it reveals nothing about accounts.
    """
    text = (identifier or "").strip()
    invalid = ValidationError(_("请输入注册时填写的电子邮箱或 11 位手机号码"), code="identifier")
    if not text or len(text) > MAX_IDENTIFIER_CHARS or has_controls(text):
        raise invalid
    if "@" in text:
        try:
            address = normalize_email(text)
            validate_email(address)
        except ValidationError as exc:
            raise invalid from exc
        return EMAIL, address
    try:
        phone = normalize_phone(text, mobile_only=True)
    except ValidationError as exc:
        raise invalid from exc
    if not phone:
        raise invalid
    return PHONE, phone[-11:]


def accounts_for(kind: str, value: str) -> list:
    """The active accounts an e-mail address (account e-mail or user name) names, at most
    :data:`MAX_ACCOUNTS`; or the one active account that **proved** a mobile number (the profile's
    phone, with or without +86, with ``phone_verified_at``; the latest proof should two have one).
    A number typed at sign-up and never proved names nobody."""
    users = get_user_model().objects.filter(is_active=True)
    if kind == EMAIL:
        users = users.filter(Q(email__iexact=value) | Q(username__iexact=value))
        return list(users.order_by("id")[:MAX_ACCOUNTS])
    numbers = [value, f"86{value}", f"+86{value}"]
    proved = (
        Profile.objects.filter(phone__in=numbers, phone_verified_at__isnull=False, user__is_active=True)
        .order_by("-phone_verified_at", "-id")
        .values("user_id")[:1]
    )
    return list(users.filter(pk__in=proved))


def proved_number(user) -> str:
    """The 11 digits of the mobile number ``user`` proved, or ``""``."""
    return verification.verified_phone(user)[-11:]


def masked_name(user) -> str:
    """The account's name as a text message may show it: ``e***@example.com``, ``139****9002``."""
    name = user.get_username()
    if "@" in name:
        return mask_email(name)
    return f"{name[:3]}****{name[-4:]}" if len(name) >= 8 else "***"


def request_reset(identifier: str) -> int:
    """Queue a reset link for each account ``identifier`` names; return how many (the caller must not
    show it). Raises ``ValidationError`` for a malformed identifier only."""
    kind, value = classify(identifier)
    found = 0
    for user in accounts_for(kind, value):
        if not user.has_usable_password():
            continue
        record("account.password_reset_request", obj=user, data={"channel": kind})
        # The task reads only the account, which exists already: no need to wait for a commit.
        _queue(user.pk, kind, value)
        found += 1
    return found


def _queue(user_id: int, kind: str, value: str) -> None:
    from .tasks import send_password_reset

    send_password_reset.delay(user_id, kind, value)


def reset_url(user) -> str:
    """The absolute reset link of ``user`` (on ``SITE_URL``), valid ``PASSWORD_RESET_TIMEOUT`` seconds."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:password_reset_confirm", args=[uid, token])
    return settings.SITE_URL.rstrip("/") + path


def self_service_allowed(user) -> bool:
    """Whether ``user`` may reset its own password: not an account that must use TOTP but has no
    authenticator yet (an administrator resets those)."""
    return not (roles.needs_two_factor(user) and services.confirmed_device(user) is None)


def deliver(user_id: int, kind: str, value: str) -> bool:
    """Send the reset link (or, for an account that may not reset itself, the reason) to ``value`` by
    ``kind`` (e-mail or SMS). Returns whether a message went out. Called by the task."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    if kind == PHONE and (not value or proved_number(user) != value[-11:]):
        # Queued, then the number changed or was never proved: a link goes only to a proved number.
        return False
    # A text message reaches whoever holds the number: it names the account masked.
    name = masked_name(user) if kind == PHONE else user.get_username()
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    if self_service_allowed(user):
        body = _(
            "您正在重置全国科普月平台账号 %(name)s 的密码。请在 %(m)d 分钟内打开以下链接设置新密码（只能使用一次）：\n%(url)s\n"
            "如果不是您本人操作，请忽略本消息，您的密码不会改变。"
        ) % {"name": name, "m": minutes, "url": reset_url(user)}
    else:
        body = _(
            "有人申请重置全国科普月平台账号 %(name)s 的密码。该账号须使用身份验证器登录但尚未绑定，"
            "不能自助重置密码，请联系平台管理员。如果不是您本人操作，请忽略本消息。"
        ) % {"name": name}
    if kind == PHONE:
        return bool(sms.send_sms(value, _("【全国科普月】") + body))
    message = mail.EmailMessage(_("【全国科普月】重置密码"), body, to=[value])
    return bool(message.send())


def user_from_uid(uidb64: str):
    """The active account a link's ``uidb64`` names, or ``None`` for anything malformed or unknown."""
    if not uidb64 or len(uidb64) > MAX_UID_CHARS or not uidb64.isascii():
        return None
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode("ascii"))
    except (ValueError, TypeError, UnicodeDecodeError, OverflowError):
        return None
    if not 0 < pk < 2**63:
        return None
    return get_user_model().objects.filter(pk=pk, is_active=True).first()


def token_valid(user, token: str) -> bool:
    """Whether ``token`` is a current, unused reset token of ``user``."""
    if user is None or not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        return False
    return default_token_generator.check_token(user, token)


def check_totp(user, code: str) -> str | None:
    """For an account with a confirmed authenticator: ``None`` when ``code`` is its current code, else a
    Chinese error (wrong, or throttled after wrong ones; audited). ``None`` for accounts without one."""
    device = services.confirmed_device(user)
    if device is None:
        return None
    if wait := services.throttled(device):
        return wait
    code = services.six_digit_code(code)
    if code and device.verify_token(code):
        return None
    record("account.password_reset_totp_failed", obj=user)
    return _("验证码不正确或已过期，请输入身份验证器当前显示的数字")


@transaction.atomic
def complete_reset(user, password: str) -> None:
    """Set ``password`` (already validated) on ``user``: the reset link is spent, an initial-password
    flag is cleared (the owner chose it), audited. Signs nobody in and leaves lock-outs as they are."""
    user.set_password(password)
    user.save(update_fields=["password"])
    Profile.objects.update_or_create(
        user=user, defaults={"must_change_password": False, "password_changed_at": timezone.now()}
    )
    record("account.password_reset", actor=user, obj=user)
