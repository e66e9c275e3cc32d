"""Staff-managed accounts (账号管理) and one-time invitations (账号邀请), without the Django admin.

Who manages whom (plan 八(二): the chain of responsibility):

- a platform administrator (平台管理员, ``roles.RoleGrant`` of a province, prefecture or national
  society) manages the **unit accounts** (``orgs.Membership``) of the organizations in its review
  scope (``roles.services.scope_q``): create, invite, deactivate and reactivate, send a reset link;
- a CAST administrator (中国科协管理员) manages every unit account and, besides, the **role
  accounts**: platform administrators and joint-action managers (grant and revoke roles, choosing the
  region, national society or joint action by name).

Accounts outside the actor's scope do not exist for it (:func:`account_for` raises ``Http404``); an
actor with no scope at all gets ``PermissionDenied``. Nobody manages a superuser, nor their own account
here. Every change is written to the audit log (``account.create``, ``account.invite``,
``account.invitation_accept``, ``account.deactivate``, ``account.reactivate``, ``account.reset_sent``;
``role.grant`` / ``role.revoke`` by ``roles.services``).

Invitations (``Invitation``): a link ``/accounts/invite/<token>/`` where ``token`` is
``django.core.signing`` over ``{"i": invitation id, "n": random nonce}`` (salt
:data:`INVITE_SALT`, timestamped). It is good once, for :data:`INVITE_DAYS` days, and only while it
is the account's latest invitation; the invitee chooses a password there (the platform's password
rules), which activates nothing else: a deactivated account stays deactivated. See
``docs/decisions/0016-staff-managed-accounts.md``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core import mail, signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kepuyue.audit.services import record
from kepuyue.common import sms
from kepuyue.common.text import clean_text, normalize_email, normalize_phone
from kepuyue.roles import services as roles
from kepuyue.roles.models import Role, RoleGrant

from .models import Invitation, InvitationChannel, Profile

INVITE_SALT = "kepuyue.accounts.invitation"
# How long an invitation link stays good (real time).
INVITE_DAYS = 7
MAX_TOKEN_CHARS = 200
# The roles CAST grants from the staff pages (judges are named per call by the joint action's managers).
MANAGED_ROLES = (Role.PLATFORM_ADMIN, Role.JOINT_ACTION_MANAGER, Role.CAST_ADMIN)


# --- who may manage what --------------------------------------------------------------------------


def can_manage_accounts(actor) -> bool:
    """Platform administrators and CAST administrators open the account pages."""
    return roles.is_cast_admin(actor) or bool(roles.admin_grants(actor))


def _require_manager(actor) -> None:
    if not can_manage_accounts(actor):
        raise PermissionDenied(_("只有平台管理员和中国科协管理员可以管理账号"))


def organizations_in_scope(actor):
    """Organizations whose unit accounts ``actor`` manages (CAST: all; none without a scope)."""
    from kepuyue.orgs.models import Organization

    q = roles.scope_q(actor)
    return Organization.objects.none() if q is None else Organization.objects.filter(q)


def managed_accounts(actor) -> QuerySet:
    """The accounts ``actor`` manages, newest first, with ``membership__organization`` selected and
    ``role_grants`` prefetched (two queries for a page): unit accounts in scope; for CAST also every
    account holding a role. Never superusers, never the actor itself."""
    users = get_user_model().objects.filter(is_superuser=False).exclude(pk=getattr(actor, "pk", None))
    q = roles.scope_q(actor, "membership__organization__")
    if q is None:
        return users.none()
    unit_accounts = Q(membership__isnull=False) & q
    has_role = Exists(RoleGrant.objects.filter(user=OuterRef("pk")))
    if roles.is_cast_admin(actor):
        # Role accounts, and accounts staff created that hold no unit or role yet (invited, or
        # still without a password of their own).
        invited = Exists(Invitation.objects.filter(user=OuterRef("pk")))
        users = users.filter(
            unit_accounts | Q(has_role) | Q(invited) | Q(password__startswith=UNUSABLE_PASSWORD_PREFIX)
        )
    else:
        # A unit account that also holds a role is CAST's to manage.
        users = users.filter(unit_accounts).exclude(has_role)
    grants = RoleGrant.objects.select_related("region", "organization", "joint_action")
    return (
        users.select_related("membership__organization", "profile")
        .prefetch_related(Prefetch("role_grants", queryset=grants))
        .order_by("-date_joined", "-id")
    )


def search_accounts(actor, q: str = "") -> QuerySet:
    """:func:`managed_accounts` narrowed to ``q`` in the account name, e-mail, name or unit name."""
    users = managed_accounts(actor)
    q = clean_text(str(q or "")[:100])
    if q:
        users = users.filter(
            Q(username__icontains=q)
            | Q(email__icontains=q)
            | Q(first_name__icontains=q)
            | Q(membership__organization__name__icontains=q)
        )
    return users


def account_for(actor, pk) -> object:
    """The account ``pk`` if ``actor`` manages it; ``Http404`` otherwise (another scope's account does
    not exist for it), ``PermissionDenied`` for an actor that manages none."""
    _require_manager(actor)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    user = managed_accounts(actor).filter(pk=pk).first()
    if user is None:
        raise Http404(_("没有这个账号"))
    return user


def _check_manages(actor, user) -> None:
    account_for(actor, user.pk)


# --- creating accounts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """An e-mail address and/or a mobile number, in their canonical forms (``common.text``)."""

    email: str
    phone: str


def normalise_contact(email: str = "", phone: str = "") -> Contact:
    """Both through the text layer (``normalize_email``, ``normalize_phone(mobile_only=True)``); at
    least one is required. Raises ``ValidationError`` (Chinese) naming the field."""
    email = normalize_email(email or "", label=_("电子邮箱"))
    if email:
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(_("电子邮箱：格式不正确"), code="email") from None
    phone = normalize_phone(phone or "", label=_("手机号码"), mobile_only=True)
    if phone:
        phone = phone[-11:]
    if not email and not phone:
        raise ValidationError(_("请填写电子邮箱或手机号码（至少一项），用于发送邀请链接"), code="contact")
    return Contact(email=email, phone=phone)


def _taken(contact: Contact) -> str | None:
    users = get_user_model().objects
    if (
        contact.email
        and users.filter(Q(username__iexact=contact.email) | Q(email__iexact=contact.email)).exists()
    ):
        return _("该电子邮箱已有账号")
    if contact.phone and (
        users.filter(username=contact.phone).exists()
        or Profile.objects.filter(phone__in=[contact.phone, f"+86{contact.phone}"]).exists()
    ):
        return _("该手机号码已有账号")
    return None


@transaction.atomic
def create_account(actor, *, name: str, email: str = "", phone: str = "", organization=None):
    """Create an account without a usable password (its owner chooses one through an invitation).

    ``organization``: the unit it publishes for (``Membership``) — required for a platform
    administrator, and in its scope; CAST may leave it empty (an account for a role, granted next).
    ``name``: the person's name (≤ 64 characters). The e-mail (else the mobile number) is the account
    name. Raises ``ValidationError`` (Chinese) for a bad or taken contact, ``PermissionDenied`` for an
    actor that may not, ``Http404`` for an organization outside the scope. Audited
    (``account.create``).
    """
    from kepuyue.orgs.models import Membership

    _require_manager(actor)
    name = clean_text(name or "", max_length=64, label=_("姓名"))
    if not name:
        raise ValidationError(_("姓名：必须填写"), code="name")
    contact = normalise_contact(email, phone)
    if organization is None and not roles.is_cast_admin(actor):
        raise ValidationError(_("请选择账号所属单位"), code="organization")
    if organization is not None and not organizations_in_scope(actor).filter(pk=organization.pk).exists():
        raise Http404(_("没有这个单位"))
    if reason := _taken(contact):
        raise ValidationError(reason, code="taken")
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(
                username=contact.email or contact.phone, email=contact.email, first_name=name
            )
    except IntegrityError as exc:
        raise ValidationError(_("该账号已存在"), code="taken") from exc
    user.set_unusable_password()
    user.save(update_fields=["password"])
    Profile.objects.create(user=user, phone=contact.phone, must_change_password=False)
    if organization is not None:
        Membership.objects.create(user=user, organization=organization)
    record(
        "account.create",
        actor=actor,
        obj=user,
        organization=organization,
        data={
            "organization": getattr(organization, "pk", None),
            "email": bool(contact.email),
            "phone": bool(contact.phone),
        },
    )
    roles.forget(user)
    return user


# --- invitations ----------------------------------------------------------------------------------


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def invitation_url(token: str) -> str:
    """The absolute link of an invitation (on ``SITE_URL``, never the request's host)."""
    return settings.SITE_URL.rstrip("/") + reverse("accounts:invitation", args=[token])


@transaction.atomic
def invite(actor, user, *, channel: str = "") -> tuple[Invitation, str]:
    """Send ``user`` a one-time link to choose its password, by e-mail or text message.

    ``channel``: ``"email"`` or ``"phone"``; empty picks the e-mail when there is one. Earlier open
    invitations of the account are revoked. Returns ``(invitation, token)`` (the token is in no log
    and stored only as a hash). Raises ``ValidationError`` when the account has no address for the
    channel or is deactivated, or for a text message to an account that has a password but never
    proved its number (the number may be anyone's: opening the link sets the password);
    ``Http404`` outside the scope. Audited (``account.invite``). The message is sent after the
    transaction commits.
    """
    _check_manages(actor, user)
    if not user.is_active:
        raise ValidationError(_("账号已停用，请先启用再发送邀请"), code="inactive")
    profile = Profile.objects.filter(user=user).first()
    phone = profile.phone[-11:] if profile and profile.phone else ""
    if not channel:
        channel = InvitationChannel.EMAIL if user.email else InvitationChannel.PHONE
    if channel not in InvitationChannel.values:
        raise ValidationError(_("请选择发送方式"), code="channel")
    sent_to = user.email if channel == InvitationChannel.EMAIL else phone
    if not sent_to:
        raise ValidationError(
            _("该账号没有电子邮箱") if channel == InvitationChannel.EMAIL else _("该账号没有手机号码"),
            code="no_address",
        )
    if (
        channel == InvitationChannel.PHONE
        and user.has_usable_password()
        and not (profile and profile.phone_verified_at)
    ):
        # An account with a password whose number was never proved: the number may be anyone's
        # (typed at sign-up), and opening the link would set the password. Only an account created
        # here without a password (its number typed by the administrator) is invited to it.
        raise ValidationError(
            _("该账号的手机号码尚未验证，不能用于发送链接，请改用电子邮件"), code="unverified"
        )
    now = timezone.now()
    Invitation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    nonce = secrets.token_urlsafe(24)
    invitation = Invitation.objects.create(
        user=user,
        nonce_hash=_hash(nonce),
        channel=channel,
        sent_to=sent_to,
        created_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=INVITE_DAYS),
    )
    token = signing.dumps({"i": invitation.pk, "n": nonce}, salt=INVITE_SALT, compress=False)
    record("account.invite", actor=actor, obj=user, data={"channel": channel, "invitation": invitation.pk})
    url = invitation_url(token)
    # robust: a mail server that is down is logged; the account and the invitation stay (resend later).
    transaction.on_commit(lambda: _deliver(user.get_username(), channel, sent_to, url), robust=True)
    return invitation, token


