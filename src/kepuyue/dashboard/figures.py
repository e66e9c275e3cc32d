"""The figures of the public dashboard (数据看板), all read from the roll-ups (:mod:`.models`).

Each function returns plain rows a template, a chart and a CSV all render the same way: a
:class:`Table` with a title, column headings and rows. Nothing here reads the activities table, and
each figure reads the coarsest roll-up that answers it: days, joint actions and brands from
:class:`DayTally`, regions from :class:`AreaTally`, units from :class:`OrgTally` — a few thousand
rows per campaign at 500,000 activities (decision 0017).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_noop

from kepuyue.campaigns.models import Brand, Deadline, JointAction
from kepuyue.orgs.models import OrganizationType
from kepuyue.regions.models import Level, Region

from .models import AreaTally, DayTally, OrgTally

#: Charts and tables a visitor may download as CSV (slug → title; Chinese, the page translates it).
TABLES = {
    "joint-actions": gettext_noop("各联合行动发布活动数"),
    "brands": gettext_noop("各品牌活动发布活动数"),
    "provinces": gettext_noop("各省份发布活动数"),
    "daily": gettext_noop("每日发布活动数"),
    "targets": gettext_noop("目标进展"),
    "units": gettext_noop("参与单位（按类型）"),
}


#: The daily curve's longest span in days (a campaign's preparation, month and summaries).
MAX_DAYS = 240


def cached(key: str, compute):
    """``compute()`` kept ``DASHBOARD_CACHE_SECONDS`` in the cache (the figures of a busy campaign are
    seconds old at most a minute; the roll-ups under them are always current). The page and the
    open API (``/api/v1/dashboard``) share the keys, so they show the same numbers."""
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    key = f"dashboard:{key}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value


def public_figures(campaign) -> dict:
    """Everything the public dashboard shows but the campaign itself (plain data), computed once per
    ``DASHBOARD_CACHE_SECONDS`` and shared by the page (``/dashboard/``) and the open API
    (``/api/v1/dashboard``): one computation, so the two can never disagree and the second reader
    costs one cache read. Totals, registrations, call entries, the programmes' totals (光影科学梦
    screenings and films, 科学大师剧 performances, 星火馆 volunteers — ``kepuyue.specials``), every
    target's progress (whatever its measure's source: activities, entries, registrations, screenings,
    performances, volunteers, tours, training — :mod:`.measures`), the tables and the charts' data."""
    return cached(f"figures:{campaign.pk}:{campaign.updated.timestamp()}", lambda: _public_figures(campaign))


def _public_figures(campaign) -> dict:
    from kepuyue.specials import services as specials

    from .measures import target_progress

    progress = target_progress(campaign)
    daily_table, deadlines = daily(campaign)
    tables = {
        "joint_actions": by_joint_action(campaign),
        "brands": by_brand(campaign),
        "provinces": by_province(campaign),
        "daily": daily_table,
        "units": by_unit_type(campaign),
    }
    charts = {
        "joint_actions": tables["joint_actions"].rows,
        "brands": [r for r in tables["brands"].rows if r[2]][:15],
        "provinces": tables["provinces"].rows,
        "daily": daily_table.rows,
        "deadlines": deadlines,
    }
    return {
        "totals": totals(campaign),
        "registrations": registrations(campaign),
        "entries": call_entries(campaign),
        # 光影科学梦 screenings and films, 科学大师剧 performances, 星火馆 volunteers (kepuyue.specials).
        "programmes": specials.programme_figures(campaign.pk),
        "progress": progress,
        "tables": tables,
        "charts": charts,
    }


def map_counts(campaign, parent) -> dict[str, int]:
    """:func:`region_counts` of ``parent`` (a :class:`Region` or ``None`` for China), cached as the
    map's JSON caches it."""
    parent_code = parent.code if parent else None
    return cached(
        f"map:{campaign.pk}:{campaign.updated.timestamp()}:{parent_code}",
        lambda: region_counts(campaign, parent_code),
    )


@dataclass
class Table:
    slug: str
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)


