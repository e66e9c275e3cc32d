"""The campaign file (``campaigns/<slug>.yaml``) and its validation: pydantic models of the plan.

:func:`parse_campaign` turns the file's bytes into a :class:`CampaignFile` or raises
:class:`CampaignFileError` whose ``errors`` are lines ``<yaml path>: <reason>``, the path in YAML
terms and the reason in Chinese with the English in parentheses, e.g.
``joint_actions[3].brands[1].targets[0].value: 不是整数 (not an integer)``. A YAML syntax error names
its line and column instead of a path.

Rules checked here (beyond types): every mapping rejects unknown keys (a misspelled key fails);
slugs are unique in their scope (joint actions, deadlines and calls per campaign; key tasks,
brands and targets per joint action); participant and eligible types are declared in
``organization_types``; brand ``key_task``/``parent`` and deadline/call ``joint_action``/``brand``
refer to entries that exist; every period ends on or after it starts and a joint action's window
overlaps the campaign period; a call's ``spec`` is checked against its ``kind``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

import yaml
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kepuyue.common.clock import end_of_day, parse_instant, start_of_day

SLUG_PATTERN = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
# Plan sections as the plan numbers them, half-width brackets: 八, 四(二), 四(二)3, 五(三)2(1).
PLAN_REF_RE = re.compile(r"^[一二三四五六七八九十]+(?:\([一二三四五六七八九十]+\)(?:\d+(?:\(\d+\))?)?)?$")
ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class CampaignFileError(Exception):
    """A campaign file that cannot be loaded; ``errors`` lists every problem, one line each."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


# --- Field types -----------------------------------------------------------------------------


def _text(max_length: int | None = None, *, required: bool = True) -> Any:
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1 if required else 0, max_length=max_length)
    ]


def _plan_date(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and ISO_DATE_RE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"“{value}”不是有效日期，应写作 YYYY-MM-DD (not a valid date)")


def _moment(value: Any) -> Any:
    """A date (``2025-08-20``) or an ISO 8601 instant; an instant without offset is Beijing time."""
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if ISO_DATE_RE.match(text):
            return _plan_date(text)
        try:
            return parse_instant(text)
        except ValueError:
            pass
    raise ValueError(
        f"“{value}”不是有效日期或时间，应写作 YYYY-MM-DD 或 ISO 8601 (not a valid date or date-time)"
    )


def _email(value: str) -> str:
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError(f"“{value}”不是有效的电子邮箱地址 (not an e-mail address)") from None
    return value


_url_validator = URLValidator(schemes=["http", "https"])


def _url(value: str) -> str:
    if value:
        try:
            _url_validator(value)
        except DjangoValidationError:
            raise ValueError(f"“{value}”不是有效网址，应以 http:// 或 https:// 开头 (not a URL)") from None
    return value


def _plan_ref(value: str) -> str:
    if value and not PLAN_REF_RE.match(value):
        raise ValueError(
            f"“{value}”不是方案章节编号，应写作 四(二)3 这样的形式、用半角括号 (not a plan section)"
        )
    return value


Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=64)]
PlanDate = Annotated[date, BeforeValidator(_plan_date)]
Moment = Annotated[datetime | date, BeforeValidator(_moment)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(_email)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_url)]
PlanRef = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), AfterValidator(_plan_ref)]
Count = Annotated[int, Field(ge=0, le=2_147_483_647)]
Number = Annotated[int, Field(ge=1, le=999)]


def _problems(items: Sequence[tuple[tuple, str]]) -> PydanticCustomError:
    """Several findings of one validator, each at its own path relative to the model."""
    return PydanticCustomError(
        "plan_problems", "{summary}", {"summary": "；".join(m for _, m in items), "problems": list(items)}
    )


class _Spec(BaseModel):
    # strict: "1000" (text) is not a number and yes/no are not text; dates come through PlanDate.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


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
    """A figure the plan states: ``value`` (``value_max`` for a range 10~15), ``approx`` for 余."""

    slug: Slug
    label: _text(200)
    value: Count
    value_max: Count | None = None
    unit: _text(16)
    approx: bool = False
    plan_text: _text(100, required=False) = ""

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

    def all_targets(self) -> Iterable[tuple[tuple, TargetSpec, BrandSpec | None]]:
        """Every target with its path below the joint action and its brand (brand targets first)."""
        for b, brand in enumerate(self.brands):
            for t, target in enumerate(brand.targets):
                yield ("brands", b, "targets", t), target, brand
        for t, target in enumerate(self.targets):
            yield ("targets", t), target, None


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


