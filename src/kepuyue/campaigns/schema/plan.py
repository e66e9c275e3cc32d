"""The campaign, its joint actions (themes, targets, key tasks, brands, contacts, windows) and the
review rules (quotas, deadlines, reasons) of the campaign file."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import (
    Field,
    StringConstraints,
    model_validator,
)

from .fields import Count, Email, Number, PlanDate, PlanRef, Slug, Url, _problems, _Spec, _text
from .measures import MeasureSpec

# --- Campaign --------------------------------------------------------------------------------


class PlatformSpec(_Spec):
    """A website where units publish and the public reads (全国科普月平台, 科普中国)."""

    name: _text(50)
    url: Url


class CampaignSpec(_Spec):
    """The campaign's identity and period (both dates inclusive, Beijing time)."""

    slug: Slug
    year: Annotated[int, Field(ge=2000, le=2100)]
    name: _text(100)
    subtitle: _text(100, required=False) = ""
    theme: _text(200)
    starts: PlanDate
    ends: PlanDate
    platform_url: Url = ""
    platforms: list[PlatformSpec] = []
    plan_title: _text(200, required=False) = ""
    summary: _text(required=False) = ""

    @model_validator(mode="after")
    def _period(self) -> CampaignSpec:
        problems = []
        if self.ends < self.starts:
            problems.append(
                (("ends",), f"结束日期 {self.ends} 早于开始日期 {self.starts} (ends before it starts)")
            )
        if self.starts.year != self.year:
            problems.append((("starts",), f"开始日期不在 {self.year} 年内 (not in the campaign year)"))
        if problems:
            raise _problems(problems)
        return self


class GeneralRequirementSpec(_Spec):
    """One item of the plan's general requirements (总体要求, §八)."""

    title: _text(50)
    text: _text()
    plan_ref: PlanRef = ""


# --- Joint actions ---------------------------------------------------------------------------


class ThemeSpec(_Spec):
    """A named theme: of a brand (流动科普 themes) or of a call (探寻科学宝藏's 基地探馆 …)."""

    slug: Slug
    name: _text(100)
    description: _text(required=False) = ""


class TargetSpec(_Spec):
    """A figure the plan states: ``value`` (``value_max`` for a range 10~15), ``approx`` for 余.

    ``measure`` says how the platform counts it (:mod:`.measures`); without it the target is shown
    as one the platform cannot measure yet (暂无数据来源)."""

    slug: Slug
    label: _text(200)
    value: Count
    value_max: Count | None = None
    unit: _text(16)
    approx: bool = False
    plan_text: _text(100, required=False) = ""
    measure: MeasureSpec | None = None

    @model_validator(mode="after")
    def _range(self) -> TargetSpec:
        if self.value_max is not None and self.value_max <= self.value:
            raise _problems(
                [
                    (
                        ("value_max",),
                        f"上限 {self.value_max} 应大于 value {self.value} (range upper end too small)",
                    )
                ]
            )
        return self


class KeyTaskSpec(_Spec):
    """A key task (重点任务) with the plan's number, name and full text."""

    slug: Slug
    number: Number
    name: _text(200)
    description: _text()
    plan_ref: PlanRef = ""


class BrandSpec(_Spec):
    """A brand activity (品牌活动); ``key_task`` and ``parent`` are slugs in the same joint action."""

    slug: Slug
    name: _text(100)
    aliases: list[_text(100)] = []
    # Words in a title or summary that suggest this brand (plan 八(一) "突出标记活动品牌"): the name and
    # the aliases suggest it too; see kepuyue.activities.services.brands.
    keywords: list[_text(50)] = []
    description: _text(required=False) = ""
    key_task: Slug | None = None
    parent: Slug | None = None
    themes: list[ThemeSpec] = []
    targets: list[TargetSpec] = []
    plan_ref: PlanRef = ""


class ContactSpec(_Spec):
    """A contact (联系人) exactly as the plan prints it; ``topic`` when it names one activity."""

    unit: _text(200)
    topic: _text(200, required=False) = ""
    person: _text(100, required=False) = ""
    phone: _text(100, required=False) = ""
    email: Email = ""


