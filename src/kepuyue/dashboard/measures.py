"""Evaluating a target's measure (统计口径, ``campaigns.schema.measures``) against the roll-ups.

:func:`target_progress` gives every target of a campaign its value, goal and progress, or says it
has no data source yet (暂无数据来源) — never a zero for what is not counted. Activity measures read
the roll-ups (:mod:`.models`), never the activities; call entries and registrations are counted in
their own tables (a few thousand rows per campaign), 大讲堂 attendance by ``kepuyue.training.services``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q, Sum

from kepuyue.campaigns.models import Brand, JointAction, KeyCity, Target
from kepuyue.campaigns.schema.measures import ALL, SPECIAL_AREAS

from .models import DayTally, Fact, Tally, UnitTally

NO_SOURCE = "暂无数据来源"
#: ``SPECIAL_AREAS`` names → the bits of ``activities.models.SpecialArea``.
SPECIAL_AREA_BITS = {name: 1 << i for i, name in enumerate(SPECIAL_AREAS)}
_REGION_FIELD = {"province": "province_code", "prefecture": "prefecture_code", "county": "county_code"}
#: Filters :class:`DayTally` (the coarse roll-up) can answer; a region or unit type needs ``Tally``.
_DAY_FIELDS = {"campaign_id", "joint_action_id", "brand_id__in"}


@dataclass(frozen=True)
class Progress:
    """A target and where it stands: ``value`` is ``None`` when it cannot be measured."""

    target: Target
    value: int | None
    note: str = ""

    @property
    def goal(self) -> int:
        return self.target.value

    @property
    def percent(self) -> int | None:
        """Progress towards the goal (the lower end of a range), capped at 100 for the bar."""
        if self.value is None or not self.goal:
            return None
        return min(100, round(100 * self.value / self.goal))

    @property
    def measured(self) -> bool:
        return self.value is not None

    @property
    def status_text(self) -> str:
        if self.value is None:
            return NO_SOURCE
        if not self.goal:  # a figure the plan gives no number for: counted, not measured against
            return f"{self.value}{self.target.unit}"
        return f"{self.value} / {self.target.display_value}"


def region_filter(code: str, prefix: str = "") -> Q:
    """Rows inside the division ``code`` (a province ``xx0000``, prefecture ``xxxx00`` or county)."""
    if code.endswith("0000"):
        return Q(**{f"{prefix}province_code": code})
    if code.endswith("00"):
        return Q(**{f"{prefix}prefecture_code": code})
    return Q(**{f"{prefix}county_code": code})


class _Resolver:
    """Slugs of one campaign's joint actions and brands → ids (two queries for all targets)."""

    def __init__(self, campaign):
        self.joint_actions = dict(JointAction.objects.filter(campaign=campaign).values_list("slug", "pk"))
        self.brands: dict[tuple[int, str], int] = {}
        self.children: dict[int, list[int]] = {}
        for pk, ja, slug, parent in Brand.objects.filter(joint_action__campaign=campaign).values_list(
            "pk", "joint_action_id", "slug", "parent_id"
        ):
            self.brands[(ja, slug)] = pk
            if parent:
                self.children.setdefault(parent, []).append(pk)

    def key_cities(self, joint_action_id: int) -> list[str]:
        """The joint action's key cities' prefecture codes (one query per joint action asked)."""
        if not hasattr(self, "_key_cities"):
            self._key_cities: dict[int, list[str]] = {}
        if joint_action_id not in self._key_cities:
            self._key_cities[joint_action_id] = list(
                KeyCity.objects.filter(joint_action_id=joint_action_id).values_list("region_id", flat=True)
            )
        return self._key_cities[joint_action_id]

    def with_sub_brands(self, brand_id: int) -> list[int]:
        found, todo = [], [brand_id]
        while todo:
            current = todo.pop()
            if current in found:
                continue
            found.append(current)
            todo.extend(self.children.get(current, []))
        return found


