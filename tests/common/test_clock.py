from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured

from kepuyue.common import clock as kclock

BJ = ZoneInfo("Asia/Shanghai")


def test_now_follows_kepuyue_now(clock):
    clock("2025-09-10T10:00+08:00")
    assert kclock.now() == datetime(2025, 9, 10, 10, 0, tzinfo=BJ)


def test_now_without_offset_is_beijing_time(clock):
    clock("2025-08-15T10:00")
    assert kclock.now().utcoffset().total_seconds() == 8 * 3600


def test_now_unpinned_is_real_time(settings):
    settings.KEPUYUE_NOW = ""
    before = datetime.now(tz=BJ)
    assert before <= kclock.now() <= datetime.now(tz=BJ)


def test_bad_pin_names_the_variable(settings):
    settings.KEPUYUE_NOW = "next tuesday"
    with pytest.raises(ImproperlyConfigured, match="KEPUYUE_NOW"):
        kclock.now()


def test_today_is_beijing_date(clock):
    # 2025-08-31 17:00 UTC is already September 1st in Beijing.
    clock("2025-08-31T17:00+00:00")
    assert kclock.today() == date(2025, 9, 1)


@pytest.mark.parametrize(
    ("instant", "phase"),
    [
        ("2025-08-31T23:59:59+08:00", kclock.Phase.UPCOMING),
        ("2025-09-01T00:00+08:00", kclock.Phase.ONGOING),
        ("2025-09-30T23:59:59+08:00", kclock.Phase.ONGOING),
        ("2025-10-01T00:00+08:00", kclock.Phase.ENDED),
    ],
)
def test_date_phase_edges(instant, phase):
    at = kclock.parse_instant(instant)
    assert kclock.date_phase(date(2025, 9, 1), date(2025, 9, 30), at) == phase
