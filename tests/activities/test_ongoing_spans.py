"""The "ongoing" filter during the campaign reads one start range per duration class (issue 17 §2,
``kepuyue.activities.spans``): the same rows as the plain definition, whatever the durations."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kepuyue.activities import listing
from kepuyue.activities.listing import ActivityFilter, count_activities, list_activities
from kepuyue.activities.models import Activity, Status
from kepuyue.activities.spans import LONGEST_CLASS, SPAN_HOURS, span_class_of
from tests.activities.factories import ActivityFactory, JointActionFactory, bj

pytestmark = pytest.mark.django_db

DURATIONS = [
    timedelta(0),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=1, seconds=1),
    timedelta(hours=2),
    timedelta(hours=7, minutes=59),
    timedelta(hours=72),
    timedelta(days=9),
    timedelta(days=30),
    timedelta(days=85, hours=8),
    timedelta(days=200),
]


@pytest.fixture
def rows():
    rng = random.Random(17)
    ja = JointActionFactory()
    made = []
    for n in range(80):
        starts = bj("2025-08-01 00:00") + timedelta(minutes=rng.randrange(0, 60 * 24 * 60))
        made.append(
            ActivityFactory(
                joint_action=ja,
                title=f"活动{n}",
                status=Status.PUBLISHED,
                starts_at=starts,
                ends_at=starts + rng.choice(DURATIONS),
            )
        )
    return ja.campaign, made


def test_the_database_computes_the_class_of_each_duration(rows):
    _campaign, made = rows
    stored = dict(Activity.objects.values_list("pk", "span_class"))
    for activity in made:
        expected = span_class_of(activity.starts_at, activity.ends_at)
        hours = (activity.ends_at - activity.starts_at).total_seconds() / 3600
        if hours in SPAN_HOURS:  # exactly on a bound: floating point may round either way
            assert stored[activity.pk] in {expected, expected + 1}
        else:
            assert stored[activity.pk] == expected
    assert 0 <= min(stored.values()) and max(stored.values()) == LONGEST_CLASS


@pytest.mark.parametrize(
    "instant",
    ["2025-08-15T10:00+08:00", "2025-09-10T10:00+08:00", "2025-09-20T19:30+08:00", "2025-09-30T23:59+08:00"],
)
def test_ongoing_by_duration_class_is_the_plain_definition(rows, clock, monkeypatch, instant):
    campaign, made = rows
    monkeypatch.setattr(listing, "ONGOING_PROBE", 1)  # the campaign-time plan, whatever the rows
    clock(instant)
    from kepuyue.common import clock as campaign_clock

    now = campaign_clock.now()
    expected = sorted((a for a in made if a.starts_at <= now <= a.ends_at), key=lambda a: (a.starts_at, a.pk))
    page = list_activities(ActivityFilter(phase="ongoing"), campaign=campaign, limit=100)
    assert [a.pk for a in page.items] == [a.pk for a in expected]
    assert count_activities(ActivityFilter(phase="ongoing"), campaign=campaign) == len(expected)


@pytest.mark.parametrize("instant", ["2025-09-10T10:00+08:00", "2025-09-30T23:59+08:00"])
def test_ongoing_pages_by_cursor_read_class_by_class_in_list_order(rows, clock, monkeypatch, instant):
    """A page of "ongoing" is merged from each duration class's first rows (spans.ongoing_keys):
    walking every page forward and back gives the plain definition's rows, in order, once each."""
    campaign, made = rows
    monkeypatch.setattr(listing, "ONGOING_PROBE", 1)
    clock(instant)
    from kepuyue.common import clock as campaign_clock

    now = campaign_clock.now()
    expected = [
        a.pk
        for a in sorted(
            (a for a in made if a.starts_at <= now <= a.ends_at), key=lambda a: (a.starts_at, a.pk)
        )
    ]
    assert len(expected) > 6
    with CaptureQueriesContext(connection) as queries:
        page = list_activities(ActivityFilter(phase="ongoing"), campaign=campaign, limit=3)
    # One query for the page's ids (the classes' ranges merged), not the OR of every range.
    assert sum("UNION ALL" in q["sql"] for q in queries.captured_queries) == 1
    seen, pages = [a.pk for a in page.items], [page]
    while page.has_next:
        page = list_activities(
            ActivityFilter(phase="ongoing"), campaign=campaign, limit=3, cursor=page.next_cursor
        )
        seen += [a.pk for a in page.items]
        pages.append(page)
    assert seen == expected
    back = list_activities(
        ActivityFilter(phase="ongoing"), campaign=campaign, limit=3, cursor=pages[-1].prev_cursor
    )
    assert [a.pk for a in back.items] == [a.pk for a in pages[-2].items]
    deep = list_activities(ActivityFilter(phase="ongoing"), campaign=campaign, limit=3, page=2)
    assert [a.pk for a in deep.items] == expected[3:6]


def test_home_lists_ongoing_then_upcoming_soonest_first(rows, clock):
    """The home page's not-ended rows (ongoing by duration class, then upcoming): the plain
    definition ``ends_at ≥ now`` in start order, featured rows first and not repeated."""
    from django.utils import timezone

    from kepuyue.common import clock as campaign_clock
    from kepuyue.portal.activity_display import home_activities

    campaign, made = rows
    clock("2025-09-10T10:00+08:00")
    now = campaign_clock.now()
    not_ended = sorted((a for a in made if a.ends_at >= now), key=lambda a: (a.starts_at, a.pk))
    assert [a.pk for a in home_activities(campaign, limit=12)] == [a.pk for a in not_ended[:12]]
    star = not_ended[1]
    Activity.objects.filter(pk=star.pk).update(featured_at=timezone.now())
    expected = [star.pk] + [a.pk for a in not_ended if a.pk != star.pk][:11]
    assert [a.pk for a in home_activities(campaign, limit=12)] == expected
    # After the campaign: nothing ongoing or upcoming but the featured row.
    clock("2026-09-10T10:00+08:00")
    later = campaign_clock.now()
    left = sorted((a for a in made if a.ends_at >= later), key=lambda a: (a.starts_at, a.pk))
    assert [a.pk for a in home_activities(campaign, limit=12)] == [star.pk] + [
        a.pk for a in left if a.pk != star.pk
    ][:11]