def _activity_q(measure: dict, target: Target, resolver: _Resolver) -> Q | None:
    """The roll-up filter of an activity measure; ``None`` when it names what does not exist."""
    filters = measure.get("filters") or {}
    q = Q(campaign_id=target.joint_action.campaign_id)
    ja = filters.get("joint_action")
    if ja is None:
        ja_id = target.joint_action_id
    elif ja == ALL:
        ja_id = None
    else:
        ja_id = resolver.joint_actions.get(ja)
        if ja_id is None:
            return None
    if ja_id is not None:
        q &= Q(joint_action_id=ja_id)
    brand = filters.get("brand")
    if brand is None:
        brand_id = target.brand_id if ja is None else None
    elif brand == ALL:
        brand_id = None
    else:
        brand_id = resolver.brands.get((ja_id or target.joint_action_id, brand))
        if brand_id is None:
            return None
    if brand_id is not None:
        ids = resolver.with_sub_brands(brand_id) if filters.get("sub_brands") else [brand_id]
        q &= Q(brand_id__in=ids)
    if filters.get("unit_type"):
        q &= Q(unit_type__in=filters["unit_type"])
    if filters.get("region"):
        q &= region_filter(filters["region"])
    return q


def _special_mask(measure: dict) -> int:
    return sum(SPECIAL_AREA_BITS[name] for name in (measure.get("filters") or {}).get("special_area", []))


def _measure_activities(measure: dict, target: Target, resolver: _Resolver) -> int:
    q = _activity_q(measure, target, resolver)
    if q is None:
        return 0
    mask = _special_mask(measure)
    filters = measure.get("filters") or {}
    field = measure.get("field")
    source, kind = measure["source"], measure.get("kind", "count")
    if source == "organizations" or field == "organizer":
        if mask or filters.get("region"):
            qs = Fact.objects.filter(q)
            if mask:
                qs = qs.annotate(_sa=F("special_areas").bitand(mask)).filter(_sa__gt=0)
            return qs.values("organizer_id").distinct().count()
        return UnitTally.objects.filter(q, activities__gt=0).values("organizer_id").distinct().count()
    coarse = {name for name, _value in q.children} <= _DAY_FIELDS and field in (None, "joint_action", "brand")
    qs = (DayTally if coarse else Tally).objects.filter(q, activities__gt=0)
    if mask:
        qs = qs.annotate(_sa=F("special_areas").bitand(mask)).filter(_sa__gt=0)
    if filters.get("key_cities"):
        qs = qs.filter(prefecture_code__in=resolver.key_cities(target.joint_action_id))
    if kind == "distinct":
        column = _REGION_FIELD.get(field, f"{field}_id")
        return qs.exclude(**{column: "" if column.endswith("_code") else 0}).values(column).distinct().count()
    return qs.aggregate(n=Sum("activities"))["n"] or 0


def _prefixed(q: Q, prefix: str) -> Q:
    """``q`` (a flat AND of roll-up field lookups) on a related activity: ``brand_id`` → ``activity__brand_id``."""
    out = Q()
    for name, value in q.children:
        out &= Q(**{f"{prefix}{name}": value})
    return out


def _measure_entries(measure: dict, target: Target, resolver: _Resolver) -> int:
    from kepuyue.calls.models import Entry

    filters = measure.get("filters") or {}
    qs = Entry.objects.filter(call__campaign_id=target.joint_action.campaign_id)
    ja = filters.get("joint_action")
    if ja is None:
        qs = qs.filter(call__joint_action_id=target.joint_action_id)
        if target.brand_id and filters.get("brand") is None:
            qs = qs.filter(call__brand_id=target.brand_id)
    elif ja != ALL:
        qs = qs.filter(call__joint_action__slug=ja)
    brand = filters.get("brand")
    if brand not in (None, ALL):
        qs = qs.filter(call__brand__slug=brand)
    qs = qs.filter(status=filters.get("status") or "published")
    if measure.get("kind") == "distinct":
        return qs.values("organization_id").distinct().count()
    return qs.count()


def _measure_registrations(measure: dict, target: Target, resolver: _Resolver) -> int:
    from kepuyue.registrations.models import Booking, CheckIn

    filters = measure.get("filters") or {}
    q = _activity_q({**measure, "filters": {**filters, "unit_type": [], "region": None}}, target, resolver)
    if q is None:
        return 0
    if filters.get("status") == "checked_in":
        return CheckIn.objects.filter(_prefixed(q, "booking__activity__"), result="ok").count()
    return (
        Booking.objects.filter(_prefixed(q, "activity__"), status="confirmed").aggregate(n=Sum("seats"))["n"]
        or 0
    )


