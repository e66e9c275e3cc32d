"""Deadlines and calls for works of the campaign file, with each call kind's ``spec``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    Field,
    model_validator,
)

from kepuyue.common.clock import end_of_day, start_of_day

from .fields import Count, Moment, PlanRef, Slug, _problems, _Spec, _text
from .plan import ThemeSpec

# --- Deadlines and calls ---------------------------------------------------------------------


class DeadlineSpec(_Spec):
    """A milestone: something ``opens`` or is ``due``. ``at`` may be a date: an ``opens`` date
    starts at 00:00 and a ``due`` date runs to the end of that day, Beijing time ("8月20日前").
    ``joint_action`` is empty for campaign-wide milestones.
    """

    slug: Slug
    kind: Literal["opens", "due"]
    title: _text(200)
    at: Moment
    joint_action: Slug | None = None
    description: _text(required=False) = ""
    plan_ref: PlanRef = ""

    @property
    def instant(self) -> datetime:
        """``at`` as an aware datetime (see the class docstring for date-only values)."""
        return _instant(self.at, end=self.kind == "due")


def _instant(value: date | datetime, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        return value
    return end_of_day(value) if end else start_of_day(value)


class CriterionSpec(_Spec):
    slug: Slug
    name: _text(100)
    weight: Annotated[int, Field(ge=0, le=100)] | None = None


class CityWalkSpec(_Spec):
    """Route images: file ``formats``; the own venue plus at least ``min_other_venues`` others;
    ``max_images`` images per route, each at most ``max_image_bytes`` bytes and ``max_image_pixels``
    pixels (width × height, checked before decoding).
    """

    formats: list[Literal["jpg", "jpeg", "png", "webp"]] = Field(min_length=1)
    includes_own_venue: bool = True
    min_other_venues: Annotated[int, Field(ge=0, le=50)] = 0
    max_images: Annotated[int, Field(ge=1, le=20)] | None = None
    max_image_bytes: Annotated[int, Field(ge=1, le=1_073_741_824)] | None = None
    max_image_pixels: Annotated[int, Field(ge=1, le=1_000_000_000)] | None = None


class VideoSpec(_Spec):
    """Video files: ``container`` (mp4), ``min_width``×``min_height`` pixels, ``max_seconds_advised``
    (a recommendation, not enforced) and ``max_seconds`` (enforced), in seconds.
    """

    container: Literal["mp4", "mov", "webm"] | None = None
    min_width: Annotated[int, Field(ge=1, le=16384)] | None = None
    min_height: Annotated[int, Field(ge=1, le=16384)] | None = None
    max_seconds_advised: Annotated[int, Field(ge=1, le=86400)] | None = None
    max_seconds: Annotated[int, Field(ge=1, le=86400)] | None = None
    max_bytes: Annotated[int, Field(ge=1, le=107_374_182_400)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> VideoSpec:
        problems = []
        if (self.min_width is None) != (self.min_height is None):
            missing = "min_height" if self.min_height is None else "min_width"
            problems.append(((missing,), "分辨率要同时给出 min_width 和 min_height (both or neither)"))
        if self.max_seconds and self.max_seconds_advised and self.max_seconds_advised > self.max_seconds:
            problems.append(
                (("max_seconds_advised",), "建议时长超过了时长上限 max_seconds (advised above the limit)")
            )
        if problems:
            raise _problems(problems)
        return self


#: What an individual entrant may be asked (六(三)4 面向各级农技协带头人、会员，工作人员和农村科普工作者征文);
#: the name is always asked.
IDENTITY_FIELDS = ("unit", "role", "province")


class IndividualsSpec(_Spec):
    """A call open to individuals (个人投稿): which identity ``fields`` beside the name it asks for
    (``unit`` 所在单位, ``role`` 身份 among 带头人/会员/工作人员/农村科普工作者, ``province`` 所在省份)."""

    fields: list[Literal["unit", "role", "province"]] = ["unit", "role", "province"]


class EssaySpec(_Spec):
    """Essays: accepted file ``formats``, an optional length range in characters and, with
    ``individuals``, entries from people with a public account as well as from units."""

    formats: list[Literal["doc", "docx", "pdf", "txt"]] = []
    min_chars: Count | None = None
    max_chars: Count | None = None
    max_bytes: Annotated[int, Field(ge=1, le=1_073_741_824)] | None = None
    individuals: IndividualsSpec | None = None


class WorkPlanSpec(_Spec):
    """Work plans (工作方案) sent to ``submit_to`` (the unit the plan names)."""

    submit_to: _text(200, required=False) = ""
    formats: list[Literal["doc", "docx", "pdf"]] = []
    max_bytes: Annotated[int, Field(ge=1, le=1_073_741_824)] | None = None


class BookListSpec(_Spec):
    """Book recommendations for a published list (书单)."""

    max_items: Annotated[int, Field(ge=1, le=1000)] | None = None


class LinkSpec(_Spec):
    """Works submitted as links; ``product_kinds`` in the plan's words (AR/VR 科普产品 …)."""

    product_kinds: list[_text(50)] = []


