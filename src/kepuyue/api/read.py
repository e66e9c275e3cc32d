"""Public reads of ``/api/v1/`` (公开数据): the plan (campaigns, joint actions, key tasks, brands),
regions, published activities, published works of calls and registrations availability.

Activities are listed through the portal's own query — :class:`ActivityFilter` and
:func:`list_activities` of ``kepuyue.activities.listing`` — so every filter of ``/activities/``
works here with the same parameters, the same keyset cursors and the same Chinese explanations of
ignored parameters (``messages``). Responses carry ``ETag`` and ``Last-Modified``; a client that
sends them back (``If-None-Match`` / ``If-Modified-Since``) gets ``304`` and no body.
"""

import hashlib
from datetime import datetime

from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field as NinjaField
from ninja import Query, Router, Schema
from ninja import Status as Reply

from kepuyue.activities import services as activity_services
from kepuyue.activities.listing import (
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    ActivityFilter,
    Notice,
    list_activities,
    refused_params,
)
from kepuyue.activities.models import Activity, Audience, SpecialArea, Status, Topic
from kepuyue.campaigns.models import Brand, Call, Campaign, JointAction, KeyTask
from kepuyue.campaigns.services import current_campaign
from kepuyue.common.text import MAX_DATE, MIN_DATE
from kepuyue.regions.models import Region

from .core import COMMON_ERRORS, BadParameters, api, cached_read, conditional, public
from .schemas import (
    ActivityDetail,
    ActivityPage,
    AvailabilityOut,
    BrandOut,
    CallOut,
    CampaignOut,
    ChangePage,
    DashboardOut,
    EntryPage,
    ErrorOut,
    JointActionOut,
    KeyTaskOut,
    MapOut,
    RegionOut,
)

router = Router(tags=["公开数据"])

ERRORS = dict.fromkeys(COMMON_ERRORS, ErrorOut)
NOT_FOUND = {**ERRORS, 404: ErrorOut}
ENTRY_CURSOR_SALT = "kepuyue.api.entries"
ENTRY_PAGE = 50
# Longest text a query parameter may carry (a cursor is the longest legitimate one, ~150 characters).
PARAM_MAX = 500
# What each parameter of a list must be, for the 422 of a refused one (one message per field),
# in the request's language (Chinese by default, English for ``Accept-Language: en``).
HINTS = {
    "campaign": gettext_lazy("没有这一届科普月（应为科普月标识，如 kepuyue-2025）"),
    "joint_action": gettext_lazy(
        "应为该届科普月的联合行动标识（见 /campaigns/{slug}/joint-actions），或 none"
    ),
    "brand": gettext_lazy("应为该届科普月的品牌活动标识（见 /campaigns/{slug}/brands）"),
    "province": gettext_lazy("应为省级行政区划代码（6 位数字，如 330000，见 /regions）"),
    "city": gettext_lazy("应为地级行政区划代码（6 位数字，如 330100，见 /regions?parent=330000）"),
    "county": gettext_lazy("应为县级行政区划代码（6 位数字，如 330106）"),
    "from": gettext_lazy("应为 %(min)s 至 %(max)s 之间的日期，如 2025-09-15"),
    "to": gettext_lazy("应为 %(min)s 至 %(max)s 之间的日期，如 2025-09-30"),
    "form": gettext_lazy("应为 offline、online 或 hybrid"),
    "audience": gettext_lazy("应为面向对象的数值、英文名或中文名（可重复）"),
    "topic": gettext_lazy("应为活动主题的数值、英文名或中文名（可重复）"),
    "phase": gettext_lazy("应为 upcoming、ongoing 或 ended"),
    "q": gettext_lazy("关键词最长 %(n)d 个字"),
    "sort": gettext_lazy("应为 start 或 relevance（relevance 需要关键词 q）"),
    "cursor": gettext_lazy("翻页游标无效或已过期，请从第一页重新读取"),
    "status": gettext_lazy("应为 draft、submitted、returned、published 或 withdrawn"),
    "parent": gettext_lazy("应为省级或地级行政区划代码（6 位数字，见 /regions）"),
    "region": gettext_lazy("应为省级或地级行政区划代码（6 位数字，见 /regions）"),
    "page": gettext_lazy("应为正整数"),
}
HINT_VALUES = {"min": MIN_DATE, "max": MAX_DATE, "n": MAX_QUERY_CHARS}


