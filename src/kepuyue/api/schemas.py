"""The shapes of the open API (pydantic, through django-ninja): what ``/api/v1/openapi.json``
describes. Inputs are lenient (texts and lists of texts) so that the services, not the schema,
judge them and answer with the same Chinese messages as the web pages."""

from datetime import date, datetime
from typing import Annotated

from ninja import Field, Schema
from ninja.schema import DjangoGetter
from pydantic import BeforeValidator, field_validator, model_validator
from pydantic_core import PydanticCustomError

from kepuyue.activities.services.validation import COUNT_MAX


class ErrorOut(Schema):
    """The one error body of the API (every 4xx and 5xx): ``detail`` a Chinese sentence, ``code`` a
    stable English word for programs, ``errors`` field → Chinese messages (validation only)."""

    detail: str = Field(..., description="中文错误说明")
    code: str = Field(..., description="错误类别，如 not_found、validation、rate_limited")
    errors: dict[str, list[str]] = Field(default_factory=dict, description="字段 → 中文错误信息")


class InSchema(Schema):
    """A body (or a part of one) the API reads: a JSON object, nothing else. django-ninja's schemas
    read attributes of whatever they are given (they also build answers from model instances), so an
    item of ``5`` or ``"x"`` became an empty activity refused for its missing external id."""

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, value):
        # django-ninja's own wrap validator hands the value over wrapped (DjangoGetter)
        given = value._obj if isinstance(value, DjangoGetter) else value
        if not isinstance(given, dict):
            raise PydanticCustomError("not_an_object", "a JSON object is expected")
        return value


def _not_a_boolean(value):
    """JSON ``true``/``false`` is not a number (pydantic's lax mode reads ``true`` as 1: a count of 1,
    an audience bit 1)."""
    if isinstance(value, bool):
        raise PydanticCustomError("boolean_not_number", "true/false is not a number")
    return value


Count = Annotated[int, BeforeValidator(_not_a_boolean)]
LabelOrBit = Annotated[str | int, BeforeValidator(_not_a_boolean)]


class CampaignOut(Schema):
    slug: str
    year: int
    name: str
    subtitle: str
    theme: str
    starts: date
    ends: date
    platforms: list = Field(default_factory=list, description="发布平台（方案八(一)）")


class JointActionOut(Schema):
    slug: str
    number: int
    name: str
    theme: str
    managing_unit: str
    window_start: date
    window_end: date
    plan_ref: str


class KeyTaskOut(Schema):
    slug: str
    number: int
    name: str
    joint_action: str


class BrandOut(Schema):
    slug: str
    name: str
    joint_action: str
    key_task: str | None = None
    description: str
    plan_ref: str


class RegionOut(Schema):
    code: str
    name: str
    full_name: str
    level: int
    parent: str | None = None


class Named(Schema):
    slug: str
    name: str


class ActivityCard(Schema):
    """An activity as a list shows it."""

    id: int
    title: str
    summary: str
    campaign: str
    joint_action: Named | None = None
    brand: Named | None = None
    organizer: str
    starts_at: datetime
    ends_at: datetime
    form: str
    venue: str
    region_code: str | None = None
    region_name: str = ""
    province_code: str
    prefecture_code: str
    county_code: str
    audiences: list[int]
    topics: list[int]
    external_id: str
    status: str
    updated: datetime
    url: str


class ActivityDetail(ActivityCard):
    """One activity: the card and its details. ``contact_phone`` is masked on public reads."""

    description: str
    description_html: str
    co_organizers: str
    online_url: str
    latitude: float | None = None
    longitude: float | None = None
    special_areas: list[int]
    expected_participants: int | None = None
    contact_name: str
    contact_phone: str
    published_at: datetime | None = None
    recommended: bool
    featured: bool


class ActivityPage(Schema):
    items: list[ActivityCard]
    next_cursor: str | None = None
    prev_cursor: str | None = None
    messages: list[str] = Field(default_factory=list, description="被忽略的参数及原因（中文）")


class SessionOut(Schema):
    id: int
    label: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    available: int
    group_capacity: int
    group_available: int
    open: bool
    full: bool
    few: bool
    waitlist: bool
    reason: str


class AvailabilityOut(Schema):
    activity: int
    mode: str
    closed: bool
    sessions: list[SessionOut]


class CallOut(Schema):
    campaign: str
    slug: str
    kind: str
    title: str
    joint_action: str
    opens_at: datetime
    closes_at: datetime | None = None
    publication: str


class EntryOut(Schema):
    code: str
    title: str
    theme: str
    theme_name: str
    description: str
    organization: str
    city: str | None = None
    published_at: datetime | None = None
    file_url: str | None = None
    poster_url: str | None = None
    link: str = ""


class EntryPage(Schema):
    items: list[EntryOut]
    next_cursor: str | None = None


# --- the dashboard (数据看板) ------------------------------------------------------------------------


class Reached(Schema):
    reached: int = Field(..., description="有已发布活动的区划数")
    total: int = Field(..., description="该级区划总数")


class DashboardTotals(Schema):
    activities: int = Field(..., description="已发布活动数")
    participants: int = Field(..., description="参与人次（活动总结）")
    special_areas: int = Field(..., description="面向特殊地区的活动数")
    units: int = Field(..., description="参与单位数")
    provinces: Reached
    prefectures: Reached
    counties: Reached


