"""Feeds and the month calendar of any filtered list: iCal (icalendar), RSS and Atom (feedparser),
all-day events for date-only activities, every filter honoured, caps, query counts."""

from datetime import date, datetime, time

import feedparser
import pytest
from icalendar import Calendar

from kepuyue.campaigns.models import Brand
from kepuyue.portal import feeds
from tests.activities.factories import bj


@pytest.fixture
def listed(plan, counties, publish, museum):
    plays = Brand.objects.get(joint_action__campaign=plan, slug="scientist-plays")
    nights = Brand.objects.get(joint_action__campaign=plan, slug="science-nights")
    made = {
        "hz": publish(
            joint_action=plays.joint_action,
            brand=plays,
            organizer=museum,
            region=counties[0],
            title="杭州大师剧",
            starts_at=bj("2025-09-12 09:00"),
            ends_at=bj("2025-09-12 11:00"),
        ),
        # Date-only: two whole days (as the importer stores a date without a time).
        "nb": publish(
            joint_action=plays.joint_action,
            brand=plays,
            organizer=museum,
            region=counties[2],
            title="宁波全天展",
            starts_at=bj("2025-09-20 00:00"),
            ends_at=datetime.combine(date(2025, 9, 21), time(23, 59, 59)).replace(
                tzinfo=bj("2025-01-01 00:00").tzinfo
            ),
        ),
        "yn": publish(
            joint_action=nights.joint_action,
            brand=nights,
            organizer=museum,
            region=counties[4],
            title="昆明科学之夜",
            starts_at=bj("2025-09-25 19:00"),
            ends_at=bj("2025-09-25 21:00"),
        ),
    }
    return made


def _ics(client, query=""):
    response = client.get("/activities/feed.ics" + query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    return {str(e["summary"]): e for e in cal.walk("VEVENT")}


def test_ical_feed_parses_with_all_day_events(client, listed):
    events = _ics(client)
    assert set(events) == {"杭州大师剧", "宁波全天展", "昆明科学之夜"}
    whole = events["宁波全天展"]
    assert whole["dtstart"].params.get("VALUE") == "DATE"
    assert whole.decoded("dtstart") == date(2025, 9, 20)
    assert whole.decoded("dtend") == date(2025, 9, 22)  # exclusive end
    timed = events["杭州大师剧"]
    assert timed.decoded("dtstart") == bj("2025-09-12 09:00")
    assert "VALUE" not in timed["dtstart"].params
    assert str(timed["uid"]) == f"kepuyue-activity-{listed['hz'].pk}"
    assert f"/activities/{listed['hz'].pk}/" in str(timed["url"])


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("?province=330000", {"杭州大师剧", "宁波全天展"}),
        ("?city=330100", {"杭州大师剧"}),
        ("?brand=science-nights", {"昆明科学之夜"}),
        ("?joint_action=universities", {"杭州大师剧", "宁波全天展"}),
        ("?from=2025-09-20&to=2025-09-30", {"宁波全天展", "昆明科学之夜"}),
        ("?q=科学之夜", {"昆明科学之夜"}),
        ("?form=online", set()),
        ("?campaign=kepuyue-2025&province=530000", {"昆明科学之夜"}),
        ("?province=not-a-code", {"杭州大师剧", "宁波全天展", "昆明科学之夜"}),  # ignored, as on the list
    ],
)
def test_every_filter_is_honoured(client, listed, counties, query, titles):
    if "county" in query:
        query = query.replace("COUNTY", counties[0].code)
    assert set(_ics(client, query)) == titles
    for path in ("/activities/feed.rss", "/activities/feed.atom"):
        parsed = feedparser.parse(client.get(path + query).content)
        assert not parsed.bozo, parsed.bozo_exception
        assert {e.title for e in parsed.entries} == titles
    page = client.get("/activities/calendar/" + query + ("&" if "?" in query else "?") + "month=2025-09")
    html = page.content.decode()
    for title in {"杭州大师剧", "宁波全天展", "昆明科学之夜"}:
        assert (title in html) == (title in titles), title


def test_county_filter(client, listed, counties):
    assert set(_ics(client, f"?county={counties[4].code}")) == {"昆明科学之夜"}


def test_rss_and_atom_parse(client, listed):
    atom = feedparser.parse(client.get("/activities/feed.atom").content)
    assert atom.version == "atom10" and len(atom.entries) == 3
    assert atom.entries[0].title == "昆明科学之夜"  # latest start first
    assert atom.entries[0].link.endswith(f"/activities/{listed['yn'].pk}/")
    rss = feedparser.parse(client.get("/activities/feed.rss?province=330000").content)
    assert rss.version == "rss20" and rss.feed.link.endswith("/activities/?province=330000")


def test_caps(client, listed, monkeypatch):
    monkeypatch.setattr(feeds, "ICS_MAX", 2)
    monkeypatch.setattr(feeds, "FEED_MAX", 1)
    monkeypatch.setattr(feeds, "DAY_MAX", 0)
    assert len(_ics(client)) == 2
    assert len(feedparser.parse(client.get("/activities/feed.rss").content).entries) == 1
    html = client.get("/activities/calendar/?month=2025-09").content.decode()
    assert "另有 1 个" in html


def test_calendar_month_grid(client, listed):
    html = client.get("/activities/calendar/").content.decode()  # the campaign's month by default
    assert "2025年9月" in html and "宁波全天展" in html
    assert html.count("宁波全天展") == 2  # on both of its days
    bad = client.get("/activities/calendar/?month=2025-13")
    assert bad.status_code == 400 and "不是有效的月份" in bad.content.decode()
    other = client.get("/activities/calendar/?month=2025-10").content.decode()
    assert "杭州大师剧" not in other


def test_list_page_links_the_feeds_of_its_filter(client, listed):
    html = client.get("/activities/?province=330000").content.decode()
    assert 'href="webcal://testserver/activities/feed.ics?province=330000"' in html
    assert "/activities/feed.atom?province=330000" in html
    assert "/activities/calendar/?province=330000" in html


def test_query_counts(client, listed, django_assert_max_num_queries):
    for path in (
        "/activities/feed.ics",
        "/activities/feed.rss",
        "/activities/feed.atom",
        "/activities/calendar/?month=2025-09",
    ):
        with django_assert_max_num_queries(6):
            client.get(path)