def hint(param: str) -> str:
    """What ``param`` must be, in the active language."""
    found = HINTS.get(param)
    return str(found) % HINT_VALUES if found is not None else _("格式不正确")


def refuse(*params: str) -> BadParameters:
    """The 422 for ``params`` (their messages from :data:`HINTS`)."""
    return BadParameters({param: [hint(param)] for param in params})


def _campaign(slug: str) -> Campaign:
    return get_object_or_404(Campaign, slug=slug[:64])


def _named(obj) -> dict | None:
    return {"slug": obj.slug, "name": obj.name} if obj is not None else None


# The columns :func:`card` reads: the list loads only these (``list_activities(card_fields=…)``), a
# fifth of the columns of the activity and its four joined rows, and so a fraction of the ORM's
# work to compile the query and build the objects (BENCHMARKS.md, "Open API reads at 500,000").
CARD_FIELDS = (
    "id",
    "title",
    "summary",
    "campaign_id",
    "starts_at",
    "ends_at",
    "form",
    "venue",
    "region_id",
    "province_code",
    "prefecture_code",
    "county_code",
    "audiences",
    "topics",
    "external_id",
    "status",
    "updated",
    "joint_action__slug",
    "joint_action__name",
    "brand__slug",
    "brand__name",
    "organizer__name",
    "region__full_name",
)


def card(activity: Activity) -> dict:
    """The list fields of an activity (its joint action, brand, organizer and region loaded)."""
    return {
        "id": activity.pk,
        "title": activity.title,
        "summary": activity.summary,
        "campaign": activity.campaign.slug,
        "joint_action": _named(activity.joint_action),
        "brand": _named(activity.brand),
        "organizer": activity.organizer.name,
        "starts_at": activity.starts_at,
        "ends_at": activity.ends_at,
        "form": activity.form,
        "venue": activity.venue,
        "region_code": activity.region_id,
        "region_name": activity.region.full_name if activity.region is not None else "",
        "province_code": activity.province_code,
        "prefecture_code": activity.prefecture_code,
        "county_code": activity.county_code,
        "audiences": [m.value for m in activity_services.choices_of(activity.audiences, Audience)],
        "topics": [m.value for m in activity_services.choices_of(activity.topics, Topic)],
        "external_id": activity.external_id,
        "status": activity.status,
        "updated": activity.updated,
        "url": reverse("portal:activity", args=[activity.pk]),
    }


def detail(activity: Activity, *, full_phone: bool = False) -> dict:
    return {
        **card(activity),
        "description": activity.description,
        "description_html": activity.description_html,
        "co_organizers": activity.co_organizers,
        "online_url": activity.online_url,
        "latitude": float(activity.latitude) if activity.latitude is not None else None,
        "longitude": float(activity.longitude) if activity.longitude is not None else None,
        "special_areas": [m.value for m in activity_services.choices_of(activity.special_areas, SpecialArea)],
        "expected_participants": activity.expected_participants,
        "contact_name": activity.contact_name,
        "contact_phone": activity.contact_phone
        if full_phone
        else activity_services.mask_phone(activity.contact_phone),
        "published_at": activity.published_at,
        "recommended": activity.recommended_at is not None,
        "featured": activity.featured_at is not None,
    }


# --- the plan -------------------------------------------------------------------------------------


@router.get("/campaigns", response={200: list[CampaignOut], **ERRORS}, summary="科普月列表")
@public
def campaigns(request, response: HttpResponse):
    rows = list(Campaign.objects.order_by("-starts", "slug"))
    return conditional(request, response, parts=[(c.pk, c.updated) for c in rows]) or rows


