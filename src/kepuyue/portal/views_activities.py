"""The public activity pages (plan §八(一): activities are published "供公众了解参与"): the list with
its filters, one activity with its map link, QR code and calendar file, brand pages and region
pages. Only published activities are ever shown.

Views stay thin: the list query is ``kepuyue.activities.listing``, the campaign on the clock is
``kepuyue.campaigns.services``, regions are ``kepuyue.regions.services``; what a page shows beyond
the rows is in :mod:`kepuyue.portal.activity_display`. Every page works without JavaScript.
"""

from __future__ import annotations

import dataclasses
import math
import re
from urllib.parse import urlencode

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from kepuyue.activities.exporting import content_disposition
from kepuyue.activities.listing import (
    DEFAULT_LIMIT,
    NO_JOINT_ACTION,
    SORT_RELEVANCE,
    ActivityFilter,
    Notice,
    Page,
    list_activities,
)
from kepuyue.activities.models import Audience, Topic
from kepuyue.activities.summaries import loaded_summary
from kepuyue.campaigns import services as campaigns
from kepuyue.campaigns.models import Brand, Campaign
from kepuyue.common.clock import Phase
from kepuyue.common.pagecache import depends, public_page
from kepuyue.common.ratelimits import over_limit, refuse
from kepuyue.regions.models import Level, Region
from kepuyue.regions.services import get_region
from kepuyue.registrations.display import booking_block
from kepuyue.specials import services as specials

from . import activity_display as display

REGION_PAGE_LIMIT = 10
# A region page says "超过 1,000 项活动" past this: its count reads at most 1,001 index entries, so a
# cold page of a province with 40,000 activities answers as fast as a county's (ADR 0015).
REGION_COUNT_CAP = 1000
# Characters a file name may not hold on common systems; the calendar file is named after the title.
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


# --- the list ------------------------------------------------------------------------------------


@require_safe
@public_page
def activity_list(request):
    """``/activities/``: published activities of the current (or most recent) campaign as cards.

    GET parameters are those of :class:`~kepuyue.activities.listing.ActivityFilter`, plus
    ``campaign`` (a campaign's slug, for an archived one), ``cursor`` (next/previous links) and
    ``page`` (``?page=N`` deep links). Bad parameters are ignored and explained on the page.
    """
    if request.GET.get("q", "").strip() and over_limit(request, "search"):
        refuse("search")  # full-text search is the costliest public query
    messages: list[str] = []
    campaign, explicit = _campaign_of(request, messages)
    activity_filter = _consistent_places(ActivityFilter.from_params(request.GET), messages)
    activity_filter = _consistent_plan_links(activity_filter, campaign, messages)
    _list_depends(request, activity_filter, campaign)
    extra = [("campaign", campaign.slug)] if explicit and campaign is not None else []
    context = _list_context(
        request,
        activity_filter,
        campaign=campaign,
        base=reverse("portal:activity_list"),
        extra_params=extra,
        messages=messages,
    )
    context["nav"] = "activities"
    # Subscriptions and the calendar of this very filter (issue 13 §6).
    query = urlencode(context["base_params"])
    suffix = f"?{query}" if query else ""
    ics = reverse("portal:activities_ics") + suffix
    context["feeds"] = {
        "webcal": "webcal://" + request.get_host() + ics,
        "ics": ics,
        "rss": reverse("portal:activities_rss") + suffix,
        "atom": reverse("portal:activities_atom") + suffix,
        "calendar": reverse("portal:activity_calendar") + suffix,
    }
    return render(request, "portal/activity_list.html", context)


def _list_depends(request, activity_filter: ActivityFilter, campaign: Campaign | None) -> None:
    """What a list shows, for the page cache (ADR 0025): the plan, and the activities of the
    narrowest thing the filter names — a place, else a brand, else a joint action, else the campaign
    (every change to a matching activity bumps all of them, so the narrowest is enough)."""
    depends(request, "plan", "catalog")
    if campaign is None:
        return
    place = activity_filter.county or activity_filter.city or activity_filter.province
    if place:
        depends(request, f"region:{place}")
        return
    if activity_filter.brand:
        pk = (
            Brand.objects.filter(joint_action__campaign=campaign, slug=activity_filter.brand)
            .values_list("pk", flat=True)
            .first()
        )
        if pk is not None:
            depends(request, f"brand:{pk}")
            return
    elif activity_filter.joint_action and activity_filter.joint_action != NO_JOINT_ACTION:
        pk = (
            campaign.joint_actions.filter(slug=activity_filter.joint_action)
            .values_list("pk", flat=True)
            .first()
        )
        if pk is not None:
            depends(request, f"zone:{pk}")
            return
    depends(request, f"campaign:{campaign.pk}")