class WindowSpec(_Spec):
    """A joint action's own activity window, inclusive dates; ``label`` is the plan's wording."""

    start: PlanDate
    end: PlanDate
    label: _text(200, required=False) = ""

    @model_validator(mode="after")
    def _order(self) -> WindowSpec:
        if self.end < self.start:
            raise _problems(
                [(("end",), f"结束日期 {self.end} 早于开始日期 {self.start} (ends before it starts)")]
            )
        return self


class KeyCitiesSpec(_Spec):
    """Key cities (重点城市) of a joint action, plan 七(四)1 “将在全国范围内选取 10~15 个重点城市”: how many
    (``min``–``max``), who selects them (``selected_by``), and optionally the chosen prefecture-level
    ``codes`` (GB/T 2260). The plan names none: they are chosen on the staff page during the campaign,
    and a load adds the file's codes without removing those chosen there."""

    min: Count = 0
    max: Annotated[int, Field(ge=1, le=100)]
    selected_by: _text(200, required=False) = ""
    codes: list[Annotated[str, StringConstraints(pattern=r"^\d{6}$")]] = Field(default=[], max_length=100)

    @model_validator(mode="after")
    def _range(self) -> KeyCitiesSpec:
        problems = []
        if self.min > self.max:
            problems.append((("min",), "min 大于 max (min above max)"))
        if len(self.codes) > self.max:
            problems.append((("codes",), f"重点城市超过 {self.max} 个 (more codes than max)"))
        if problems:
            raise _problems(problems)
        return self


class JointActionSpec(_Spec):
    """A joint action (联合行动). Without ``window`` its activities run in the campaign month."""

    slug: Slug
    number: Number
    name: _text(100)
    name_en: _text(200, required=False) = ""
    theme: _text(200, required=False) = ""
    summary: _text(required=False) = ""
    participants: _text()
    participant_types: list[Slug] = Field(min_length=1)
    managing_unit: _text(200, required=False) = ""
    window: WindowSpec | None = None
    plan_ref: PlanRef = ""
    key_tasks: list[KeyTaskSpec] = []
    brands: list[BrandSpec] = []
    targets: list[TargetSpec] = []
    contacts: list[ContactSpec] = []
    key_cities: KeyCitiesSpec | None = None

    def all_targets(self) -> Iterable[tuple[tuple, TargetSpec, BrandSpec | None]]:
        """Every target with its path below the joint action and its brand (brand targets first)."""
        for b, brand in enumerate(self.brands):
            for t, target in enumerate(brand.targets):
                yield ("brands", b, "targets", t), target, brand
        for t, target in enumerate(self.targets):
            yield ("targets", t), target, None


# --- Review and recommendation ------------------------------------------------------------------


class QuotaSpec(_Spec):
    """Recommendations a scope may make per joint action: a province's or prefecture's platform
    administrators, or a national society's (shared by all administrators of that scope)."""

    province: Count = 0
    prefecture: Count = 0
    national_society: Count = 0


class ReviewSpec(_Spec):
    """How platform administrators review and recommend (plan 八(二)).

    ``recommendations_due``: the slug of the deadline after which no more recommendations are taken
    (CAST may reopen). ``quotas``: per joint action, for every scope; ``joint_action_quotas``
    overrides it for named joint actions. ``return_reasons``: the reasons an administrator picks
    when returning an activity (free text may be added). ``reminder_days``: a queue item waiting
    longer than this many days triggers a reminder. ``summary_due_days``: days after an activity's
    end by which its summary (总结) is due. ``date_tolerance_days``: days an activity's dates may lie
    outside its window and still be accepted, with a note on the review desk (issue 11 point 1).
    """

    recommendations_due: Slug | None = None
    quotas: QuotaSpec = QuotaSpec()
    joint_action_quotas: dict[Slug, QuotaSpec] = {}
    return_reasons: list[_text(100)] = []
    reminder_days: Annotated[int, Field(ge=1, le=60)] = 3
    summary_due_days: Annotated[int, Field(ge=1, le=365)] = 15
    date_tolerance_days: Annotated[int, Field(ge=0, le=31)] = 0