def _deliver(account: str, channel: str, to: str, url: str) -> None:
    body = _(
        "您好！平台管理员已为您开通全国科普月平台账号 %(name)s。请在 %(d)d 天内打开以下链接设置登录密码"
        "（链接只能使用一次）：\n%(url)s\n如果您不知道此事，请忽略本消息。"
    ) % {"name": account, "d": INVITE_DAYS, "url": url}
    if channel == InvitationChannel.PHONE:
        sms.send_sms(to, _("【全国科普月】") + body)
    else:
        mail.EmailMessage(_("【全国科普月】账号邀请"), body, to=[to]).send()


def invitation_from(token: str) -> Invitation | None:
    """The open invitation a link's ``token`` names, or ``None`` when it is malformed, tampered with,
    older than :data:`INVITE_DAYS`, already used, replaced by a newer one, or its account deactivated."""
    if not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        return None
    try:
        value = signing.loads(token, salt=INVITE_SALT, max_age=timedelta(days=INVITE_DAYS))
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("i"), int)
        or not isinstance(value.get("n"), str)
    ):
        return None
    invitation = (
        Invitation.objects.select_related("user").filter(pk=value["i"], nonce_hash=_hash(value["n"])).first()
    )
    if (
        invitation is None
        or invitation.used_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= timezone.now()
        or not invitation.user.is_active
    ):
        return None
    return invitation