@router.get("/campaigns/{slug}", response={200: CampaignOut, **NOT_FOUND}, summary="一届科普月")
@public
def campaign(request, slug: str, response: HttpResponse):
    found = _campaign(slug)
    return (
        conditional(request, response, parts=(found.pk, found.updated), last_modified=found.updated) or found
    )


@router.get(
    "/campaigns/{slug}/joint-actions", response={200: list[JointActionOut], **NOT_FOUND}, summary="联合行动"
)
@public
def joint_actions(request, slug: str):
    return list(JointAction.objects.filter(campaign=_campaign(slug)).order_by("number"))


@router.get("/campaigns/{slug}/key-tasks", response={200: list[KeyTaskOut], **NOT_FOUND}, summary="重点任务")
@public
def key_tasks(request, slug: str):
    rows = KeyTask.objects.filter(joint_action__campaign=_campaign(slug)).select_related("joint_action")
    return [
        {"slug": t.slug, "number": t.number, "name": t.name, "joint_action": t.joint_action.slug}
        for t in rows.order_by("joint_action__number", "number")
    ]


@router.get("/campaigns/{slug}/brands", response={200: list[BrandOut], **NOT_FOUND}, summary="品牌活动")
@public
def brands(request, slug: str):
    rows = Brand.objects.filter(joint_action__campaign=_campaign(slug)).select_related(
        "joint_action", "key_task"
    )
    return [
        {
            "slug": b.slug,
            "name": b.name,
            "joint_action": b.joint_action.slug,
            "key_task": b.key_task.slug if b.key_task_id else None,
            "description": b.description,
            "plan_ref": b.plan_ref,
        }
        for b in rows.order_by("joint_action__number", "order", "id")
    ]


@router.get("/campaigns/{slug}/calls", response={200: list[CallOut], **NOT_FOUND}, summary="作品征集")
@public
def calls(request, slug: str):
    found = _campaign(slug)
    rows = Call.objects.filter(campaign=found).select_related("joint_action").order_by("opens_at", "slug")
    return [
        {
            "campaign": found.slug,
            "slug": c.slug,
            "kind": c.kind,
            "title": c.title,
            "joint_action": c.joint_action.slug,
            "opens_at": c.opens_at,
            "closes_at": c.closes_at,
            "publication": c.publication,
        }
        for c in rows
    ]


class EntryQuery(Schema):
    cursor: str | None = NinjaField(None, max_length=PARAM_MAX, description="上一页返回的 next_cursor")


@router.get(
    "/campaigns/{slug}/calls/{call}/entries",
    response={200: EntryPage, **NOT_FOUND},
    summary="征集作品（择优发布的作品）",
)
@public
def entries(request, slug: str, call: str, query: Query[EntryQuery]):
    from kepuyue.calls.services.publishing import published_entries

    found = get_object_or_404(Call, campaign=_campaign(slug), slug=call[:64])
    rows = published_entries(found)
    offset = 0
    if query.cursor:
        try:
            offset = int(signing.loads(query.cursor, salt=ENTRY_CURSOR_SALT))
        except (signing.BadSignature, ValueError, TypeError, OverflowError):
            raise refuse("cursor") from None
        if not 0 <= offset < 2**31:
            raise refuse("cursor")
    page = list(rows[offset : offset + ENTRY_PAGE + 1])
    more = len(page) > ENTRY_PAGE
    items = []
    for entry in page[:ENTRY_PAGE]:
        entry.call = found
        items.append(
            {
                "code": entry.code,
                "title": entry.title,
                "theme": entry.theme,
                "theme_name": entry.theme_name,
                "description": entry.description,
                "organization": entry.public_byline,  # a person: 张** · unit · province
                "city": entry.city.full_name if entry.city_id else None,
                "published_at": entry.published_at,
                "file_url": entry.public_file.url if entry.public_file else None,
                "poster_url": entry.public_poster.url if entry.public_poster else None,
                "link": getattr(entry, "link", "") or "",
            }
        )
    next_cursor = signing.dumps(offset + ENTRY_PAGE, salt=ENTRY_CURSOR_SALT) if more else None
    return {"items": items, "next_cursor": next_cursor}


