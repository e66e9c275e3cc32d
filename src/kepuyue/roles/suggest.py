"""Names instead of slugs and codes (按名称选择): scoped suggestions and name matching for staff forms.

The review desk's filters (brand, region, unit) and the account pages (a unit, a region, a national
society) let staff type a *name*. Two functions per kind serve them:

- ``suggest(kind, user, q)`` — at most :data:`MAX_SUGGESTIONS` labels for an autocompletion list
  (the JSON endpoint ``/org/review/suggest/<kind>.json`` and the ``<datalist>`` of the page);
- ``resolve(kind, user, text)`` — the one object a typed name means, so the forms also work without
  JavaScript: an exact label or name first, else a unique partial match; ``Ambiguous`` (with the
  candidates' labels) or ``None`` otherwise.

Everything is read inside the account's scope (``services.scope_q``): an administrator of 浙江 is
never told the names of 广东's units. Region labels are full names (``浙江省杭州市西湖区``), so two
counties called 朝阳区 stay apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from kepuyue.common.text import clean_text

from . import services

MAX_SUGGESTIONS = 10
MAX_QUERY_CHARS = 60
KINDS = ("organization", "region", "brand", "society")


@dataclass(frozen=True)
class Ambiguous:
    """A typed name that matches several objects; ``labels`` are some of them (to pick from)."""

    labels: list[str]


def _query(text) -> str:
    # Cut first: a long query is not an error here, only more than a name needs.
    return clean_text(str(text or "")[: MAX_QUERY_CHARS * 4])[:MAX_QUERY_CHARS].strip()


def organizations(user) -> QuerySet:
    """Organizations in the account's review scope (CAST: all)."""
    from kepuyue.orgs.models import Organization

    q = services.scope_q(user)
    return Organization.objects.none() if q is None else Organization.objects.filter(q)


def societies(user) -> QuerySet:
    """National societies (全国学会) — for CAST granting a society's platform administrator."""
    from kepuyue.orgs.models import Organization

    if not services.is_cast_admin(user):
        return Organization.objects.none()
    return Organization.objects.filter(type_id=services.NATIONAL_SOCIETY)


def regions(user, *, max_level: int = 3) -> QuerySet:
    """Regions inside the account's region grants (CAST: all; society administrators: all, since
    their units lie anywhere)."""
    from kepuyue.regions.models import Region

    rows = Region.objects.filter(level__lte=max_level)
    if services.is_cast_admin(user):
        return rows
    grants = services.admin_grants(user)
    if not grants:
        return rows.none()
    if any(g.organization_id for g in grants):
        return rows
    q = Q()
    for grant in grants:
        q |= Q(code__startswith=services.region_prefix(grant.region))
    return rows.filter(q)


def brands(user, campaign) -> QuerySet:
    """The campaign's brand activities (品牌活动): public names, the same for everyone on the desk."""
    from kepuyue.campaigns.models import Brand

    if campaign is None or not (services.admin_grants(user) or services.is_cast_admin(user)):
        return Brand.objects.none()
    return Brand.objects.filter(joint_action__campaign=campaign)


def _rows(kind: str, user, campaign=None) -> tuple[QuerySet, str, str]:
    """``(queryset, name field, label field)`` of a kind."""
    if kind == "organization":
        return organizations(user), "name", "name"
    if kind == "society":
        return societies(user), "name", "name"
    if kind == "region":
        return regions(user), "name", "full_name"
    if kind == "brand":
        return brands(user, campaign), "name", "name"
    raise ValueError(kind)


def suggest(kind: str, user, q: str, *, campaign=None) -> list[str]:
    """At most :data:`MAX_SUGGESTIONS` labels of ``kind`` in scope containing ``q`` (names starting
    with it first, then shorter ones). Empty for a query of under one character."""
    text = _query(q)
    if not text:
        return []
    rows, name, label = _rows(kind, user, campaign)
    rows = rows.filter(Q(**{f"{name}__icontains": text}) | Q(**{f"{label}__icontains": text}))
    starting = list(
        rows.filter(**{f"{name}__startswith": text})
        .order_by(label)
        .values_list(label, flat=True)[:MAX_SUGGESTIONS]
    )
    rest = []
    if len(starting) < MAX_SUGGESTIONS:
        rest = list(
            rows.exclude(**{f"{name}__startswith": text})
            .order_by(label)
            .values_list(label, flat=True)[: MAX_SUGGESTIONS - len(starting)]
        )
    return list(dict.fromkeys(starting + sorted(rest, key=len)))


def resolve(kind: str, user, text: str, *, campaign=None):
    """The one object of ``kind`` in scope that ``text`` names: exact label, else exact name, else a
    unique partial match. Returns the object, :class:`Ambiguous`, or ``None`` (nothing matches)."""
    text = _query(text)
    if not text:
        return None
    rows, name, label = _rows(kind, user, campaign)
    for lookup in ({label: text}, {name: text}, {f"{label}__icontains": text}):
        found = list(rows.filter(**lookup).order_by(label)[: MAX_SUGGESTIONS + 1])
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            return Ambiguous([getattr(o, label) for o in found[:MAX_SUGGESTIONS]])
    return None
