"""Scope queries for the staff roles (管辖范围): which organizations an account covers.

Every staff page, export and form post goes through these functions and the predicates built on
them (``kepuyue.roles.rules``, ``kepuyue.activities.rules``, ``kepuyue.calls.rules``), so one place
decides what each role may see; the activities an account sees are
``kepuyue.activities.rules.visible_activities``, built on :func:`scope_q`. Grants are read from the
database once per request (cached on the request's user object, which Django builds afresh for
every request), so a revoked role stops working on the very next request.
"""

from __future__ import annotations

from django.db.models import Q

from .models import TWO_FACTOR_ROLES, Role, RoleGrant

_CACHE = "_kepuyue_role_grants"
NATIONAL_SOCIETY = "national_society"
# How deep a national society's branches go (学会 → 分会 → 专业委员会).
SOCIETY_DEPTH = 3


def grants(user) -> list[RoleGrant]:
    """The account's role grants (empty for anonymous users), cached on ``user`` for one request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, _CACHE, None)
    if cached is None:
        cached = list(RoleGrant.objects.filter(user=user).select_related("region", "organization"))
        setattr(user, _CACHE, cached)
    return cached


def forget(user) -> None:
    """Drop the cached grants of ``user`` (after granting or revoking in the same request)."""
    if user is not None and hasattr(user, _CACHE):
        delattr(user, _CACHE)
    if user is not None and hasattr(user, "_kepuyue_membership"):
        delattr(user, "_kepuyue_membership")


def has_role(user, role: str, **scope) -> bool:
    """Whether ``user`` holds ``role`` (optionally with the given scope ids, e.g. ``joint_action_id=3``)."""
    return any(
        g.role == role and all(getattr(g, name) == value for name, value in scope.items())
        for g in grants(user)
    )


def organization_of(user):
    """The organization ``user`` publishes for (its ``Membership``), or ``None``; cached per request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if not hasattr(user, "_kepuyue_membership"):
        from kepuyue.orgs.models import Membership

        membership = Membership.objects.select_related("organization").filter(user=user).first()
        user._kepuyue_membership = membership.organization if membership is not None else None
    return user._kepuyue_membership


def is_cast_admin(user) -> bool:
    """中国科协管理员 (a grant, or a superuser)."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_superuser) or (
        has_role(user, Role.CAST_ADMIN)
    )


def managed_joint_action_ids(user) -> set[int]:
    """Ids of the joint actions ``user`` manages (联合行动牵头单位)."""
    return {g.joint_action_id for g in grants(user) if g.role == Role.JOINT_ACTION_MANAGER}


def judged_call_ids(user) -> set[int]:
    """Ids of the calls ``user`` judges (评审专家)."""
    return {g.call_id for g in grants(user) if g.role == Role.JUDGE}


def admin_grants(user) -> list[RoleGrant]:
    """The account's platform-administrator grants (平台管理员)."""
    return [g for g in grants(user) if g.role == Role.PLATFORM_ADMIN]


def is_staff_account(user) -> bool:
    """Whether ``user`` works on the platform for a unit or a role (idle timeout, two-factor, staff pages)."""
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_staff or user.is_superuser or grants(user) or organization_of(user) is not None)
    )


def needs_two_factor(user) -> bool:
    """Whether ``user`` must sign in with TOTP: CAST, joint-action manager, platform administrator or
    superuser accounts (issue 4: GB/T 22239-2019 level 3)."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or any(g.role in TWO_FACTOR_ROLES for g in grants(user))


def _society_tree_q(prefix: str, society_ids=None) -> Q:
    """Organizations that are a national society or one of its branches (``prefix`` names the path
    to the organization, e.g. ``"organizer__"``). With ``society_ids``: the trees of those societies."""
    q = Q()
    path = prefix
    for _depth in range(SOCIETY_DEPTH + 1):
        if society_ids is None:
            q |= Q(**{f"{path}type_id": NATIONAL_SOCIETY})
        else:
            q |= Q(**{f"{path}id__in": society_ids})
        path += "parent__"
    return q


def region_prefix(region) -> str:
    """The code prefix of a province (2 digits) or prefecture (4 digits)."""
    return region.code[:2] if region.level == 1 else region.code[:4]


def grant_q(grant: RoleGrant, prefix: str = "") -> Q:
    """A ``Q`` over organizations (through ``prefix``) covered by one platform-administrator grant.

    Region scope: the organization's region code starts with the province's (2) or prefecture's (4)
    digits, and the organization is not part of a national society. Society scope: the society and
    its branches.
    """
    if grant.organization_id:
        return _society_tree_q(prefix, [grant.organization_id])
    if grant.region_id:
        return Q(**{f"{prefix}region__code__startswith": region_prefix(grant.region)}) & ~_society_tree_q(
            prefix
        )
    return Q(pk__in=[])


def scope_q(user, prefix: str = "") -> Q | None:
    """A ``Q`` over organizations (reached through ``prefix``, e.g. ``"organizer__"``) in the account's
    review scope, or ``None`` for no scope at all. CAST administrators get an always-true ``Q()``.
    Several grants add up (see :func:`grant_q`).
    """
    if is_cast_admin(user):
        return Q()
    result: Q | None = None
    for grant in admin_grants(user):
        q = grant_q(grant)
        result = q if result is None else result | q
    if result is None or not prefix:
        return result
    # Through a relation, the scope is a subquery on organizations (``organizer_id IN (SELECT id …)``)
    # rather than joins of the organization, its region and its parents on every activity row: the
    # database resolves the few thousand units of a scope once and walks the activity index with them.
    from kepuyue.orgs.models import Organization

    return Q(**{f"{prefix.removesuffix('__')}__in": Organization.objects.filter(result).values("pk")})


def in_scope(user, organization) -> bool:
    """Whether ``organization`` is in the account's review scope (平台管理员 / 中国科协管理员)."""
    if organization is None:
        return False
    q = scope_q(user)
    if q is None:
        return False
    from kepuyue.orgs.models import Organization

    return Organization.objects.filter(q, pk=organization.pk).exists()


def grant_role(user, role: str, *, by=None, region=None, organization=None, joint_action=None, call=None):
    """Give ``user`` a role with its scope (validated by ``RoleGrant.clean``); an identical grant is
    returned as is. Audited (``role.grant``). Raises ``ValidationError`` (Chinese) for a wrong scope."""
    from kepuyue.audit import services as audit

    grant = RoleGrant(
        user=user, role=role, region=region, organization=organization, joint_action=joint_action, call=call
    )
    grant.clean()
    existing = RoleGrant.objects.filter(
        user=user, role=role, region=region, organization=organization, joint_action=joint_action, call=call
    ).first()
    if existing is not None:
        return existing
    grant.granted_by = by
    grant.save()
    forget(user)
    audit.record("role.grant", actor=by, obj=grant, data={"user": user.get_username(), "role": role})
    return grant


def revoke_role(grant: RoleGrant, *, by=None) -> None:
    """Take a role away; it stops working on the account's next request. Audited (``role.revoke``)."""
    from kepuyue.audit import services as audit

    audit.record(
        "role.revoke", actor=by, obj=grant, data={"user": grant.user.get_username(), "role": grant.role}
    )
    grant.delete()
    forget(grant.user)