class TargetOut(Schema):
    joint_action: str
    brand: str | None = None
    target: str = Field(..., description="目标内容")
    planned: str = Field(..., description="计划数量（如 10~15）")
    goal: int
    value: int | None = Field(None, description="当前数量；无数据来源时为 null")
    percent: int | None = None
    slug: str = Field("", description="目标标识（联合行动标识/目标标识）")
    unit: str = Field("", description="计量单位（场、部、人次……）")
    plan_text: str = Field("", description="方案原文")
    source: str = Field(
        "none",
        description="统计来源：activities、organizations、call_entries、registrations、screenings、"
        "performances、volunteers、tours、training，无数据来源为 none",
    )
    note: str = Field("", description="统计口径说明（无数据来源时说明原因）")


class ProgrammesOut(Schema):
    screenings: int = Field(..., description="光影科学梦放映场次")
    films_shown: int = Field(..., description="光影科学梦放映影片数")
    performances: int = Field(..., description="科学大师剧登记演出场次")
    volunteers: int = Field(..., description="星火馆青年志愿者人数")


class DeadlineOut(Schema):
    day: date
    title: str


class CountOut(Schema):
    name: str
    count: int


class BrandCountOut(Schema):
    name: str
    joint_action: str
    count: int


class RegionCountOut(Schema):
    code: str
    name: str
    count: int


class DayOut(Schema):
    day: date
    published: int = Field(..., description="当日发布")
    total: int = Field(..., description="累计")


class DashboardOut(Schema):
    """The figures of the public dashboard (``/dashboard/``), read from the same roll-ups."""

    campaign: str
    totals: DashboardTotals
    registrations: dict[str, int] = Field(..., description="booked（已确认名额）、checked_in（签到）")
    entries: dict[str, int] = Field(..., description="submitted（征集作品已提交）、published（已发布）")
    programmes: ProgrammesOut = Field(..., description="专项活动：光影科学梦、科学大师剧、星火馆")
    targets: list[TargetOut]
    joint_actions: list[CountOut]
    brands: list[BrandCountOut]
    provinces: list[RegionCountOut]
    daily: list[DayOut]
    deadlines: list[DeadlineOut] = Field(default_factory=list, description="方案时间节点（每日曲线上标出）")
    units: list[CountOut] = Field(..., description="参与单位数（按单位类型）")


class MapOut(Schema):
    """Published activities per child region (the dashboard's map)."""

    campaign: str
    parent: str = Field(..., description="上级区划代码；全国为空")
    parent_name: str
    level: int = Field(..., description="子区划级别：1 省、2 地、3 县")
    regions: list[RegionCountOut]


# --- writes -------------------------------------------------------------------------------------


class SlugRef(InSchema):
    """A reference as the reads give it (``{"slug": …, "name": …}``): a body read from the API can be
    sent back as it is. Only the slug counts."""

    slug: str = Field(..., max_length=64)
    name: str = ""


class ActivityIn(InSchema):
    """An activity to create or change (发布活动). Slugs name the joint action, brand and key task of
    ``campaign`` (default: the current campaign); times are ISO 8601 (without an offset: Beijing
    time); ``audiences`` / ``topics`` / ``special_areas`` are bit values or Chinese labels."""

    campaign: str | None = Field(None, description="科普月标识；缺省为当前科普月")
    joint_action: str | SlugRef | None = Field(None, description="联合行动标识；不填为全国科普月活动")
    brand: str | SlugRef | None = None
    key_task: str | SlugRef | None = None
    title: str = ""
    summary: str = ""
    description: str = ""
    co_organizers: str = ""
    starts_at: str | None = Field(None, description="开始时间，如 2025-09-15T09:00:00+08:00")
    ends_at: str | None = None
    form: str = "offline"
    online_url: str = ""
    region_code: str = ""
    venue: str = ""
    audiences: list[LabelOrBit] = Field(default_factory=list, max_length=32)
    topics: list[LabelOrBit] = Field(default_factory=list, max_length=32)
    special_areas: list[LabelOrBit] = Field(default_factory=list, max_length=32)
    expected_participants: Count | None = Field(None, ge=0, le=COUNT_MAX)
    science_workers: Count | None = Field(None, ge=0, le=COUNT_MAX)
    contact_name: str = ""
    contact_phone: str = ""
    external_id: str = Field("", description="单位自己的编号（批量导入时按它更新）")

    @field_validator("joint_action", "brand", "key_task", mode="after")
    @classmethod
    def _slug_of(cls, value):
        return value.slug if isinstance(value, SlugRef) else value


class ReasonIn(InSchema):
    reason: str = ""


class BulkIn(InSchema):
    items: list[ActivityIn] = Field(..., min_length=1, max_length=500)


class BulkResult(Schema):
    index: int
    external_id: str
    result: str = Field(..., description="created / updated / unchanged / error")
    id: int | None = None
    errors: dict[str, list[str]] = Field(default_factory=dict)


class BulkOut(Schema):
    created: int
    updated: int
    unchanged: int
    failed: int
    results: list[BulkResult]


class RegistrationOut(Schema):
    """A booking of the unit's own activity, personal data masked (as the staff list shows it)."""

    code: str
    session_id: int
    kind: str
    status: str
    seats: int
    name: str
    phone: str
    group_name: str
    created_at: datetime
    checked_in_at: datetime | None = None


class RegistrationPage(Schema):
    items: list[RegistrationOut]
    next_cursor: str | None = None


class ChangeOut(Schema):
    seq: int
    activity_id: int
    action: str = Field(..., description="upsert（当前已发布，附活动）或 delete（已撤回或删除）")
    activity: ActivityDetail | None = None


class ChangePage(Schema):
    items: list[ChangeOut]
    next: str = Field(..., description="下次请求的 since")
    has_more: bool