# --- regions --------------------------------------------------------------------------------------


class RegionQuery(Schema):
    parent: str | None = NinjaField(None, max_length=PARAM_MAX, description="上级区划代码；缺省为省级行政区")


@router.get("/regions", response={200: list[RegionOut], **ERRORS}, summary="行政区划（GB/T 2260）")
@public
def regions(request, query: Query[RegionQuery], response: HttpResponse):
    parent = (query.parent or "").strip()
    if parent and not (len(parent) == 6 and parent.isascii() and parent.isdigit()):
        raise refuse("parent")
    rows = Region.objects.filter(parent_id=parent) if parent else Region.objects.filter(level=1)
    rows = list(rows.order_by("code"))
    if parent and not rows and not Region.objects.filter(pk=parent).exists():
        raise refuse("parent")
    found = conditional(request, response, parts=[r.code for r in rows])
    return found or [
        {"code": r.code, "name": r.name, "full_name": r.full_name, "level": r.level, "parent": r.parent_id}
        for r in rows
    ]


# --- activities -----------------------------------------------------------------------------------


class ActivityQuery(Schema):
    """The filters of the portal's activity list (``/activities/``), the same names and meaning.
    Unlike the page, which ignores a bad parameter and says so, the API refuses it: 422 with one
    Chinese message per parameter (``errors``)."""

    campaign: str | None = NinjaField(None, max_length=PARAM_MAX, description="科普月标识；缺省为当前科普月")
    joint_action: str | None = NinjaField(
        None, max_length=PARAM_MAX, description="联合行动标识，none 为全国科普月活动"
    )
    brand: str | None = NinjaField(None, max_length=PARAM_MAX, description="品牌活动标识")
    province: str | None = NinjaField(None, max_length=PARAM_MAX, description="省级区划代码，如 330000")
    city: str | None = NinjaField(None, max_length=PARAM_MAX, description="地级区划代码，如 330100")
    county: str | None = NinjaField(None, max_length=PARAM_MAX, description="县级区划代码，如 330106")
    from_: str | None = NinjaField(
        None, alias="from", max_length=PARAM_MAX, description="开始日期，如 2025-09-15"
    )
    to: str | None = NinjaField(None, max_length=PARAM_MAX, description="结束日期")
    form: str | None = NinjaField(None, max_length=PARAM_MAX, description="offline / online / hybrid")
    audience: list[str] = NinjaField(default_factory=list, max_length=20, description="面向对象（可重复）")
    topic: list[str] = NinjaField(default_factory=list, max_length=20, description="活动主题（可重复）")
    phase: str | None = NinjaField(None, max_length=PARAM_MAX, description="upcoming / ongoing / ended")
    q: str | None = NinjaField(None, max_length=PARAM_MAX, description=f"关键词，最长 {MAX_QUERY_CHARS} 个字")
    sort: str | None = NinjaField(
        None, max_length=PARAM_MAX, description="start（默认）或 relevance（需关键词）"
    )
    cursor: str | None = NinjaField(
        None, max_length=PARAM_MAX, description="上一页返回的 next_cursor / prev_cursor"
    )
    limit: int | None = NinjaField(None, ge=1, le=MAX_LIMIT, description=f"每页条数，1–{MAX_LIMIT}，默认 20")


def campaign_of(slug: str | None) -> Campaign | None:
    """The campaign named by ``slug`` (422 when there is none), or the current one."""
    slug = (slug or "").strip()
    if slug:
        found = Campaign.objects.filter(slug=slug[:64]).first() if len(slug) <= 64 else None
        if found is None:
            raise refuse("campaign")
        return found
    return current_campaign()