class _CallBase(_Spec):
    """A call for works (征集). ``opens`` (a date opens at 00:00) and ``closes`` (a date runs to
    the end of the day), Beijing time; ``closes`` empty: open until the campaign's end.
    """

    slug: Slug
    joint_action: Slug
    brand: Slug | None = None
    title: _text(200)
    description: _text(required=False) = ""
    opens: Moment
    closes: Moment | None = None
    eligible_types: list[Slug] = []
    themes: list[ThemeSpec] = []
    criteria: list[CriterionSpec] = []
    publication: _text(200, required=False) = ""
    # 择优 N (e.g. 五(三)1 “优选3套”): at most this many entries may be published; stored in the call's
    # ``spec`` as ``selects`` and enforced by ``calls.services.publishing.transition``.
    selects: Annotated[int, Field(ge=1, le=10000)] | None = None
    plan_ref: PlanRef = ""

    @property
    def opens_at(self) -> datetime:
        return _instant(self.opens, end=False)

    @property
    def closes_at(self) -> datetime | None:
        return None if self.closes is None else _instant(self.closes, end=True)

    @model_validator(mode="after")
    def _order(self) -> _CallBase:
        problems = []
        if self.closes_at is not None and self.closes_at < self.opens_at:
            problems.append((("closes",), "截止时间早于开始时间 (closes before it opens)"))
        problems.extend(self._criteria_problems())
        if problems:
            raise _problems(problems)
        return self

    def _criteria_problems(self) -> list[tuple[tuple, str]]:
        """Judging criteria: unique slugs, every one weighted, weights summing to 100 (a weighted
        mean in per cent of the full score)."""
        if not self.criteria:
            return []
        problems = []
        seen: set[str] = set()
        for index, criterion in enumerate(self.criteria):
            if criterion.slug in seen:
                problems.append((("criteria", index, "slug"), f"评审标准“{criterion.slug}”重复 (duplicate)"))
            seen.add(criterion.slug)
            if criterion.weight is None:
                problems.append((("criteria", index, "weight"), "评审标准须给出权重 weight (weight missing)"))
        total = sum(c.weight or 0 for c in self.criteria)
        if total != 100 and not any(c.weight is None for c in self.criteria):
            problems.append(
                (("criteria",), f"评审标准的权重合计须为100，现为{total} (weights must sum to 100)")
            )
        return problems


class CityWalkCall(_CallBase):
    kind: Literal["citywalk"]
    spec: CityWalkSpec


class VideoCall(_CallBase):
    kind: Literal["video"]
    spec: VideoSpec = VideoSpec()


class EssayCall(_CallBase):
    kind: Literal["essay"]
    spec: EssaySpec = EssaySpec()


class WorkPlanCall(_CallBase):
    kind: Literal["work_plan"]
    spec: WorkPlanSpec = WorkPlanSpec()


class BookListCall(_CallBase):
    kind: Literal["book_list"]
    spec: BookListSpec = BookListSpec()


class LinkCall(_CallBase):
    kind: Literal["link"]
    spec: LinkSpec = LinkSpec()


CallSpec = Annotated[
    CityWalkCall | VideoCall | EssayCall | WorkPlanCall | BookListCall | LinkCall, Field(discriminator="kind")
]