def _tallies(campaign):
    return DayTally.objects.filter(campaign_id=campaign.pk, activities__gt=0)


def _areas(campaign):
    return AreaTally.objects.filter(campaign_id=campaign.pk, activities__gt=0)


def _units(campaign):
    return OrgTally.objects.filter(campaign_id=campaign.pk, activities__gt=0)


def totals(campaign) -> dict:
    """Published activities, participants, regions reached of the total, activities in special areas."""
    tallies = _tallies(campaign)
    sums = tallies.aggregate(
        n_activities=Sum("activities"),
        n_participants=Sum("participants"),
        special=Sum("activities", filter=Q(special_areas__gt=0)),
    )
    # Prefectures and counties are counted among the statistical divisions (GB/T 2260, 国标代码: the 342 and
    # 2,978 rows of data/regions) — the coverage of 最后一公里; the districts of 香港, 澳门 and 台湾 have
    # no statistical code and would inflate "not reached yet" by 383. Provinces count all 34.
    unofficial = Region.objects.filter(is_official=False).values("code")
    reached = dict(
        _areas(campaign)
        .filter(Q(level=Level.PROVINCE) | ~Q(code__in=unofficial))
        .values_list("level")
        .annotate(n=Count("code", distinct=True))
        .order_by()
    )
    region_totals = dict(
        Region.objects.filter(Q(level=Level.PROVINCE) | Q(is_official=True))
        .values_list("level")
        .annotate(n=Count("code"))
        .order_by()
    )
    units = _units(campaign).values("organizer_id").distinct().count()
    return {
        "activities": sums["n_activities"] or 0,
        "participants": sums["n_participants"] or 0,
        "special_areas": sums["special"] or 0,
        "units": units,
        "provinces": (reached.get(Level.PROVINCE, 0), region_totals.get(Level.PROVINCE, 0)),
        "prefectures": (reached.get(Level.PREFECTURE, 0), region_totals.get(Level.PREFECTURE, 0)),
        "counties": (reached.get(Level.COUNTY, 0), region_totals.get(Level.COUNTY, 0)),
    }


def registrations(campaign) -> dict | None:
    """Confirmed places and check-ins of the campaign's activities (the registrations app)."""
    from kepuyue.registrations.models import Booking, CheckIn

    booked = Booking.objects.filter(activity__campaign_id=campaign.pk, status="confirmed").aggregate(
        n=Sum("seats")
    )["n"]
    checked = CheckIn.objects.filter(session__activity__campaign_id=campaign.pk, result="ok").count()
    return {"booked": booked or 0, "checked_in": checked}