def _measure_programmes(measure: dict, target: Target, resolver: _Resolver) -> int:
    """光影科学梦 screenings / films shown, 科学大师剧 performances, 星火馆 volunteers: counted in the
    programmes' own tables (``kepuyue.specials``; hundreds to a few thousand rows per campaign)."""
    from kepuyue.specials import services as specials

    campaign_id = target.joint_action.campaign_id
    source = measure["source"]
    if source == "screenings":
        categories = (measure.get("filters") or {}).get("category") or ()
        if measure.get("kind") == "distinct":
            if categories:
                # The plan's four film targets (7 / 39 / 22 / 10) share one GROUP BY per evaluation.
                if not hasattr(resolver, "films_by_category"):
                    resolver.films_by_category = specials.films_shown_by_category(campaign_id)
                return sum(resolver.films_by_category.get(c, 0) for c in categories)
            return specials.count_films_shown(campaign_id)
        return specials.count_screenings(campaign_id, categories=categories)
    if source == "performances":
        # A performance is a published activity marked with the target's brand (八(一) brand marking) or
        # registered as a performance of a play of the repertoire: the roll-ups count the first, the
        # repertoire's table adds the performances not marked with the brand.
        marked = _measure_activities(
            {"source": "activities", "filters": {"sub_brands": True}}, target, resolver
        )
        brand_ids = resolver.with_sub_brands(target.brand_id) if target.brand_id else []
        return marked + specials.count_performances(campaign_id, exclude_brand_ids=brand_ids)
    return specials.count_volunteers(campaign_id)


def _measure_training(measure: dict, target: Target, resolver: _Resolver) -> int:
    """大讲堂 attendance (参训人次, plan 六(三)3): check-ins at offline lessons and online viewers, of the
    published courses of the target's brand (or of ``filters.brand``; ``all`` for every course)."""
    from kepuyue.training.services import campaign_attendance

    filters = measure.get("filters") or {}
    brand = filters.get("brand")
    if brand == ALL:
        brand_ids = None
    elif brand is None:
        brand_ids = [target.brand_id] if target.brand_id else None
    else:
        brand_id = resolver.brands.get((target.joint_action_id, brand))
        if brand_id is None:
            return 0
        brand_ids = [brand_id]
    return campaign_attendance(target.joint_action.campaign_id, brand_ids)


def _measure_tours(measure: dict, target: Target, resolver: _Resolver) -> int:
    """百县 / 千车 / 万里行 from the published tours (``kepuyue.tours``, a few thousand rows)."""
    from kepuyue.tours import services as tours

    filters = measure.get("filters") or {}
    given = {
        "vehicle_kind": filters.get("vehicle_kind") or [],
        "region": filters.get("region"),
        "special_mask": _special_mask(measure),
    }
    brand = filters.get("brand")
    if brand not in (None, ALL):
        brand_id = resolver.brands.get((target.joint_action_id, brand))
        if brand_id is None:
            return 0
        given["brand_ids"] = resolver.with_sub_brands(brand_id) if filters.get("sub_brands") else [brand_id]
    campaign_id = target.joint_action.campaign_id
    kind, field = measure.get("kind", "count"), measure.get("field")
    if kind == "sum":
        return tours.distance_travelled(campaign_id, given)
    if kind == "distinct" and field == "county":
        return tours.counties_reached(campaign_id, given)
    if kind == "distinct" and field == "vehicle":
        return tours.vehicles_touring(campaign_id, given)
    return tours.published_count(campaign_id, given)


_SOURCES = {
    "tours": _measure_tours,
    "screenings": _measure_programmes,
    "performances": _measure_programmes,
    "volunteers": _measure_programmes,
    "activities": _measure_activities,
    "organizations": _measure_activities,
    "call_entries": _measure_entries,
    "registrations": _measure_registrations,
    "training": _measure_training,
}


def evaluate(target: Target, resolver: _Resolver) -> Progress:
    measure = target.measure
    if not measure or measure.get("source") in (None, "none"):
        return Progress(target, None, (measure or {}).get("note", ""))
    return Progress(target, _SOURCES[measure["source"]](measure, target, resolver), measure.get("note", ""))


def target_progress(campaign) -> list[Progress]:
    """Every target of ``campaign`` in plan order with its progress."""
    targets = list(
        Target.objects.filter(joint_action__campaign=campaign)
        .select_related("joint_action", "brand")
        .order_by("joint_action__number", "order")
    )
    if not targets:
        return []
    resolver = _Resolver(campaign)
    return [evaluate(target, resolver) for target in targets]