@transaction.atomic
def accept_invitation(token: str, password: str):
    """Set ``password`` (already validated by the form) on the invited account and spend the link.

    Returns the account, or raises ``ValidationError`` when the link is no longer good (checked again
    under a row lock: two tabs cannot both use it). Audited (``account.invitation_accept``). Signs
    nobody in.
    """
    invitation = invitation_from(token)
    if invitation is not None:
        invitation = Invitation.objects.select_for_update().select_related("user").get(pk=invitation.pk)
    if invitation is None or invitation.used_at is not None or invitation.revoked_at is not None:
        raise ValidationError(_("邀请链接无效、已使用或已过期，请联系平台管理员重新发送"), code="invalid")
    now = timezone.now()
    invitation.used_at = now
    invitation.save(update_fields=["used_at"])
    user = invitation.user
    user.set_password(password)
    user.save(update_fields=["password"])
    Profile.objects.update_or_create(
        user=user, defaults={"must_change_password": False, "password_changed_at": now}
    )
    if invitation.channel == InvitationChannel.EMAIL and invitation.sent_to == user.email:
        # Opening the link proves the mailbox, as the verification e-mail would.
        Profile.objects.filter(user=user).update(verified_email=user.email, email_verified_at=now)
    elif invitation.channel == InvitationChannel.PHONE:
        # Opening the link proves the number it was texted to, and only while it is still the
        # account's number (a reset by text message trusts a proved number).
        number = invitation.sent_to[-11:]
        Profile.objects.filter(user=user, phone__in=[number, f"86{number}", f"+86{number}"]).update(
            phone_verified_at=now
        )
    record("account.invitation_accept", actor=user, obj=user, data={"invitation": invitation.pk})
    return user