def _campaign_of(request, messages: list[str]) -> tuple[Campaign | None, bool]:
    """The campaign named by ``?campaign=<slug>`` (and True), else the current one (and False)."""
    slug = (request.GET.get("campaign") or "").strip()
    if slug and not re.fullmatch(r"[-a-zA-Z0-9_]{1,64}", slug):
        messages.append(_("科普月标识只能包含字母、数字和连字符，已显示当届活动。"))
        slug = ""
    if slug:
        campaign = Campaign.objects.filter(slug=slug).first()
        if campaign is not None:
            return campaign, True
        messages.append(_("没有找到科普月“%(slug)s”，已显示当届活动。") % {"slug": slug[:64]})
    return campaigns.current_campaign(), False


def _consistent_plan_links(
    activity_filter: ActivityFilter, campaign: Campaign | None, messages: list[str]
) -> ActivityFilter:
    """Drop a brand (品牌活动) of another joint action than the chosen one (联合行动).

    As with places: without JavaScript the brand list follows the joint action only after a submit,
    so a visitor who changes the joint action keeps the old brand selected; the joint action wins,
    and the page says why the brand is gone (it said "没有找到品牌活动" of a brand that exists, and
    kept its chip). Read from the cached filter choices: no query."""
    brand, action = activity_filter.brand, activity_filter.joint_action
    if not brand or not action or campaign is None:
        return activity_filter
    choices = display.filter_choices(campaign)
    owner = next(
        (ja for ja, brands in choices.brands_by_action if any(b.slug == brand for b in brands)), None
    )
    known = action == NO_JOINT_ACTION or any(ja.slug == action for ja in choices.joint_actions)
    if owner is None or not known or owner.slug == action:
        return activity_filter  # an unknown slug is explained by the listing itself
    name = next(b.name for _ja, brands in choices.brands_by_action for b in brands if b.slug == brand)
    messages.append(
        _("品牌活动“%(brand)s”属于“%(action)s”，不在所选联合行动内，已忽略品牌活动。")
        % {"brand": name, "action": owner.name}
    )
    return dataclasses.replace(activity_filter, brand="")


def _consistent_places(activity_filter: ActivityFilter, messages: list[str]) -> ActivityFilter:
    """Drop a city outside the chosen province, or a county outside the chosen city or province.

    Without JavaScript the city and county lists only follow the province after a submit, so a
    visitor who changes the province keeps the old city selected; the new province wins.
    """
    changes: dict[str, str] = {}
    province, city, county = activity_filter.province, activity_filter.city, activity_filter.county
    if province and city and city[:2] != province[:2]:
        changes["city"] = city = ""
        messages.append(_("所选城市不在所选省份内，已按省份筛选。"))
    if county:
        row = display.region_row(county)
        outside_city = city and row is not None and row.parent_id != city
        if outside_city or (province and county[:2] != province[:2]):
            changes["county"] = ""
            messages.append(_("所选区县不在所选城市或省份内，已忽略区县。"))
    return dataclasses.replace(activity_filter, **changes) if changes else activity_filter


