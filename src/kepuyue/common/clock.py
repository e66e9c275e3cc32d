"""The campaign clock (活动时钟): the one source of "now" for the whole platform.

Every rule that depends on the date — a deadline open or passed, an activity upcoming, ongoing or
ended, a campaign running or archived — asks :func:`now`, never ``datetime.now()`` or
``timezone.now()`` directly. Setting ``KEPUYUE_NOW`` (an ISO 8601 instant such as
``2025-09-10T10:00+08:00``) pins it for rehearsals, demos and tests.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

BEIJING = ZoneInfo("Asia/Shanghai")


def parse_instant(value: str) -> datetime:
    """Parse an ISO 8601 date or date-time; a value without offset is Beijing time.

    Returns an aware datetime. Raises ``ValueError`` for text that is not ISO 8601.
    """
    value = value.strip()
    if len(value) == 10:
        parsed = datetime.combine(date.fromisoformat(value), time.min)
    else:
        parsed = datetime.fromisoformat(value)
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=BEIJING)
    return parsed


def now() -> datetime:
    """The current instant as an aware datetime: ``KEPUYUE_NOW`` when set, else the real time.

    Raises ``ImproperlyConfigured`` when ``KEPUYUE_NOW`` is set but is not ISO 8601.
    """
    pinned = getattr(settings, "KEPUYUE_NOW", "")
    if not pinned:
        return timezone.now()
    try:
        return parse_instant(pinned)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"KEPUYUE_NOW={pinned!r} 不是 ISO 8601 时间（例如 2025-09-10T10:00+08:00）"
        ) from exc


def today() -> date:
    """Today's date in Beijing time (Asia/Shanghai), by the campaign clock."""
    return now().astimezone(BEIJING).date()


def start_of_day(day: date) -> datetime:
    """00:00:00 Beijing time of ``day``, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=BEIJING)


def end_of_day(day: date) -> datetime:
    """23:59:59.999999 Beijing time of ``day``: a deadline "by Aug 20" runs to this instant."""
    return datetime.combine(day, time.max, tzinfo=BEIJING)


class Phase(models.TextChoices):
    """Where an interval stands on the campaign clock: 未开始 / 进行中 / 已结束."""

    UPCOMING = "upcoming", _("未开始")
    ONGOING = "ongoing", _("进行中")
    ENDED = "ended", _("已结束")


def phase_of(start: datetime, end: datetime, at: datetime | None = None) -> Phase:
    """Phase of the interval [``start``, ``end``] (aware datetimes, both inclusive) at ``at``.

    ``at`` defaults to :func:`now`. Used for campaigns, joint-action windows and activities alike.
    """
    at = at or now()
    if at < start:
        return Phase.UPCOMING
    if at > end:
        return Phase.ENDED
    return Phase.ONGOING


def date_phase(first: date, last: date, at: datetime | None = None) -> Phase:
    """Phase of the whole Beijing-time days ``first``..``last`` (inclusive) at ``at``."""
    return phase_of(start_of_day(first), end_of_day(last), at)