# --- state changes --------------------------------------------------------------------------------


@transaction.atomic
def set_active(actor, user, active: bool):
    """停用 / 启用 an account in the actor's scope. A deactivated account cannot sign in, its sessions
    end on their next request, and its open invitations are revoked. Audited
    (``account.deactivate`` / ``account.reactivate``); doing what is already done changes nothing."""
    _check_manages(actor, user)
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        Invitation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    record("account.reactivate" if active else "account.deactivate", actor=actor, obj=user)
    return user


def send_reset(actor, user, *, channel: str = "") -> str:
    """Send the account a password-reset link through the existing machinery
    (``kepuyue.accounts.reset``: short-lived, single use, TOTP still asked for staff with an
    authenticator). ``channel`` as in :func:`invite`; by text message only to a number the account
    proved (``reset.proved_number``), never to one merely typed. Returns the channel used. An account that never
    set a password gets an invitation instead (Django's reset token needs a usable password).
    Audited (``account.reset_sent``)."""
    from . import reset

    _check_manages(actor, user)
    if not user.is_active:
        raise ValidationError(_("账号已停用，请先启用"), code="inactive")
    if not user.has_usable_password():
        invitation, _token = invite(actor, user, channel=channel)
        return invitation.channel
    if not channel:
        channel = reset.EMAIL if user.email else reset.PHONE
    # A reset link goes by text message only to a number the account proved (``reset``).
    value = user.email if channel == reset.EMAIL else reset.proved_number(user)
    if not value:
        raise ValidationError(
            _("该账号没有可用于发送重置链接的电子邮箱或已验证的手机号码"), code="no_address"
        )
    record("account.reset_sent", actor=actor, obj=user, data={"channel": channel})
    transaction.on_commit(lambda: reset._queue(user.pk, channel, value), robust=True)
    return channel


# --- roles (CAST only) ----------------------------------------------------------------------------


def _require_cast(actor) -> None:
    if not roles.is_cast_admin(actor):
        raise PermissionDenied(_("只有中国科协管理员可以授予或撤销角色"))


def grant(actor, user, role: str, *, region=None, organization=None, joint_action=None):
    """CAST grants ``role`` (platform administrator, joint-action manager, CAST) with its scope, chosen
    by name on the page. Raises ``PermissionDenied`` for anyone else, ``ValidationError`` for a wrong
    scope. Audited by ``roles.services.grant_role`` (``role.grant``)."""
    _require_cast(actor)
    if user.is_superuser or user.pk == actor.pk:
        raise Http404(_("没有这个账号"))
    if role not in MANAGED_ROLES:
        raise ValidationError(_("不能在此授予该角色"), code="role")
    return roles.grant_role(
        user, role, by=actor, region=region, organization=organization, joint_action=joint_action
    )


def revoke(actor, grant_id) -> None:
    """CAST revokes one role grant of a managed account (``Http404`` for an unknown id). Audited."""
    _require_cast(actor)
    found = RoleGrant.objects.select_related("user").filter(pk=grant_id, role__in=MANAGED_ROLES).first()
    if found is None or found.user.is_superuser or found.user_id == actor.pk:
        raise Http404(_("没有这项授权"))
    roles.revoke_role(found, by=actor)


def invitations_of(user) -> list[Invitation]:
    """The account's last five invitations, newest first (the detail page)."""
    return list(Invitation.objects.filter(user=user).select_related("created_by")[:5])


def set_unit_phone(actor, organization, *, contact_phone: str, phone_public: bool) -> None:
    """A unit's account sets its organization's contact phone (``common.text.normalize_phone``, several
    numbers allowed) and whether it is a public office line (``Organization.phone_public``: shown in
    full on public pages; personal mobiles stay masked). Only the unit's own accounts. Audited
    (``organization.change``)."""
    if roles.organization_of(actor) is None or roles.organization_of(actor).pk != organization.pk:
        raise PermissionDenied(_("只能修改本单位的信息"))
    phone = normalize_phone(contact_phone or "", label=_("单位联系电话"), several=True)
    changed = [
        name
        for name, value in (("contact_phone", phone), ("phone_public", bool(phone_public and phone)))
        if getattr(organization, name) != value
    ]
    if not changed:
        return
    organization.contact_phone = phone
    organization.phone_public = bool(phone_public and phone)
    organization.save(update_fields=[*changed, "updated"])
    record("organization.change", actor=actor, obj=organization, data={"fields": changed})
