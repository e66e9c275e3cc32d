"""Feeds and the calendar of any filtered activity list (订阅与日历, issue 13 §6).

The list's GET parameters (:class:`~kepuyue.activities.listing.ActivityFilter`, plus ``campaign``)
choose the activities of every view here, exactly as on ``/activities/``:

- ``/activities/feed.ics`` — an iCalendar subscription (``webcal://`` on the list page): one event
  per activity, whole-day activities as all-day events (``DTSTART;VALUE=DATE``, ``DTEND`` the day
  after the last), the others in Beijing time; at most :data:`ICS_MAX` events in start order.
- ``/activities/feed.atom`` and ``/activities/feed.rss`` — Django syndication feeds of the newest
  :data:`FEED_MAX` activities in start order, latest first.
- ``/activities/calendar/?month=2025-09`` — a month grid; at most :data:`DAY_MAX` titles per day
  with a link to that day's list, at most :data:`MONTH_MAX` activities read.

Every cap bounds what one request reads whatever the filter; bad parameters are ignored as on the
list (the feed says nothing about them; the calendar page shows the list's messages).
"""

from __future__ import annotations

import calendar as calendar_module
import re
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib.syndication.views import Feed
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_safe
from icalendar import Calendar, Event

from kepuyue.activities.listing import ActivityFilter, filter_activities
from kepuyue.common import clock
from kepuyue.common.pagecache import depends, public_page

from . import activity_display as display

ICS_MAX = 1000
FEED_MAX = 100
MONTH_MAX = 2000
DAY_MAX = 5
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def _filtered(request):
    """The campaign and the published activities the list's parameters choose, start order; the
    page cache's versions declared as the list's (ADR 0025)."""
    from .views_activities import _campaign_of, _consistent_places, _list_depends

    messages: list[str] = []
    depends(request, "plan", "catalog")
    campaign, explicit = _campaign_of(request, messages)
    activity_filter = _consistent_places(ActivityFilter.from_params(request.GET), messages)
    _list_depends(request, activity_filter, campaign)
    if campaign is None:
        return None, activity_filter, None, messages, explicit
    queryset, more = filter_activities(activity_filter, campaign=campaign)
    queryset = queryset.select_related("organizer", "region").defer("search_text", "description")
    return campaign, activity_filter, queryset, [*activity_filter.messages, *more], explicit


def is_whole_day(activity) -> bool:
    """A date-only activity: 00:00 to 23:59:59 (or 00:00) Beijing time, as the importer stores it."""
    start = activity.starts_at.astimezone(clock.BEIJING).time()
    end = activity.ends_at.astimezone(clock.BEIJING).time().replace(microsecond=0)
    return start == time.min and end in (time(23, 59, 59), time.min)


def add_event(cal: Calendar, activity, page_url: str) -> None:
    event = Event()
    event.add("uid", f"kepuyue-activity-{activity.pk}")
    stamp = activity.updated or activity.published_at or activity.created
    event.add("dtstamp", stamp.astimezone(UTC))
    start = activity.starts_at.astimezone(clock.BEIJING)
    end = activity.ends_at.astimezone(clock.BEIJING)
    if is_whole_day(activity):
        last = (
            end.date()
            if end.time() != time.min or end.date() == start.date()
            else end.date() - timedelta(days=1)
        )
        event.add("dtstart", start.date())  # VALUE=DATE
        event.add("dtend", max(last, start.date()) + timedelta(days=1))  # exclusive (RFC 5545)
    else:
        event.add("dtstart", start)
        event.add("dtend", end)
    event.add("summary", activity.title)
    location = display.location_text(activity)
    if location:
        event.add("location", location)
    event.add(
        "description",
        "\n".join(
            x for x in (activity.summary.strip(), f"主办单位：{activity.organizer.name}", page_url) if x
        ),
    )
    event.add("url", page_url)
    cal.add_component(event)