def call_entries(campaign) -> dict:
    """Works submitted (any status past draft) and published in the campaign's calls."""
    from kepuyue.calls.models import Entry

    counts = dict(
        Entry.objects.filter(call__campaign_id=campaign.pk)
        .exclude(status="draft")
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {"submitted": sum(counts.values()), "published": counts.get("published", 0)}


def by_unit_type(campaign) -> Table:
    names = dict(OrganizationType.objects.values_list("code", "name"))
    rows = (
        _units(campaign)
        .values("unit_type")
        .annotate(n=Count("organizer_id", distinct=True))
        .order_by("-n", "unit_type")
    )
    return Table(
        "units",
        TABLES["units"],
        [gettext_noop("单位类型"), gettext_noop("参与单位数")],
        [[names.get(r["unit_type"], r["unit_type"] or "未分类"), r["n"]] for r in rows],
    )


def by_joint_action(campaign) -> Table:
    counts = dict(_tallies(campaign).values_list("joint_action_id").annotate(n=Sum("activities")).order_by())
    rows = [
        [f"{ja.number}. {ja.name}", counts.get(ja.pk, 0)]
        for ja in JointAction.objects.filter(campaign=campaign).order_by("number")
    ]
    if counts.get(0):
        rows.append(["全国科普月活动（不属于联合行动）", counts[0]])
    return Table(
        "joint-actions", TABLES["joint-actions"], [gettext_noop("联合行动"), gettext_noop("活动数")], rows
    )


def by_brand(campaign) -> Table:
    counts = dict(
        _tallies(campaign)
        .exclude(brand_id=0)
        .values_list("brand_id")
        .annotate(n=Sum("activities"))
        .order_by()
    )
    brands = (
        Brand.objects.filter(joint_action__campaign=campaign)
        .select_related("joint_action")
        .order_by("joint_action__number", "order")
    )
    rows = [[b.name, b.joint_action.name, counts.get(b.pk, 0)] for b in brands]
    rows.sort(key=lambda r: -r[2])
    return Table(
        "brands",
        TABLES["brands"],
        [gettext_noop("品牌活动"), gettext_noop("联合行动"), gettext_noop("活动数")],
        rows,
    )


def region_counts(campaign, parent: str | None = None) -> dict[str, int]:
    """Published activities per child region of ``parent`` (China when ``None``): code → count."""
    if parent is None:
        areas = _areas(campaign).filter(level=Level.PROVINCE)
    elif parent.endswith("0000"):
        areas = _areas(campaign).filter(level=Level.PREFECTURE, parent_code=parent)
    else:
        areas = _areas(campaign).filter(level=Level.COUNTY, parent_code=parent)
    return {code: n for code, n in areas.values_list("code").annotate(n=Sum("activities")).order_by()}


def by_province(campaign) -> Table:
    counts = region_counts(campaign)
    provinces = Region.objects.filter(level=Level.PROVINCE).order_by("code").values_list("code", "name")
    rows = [[name, code, counts.get(code, 0)] for code, name in provinces]
    rows.sort(key=lambda r: (-r[2], r[1]))
    return Table(
        "provinces",
        TABLES["provinces"],
        [gettext_noop("省份"), gettext_noop("区划代码"), gettext_noop("活动数")],
        rows,
    )


def daily(campaign) -> tuple[Table, list[dict]]:
    """Published per day and cumulative (Beijing days), and the plan's deadlines to mark on it."""
    counts = dict(_tallies(campaign).values_list("day").annotate(n=Sum("activities")).order_by())
    deadlines = [
        {"day": d.at.astimezone(_beijing()).date(), "title": d.title}
        for d in Deadline.objects.filter(campaign=campaign).order_by("at")
    ]
    deadlines = [d for d in deadlines if d["day"] <= campaign.ends + timedelta(days=MAX_DAYS)]
    days = sorted(set(counts) | {d["day"] for d in deadlines} | {campaign.starts, campaign.ends})
    rows = []
    # One row per day from the first deadline or publication to the campaign's end (or the last
    # publication), at most MAX_DAYS: earlier publications are folded into the first row's total.
    first, last = days[0], days[-1]
    if (last - first).days >= MAX_DAYS:
        first = last - timedelta(days=MAX_DAYS - 1)
    total = sum(n for day, n in counts.items() if day < first)
    day = first
    while day <= last:
        total += counts.get(day, 0)
        rows.append([day.isoformat(), counts.get(day, 0), total])
        day += timedelta(days=1)
    return Table(
        "daily", TABLES["daily"], [gettext_noop("日期"), gettext_noop("当日发布"), gettext_noop("累计")], rows
    ), [{"day": d["day"].isoformat(), "title": d["title"]} for d in deadlines]


def _beijing():
    from .rollups import BEIJING

    return BEIJING


def targets_table(progress) -> Table:
    rows = [
        [
            p.target.joint_action.name,
            p.target.brand.name if p.target.brand else "",
            p.target.label,
            p.target.display_value,
            "" if p.value is None else p.value,
            "暂无数据来源" if p.value is None else ("" if p.percent is None else f"{p.percent}%"),
        ]
        for p in progress
    ]
    return Table(
        "targets",
        TABLES["targets"],
        [
            gettext_noop("联合行动"),
            gettext_noop("品牌活动"),
            gettext_noop("目标"),
            gettext_noop("计划"),
            gettext_noop("当前"),
            gettext_noop("进度"),
        ],
        rows,
    )