def _list_context(
    request,
    activity_filter: ActivityFilter,
    *,
    campaign: Campaign | None,
    base: str,
    extra_params: list[tuple[str, str]],
    messages: list[str],
    limit: int = DEFAULT_LIMIT,
    fixed: tuple[str, ...] = (),
) -> dict:
    """Everything the list partials need: cards, count, pagination links, filter choices.

    ``fixed`` names filter fields a page decides itself (a brand page fixes ``brand`` and
    ``joint_action``): the form does not offer them and the links keep them.
    """
    if campaign is None:
        page = Page(items=[], messages=list(activity_filter.messages))
    else:
        page = list_activities(
            activity_filter,
            campaign=campaign,
            cursor=request.GET.get("cursor"),
            page=request.GET.get("page"),
            limit=limit,
        )
    all_messages = [*messages, *page.messages]
    only_page = page.number == 1 and not page.has_next and not page.has_prev
    count = (
        display.count_matches(
            activity_filter, campaign=campaign, page_items=len(page.items), first_page_is_last=only_page
        )
        if campaign is not None
        else display.ResultCount(0, False)
    )
    params = [*extra_params, *[(n, v) for n, v in activity_filter.to_params() if n not in fixed]]
    choices = display.filter_choices(campaign) if campaign is not None else None
    # A page that fixes a filter (a brand page) keeps it in its own address, not in the form.
    hidden = list(extra_params)
    total_pages = None if count.capped else max(1, math.ceil(count.value / limit))
    return {
        "campaign": campaign,
        "filter": activity_filter,
        "page": page,
        "cards": page.items,
        "count": count,
        "count_cap": display.COUNT_CAP,
        "filter_messages": all_messages,
        "list_base": base,
        "base_params": params,
        "hidden_params": hidden,
        # What the filter form shows depends on these alone (its rendering is cached by them).
        "filter_key": urlencode([*hidden, *activity_filter.to_params(), ("n", len(all_messages))]),
        "reset_url": f"{base}?{urlencode(extra_params)}" if extra_params else base,
        "open_panel": not page.items,
        "results_title": _("活动列表"),
        "page_numbers": _page_numbers(page.number, page.has_next, total_pages, count, limit),
        "choices": choices,
        "active_filters": _active_filters(
            activity_filter, choices, base, params, fixed, ignored=_ignored_slugs(page.messages)
        ),
        "fixed": fixed,
        "region_options": _region_options(activity_filter),
        "form_choices": [(value, str(label)) for value, label in display.FORM_LABELS.items()],
        "audience_choices": list(Audience),
        "topic_choices": list(Topic),
        "phase_choices": list(Phase),
        "sort_relevance": SORT_RELEVANCE,
        "more_open": bool(
            activity_filter.date_from
            or activity_filter.date_to
            or activity_filter.form
            or activity_filter.audiences
            or activity_filter.topics
        ),
    }


def _ignored_slugs(messages) -> set[str]:
    """The slug filters the listing ignored (no such joint action or brand: its notice says so)."""
    return {m.param for m in messages if isinstance(m, Notice) and m.param in ("joint_action", "brand")}


def _active_filters(
    activity_filter: ActivityFilter,
    choices,
    base: str,
    params: list[tuple[str, str]],
    fixed: tuple[str, ...],
    ignored: set[str] = frozenset(),
) -> list[dict]:
    """The filters in force, each as ``{"label", "value", "remove_url"}``: what the list is showing,
    and a link that drops that one condition (a province takes its city and county with it). A slug
    the listing ignored (``ignored``) is not in force: no chip, not counted."""
    names: dict[tuple[str, str], str] = {
        ("joint_action", NO_JOINT_ACTION): _("全国科普月活动（不属于联合行动）")
    }
    if choices is not None:
        for ja in choices.joint_actions:
            names[("joint_action", ja.slug)] = ja.name
        for _ja, brands in choices.brands_by_action:
            for brand in brands:
                names.setdefault(("brand", brand.slug), brand.name)
    labels = {
        "q": _("关键词"),
        "joint_action": _("联合行动"),
        "brand": _("品牌活动"),
        "province": _("省份"),
        "city": _("城市"),
        "county": _("区县"),
        "from": _("开始日期"),
        "to": _("结束日期"),
        "form": _("活动形式"),
        "audience": _("面向对象"),
        "topic": _("活动主题"),
        "phase": _("活动阶段"),
        "sort": _("排序"),
    }
    drops_with = {"province": {"city", "county"}, "city": {"county"}, "joint_action": {"brand"}}
    active = []
    for name, value in activity_filter.to_params():
        if name in fixed or name not in labels or name in ignored:
            continue
        if name in ("province", "city", "county"):
            row = display.region_row(value)
            text = display.region_label(row) if row is not None else value
        elif name == "form":
            text = str(display.FORM_LABELS.get(value, value))
        elif name == "audience":
            text = _(Audience(int(value)).label)
        elif name == "topic":
            text = _(Topic(int(value)).label)
        elif name == "phase":
            text = str(Phase(value).label)
        elif name == "sort":
            text = _("按相关度")
        else:
            text = names.get((name, value), value)
        gone = {name} | drops_with.get(name, set())
        if name in ("audience", "topic"):
            kept = [(n, v) for n, v in params if not (n == name and v == value)]
        else:
            kept = [(n, v) for n, v in params if n not in gone]
        if name == "q":
            kept = [(n, v) for n, v in kept if n != "sort"]
        active.append(
            {
                "label": labels[name],
                "value": text,
                "remove_url": f"{base}?{urlencode(kept)}" if kept else base,
            }
        )
    return active