@require_safe
def activities_ics(request):
    """``/activities/feed.ics``: the filtered list as an iCalendar subscription."""
    campaign, _filter, queryset, _messages, _explicit = _filtered(request)
    cal = Calendar()
    cal.add("prodid", "-//Kepuyue//全国科普月//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{campaign.name if campaign else '全国科普月'} · 科普活动")
    cal.add("x-wr-timezone", "Asia/Shanghai")
    if queryset is not None:
        cal.add_component(display._beijing_vtimezone())
        base = request.build_absolute_uri("/")[:-1]
        for activity in queryset[:ICS_MAX]:
            add_event(cal, activity, base + reverse("portal:activity", args=[activity.pk]))
    response = HttpResponse(cal.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="kepuyue-activities.ics"'
    return response


class ActivitiesFeed(Feed):
    """RSS 2.0 of the filtered list (Atom: :class:`ActivitiesAtomFeed`)."""

    feed_type = Rss201rev2Feed
    description_template = None

    def get_object(self, request):
        self.request = request
        return _filtered(request)

    def title(self, obj):
        campaign = obj[0]
        return f"{campaign.name if campaign else '全国科普月'} · 科普活动"

    def link(self, obj):
        params = obj[1].to_params() if obj[1] else []
        if obj[0] is not None and obj[4]:
            params.append(("campaign", obj[0].slug))
        query = urlencode(params)
        return reverse("portal:activity_list") + (f"?{query}" if query else "")

    def description(self, obj):
        return "全国科普月平台上已发布的科普活动（按筛选条件）"

    def items(self, obj):
        queryset = obj[2]
        if queryset is None:
            return []
        # The newest by start: the list's index read backwards, capped.
        return list(queryset.order_by("-starts_at", "-id")[:FEED_MAX])

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        parts = [display.location_text(item), item.summary.strip(), f"主办单位：{item.organizer.name}"]
        return "\n".join(p for p in parts if p)

    def item_link(self, item):
        return reverse("portal:activity", args=[item.pk])

    def item_guid(self, item):
        return f"kepuyue-activity-{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.published_at or item.created

    def item_updateddate(self, item):
        return item.updated


class ActivitiesAtomFeed(ActivitiesFeed):
    feed_type = Atom1Feed
    subtitle = ActivitiesFeed.description


def _month(request) -> tuple[date | None, str | None]:
    """The month asked for (``?month=2025-09``), else this month; a month that is not one (``2025-13``,
    ``09/2025``, a year outside 1900–2100) is an error the page explains — never another month shown
    in its place."""
    raw = request.GET.get("month")
    if raw is None or not raw.strip():
        today = clock.now().astimezone(clock.BEIJING).date()
        return today.replace(day=1), None
    text = raw.strip()
    match = _MONTH.match(text) if len(text) <= 7 and text.isascii() else None
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 1900 <= year <= 2100 and 1 <= month <= 12:
            return date(year, month, 1), None
    return None, _("“月份”应写作 2025-09 这样的年-月（1900—2100 年），“%(value)s”不是有效的月份。") % {
        "value": text[:20]
    }


@require_safe
@public_page
def activity_calendar(request):
    """``/activities/calendar/``: a month calendar of the filtered list."""
    campaign, activity_filter, queryset, messages, explicit = _filtered(request)
    first, problem = _month(request)
    if problem:
        context = {
            "campaign": campaign,
            "messages": [problem, *messages],
            "weeks": [],
            "this_month_url": reverse("portal:activity_calendar"),
            "nav": "activities",
        }
        return render(request, "portal/activity_calendar.html", context, status=400)
    if campaign is not None and not request.GET.get("month"):
        # Without a month: the campaign's month, as the plan is about that month.
        first = campaign.starts.replace(day=1)
    days_in = calendar_module.monthrange(first.year, first.month)[1]
    last = first.replace(day=days_in)
    start = datetime.combine(first, time.min, tzinfo=clock.BEIJING)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=clock.BEIJING)
    by_day: dict[date, list] = {}
    truncated = False
    if queryset is not None:
        rows = list(
            queryset.filter(starts_at__lt=end, ends_at__gte=start).order_by("starts_at", "id")[
                : MONTH_MAX + 1
            ]
        )
        truncated = len(rows) > MONTH_MAX
        for activity in rows[:MONTH_MAX]:
            a = max(activity.starts_at.astimezone(clock.BEIJING).date(), first)
            b = min(activity.ends_at.astimezone(clock.BEIJING).date(), last)
            day = a
            while day <= b:
                by_day.setdefault(day, []).append(activity)
                day += timedelta(days=1)
    params = activity_filter.to_params() if activity_filter else []
    if explicit and campaign is not None:
        params.append(("campaign", campaign.slug))
    weeks = []
    for week in calendar_module.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month):
        cells = []
        for day in week:
            items = by_day.get(day, []) if day.month == first.month else []
            day_params = [p for p in params if p[0] not in ("from", "to")] + [
                ("from", day.isoformat()),
                ("to", day.isoformat()),
            ]
            cells.append(
                {
                    "day": day,
                    "in_month": day.month == first.month,
                    "items": items[:DAY_MAX],
                    "more": max(0, len(items) - DAY_MAX),
                    "count": len(items),
                    "list_url": reverse("portal:activity_list") + "?" + urlencode(day_params),
                }
            )
        weeks.append(cells)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = last + timedelta(days=1)
    keep = [p for p in params if p[0] != "month"]
    query = urlencode(keep)
    context = {
        "campaign": campaign,
        "month": first,
        "weeks": weeks,
        "truncated": truncated,
        "messages": messages,
        "prev_url": "?" + urlencode([*keep, ("month", previous.strftime("%Y-%m"))]),
        "next_url": "?" + urlencode([*keep, ("month", following.strftime("%Y-%m"))]),
        "list_url": reverse("portal:activity_list") + (f"?{query}" if query else ""),
        "ics_url": reverse("portal:activities_ics") + (f"?{query}" if query else ""),
        "nav": "activities",
        "month_format": pgettext("month format", "Y年n月"),
        "weekdays": [_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日")],
    }
    return render(request, "portal/activity_calendar.html", context)
