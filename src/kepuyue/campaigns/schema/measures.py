"""How a target of the plan is measured (目标的统计口径): a small vocabulary in the campaign file.

A target (``TargetSpec``) may carry ``measure``::

    measure:
      source: organizations        # activities | organizations | call_entries | registrations | training | tours | …
      kind: distinct               # count | distinct | sum (tours: distance)
      field: organizer             # for kind distinct: what is counted once (see FIELDS)
      filters:
        brand: bases               # a brand slug of the target's joint action, or "all"
        sub_brands: true           # the brand's sub-brands too (parent chain)
        unit_type: [science_education_base]
        special_area: [rural]      # rural | revolutionary | ethnic | border | underdeveloped
        status: published          # activities: published only; call entries: an entry status

``filters.joint_action`` and ``filters.brand`` default to the target's own joint action and brand
(plan §八(一) “突出标记活动品牌”: an activity counts for the brand it is marked with); ``all`` lifts
them, and naming another joint action lifts the brand default. A target with no ``measure`` — or ``measure: {source: none, note: …}`` — is one the platform
cannot measure yet (no data model): the dashboard prints “暂无数据来源” instead of a zero.

The vocabulary (2025 examples from the plan): 千家基地 = distinct organizers of type 科普教育基地 with
a published activity under brand 千家基地展创新 (§四(二)1); 百场大师剧 = published activities under
科学大师剧 (§二(二)2); 百县 = distinct counties reached under 百县千车万里行 (§五(三)2); 10~15 个重点城市
= distinct prefectures with 阅见科普 activities (§七(二)); 大讲堂参训人次 = ``source: training``, the
check-ins at offline lessons and the online viewers of the brand's courses (§六(三)3). Next year's file writes its own measures
with the same words — no code change.

``source: tours`` reads the published tours of 流动科普百县千车万里行 (§五(三)2, ``kepuyue.tours``):
``kind: distinct, field: county`` the counties their stops reached (百县), ``kind: distinct, field:
vehicle`` the vehicles and sets touring (千车), ``kind: sum, field: distance_km`` the kilometres
travelled (万里行), ``kind: count`` the tours. Its filters: ``vehicle_kind`` (caravan | museum),
``region``, ``special_area`` (counties reached in those areas) and ``brand`` (the tour's brand,
``sub_brands`` as above); the target's own joint action and brand are not applied by default (a tour
is of the programme, whatever brand the target sits under).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .fields import Slug, _problems, _Spec, _text

#: What ``source`` may be, and what each source's ``kind: distinct`` may count.
SOURCES = (
    "activities",
    "organizations",
    "call_entries",
    "registrations",
    "screenings",
    "performances",
    "volunteers",
    "training",
    "tours",
    "none",
)
#: Fields a ``distinct`` measure may count, per source. ``province``/``prefecture``/``county`` are the
#: region levels (省级 / 地级 / 县级) of the activity's place.
FIELDS: dict[str, tuple[str, ...]] = {
    "activities": ("organizer", "province", "prefecture", "county", "joint_action", "brand"),
    "organizations": ("organizer",),
    "call_entries": ("organization",),
    "registrations": (),
    # 光影科学梦 (五(三)4): published activities showing a film; ``distinct film`` = films shown.
    "screenings": ("film",),
    # 科学大师剧 (二(二)2): published activities marked with the target's brand, or registered as a
    # performance of a play of the repertoire.
    "performances": (),
    # 千名青年共探星火馆 (二(二)1): volunteers on the universities' rosters.
    "volunteers": (),
    "training": (),
    "tours": ("county", "vehicle"),
    "none": (),
}
#: What ``kind: sum`` may add up, per source.
SUMS: dict[str, tuple[str, ...]] = {"tours": ("distance_km",)}
#: Sources of the programmes (``kepuyue.specials``): counted in their own tables, for the whole campaign
#: (no joint action, brand, region or status filter); screenings may filter by film ``category``.
PROGRAMME_SOURCES = ("screenings", "performances", "volunteers")
#: Film categories (``specials.models.FilmCategory``) a screenings measure may filter on.
FILM_CATEGORIES = ("scientist", "short", "scifi", "red")
#: Statuses a measure may filter on, per source (activities are counted once published).
STATUSES: dict[str, tuple[str, ...]] = {
    "activities": ("published",),
    "organizations": ("published",),
    "call_entries": ("submitted", "shortlisted", "published", "rejected", "withdrawn"),
    "registrations": ("confirmed", "checked_in"),
    "screenings": (),
    "performances": (),
    "volunteers": (),
    "training": (),
    "tours": ("published",),
    "none": (),
}
#: Special areas (plan §五(三)2(2)), names of ``activities.models.SpecialArea`` in lower case.
SPECIAL_AREAS = ("rural", "revolutionary", "ethnic", "border", "underdeveloped")
#: Filters that only activities (and the units behind them) carry.
_ACTIVITY_FILTERS = ("unit_type", "special_area", "region", "key_cities")

ALL = "all"


class MeasureFilters(_Spec):
    """Which rows a measure counts. Lists mean “any of”."""

    joint_action: Slug | None = None
    brand: Slug | None = None
    # Also the brand's sub-brands (its ``parent`` chain), e.g. 百县千车万里行 with 科普大篷车 and 流动科技馆.
    sub_brands: bool = False
    unit_type: list[Slug] = Field(default=[], max_length=20)
    special_area: list[Literal["rural", "revolutionary", "ethnic", "border", "underdeveloped"]] = Field(
        default=[], max_length=5
    )
    # A GB/T 2260 code of a province, prefecture or county: only activities placed inside it.
    region: Slug | None = None
    status: Slug | None = None
    # Screenings only: the films' categories (scientist | short | scifi | red).
    category: list[Literal["scientist", "short", "scifi", "red"]] = Field(default=[], max_length=4)
    # Only places among the joint action's key cities (重点城市, ``key_cities``; plan 七(四)1).
    key_cities: bool = False
    # Tours only: 科普大篷车 (caravan) and/or 流动科技馆 sets (museum).
    vehicle_kind: list[Literal["caravan", "museum"]] = Field(default=[], max_length=2)


class MeasureSpec(_Spec):
    """How a target's value is counted (see the module docstring)."""

    source: Literal[
        "activities",
        "organizations",
        "call_entries",
        "registrations",
        "screenings",
        "performances",
        "volunteers",
        "training",
        "tours",
        "none",
    ]
    kind: Literal["count", "distinct", "sum"] = "count"
    field: Slug | None = None
    filters: MeasureFilters = MeasureFilters()
    note: _text(200, required=False) = ""

    @model_validator(mode="after")
    def _vocabulary(self) -> MeasureSpec:
        problems: list[tuple[tuple, str]] = []
        source, kind, field = self.source, self.kind, self.field
        allowed = FIELDS[source]
        if kind == "distinct":
            if not allowed:
                problems.append((("kind",), f"来源 {source} 只能计数，不能去重 (distinct not allowed here)"))
            elif field is None:
                problems.append(
                    (("field",), f"去重计数要写 field，可选：{'、'.join(allowed)} (missing field)")
                )
            elif field not in allowed:
                problems.append(
                    (
                        ("field",),
                        f"来源 {source} 不能按“{field}”去重，可选：{'、'.join(allowed)} (unknown field)",
                    )
                )
        elif kind == "sum":
            sums = SUMS.get(source, ())
            if not sums:
                problems.append((("kind",), f"来源 {source} 不能求和 (sum not allowed here)"))
            elif field not in sums:
                problems.append((("field",), f"求和要写 field，可选：{'、'.join(sums)} (unknown field)"))
        elif field is not None:
            problems.append(
                (
                    ("field",),
                    "只有 kind: distinct 才写 field（求和另用 kind: sum） (field only for distinct or sum)",
                )
            )
        if source == "organizations" and kind == "count":
            # Counting units means counting each once: the same as distinct organizer.
            pass
        status = self.filters.status
        if status is not None and status not in STATUSES[source]:
            choices = "、".join(STATUSES[source]) or "（无）"
            problems.append(
                (
                    ("filters", "status"),
                    f"来源 {source} 没有状态“{status}”，可选：{choices} (unknown status)",
                )
            )
        if self.filters.vehicle_kind and source != "tours":
            problems.append(
                (
                    ("filters", "vehicle_kind"),
                    f"来源 {source} 不能按 vehicle_kind 筛选 (filter not available)",
                )
            )
        if source == "tours" and self.filters.unit_type:
            problems.append(
                (("filters", "unit_type"), "来源 tours 不能按 unit_type 筛选 (filter not available)")
            )
        if self.filters.category and source != "screenings":
            problems.append(
                (("filters", "category"), "只有 screenings 可以按影片类别筛选 (category: screenings only)")
            )
        if source in ("screenings", "volunteers"):
            for name in ("joint_action", "brand"):
                if getattr(self.filters, name) is not None:
                    problems.append(
                        (
                            ("filters", name),
                            f"来源 {source} 按整个科普月计数，不写 {name} (filter not available)",
                        )
                    )
        if source in ("call_entries", "registrations", "training", "none", *PROGRAMME_SOURCES):
            for name in _ACTIVITY_FILTERS:
                if getattr(self.filters, name):
                    problems.append(
                        (("filters", name), f"来源 {source} 不能按 {name} 筛选 (filter not available)")
                    )
        if source == "none":
            for name in ("joint_action", "brand", "status"):
                if getattr(self.filters, name) is not None:
                    problems.append(
                        (("filters", name), "没有数据来源的目标不写筛选条件 (no filters without a source)")
                    )
        if self.filters.key_cities and (kind, field) != ("distinct", "prefecture"):
            problems.append(
                (
                    ("filters", "key_cities"),
                    "key_cities 只用于按城市去重：kind: distinct, field: prefecture (key cities count cities)",
                )
            )
        if self.filters.region is not None and not (
            len(self.filters.region) == 6 and self.filters.region.isdigit()
        ):
            problems.append(
                (("filters", "region"), f"“{self.filters.region}”不是六位行政区划代码 (not a region code)")
            )
        if problems:
            raise _problems(problems)
        return self

    @property
    def measurable(self) -> bool:
        return self.source != "none"
