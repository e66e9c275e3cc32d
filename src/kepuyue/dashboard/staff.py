"""The staff dashboard (工作看板, ``/org/dashboard/``) and the coverage gaps (最后一公里), scoped like the
review desk (``roles.services.scope_q``): CAST sees the country, a province's platform administrators
their province's prefectures and counties, a prefecture's its counties.

Region figures read the roll-ups; the review queue, summaries and call entries are read live, limited
to the account's scope and the campaign (their tables hold thousands of rows, not hundreds of
thousands).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q, Sum

from kepuyue.activities.models import Activity, Status
from kepuyue.common import clock
from kepuyue.regions.models import Level, Region
from kepuyue.roles import services as roles

from .models import AreaTally

#: Waiting-time bands of the review queue (days, upper bound inclusive; None = open).
QUEUE_BANDS = ((0, 1, "1 天内"), (2, 3, "2–3 天"), (4, 7, "4–7 天"), (8, None, "超过 7 天"))
#: 民族地区 as the division names say it (自治区 / 自治州 / 自治县 / 自治旗, plan §五(三)2(2)).
ETHNIC_MARK = "自治"


@dataclass(frozen=True)
class Scope:
    """What one account's staff dashboard covers: the whole country (CAST) or regions."""

    national: bool
    regions: tuple[Region, ...] = ()

    @property
    def label(self) -> str:
        return "全国" if self.national else "、".join(r.name for r in self.regions)

    def covers(self, code: str) -> bool:
        """Whether the division ``code`` lies inside the scope."""
        return self.national or any(code.startswith(roles.region_prefix(r)) for r in self.regions)


def scope_of(user) -> Scope | None:
    """The account's dashboard scope, or ``None`` when it has none (not an administrator by region)."""
    if roles.is_cast_admin(user):
        return Scope(national=True)
    regions = tuple(sorted((g.region for g in roles.admin_grants(user) if g.region_id), key=lambda r: r.code))
    return Scope(national=False, regions=regions) if regions else None


def _areas(campaign):
    return AreaTally.objects.filter(campaign_id=campaign.pk, activities__gt=0)


def region_rows(campaign, scope: Scope) -> list[dict]:
    """Published activities per division one level below each scope region (CAST: per province),
    and per county inside a province or prefecture scope."""
    sections = []
    parents = [None] if scope.national else list(scope.regions)
    for parent in parents:
        if parent is None:
            areas = _areas(campaign).filter(level=Level.PROVINCE, parent_code="")
            children = Region.objects.filter(level=Level.PROVINCE)
        else:
            level = Level.PREFECTURE if parent.level == Level.PROVINCE else Level.COUNTY
            areas = _areas(campaign).filter(level=level, parent_code=parent.code)
            children = Region.objects.filter(parent=parent)
        counts = dict(areas.values_list("code").annotate(n=Sum("activities")).order_by())
        rows = [
            (code, name, counts.get(code, 0))
            for code, name in children.order_by("code").values_list("code", "name")
        ]
        sections.append({"parent": parent, "rows": rows, "total": sum(counts.values())})
        if parent is not None and parent.level == Level.PROVINCE:
            sections[-1]["counties_reached"] = (
                _areas(campaign)
                .filter(level=Level.COUNTY, code__startswith=parent.code[:2])
                .values("code")
                .distinct()
                .count()
            )
            sections[-1]["counties_total"] = Region.objects.filter(
                level=Level.COUNTY, province_code=parent.code
            ).count()
    return sections


def queue_ages(user, campaign) -> list[tuple[str, int]]:
    """Submitted activities in scope by days waiting (one query)."""
    scope_q = roles.scope_q(user, "organizer__")
    if scope_q is None:
        return []
    now = clock.now()
    aggregates = {}
    for index, (low, high, _label) in enumerate(QUEUE_BANDS):
        q = Q(submitted_at__lte=now - timedelta(days=low))
        if high is not None:
            q &= Q(submitted_at__gt=now - timedelta(days=high + 1))
        aggregates[f"b{index}"] = Count("id", filter=q)
    counts = Activity.objects.filter(scope_q, campaign=campaign, status=Status.SUBMITTED).aggregate(
        **aggregates
    )
    return [(label, counts[f"b{i}"]) for i, (_l, _h, label) in enumerate(QUEUE_BANDS)]


def summaries(user, campaign) -> dict:
    """Published, ended activities in scope: summaries submitted on time / late, missing not yet due /
    overdue (due ``review.summary_due_days`` after the activity's end)."""
    scope_q = roles.scope_q(user, "organizer__")
    if scope_q is None:
        return {}
    now = clock.now()
    days = int((campaign.review or {}).get("summary_due_days", 15))
    base = Activity.objects.filter(scope_q, campaign=campaign, status=Status.PUBLISHED, ends_at__lt=now)
    return base.aggregate(
        ended=Count("id"),
        on_time=Count("id", filter=Q(summary_report__isnull=False, summary_report__late=False)),
        late=Count("id", filter=Q(summary_report__late=True)),
        due=Count("id", filter=Q(summary_report__isnull=True, ends_at__gte=now - timedelta(days=days))),
        overdue=Count("id", filter=Q(summary_report__isnull=True, ends_at__lt=now - timedelta(days=days))),
    )


def entries_by_status(user, campaign) -> list[tuple[str, int]]:
    """Call entries of units in scope by status."""
    from kepuyue.calls.models import Entry, EntryStatus

    scope_q = roles.scope_q(user, "organization__")
    if scope_q is None:
        return []
    counts = dict(
        Entry.objects.filter(scope_q, call__campaign=campaign)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [(label, counts.get(value, 0)) for value, label in EntryStatus.choices]


def coverage_gaps(campaign, province: Region, scope: Scope) -> list[dict]:
    """Counties of ``province`` (inside ``scope``) with no published activity of ``campaign``, in code
    order, marked 民族地区 where the division is autonomous (its name or a parent's says 自治).

    Rural, old revolutionary and border areas are not marked: the platform holds no per-county list
    of them yet (``data/regions`` has names and codes only).
    """
    reached = set(
        _areas(campaign)
        .filter(level=Level.COUNTY, code__startswith=province.code[:2])
        .values_list("code", flat=True)
    )
    counties = Region.objects.filter(level=Level.COUNTY, province_code=province.code).order_by("code")
    rows = []
    for code, name, full_name, parent in counties.values_list("code", "name", "full_name", "parent__name"):
        if code in reached or not scope.covers(code):
            continue
        rows.append(
            {
                "code": code,
                "name": name,
                "prefecture": parent or "",
                "full_name": full_name,
                "ethnic": ETHNIC_MARK in full_name,
            }
        )
    return rows
