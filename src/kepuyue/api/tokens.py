"""Creating, checking and revoking API tokens (接口令牌). Business rules only; the staff page
(:mod:`.views`) and the API's authentication (:mod:`.endpoints`) call these.

Who may hold which token: a unit's publisher (``Membership``) a unit token acting for that
organization; a platform administrator or CAST (a role with a scope, ``roles.services``) a scope
token. Either acts as the account that made it, so the rules of ``activities.rules`` and
``registrations.rules`` give it the same objects as that account's pages (another unit's activity
is a 404). Every creation and revocation is audited.
"""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kepuyue.audit import services as audit
from kepuyue.common.text import clean_text
from kepuyue.roles import services as roles

from .models import ApiToken, TokenKind

TOKEN_PREFIX = "kpy_"  # noqa: S105 - a marker, not a secret
MAX_ACTIVE_TOKENS = 20
NAME_MAX_LENGTH = 64


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def kinds_for(user) -> list[str]:
    """The kinds of token ``user`` may create: ``unit`` with a membership, ``scope`` with an
    administrator's role (platform administrator, CAST)."""
    kinds = []
    if roles.organization_of(user) is not None:
        kinds.append(TokenKind.UNIT)
    if roles.admin_grants(user) or roles.is_cast_admin(user) or roles.managed_joint_action_ids(user):
        kinds.append(TokenKind.SCOPE)
    return kinds


def tokens_of(user) -> QuerySet[ApiToken]:
    """The tokens ``user`` manages: its own, and its unit's unit tokens."""
    q = Q(user=user)
    organization = roles.organization_of(user)
    if organization is not None:
        q |= Q(organization=organization, kind=TokenKind.UNIT)
    return ApiToken.objects.filter(q).select_related("user", "organization")


def create_token(user, *, name: str, kind: str) -> tuple[ApiToken, str]:
    """Create a token of ``kind`` named ``name`` for ``user``; returns ``(token, secret)``. The
    secret is never stored and cannot be shown again. Raises ``ValidationError`` (Chinese, per
    field) or ``PermissionDenied`` when the account may not hold that kind."""
    name = clean_text(name, max_length=NAME_MAX_LENGTH, label=_("名称"))
    if not name:
        raise ValidationError({"name": [_("名称：必须填写")]})
    if kind not in kinds_for(user):
        raise PermissionDenied(_("当前账号不能创建这种令牌"))
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError(
            {"name": [_("最多可同时持有 %(n)d 个有效令牌，请先吊销不用的令牌") % {"n": MAX_ACTIVE_TOKENS}]}
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        organization=roles.organization_of(user) if kind == TokenKind.UNIT else None,
        kind=kind,
        name=name,
        prefix=secret[:10],
        digest=digest_of(secret),
    )
    audit.record("api.token.create", actor=user, obj=token, data={"kind": kind, "prefix": token.prefix})
    return token, secret


def revoke_token(token: ApiToken, *, by) -> ApiToken:
    """Revoke ``token`` (it stops at once: every request reads its row). Idempotent."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = by
        token.save(update_fields=["revoked_at", "revoked_by", "updated"])
        audit.record("api.token.revoke", actor=by, obj=token, data={"prefix": token.prefix})
    return token


def authenticate(secret: str) -> ApiToken | None:
    """The active token whose secret is ``secret``, or ``None``: unknown, revoked, the account
    inactive, or a unit token whose account no longer belongs to its unit. One query (plus one for
    the membership of a unit token); ``last_used_at`` is written at most once a minute."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user", "organization")
        .filter(digest=digest_of(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    if token.kind == TokenKind.UNIT:
        own = roles.organization_of(token.user)
        if own is None or own.pk != token.organization_id:
            return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
