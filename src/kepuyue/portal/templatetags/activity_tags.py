"""Template helpers for the activity pages: an activity's time in Beijing time, list links that
keep the filter, and the labels of its bit sets."""

from datetime import datetime, time
from urllib.parse import urlencode

from django import template
from django.template.defaultfilters import date as format_date
from django.utils import timezone
from django.utils.translation import gettext, pgettext

from kepuyue.activities.models import Audience, SpecialArea, Topic
from kepuyue.common.clock import BEIJING
from kepuyue.portal.activity_display import FORM_LABELS, activity_phase, place_name

register = template.Library()

_BITS = {"audiences": Audience, "topics": Topic, "special_areas": SpecialArea}


def _is_whole_day(start: datetime, end: datetime) -> bool:
    return start.time() == time.min and end.time().replace(microsecond=0) in (time(23, 59, 59), time.min)


@register.simple_tag
def activity_when(activity) -> str:
    """An activity's time in Beijing time, in the active language:
    ``2025年9月15日 09:00至11:00`` (one day), ``2025年9月15日 09:00至9月25日 17:00``, or dates alone
    for whole days (``2025年9月15日至9月25日``)."""
    start = timezone.localtime(activity.starts_at, BEIJING)
    end = timezone.localtime(activity.ends_at, BEIJING)
    # Translators: a date without its year, in Django's date format syntax.
    short = pgettext("date without year", "n月j日")
    if _is_whole_day(start, end):
        if start.date() == end.date():
            return format_date(start, "DATE_FORMAT")
        last = format_date(end, short if start.year == end.year else "DATE_FORMAT")
        return gettext("%(first)s至%(last)s") % {"first": format_date(start, "DATE_FORMAT"), "last": last}
    first = f"{format_date(start, 'DATE_FORMAT')} {format_date(start, 'TIME_FORMAT')}"
    if start == end:
        return first
    if start.date() == end.date():
        last = format_date(end, "TIME_FORMAT")
    else:
        day = format_date(end, short if start.year == end.year else "DATE_FORMAT")
        last = f"{day} {format_date(end, 'TIME_FORMAT')}"
    return gettext("%(first)s至%(last)s") % {"first": first, "last": last}


@register.filter
def phase(activity):
    """The activity's :class:`~kepuyue.common.clock.Phase` on the campaign clock."""
    return activity_phase(activity)


@register.filter
def place(activity) -> str:
    """Where the activity is by name (浙江省杭州市西湖区), ``""`` when no region is known."""
    return place_name(activity.region)


@register.filter
def form_label(activity) -> str:
    """线下 / 线上 / 线上线下结合, translated."""
    return str(FORM_LABELS.get(activity.form, activity.form))


@register.filter
def bit_labels(activity, field: str) -> list[str]:
    """The labels (translated) set in one of the activity's bit sets (``audiences``, ``topics``,
    ``special_areas``), in the plan's order."""
    enum = _BITS[field]
    value = getattr(activity, field) or 0
    return [gettext(member.label) for member in enum if value & member.value]


@register.simple_tag
def list_url(base: str, params, **extra) -> str:
    """``base`` with the query string of ``params`` (pairs) and ``extra`` (skipped when empty):
    ``{% list_url list_base base_params page=3 %}`` → ``/activities/?province=330000&page=3``."""
    pairs = [(name, value) for name, value in params]
    pairs += [(name, str(value)) for name, value in extra.items() if value not in (None, "")]
    return f"{base}?{urlencode(pairs)}" if pairs else base


@register.filter
def bitand(value, bit) -> bool:
    """True when ``bit`` is set in the bit set ``value`` (check boxes of audiences and topics)."""
    return bool((value or 0) & int(bit))


@register.filter
def poster_thumb(activity) -> str:
    """The URL of the activity card's poster thumbnail (``portal.thumbnails``), ``""`` without one."""
    from kepuyue.portal.thumbnails import thumbnail_url

    return thumbnail_url(activity)