def checked_filter(params) -> ActivityFilter:
    """The portal's filter of ``params``, every refused parameter a 422 (one query when a region
    code is given: it must name a region)."""
    activity_filter = ActivityFilter.from_params(params)
    refused = refused_params(activity_filter.messages)
    codes = {
        name: code
        for name, code in (
            ("province", activity_filter.province),
            ("city", activity_filter.city),
            ("county", activity_filter.county),
        )
        if code
    }
    if codes:
        known = set(Region.objects.filter(code__in=codes.values()).values_list("code", flat=True))
        refused += [name for name, code in codes.items() if code not in known]
    if refused:
        # A notice that names what is wrong with the value ("no searchable text in 🚀") is the field's
        # message; the others get what the parameter must be.
        own = {m.param: str(m) for m in activity_filter.messages if isinstance(m, Notice) and m.specific}
        raise BadParameters({param: [own.get(param) or hint(param)] for param in refused})
    return activity_filter


def page_data(request, *, queryset=None, limit: int | None = None) -> tuple[dict, tuple, datetime | None]:
    """One page of activities for the GET parameters of ``request`` (public or a token's own):
    ``(body, etag parts, newest updated)``. A refused parameter is a 422 (:class:`BadParameters`),
    never a silently different page."""
    found_campaign = campaign_of(request.GET.get("campaign"))
    activity_filter = checked_filter(request.GET)
    messages: list[str] = []
    if found_campaign is None and queryset is None:
        page_items, next_cursor, prev_cursor = [], None, None
        messages += list(activity_filter.messages)
    else:
        page = list_activities(
            activity_filter,
            campaign=found_campaign,
            cursor=request.GET.get("cursor"),
            limit=limit or 20,
            queryset=queryset,
            card_fields=CARD_FIELDS,
        )
        refused = refused_params(page.messages)
        if refused:  # an unknown joint action or brand slug, a bad cursor
            raise refuse(*refused)
        page_items, next_cursor, prev_cursor = page.items, page.next_cursor, page.prev_cursor
        messages += page.messages
        # The cards load joint action, brand, organizer and region; the campaigns (a handful) once,
        # none when the page is of the campaign asked for.
        known = {found_campaign.pk: found_campaign} if found_campaign is not None else {}
        campaigns = {**Campaign.objects.in_bulk({a.campaign_id for a in page_items} - set(known)), **known}
        for item in page_items:
            item.campaign = campaigns[item.campaign_id]
    parts = (
        [(a.pk, a.updated.isoformat(), a.status) for a in page_items],
        next_cursor,
        prev_cursor,
        [str(m) for m in messages],
    )
    body = {
        "items": [card(a) for a in page_items],
        "next_cursor": next_cursor,
        "prev_cursor": prev_cursor,
        "messages": [str(m) for m in messages],
    }
    return body, parts, max((a.updated for a in page_items), default=None)


def activity_page(request, response, *, queryset=None, limit: int | None = None) -> dict | HttpResponse:
    """:func:`page_data` with ``ETag`` / ``Last-Modified`` (a 304 when the client has it)."""
    body, parts, last = page_data(request, queryset=queryset, limit=limit)
    not_modified = conditional(request, response, parts=parts, last_modified=last)
    if queryset is not None:
        response["Cache-Control"] = "private, no-cache"
    return not_modified if not_modified is not None else body


@router.get("/activities", response={200: ActivityPage, 304: None, **ERRORS}, summary="已发布的活动")
@public
def activities(request, query: Query[ActivityQuery], response: HttpResponse):
    """Published activities of a campaign, in start order (or by relevance with ``q``), keyset
    pages: follow ``next_cursor`` (``?cursor=``) to the next page; the cursor keeps its place
    however deep. A bad parameter is a 422 with one Chinese message per parameter. Answers are
    kept ``KEPUYUE_API_READ_CACHE_SECONDS`` (30) under the change feed's latest sequence number, so a
    publication, edit or withdrawal is seen by the next request."""

    def compute():
        body, _parts, last = page_data(request, limit=query.limit)
        return body, last

    return cached_read(request, compute)


def _published(pk: int) -> Activity:
    if not 0 < pk < 2**63:
        raise Http404
    return get_object_or_404(
        Activity.objects.select_related("campaign", "joint_action", "brand", "organizer", "region"),
        pk=pk,
        status=Status.PUBLISHED,
    )