class EssaySpec(_Spec):
    """Essays: accepted file ``formats`` and an optional length range in characters."""

    formats: list[Literal["doc", "docx", "pdf", "txt"]] = []
    min_chars: Count | None = None
    max_chars: Count | None = None
    max_bytes: Annotated[int, Field(ge=1, le=1_073_741_824)] | None = None


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
    end by which its summary (总结) is due.
    """

    recommendations_due: Slug | None = None
    quotas: QuotaSpec = QuotaSpec()
    joint_action_quotas: dict[Slug, QuotaSpec] = {}
    return_reasons: list[_text(100)] = []
    reminder_days: Annotated[int, Field(ge=1, le=60)] = 3
    summary_due_days: Annotated[int, Field(ge=1, le=365)] = 15


# --- The file --------------------------------------------------------------------------------


class CampaignFile(_Spec):
    """The whole campaign file. ``organization_types`` maps code → name, in display order."""

    campaign: CampaignSpec
    organization_types: dict[Slug, _text(64)] = Field(min_length=1)
    joint_actions: list[JointActionSpec] = Field(min_length=1)
    general_requirements: list[GeneralRequirementSpec] = []
    deadlines: list[DeadlineSpec] = []
    calls: list[CallSpec] = []
    review: ReviewSpec = ReviewSpec()

    @model_validator(mode="after")
    def _references(self) -> CampaignFile:
        problems = list(self._reference_problems())
        if problems:
            raise _problems(problems)
        return self

    def _reference_problems(self) -> Iterable[tuple[tuple, str]]:
        names: dict[str, str] = {}
        for code, name in self.organization_types.items():
            if name in names:
                yield ("organization_types", code), f"名称“{name}”与 {names[name]} 重复 (duplicate name)"
            names.setdefault(name, code)
        types = set(self.organization_types)

        def unknown_type(code: str) -> str:
            return f"未声明的单位类型“{code}”，请先在 organization_types 中声明 (unknown organization type)"

        yield from _duplicates(
            (("joint_actions", i, "slug"), ja.slug) for i, ja in enumerate(self.joint_actions)
        )
        yield from _duplicates(
            (("joint_actions", i, "number"), ja.number) for i, ja in enumerate(self.joint_actions)
        )
        campaign = self.campaign
        for i, ja in enumerate(self.joint_actions):
            at = ("joint_actions", i)
            for j, code in enumerate(ja.participant_types):
                if code not in types:
                    yield (*at, "participant_types", j), unknown_type(code)
            yield from _duplicates(
                ((*at, "participant_types", j), c) for j, c in enumerate(ja.participant_types)
            )
            if ja.window and (ja.window.end < campaign.starts or ja.window.start > campaign.ends):
                yield (
                    (*at, "window"),
                    f"活动时间 {ja.window.start}—{ja.window.end} 与科普月 {campaign.starts}—{campaign.ends} "
                    "没有重叠 (window outside the campaign)",
                )
            yield from _duplicates(
                ((*at, "key_tasks", k, "slug"), t.slug) for k, t in enumerate(ja.key_tasks)
            )
            yield from _duplicates(
                ((*at, "key_tasks", k, "number"), t.number) for k, t in enumerate(ja.key_tasks)
            )
            yield from _duplicates(((*at, "brands", b, "slug"), br.slug) for b, br in enumerate(ja.brands))
            yield from _duplicates(((*at, *path, "slug"), t.slug) for path, t, _ in ja.all_targets())
            task_slugs = {t.slug for t in ja.key_tasks}
            parents = {br.slug: br.parent for br in ja.brands}
            for b, brand in enumerate(ja.brands):
                if brand.key_task is not None and brand.key_task not in task_slugs:
                    yield (
                        (*at, "brands", b, "key_task"),
                        f"本联合行动没有重点任务“{brand.key_task}” (unknown key task)",
                    )
                if brand.parent is not None:
                    if brand.parent not in parents:
                        yield (
                            (*at, "brands", b, "parent"),
                            f"本联合行动没有品牌活动“{brand.parent}” (unknown parent brand)",
                        )
                    elif _in_cycle(brand.slug, parents):
                        yield (
                            (*at, "brands", b, "parent"),
                            "品牌活动的上下级关系形成了循环 (parent cycle)",
                        )

        # Units mark activities with a brand's name or an alias: each label must mean one brand.
        labels = []
        for i, ja in enumerate(self.joint_actions):
            for b, brand in enumerate(ja.brands):
                labels.append((("joint_actions", i, "brands", b, "name"), brand.name.casefold()))
                labels.extend(
                    (("joint_actions", i, "brands", b, "aliases", a), alias.casefold())
                    for a, alias in enumerate(brand.aliases)
                )
        yield from _duplicates(labels)

        ja_by_slug = {ja.slug: ja for ja in self.joint_actions}
        yield from _duplicates((("deadlines", d, "slug"), x.slug) for d, x in enumerate(self.deadlines))
        for d, deadline in enumerate(self.deadlines):
            if deadline.joint_action is not None and deadline.joint_action not in ja_by_slug:
                yield (
                    ("deadlines", d, "joint_action"),
                    f"没有联合行动“{deadline.joint_action}” (unknown joint action)",
                )
        yield from _duplicates((("calls", c, "slug"), x.slug) for c, x in enumerate(self.calls))
        for c, call in enumerate(self.calls):
            ja = ja_by_slug.get(call.joint_action)
            if ja is None:
                yield (
                    ("calls", c, "joint_action"),
                    f"没有联合行动“{call.joint_action}” (unknown joint action)",
                )
            elif call.brand is not None and call.brand not in {b.slug for b in ja.brands}:
                yield (
                    ("calls", c, "brand"),
                    f"联合行动“{ja.slug}”没有品牌活动“{call.brand}” (unknown brand)",
                )
            for e, code in enumerate(call.eligible_types):
                if code not in types:
                    yield ("calls", c, "eligible_types", e), unknown_type(code)

        review = self.review
        deadlines = {d.slug for d in self.deadlines}
        if review.recommendations_due is not None and review.recommendations_due not in deadlines:
            yield (
                ("review", "recommendations_due"),
                f"没有截止时间“{review.recommendations_due}” (unknown deadline)",
            )
        for slug in review.joint_action_quotas:
            if slug not in ja_by_slug:
                yield ("review", "joint_action_quotas", slug), f"没有联合行动“{slug}” (unknown joint action)"
        yield from _duplicates(
            (("review", "return_reasons", r), reason) for r, reason in enumerate(review.return_reasons)
        )


def _duplicates(items: Iterable[tuple[tuple, Any]]) -> Iterable[tuple[tuple, str]]:
    first: dict[Any, tuple] = {}
    for loc, value in items:
        if value in first:
            yield loc, f"“{value}”重复，已用于 {loc_to_path(first[value])} (duplicate)"
        else:
            first[value] = loc


def _in_cycle(slug: str, parents: dict[str, str | None]) -> bool:
    seen = {slug}
    current = parents.get(slug)
    while current is not None and current in parents:
        if current in seen:
            return True
        seen.add(current)
        current = parents[current]
    return False


# --- Reading the file ------------------------------------------------------------------------


class _PlanLoader(yaml.SafeLoader):
    """YAML's safe loader, minus two surprises: duplicate keys fail (the last one would silently
    win) and dates stay text, so a wrong date is reported by path instead of crashing the parser.
    """

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=deep)
                try:
                    duplicate = key in seen
                except TypeError:
                    continue  # an unhashable key: the base constructor reports it
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"重复的键“{key}” (duplicate key)",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_PlanLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """Parse YAML text (safe subset, dates kept as text). Raises :class:`CampaignFileError` with
    ``第 L 行第 C 列 (line L, column C): …`` for syntax errors and duplicate keys.
    """
    try:
        return yaml.load(text, Loader=_PlanLoader)  # noqa: S506 - _PlanLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        detail = f"{context}: {problem}" if context and "duplicate key" not in problem else problem
        if mark is None:
            where = "（文件）"
        else:
            line, column = mark.line + 1, mark.column + 1
            where = f"第 {line} 行第 {column} 列 (line {line}, column {column})"
        raise CampaignFileError([f"{where}: YAML 语法错误 (YAML syntax error): {detail}"]) from None


def parse_campaign(content: bytes | str) -> CampaignFile:
    """Validate a campaign file's content (UTF-8 bytes or text) into a :class:`CampaignFile`.

    Raises :class:`CampaignFileError` listing every problem as ``<yaml path>: <reason>``.
    """
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CampaignFileError([f"（文件）: 不是 UTF-8 编码的文本 (not UTF-8): {exc}"]) from None
    data = load_yaml(content)
    if not isinstance(data, dict):
        raise CampaignFileError(["（文件）: 顶层应为映射，以 campaign: 开头 (top level must be a mapping)"])
    try:
        return CampaignFile.model_validate(data)
    except ValidationError as exc:
        raise CampaignFileError(error_lines(exc, data)) from None


# --- Error messages --------------------------------------------------------------------------


def loc_to_path(loc: Sequence[str | int], data: Any = None) -> str:
    """Turn a pydantic ``loc`` into a YAML path: ``("joint_actions", 3, "brands", 1, "name")`` →
    ``joint_actions[3].brands[1].name``.

    With the parsed ``data`` the walk follows the document, so the tags pydantic adds for a
    tagged union (``calls[0].video.spec`` → ``calls[0].spec``) and for dict keys are left out.
    """
    parts: list[str] = []
    node = data
    for index, item in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(item, int):
            parts.append(f"[{item}]")
            node = node[item] if isinstance(node, list) and -len(node) <= item < len(node) else None
            continue
        if item == "[key]":
            continue
        if data is not None and isinstance(node, dict) and item not in node and not last:
            continue  # a union tag, not a key of the document
        parts.append(item if not parts else f".{item}")
        node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts) or "（文件）"


_REASONS = {
    "missing": "缺少必填项 (missing)",
    "extra_forbidden": "不认识的键，可能拼写有误 (unknown key)",
    "int_type": "不是整数 (not an integer)",
    "int_parsing": "不是整数 (not an integer)",
    "int_from_float": "不是整数 (not an integer)",
    "bool_type": "应为 true 或 false (not a boolean)",
    "bool_parsing": "应为 true 或 false (not a boolean)",
    "string_type": "应为文本，数字或日期请加引号 (not a string)",
    "string_pattern_mismatch": "标识只能用小写英文字母、数字、- 和 _ (not a slug)",
    "list_type": "应为列表 (not a list)",
    "dict_type": "应为映射（键: 值）(not a mapping)",
    "model_type": "应为映射（键: 值）(not a mapping)",
    "model_attributes_type": "应为映射（键: 值）(not a mapping)",
    "date_type": "不是有效日期，应写作 YYYY-MM-DD (not a valid date)",
    "datetime_type": "不是有效时间，应写作 ISO 8601 (not a valid date-time)",
    "union_tag_not_found": "缺少 kind（征集类型）(missing kind)",
}


def _reason(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error["msg"])).removeprefix("Value error, ")
    if kind == "string_too_short":
        return "不能为空 (must not be empty)"
    if kind == "string_too_long":
        return f"太长，最多 {ctx.get('max_length')} 个字符 (too long)"
    if kind == "too_short":
        return f"至少要有 {ctx.get('min_length')} 项 (too few items)"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项 (too many items)"
    if kind == "literal_error":
        return f"只能是 {ctx.get('expected')} 之一 (not an allowed value)"
    if kind == "greater_than_equal":
        return f"应不小于 {ctx.get('ge')} (must be ≥ {ctx.get('ge')})"
    if kind == "less_than_equal":
        return f"应不大于 {ctx.get('le')} (must be ≤ {ctx.get('le')})"
    if kind == "union_tag_invalid":
        return f"不认识的类型“{ctx.get('tag')}”，应为 {ctx.get('expected_tags')} 之一 (unknown kind)"
    if kind in _REASONS:
        return _REASONS[kind]
    return f"不符合要求 (invalid): {error['msg']}"


def error_lines(exc: ValidationError, data: Any = None) -> list[str]:
    """Every error of ``exc`` as ``<yaml path>: <reason>``, in document order of pydantic."""
    lines: list[str] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if error["type"] == "plan_problems":
            for sub_loc, message in error["ctx"]["problems"]:
                lines.append(f"{loc_to_path(loc + tuple(sub_loc), data)}: {message}")
            continue
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "kind")
        lines.append(f"{loc_to_path(loc, data)}: {_reason(error)}")
    return lines
