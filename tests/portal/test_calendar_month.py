"""A bad month in the calendar's URL is explained, never replaced by another month nor a 500 (fresh
tester, issue 17 follow-up)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

URL = "/activities/calendar/"


@pytest.fixture
def plan(campaign_2025, clock):
    clock("2025-09-10T10:00+08:00")
    return campaign_2025


@pytest.mark.parametrize(
    "month",
    [
        "2025-13",
        "2025-00",
        "2025-9-1",
        "09/2025",
        "0000-01",
        "9999-12",
        "2101-01",
        "１２３４-０１",
        "abc",
        "2025-09x",
        "2025 09",
    ],
)
def test_a_bad_month_is_a_clear_400_with_no_other_month_shown(client, plan, month):
    response = client.get(URL, {"month": month})
    assert response.status_code == 400
    html = response.content.decode()
    assert "不是有效的月份" in html and "2025-09" in html
    assert 'class="cal"' not in html  # no calendar of some other month in its place
    assert 'href="/activities/calendar/"' in html


def test_a_good_month_and_no_month_show_a_calendar(client, plan):
    assert client.get(URL, {"month": "2025-10"}).status_code == 200
    assert "2025年10月" in client.get(URL, {"month": "2025-10"}).content.decode()
    assert 'class="cal"' in client.get(URL).content.decode()


def test_the_calendar_speaks_english(client, plan):
    client.cookies["django_language"] = "en"
    html = client.get(URL, {"month": "2025-09"}).content.decode()
    assert "September 2025" in html and "Mon" in html and "Activity calendar" in html
    assert "周一" not in html and "活动月历" not in html
    bad = client.get(URL, {"month": "2025-13"}).content.decode()
    assert "is not a valid month" in bad


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(month=st.text(max_size=30))
def test_any_month_text_is_a_page_or_a_clear_400(client, plan, month):
    response = client.get(URL, {"month": month})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "不是有效的月份" in response.content.decode()