def _page_numbers(
    number: int | None, has_next: bool, total_pages: int | None, count, limit: int
) -> list[int | None]:
    """Page numbers to link around ``number`` (``None`` marks a gap): the first, two either side,
    and the last when the count is known."""
    if number is None:
        return []
    if total_pages is not None:
        last = total_pages
    elif count.capped:
        # More than COUNT_CAP matches: every page up to the cap's last one exists.
        last = max(number + 1 if has_next else number, min(number + 2, count.value // limit))
    else:
        last = number + 1 if has_next else number
    wanted = {1, *range(max(1, number - 2), min(last, number + 2) + 1)}
    if total_pages is not None:
        wanted.add(total_pages)
    numbers: list[int | None] = []
    for n in sorted(wanted):
        if numbers and numbers[-1] is not None and n > numbers[-1] + 1:
            numbers.append(None)
        numbers.append(n)
    if total_pages is None and has_next and numbers and numbers[-1] is not None:
        numbers.append(None)  # more pages follow, how many is not counted
    return numbers


def _region_options(activity_filter: ActivityFilter) -> dict:
    """Province, city and county choices: the cities of the chosen province and the counties of
    the chosen city (the form shows them after a submit; JavaScript fills them at once)."""
    province, city, county = activity_filter.province, activity_filter.city, activity_filter.county
    # A link may name only a county or a city (region pages do): select its parents too.
    if county and not city:
        row = display.region_row(county)
        city = row.parent_id if row is not None and row.level == Level.COUNTY else ""
    if (city or county) and not province:
        province = (city or county)[:2] + "0000"
    return {
        "province": province,
        "city": city,
        "county": county,
        "provinces": display.region_children(""),
        "cities": display.region_children(province) if province else (),
        "counties": display.region_children(city) if city else (),
    }


# --- one activity --------------------------------------------------------------------------------


@require_safe
@public_page
def activity_detail(request, pk: int):
    """``/activities/<id>/``: one published activity with every public field; 404 for an unknown
    id or an activity that is not published (draft, submitted, returned, withdrawn)."""
    # Cached for anonymous visitors until the activity, its booking settings, the plan or an
    # organizer changes; free places are not on the page (the availability JSON).
    depends(request, f"activity:{pk}", "plan", "catalog")
    activity = get_object_or_404(
        # The summary comes in the same query; its photos in one more, only when there is one.
        display.public_activity_queryset()
        .select_related("summary_report", "registration_config", "lecture_links", "performance__play")
        .prefetch_related("summary_report__photos"),
        pk=pk,
    )
    page_url = request.build_absolute_uri(reverse("portal:activity", args=[activity.pk]))
    poster_url = request.build_absolute_uri(activity.poster.url) if activity.poster else ""
    phones = display.public_phones(activity)
    context = {
        "activity": activity,
        "page_url": page_url,
        "poster_url": poster_url,
        "description_html": display.description_html(activity),
        "region_chain": display.region_chain(activity.region),
        "map_url": display.map_url(activity),
        "qr_svg": display.qr_svg(page_url, title=_("本活动页面的二维码")),
        # Office lines the unit marked public in full (tel: links); personal mobiles masked.
        "full_phone": phones[0],
        "masked_phone": phones[1],
        # The unit's report after the activity (活动总结), with its photos; None until submitted.
        "summary": loaded_summary(activity),
        # How to register (报名): the same for every visitor; free places come from a separate JSON.
        "booking": booking_block(activity),
        # The programmes (kepuyue.specials): films screened (光影科学梦), the play performed (科学大师剧)
        # and the online lecture's live and replay links.
        "films": specials.screened_films(activity),
        "performance": getattr(activity, "performance", None),
        "lecture": getattr(activity, "lecture_links", None),
        "nav": "activities",
    }
    return render(request, "portal/activity_detail.html", context)


@require_safe
def poster_thumb(request, pk: int, key: str):
    """``/activities/<id>/poster-<key>.webp``: the card thumbnail of a published activity's poster
    (``portal.thumbnails``); 404 for an unknown, unpublished or poster-less activity or an old key.
    Cached by browsers for a year: a new poster has a new key."""
    from kepuyue.activities.services import public_activities

    from . import thumbnails

    activity = get_object_or_404(public_activities().only("pk", "poster", "status"), pk=pk)
    if not activity.poster or key != thumbnails.key_of(activity.poster.name):
        raise Http404
    data = thumbnails.thumbnail_bytes(activity)
    if data is None:
        raise Http404
    response = HttpResponse(data, content_type="image/webp")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@require_safe
def activity_ics(request, pk: int):
    """``/activities/<id>.ics``: the activity as an iCalendar event, named after its title (RFC
    6266 with an RFC 5987 UTF-8 file name and an ASCII fallback)."""
    activity = get_object_or_404(display.public_activity_queryset(), pk=pk)
    page_url = request.build_absolute_uri(reverse("portal:activity", args=[activity.pk]))
    response = HttpResponse(
        display.activity_ics(activity, page_url), content_type="text/calendar; charset=utf-8"
    )
    stem = _UNSAFE_FILENAME.sub("_", activity.title).strip(" ._")[:80] or f"activity-{activity.pk}"
    response["Content-Disposition"] = content_disposition(
        f"{stem}.ics", fallback=f"activity-{activity.pk}.ics"
    )
    return response


# --- brands and regions ---------------------------------------------------------------------------


@require_safe
@public_page
def brand_detail(request, campaign_slug: str, brand_slug: str):
    """``/brands/<campaign>/<brand>/``: a brand activity (品牌活动) — its description, targets and
    sub-brands — and its published activities with the list's filters. 404 when unknown."""
    brand = (
        Brand.objects.select_related("joint_action__campaign", "key_task", "parent")
        .prefetch_related("targets", "children")
        .filter(joint_action__campaign__slug=campaign_slug, slug=brand_slug)
        .order_by("joint_action__number", "pk")
        .first()
    )
    if brand is None:
        raise Http404(_("没有这个品牌活动"))
    depends(request, "plan", "catalog", f"brand:{brand.pk}")
    campaign = brand.joint_action.campaign
    messages: list[str] = []
    activity_filter = _consistent_places(display.brand_activities_filter(request.GET, brand), messages)
    context = _list_context(
        request,
        activity_filter,
        campaign=campaign,
        base=reverse("portal:brand", args=[campaign.slug, brand.slug]),
        extra_params=[],
        messages=messages,
        fixed=("joint_action", "brand"),
    )
    context.update(
        {
            "brand": brand,
            "ja": brand.joint_action,
            "targets": sorted(brand.targets.all(), key=lambda t: t.order),
            "sub_brands": sorted(brand.children.all(), key=lambda b: (b.order, b.pk)),
            # The programme's own pages (光影科学梦 → /films/, 科学大师剧 → /plays/ …), if it has any.
            "programme_links": specials.programme_links(brand, campaign),
            "campaign_phase": campaigns.campaign_phase(campaign),
            "nav": "activities",
        }
    )
    return render(request, "portal/activity_brand.html", context)


@require_safe
@public_page
def region_detail(request, code: str):
    """``/region/<code>/``: a division (行政区划) — its parents, its child divisions, and the current
    campaign's published activities there (the first ten, then a link to the filtered list).
    404 for a code that is malformed or unknown."""
    try:
        region = get_region(code)
    except Region.DoesNotExist as exc:
        raise Http404(_("没有这个行政区划")) from exc
    if region.code != code:
        return redirect("portal:region", code=region.code, permanent=True)
    key = {Level.PROVINCE: "province", Level.PREFECTURE: "city", Level.COUNTY: "county"}[region.level]
    activity_filter = ActivityFilter.from_params({key: region.code})
    depends(request, "plan", "catalog", f"region:{region.code}")
    campaign = campaigns.current_campaign()
    page = (
        list_activities(activity_filter, campaign=campaign, limit=REGION_PAGE_LIMIT)
        if campaign is not None
        else Page(items=[])
    )
    only_page = not page.has_next
    count = (
        display.count_matches(
            activity_filter,
            campaign=campaign,
            page_items=len(page.items),
            first_page_is_last=only_page,
            cap=REGION_COUNT_CAP,
        )
        if campaign is not None
        else display.ResultCount(0, False)
    )
    chain = display.region_lineage(region)
    context = {
        "region": region,
        "region_label": display.region_label(region),
        "parents": chain[:-1],
        "children": display.child_regions(region.code),
        "campaign": campaign,
        "cards": page.items,
        "count": count,
        "more_url": f"{reverse('portal:activity_list')}?{key}={region.code}",
        "nav": "activities",
    }
    return render(request, "portal/activity_region.html", context)


@require_safe
def region_children_json(request, code: str):
    """``/region/<code>/children.json``: ``{"children": [{"code", "name"}, …]}`` — the divisions
    under ``code`` (``000000``: the provinces), for the list's city and county drop-downs."""
    if code == "000000":
        rows = display.region_children("")
    else:
        if display.region_row(code) is None:
            raise Http404(_("没有这个行政区划"))
        rows = display.region_children(code)
    response = JsonResponse({"children": [{"code": r.code, "name": r.label} for r in rows]})
    response["Cache-Control"] = "public, max-age=86400"
    return response