@router.get(
    "/activities/{int:pk}", response={200: ActivityDetail, 304: None, **NOT_FOUND}, summary="活动详情"
)
@public
def activity(request, pk: int, response: HttpResponse):
    def compute():
        found = _published(pk)
        return detail(found), found.updated

    return cached_read(request, compute)


@router.get(
    "/activities/{int:pk}/availability",
    response={200: AvailabilityOut, **NOT_FOUND},
    summary="报名余量（各场次剩余名额）",
)
@public
def availability(request, pk: int, response: HttpResponse):
    from kepuyue.registrations import services as registrations
    from kepuyue.registrations.models import Mode

    found = _published(pk)
    config = registrations.config_of(found)
    rows = registrations.availability(found, config) if config and config.mode == Mode.PLATFORM else []
    response["Cache-Control"] = "public, max-age=10"
    return {
        "activity": found.pk,
        "mode": config.mode if config else Mode.NONE,
        "closed": registrations.registration_closed(found, config, rows),
        "sessions": [row.as_json() for row in rows],
    }


# --- the dashboard (数据看板) -----------------------------------------------------------------------


class DashboardQuery(Schema):
    campaign: str | None = NinjaField(None, max_length=PARAM_MAX, description="科普月标识；缺省为当前科普月")


class MapQuery(DashboardQuery):
    region: str | None = NinjaField(
        None, max_length=PARAM_MAX, description="省级或地级区划代码：其下各区划的活动数；缺省为各省"
    )


def dashboard_figures(campaign: Campaign) -> dict:
    """The public dashboard's figures as data: the page's own figures
    (:func:`kepuyue.dashboard.figures.public_figures`, one computation and one cache entry for both,
    decision 0017), reshaped — never recomputed — so the API's numbers are the page's, every measure
    the page shows included (the programmes' totals, targets measured from any source)."""
    from kepuyue.dashboard.figures import public_figures

    data = public_figures(campaign)
    totals = dict(data["totals"])
    for level in ("provinces", "prefectures", "counties"):
        reached, total = totals[level]
        totals[level] = {"reached": reached, "total": total}
    tables = data["tables"]
    return {
        "campaign": campaign.slug,
        "totals": totals,
        "registrations": data["registrations"] or {"booked": 0, "checked_in": 0},
        "entries": data["entries"],
        "programmes": data["programmes"],
        "targets": [
            {
                "joint_action": p.target.joint_action.name,
                "brand": p.target.brand.name if p.target.brand else None,
                "target": p.target.label,
                "planned": str(p.target.display_value),
                "goal": p.goal,
                "value": p.value,
                "percent": p.percent,
                "slug": f"{p.target.joint_action.slug}/{p.target.slug}",
                "unit": p.target.unit,
                "plan_text": p.target.plan_text,
                "source": (p.target.measure or {}).get("source") or "none",
                "note": p.note,
            }
            for p in data["progress"]
        ],
        "joint_actions": [{"name": n, "count": c} for n, c in tables["joint_actions"].rows],
        "brands": [{"name": n, "joint_action": j, "count": c} for n, j, c in tables["brands"].rows],
        "provinces": [{"name": n, "code": code, "count": c} for n, code, c in tables["provinces"].rows],
        "daily": [{"day": d, "published": n, "total": t} for d, n, t in tables["daily"].rows],
        "deadlines": data["charts"]["deadlines"],
        "units": [{"name": n, "count": c} for n, c in tables["units"].rows],
    }


def rendered_dashboard(request, campaign: Campaign) -> tuple[bytes, str]:
    """``/api/v1/dashboard``'s body as bytes and its ETag, made once per
    ``DASHBOARD_CACHE_SECONDS`` beside the page's figures: the schema (:class:`DashboardOut`)
    checks the body once when it is made, not on every request (a campaign's body holds every
    day, brand and province — validating it per request cost more than the rest of the request,
    BENCHMARKS.md)."""
    from kepuyue.dashboard.figures import cached

    def render():
        body = DashboardOut.model_validate(dashboard_figures(campaign)).model_dump(by_alias=True)
        content = api.create_response(request, body, status=200).content
        return content, '"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"'

    return cached(f"api:{campaign.pk}:{campaign.updated.timestamp()}", render)


