"""What the public activity pages show, beyond the rows themselves: filter choices, a capped
result count, an activity's description as safe HTML, its map link, QR code and calendar file.

Plan §八(一): units publish their key activities on the platform "供公众了解参与", marked with
their joint action and brand; these helpers turn a published :class:`~kepuyue.activities.models.Activity`
into what a visitor on a phone can use. Times are Asia/Shanghai. Nothing here writes to the
database; the choices and counts are kept in the Django cache (per process by default, Redis in
scale-out) so a list page does not re-read them on every request.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlencode

import segno
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy
from icalendar import Calendar, Event, Timezone

from kepuyue.activities.listing import ActivityFilter, filter_activities
from kepuyue.activities.models import Activity, Form
from kepuyue.campaigns.models import Brand, Campaign, JointAction
from kepuyue.common import clock
from kepuyue.common.clock import Phase
from kepuyue.common.markup import render_markdown, source_digest
from kepuyue.regions.matching import PLACEHOLDER_NAMES
from kepuyue.regions.models import Level, Region
from kepuyue.regions.services import get_index

# Filter choices change when a plan is (re)loaded, about once a year; five minutes of staleness
# in a drop-down is harmless, and the rows themselves are always filtered live.
OPTIONS_TIMEOUT = 300
# Counting stops here: past it the page says "许多" instead of reading every matching index entry
# (COUNT(*) over 460,000 published rows costs ~50 ms on SQLite; 10,001 entries cost ~3 ms).
COUNT_CAP = 10_000
COUNT_TIMEOUT = 120
DESCRIPTION_TIMEOUT = 24 * 3600

# 活动形式 in the active language (the model's labels are the Chinese data terms).
FORM_LABELS = {
    Form.OFFLINE: gettext_lazy("线下"),
    Form.ONLINE: gettext_lazy("线上"),
    Form.HYBRID: gettext_lazy("线上线下结合"),
}

AMAP_SEARCH = "https://uri.amap.com/search"
AMAP_MARKER = "https://uri.amap.com/marker"


# --- filter choices ------------------------------------------------------------------------------


@dataclass(frozen=True)
class JointActionChoice:
    slug: str
    number: int
    name: str
    name_en: str


@dataclass(frozen=True)
class BrandChoice:
    slug: str
    name: str
    joint_action_slug: str


@dataclass(frozen=True)
class FilterChoices:
    """The joint actions and brands of a campaign, for the list's drop-downs (plain values, so
    they keep in any cache). ``brands_by_action`` lists ``(joint action, its brands)`` in plan order.
    """

    joint_actions: tuple[JointActionChoice, ...]
    brands_by_action: tuple[tuple[JointActionChoice, tuple[BrandChoice, ...]], ...]


def filter_choices(campaign: Campaign) -> FilterChoices:
    """The joint actions and brands of ``campaign`` in plan order; two queries on a cache miss,
    none on a hit. The key carries the campaign's ``updated`` time, so a reloaded plan is seen at
    once when the campaign row changed, else within :data:`OPTIONS_TIMEOUT` seconds."""
    key = f"portal:activity-choices:{campaign.pk}:{campaign.updated.timestamp() if campaign.updated else 0}"
    choices = cache.get(key)
    if choices is None:
        actions = [
            JointActionChoice(slug=ja.slug, number=ja.number, name=ja.name, name_en=ja.name_en)
            for ja in JointAction.objects.filter(campaign=campaign).order_by("number")
        ]
        brands: dict[str, list[BrandChoice]] = defaultdict(list)
        for slug, name, ja_slug in (
            Brand.objects.filter(joint_action__campaign=campaign)
            .order_by("joint_action__number", "order", "pk")
            .values_list("slug", "name", "joint_action__slug")
        ):
            brands[ja_slug].append(BrandChoice(slug=slug, name=name, joint_action_slug=ja_slug))
        choices = FilterChoices(
            joint_actions=tuple(actions),
            brands_by_action=tuple((ja, tuple(brands[ja.slug])) for ja in actions if brands[ja.slug]),
        )
        cache.set(key, choices, OPTIONS_TIMEOUT)
    return choices


# --- regions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionChoice:
    code: str
    label: str


_tree_lock = threading.Lock()
_tree: tuple[object, dict[str, tuple[RegionChoice, ...]]] = (None, {})


def region_label(region: Region) -> str:
    """A division's name for a list: its own name, or the full name for a grouping row that is no
    place of its own (北京市市辖区 rather than 市辖区)."""
    if region.level == Level.PREFECTURE and region.name in PLACEHOLDER_NAMES:
        return region.full_name or region.name
    return region.name


def region_children(code: str = "") -> tuple[RegionChoice, ...]:
    """The divisions directly under ``code`` (the provinces for ``""``), in code order.

    Read from the region match index of this process (``kepuyue.regions.services.get_index``),
    so no query once the index is built; rebuilt when the index is.
    """
    global _tree
    index = get_index()
    if _tree[0] is not index:
        with _tree_lock:
            if _tree[0] is not index:
                tree: dict[str, list[RegionChoice]] = defaultdict(list)
                for row in sorted(index.rows.values(), key=lambda r: r.code):
                    tree[row.parent_id or ""].append(RegionChoice(code=row.code, label=region_label(row)))
                _tree = (index, {parent: tuple(rows) for parent, rows in tree.items()})
    return _tree[1].get(code, ())


def region_lineage(region: Region) -> list[Region]:
    """``region`` and the divisions containing it, province first, in one query by primary key —
    for a page that must answer cold (the region pages, ≤ 100 ms): no match index to build first
    (:func:`region_chain` reads the process's index, 0.2–0.4 s to build on a process's first use)."""
    codes = {region.province_code, region.parent_id} - {None, "", region.code}
    above = {r.code: r for r in Region.objects.filter(code__in=codes)} if codes else {}
    grand = above.get(region.parent_id)
    if grand is not None and grand.parent_id and grand.parent_id not in above:
        above[grand.parent_id] = Region.objects.get(code=grand.parent_id)
    return [*sorted(above.values(), key=lambda r: r.level), region]


def child_regions(code: str) -> tuple[RegionChoice, ...]:
    """The divisions directly under ``code``, in code order, in one indexed query (see
    :func:`region_lineage`; :func:`region_children` is the same from the process's index)."""
    return tuple(
        RegionChoice(code=row.code, label=region_label(row))
        for row in Region.objects.filter(parent_id=code)
        .only("code", "name", "level", "full_name")
        .order_by("code")
    )


def region_row(code: str) -> Region | None:
    """The division ``code`` from the index (no query), or ``None`` when the index lacks it."""
    return get_index().rows.get(code) if code else None


def region_chain(region: Region | None) -> list[Region]:
    """``region`` and the divisions containing it, province first (from the index when it knows
    them, else by the parents in the database)."""
    if region is None:
        return []
    from kepuyue.regions.services import ancestors

    return [*ancestors(region), region]


def place_name(region: Region | None) -> str:
    """Where an activity is, by name: ``浙江省杭州市西湖区`` (the region's full name)."""
    if region is None:
        return ""
    return region.full_name or region.name


# --- counting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultCount:
    """How many activities match: ``value`` exactly when ``capped`` is False, else "more than
    ``value``"."""

    value: int
    capped: bool


def count_matches(
    activity_filter: ActivityFilter,
    *,
    campaign: Campaign | None,
    page_items: int,
    first_page_is_last: bool,
    cap: int | None = None,
) -> ResultCount:
    """How many published activities of ``campaign`` match, up to ``cap`` (default :data:`COUNT_CAP`).

    When the first page is also the last one the count is its length (no query). Otherwise one
    query reads at most ``COUNT_CAP + 1`` index entries; the answer is cached for
    :data:`COUNT_TIMEOUT` seconds per campaign and filter (a list of half a million activities
    does not need a count exact to the second).
    """
    if first_page_is_last:
        return ResultCount(page_items, False)
    cap = COUNT_CAP if cap is None else cap
    params = urlencode(sorted(activity_filter.to_params()))
    digest = hashlib.sha256(f"{campaign.pk if campaign else ''}?{params}".encode()).hexdigest()[:32]
    key = f"portal:activity-count:{cap}:{digest}"
    found = cache.get(key)
    if found is None:
        # paged=False: every match may be read, so a search takes its matches by id rather than
        # walking the list index (30 ms instead of 75–145 ms for 10,000 matches at 500,000 rows).
        queryset, _messages = filter_activities(activity_filter, campaign=campaign, paged=False)
        found = queryset.order_by().values("id")[: cap + 1].count()
        cache.set(key, found, COUNT_TIMEOUT)
    if found > cap:
        return ResultCount(cap, True)
    return ResultCount(found, False)


# --- one activity -------------------------------------------------------------------------------


def render_description(text: str) -> str:
    """An activity's description (``Activity.description``, Markdown) as safe HTML: see
    :func:`kepuyue.common.markup.render_markdown` (headings from ``<h3>``, tables, a line break is a
    ``<br>``, cleaned by nh3). Pages do not call it: they serve the HTML stored at save time."""
    return render_markdown(text)


def description_html(activity: Activity) -> str:
    """The description of ``activity`` as safe HTML, as stored when it was saved
    (``Activity.description_html``): no rendering on the request.

    A row whose description was written by a path that skipped ``save()`` (the importer's bulk
    writes) has a fingerprint that does not match its text: it is rendered now, once, and stored.
    """
    if not (activity.description or "").strip():
        return ""
    if activity.description_digest == source_digest(activity.description):
        return activity.description_html
    activity.refresh_description_html()
    Activity.objects.filter(pk=activity.pk).update(
        description_html=activity.description_html, description_digest=activity.description_digest
    )
    return activity.description_html


def map_url(activity: Activity) -> str:
    """A 高德地图 link for the activity's place, or ``""`` when it has none (online only).

    With coordinates: a marker (``uri.amap.com/marker?position=lng,lat``); otherwise a search for
    the venue within its place names (``uri.amap.com/search?keyword=…``).
    """
    if activity.latitude is not None and activity.longitude is not None:
        query = {"position": f"{activity.longitude},{activity.latitude}", "name": activity.title}
        return f"{AMAP_MARKER}?{urlencode(query)}"
    place = place_name(activity.region)
    venue = (activity.venue or "").strip()
    if not venue and (activity.form == Form.ONLINE or not place):
        return ""
    # The venue often repeats the place ("杭州市西湖区文三路…"); the search needs it only once.
    keyword = venue if place and venue.startswith(place) else f"{place} {venue}".strip()
    return f"{AMAP_SEARCH}?{urlencode({'keyword': keyword})}"


def qr_svg(url: str, *, title: str) -> str:
    """An inline SVG QR code of ``url`` (error correction M, black on white) titled ``title``, for
    posters and for phones that scan a screen. Scales with CSS (``viewBox``, no fixed size)."""
    key = "portal:qr:" + hashlib.sha256(f"{url}\n{title}".encode()).hexdigest()[:32]
    svg = cache.get(key)
    if svg is None:
        code = segno.make(url, error="m", micro=False)
        svg = code.svg_inline(
            scale=4, border=2, dark="#000", light="#fff", omitsize=True, svgclass="qr__code", title=title
        )
        cache.set(key, svg, DESCRIPTION_TIMEOUT)
    return svg


def activity_phase(activity: Activity, at: datetime | None = None) -> Phase:
    """未开始 / 进行中 / 已结束 of an activity on the campaign clock (its start to its end, inclusive)."""
    return clock.phase_of(activity.starts_at, activity.ends_at, at)


def location_text(activity: Activity) -> str:
    """The place for a calendar entry: venue and place names, or the online address."""
    place = place_name(activity.region)
    venue = (activity.venue or "").strip()
    if venue and place and not venue.startswith(place):
        venue = f"{place}{venue}"
    text = venue or place
    if activity.form != Form.OFFLINE and activity.online_url:
        text = f"{text}（{activity.online_url}）" if text else activity.online_url
    return text


def activity_ics(activity: Activity, page_url: str) -> bytes:
    """An iCalendar file (RFC 5545) with one event for ``activity``.

    ``DTSTART``/``DTEND`` carry ``TZID=Asia/Shanghai`` with its ``VTIMEZONE``; ``UID`` is
    ``kepuyue-activity-<id>`` (stable, so a second download updates the same calendar entry);
    ``DTSTAMP``/``LAST-MODIFIED`` are the activity's last change in UTC. ``SUMMARY`` is the title,
    ``LOCATION`` the venue and place (or the online address), ``DESCRIPTION`` the summary and the
    page address, ``URL`` the page.
    """
    calendar = Calendar()
    calendar.add("prodid", "-//Kepuyue//全国科普月//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"kepuyue-activity-{activity.pk}")
    stamp = activity.updated or activity.published_at or activity.created
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("last-modified", stamp.astimezone(UTC))
    event.add("dtstart", activity.starts_at.astimezone(clock.BEIJING))
    event.add("dtend", activity.ends_at.astimezone(clock.BEIJING))
    event.add("summary", activity.title)
    location = location_text(activity)
    if location:
        event.add("location", location)
    lines = [activity.summary.strip()] if activity.summary.strip() else []
    lines.append(f"主办单位：{activity.organizer.name}")
    lines.append(page_url)
    event.add("description", "\n".join(lines))
    event.add("url", page_url)
    if activity.latitude is not None and activity.longitude is not None:
        event.add("geo", (float(activity.latitude), float(activity.longitude)))
    calendar.add_component(_beijing_vtimezone())
    calendar.add_component(event)
    return calendar.to_ical()


@functools.cache
def _beijing_vtimezone() -> Timezone:
    """The ``VTIMEZONE`` of Asia/Shanghai from 2000 on (UTC+8, no daylight saving), built once per
    process: icalendar derives it from the tz database, ~50 ms a time."""
    return Timezone.from_tzid("Asia/Shanghai", first_date=date(2000, 1, 1), last_date=date(2100, 1, 1))


def brand_activities_filter(params, brand: Brand) -> ActivityFilter:
    """The list filter of a brand page: the visitor's GET parameters with the brand and its joint
    action fixed (a slug may name brands of two joint actions; the page is about one of them)."""
    values = params.copy()
    values.setlist("brand", [brand.slug])
    values.setlist("joint_action", [brand.joint_action.slug])
    return ActivityFilter.from_params(values)


def published_region_codes() -> list[str]:
    """Every province, prefecture and county code that at least one published activity is in,
    sorted (three index scans: for the sitemap, not for pages)."""
    published = Activity.objects.filter(status="published").order_by()
    codes: set[str] = set()
    for column in ("province_code", "prefecture_code", "county_code"):
        codes.update(published.exclude(**{column: ""}).values_list(column, flat=True).distinct())
    return sorted(codes)


def public_activity_queryset() -> QuerySet[Activity]:
    """Published activities with everything the activity page shows, in one query."""
    from kepuyue.activities.services import public_activities

    return (
        public_activities()
        .select_related("campaign", "joint_action", "key_task", "brand", "organizer", "region")
        .defer("search_text")
    )


ZONE_LIMIT = 6


def zone_activities(joint_action: JointAction, *, limit: int = ZONE_LIMIT) -> list[Activity]:
    """A few published activities of a joint action for its zone page (本专区活动): those starting
    from today on (Beijing time), soonest first; when none are left (the campaign is over), the
    first ones by start. One query, two when none is upcoming; each walks the
    ``(status, joint_action, starts_at, id)`` index, so the cost does not grow with the rows."""
    from kepuyue.activities.listing import CARD_RELATED
    from kepuyue.activities.services import public_activities

    rows = (
        public_activities()
        .filter(joint_action=joint_action)
        .select_related(*CARD_RELATED)
        .defer("search_text")
        .order_by("starts_at", "id")
    )
    upcoming = list(rows.filter(starts_at__gte=clock.start_of_day(clock.today()))[:limit])
    return upcoming or list(rows[:limit])


FEATURED_LIMIT = 6


def featured(campaign: Campaign, joint_action: JointAction | None = None, *, limit: int = FEATURED_LIMIT):
    """Published activities featured (重点呈现) by the joint actions' managing units, newest featuring
    first, for the top of the home and zone pages. One query on the partial ``act_featured_idx``."""
    from kepuyue.activities.listing import CARD_RELATED
    from kepuyue.activities.models import Status

    rows = Activity.objects.filter(campaign=campaign, status=Status.PUBLISHED, featured_at__isnull=False)
    if joint_action is not None:
        rows = rows.filter(joint_action=joint_action)
    return list(
        rows.select_related(*CARD_RELATED).defer("search_text").order_by("-featured_at", "-id")[:limit]
    )


HOME_LIMIT = 6


def home_activities(campaign: Campaign, *, limit: int = HOME_LIMIT, first=None) -> list[Activity]:
    """The activities the home page lists (issue 11.6): featured ones first (重点呈现, newest
    featuring first), then published activities that have not ended yet — ongoing and upcoming —
    soonest first, without repeats, at most ``limit``. Works before anything is featured.

    Queries: the featured ones on ``act_featured_idx`` (or ``first``, the featured rows the caller
    already read); the ongoing ones' ids, ``limit`` index entries per duration class
    (:func:`~kepuyue.activities.spans.ongoing_keys`); when they are too few, the upcoming ones' ids
    on ``act_list_idx``; then the cards by id. (One query ``ends_at ≥ now ORDER BY starts_at``
    read every not-ended row — 300,000 at 500,000 activities during the campaign — and sorted
    them: 435 ms median cold on PostgreSQL, issue 17 §1.)"""
    from kepuyue.activities.listing import cards_of
    from kepuyue.activities.models import Status
    from kepuyue.activities.spans import ongoing_keys

    rows = list(first if first is not None else featured(campaign, limit=limit))[:limit]
    if len(rows) < limit:
        now = clock.now()
        seen = {a.pk for a in rows}
        wanted = limit - len(rows)
        published = Activity.objects.filter(campaign=campaign, status=Status.PUBLISHED).order_by()
        # Featured rows may be among them: read as many more as there are featured rows.
        keys = [k for k in ongoing_keys(published, now, limit=wanted + len(seen)) if k not in seen]
        if len(keys) < wanted:
            upcoming = (
                published.filter(starts_at__gt=now)
                .order_by("starts_at", "id")
                .values_list("id", flat=True)[: wanted - len(keys) + len(seen)]
            )
            keys += [k for k in upcoming if k not in seen]
        rows += cards_of(keys[:wanted])
    return rows


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def public_phones(activity: Activity) -> tuple[str, str]:
    """``(full, masked)`` — what the public page shows of the activity's contact phone (issue 11.6).

    When the organizer marked its contact phone as a public office line (``Organization.phone_public``,
    set by the unit), the activity's numbers that are among the organizer's office numbers are shown
    in full (``full``, callable); any other number — a personal mobile — is masked
    (``activities.services.mask_phone``) and is in ``masked``. Each part may be empty.
    """
    from kepuyue.activities.services import mask_phone

    phone = (activity.contact_phone or "").strip()
    if not phone:
        return "", ""
    organizer = activity.organizer
    office = {
        _digits(p)[-11:] for p in _PHONE_PARTS.split(organizer.contact_phone or "") if len(_digits(p)) >= 5
    }
    if not (organizer.phone_public and office):
        return "", mask_phone(phone)
    full, masked = [], []
    for part in _PHONE_PARTS.split(phone):
        part = part.strip()
        if not part:
            continue
        (full if _digits(part)[-11:] in office else masked).append(part)
    return "、".join(full), mask_phone("、".join(masked))


_PHONE_PARTS = __import__("re").compile(r"[、,，;；/／]+")