def _dashboard_campaign(slug: str | None) -> Campaign:
    found = campaign_of(slug)
    if found is None:
        raise Http404
    return found


@router.get(
    "/dashboard", response={200: DashboardOut, 304: None, **NOT_FOUND}, summary="数据看板（统计数字）"
)
@public
def dashboard(request, query: Query[DashboardQuery], response: HttpResponse):
    """The figures of ``/dashboard/``: totals, the programmes (光影科学梦, 科学大师剧, 星火馆), target
    progress, activities by joint action, brand, province, day and unit type — the page's own
    figures, the same numbers (cached as long as the page's, ``KEPUYUE_DASHBOARD_CACHE_SECONDS``).
    ``ETag`` / ``If-None-Match`` give a 304."""
    found = _dashboard_campaign(query.campaign)
    content, etag = rendered_dashboard(request, found)
    answer = get_conditional_response(request, etag=etag)
    if answer is None:
        answer = HttpResponse(content, content_type="application/json; charset=utf-8")
    answer["ETag"] = etag
    answer["Cache-Control"] = "public, max-age=60"
    return answer


@router.get("/dashboard/map", response={200: MapOut, **NOT_FOUND}, summary="数据看板地图（各区划活动数）")
@public
def dashboard_map(request, query: Query[MapQuery], response: HttpResponse):
    """Published activities per child region of ``region`` (each province when absent), as the
    dashboard's map shows them. ``region`` must be a province or a prefecture (422 otherwise)."""
    from kepuyue.dashboard.figures import map_counts

    found = _dashboard_campaign(query.campaign)
    code = (query.region or "").strip()
    parent = None
    if code:
        if len(code) == 6 and code.isascii() and code.isdigit():
            parent = Region.objects.filter(pk=code, level__lt=3).first()
        if parent is None:
            raise refuse("region")
    children = Region.objects.filter(parent=parent) if parent else Region.objects.filter(level=1)
    counts = map_counts(found, parent)
    response["Cache-Control"] = "public, max-age=60"
    return {
        "campaign": found.slug,
        "parent": parent.code if parent else "",
        "parent_name": parent.name if parent else "全国",
        "level": (parent.level + 1) if parent else 1,
        "regions": [
            {"code": c, "name": name, "count": counts.get(c, 0)}
            for c, name in children.order_by("code").values_list("code", "name")
        ],
    }


# --- the change feed ------------------------------------------------------------------------------


class ChangeQuery(Schema):
    since: int | None = NinjaField(None, ge=0, le=2**62, description="上次返回的 next；缺省从头读起")
    limit: int | None = NinjaField(None, ge=1, le=200, description="每页条数，1–200，默认 100")


@router.get("/changes", response={200: ChangePage, 410: ErrorOut, **ERRORS}, summary="变更流（含撤回与删除）")
@public
def changes_feed(request, query: Query[ChangeQuery]):
    """Changes of public activities since ``since``, oldest first: ``upsert`` with the activity as it
    is now, or ``delete`` (withdrawn or deleted). Keep ``next`` and ask again from it. A cursor older
    than the retained window (``API_CHANGES_RETENTION_DAYS``) is a 410: read again from 0."""
    from . import changes

    if changes.expired(query.since or 0):
        return Reply(410, changes.expired_body())
    items, next_seq, more = changes.page(query.since or 0, query.limit or 100)
    return {
        "items": [
            {
                "seq": seq,
                "activity_id": pk,
                "action": "upsert" if activity is not None else "delete",
                "activity": detail(activity) if activity is not None else None,
            }
            for seq, pk, activity in items
        ],
        "next": str(next_seq),
        "has_more": more,
    }
