"""The "ongoing" filter during the campaign reads one start range per duration class (issue 17 §2,
``kepuyue.activities.spans``): the same rows as the plain definition, whatever the durations."""

import random
from datetime import timedelta

import pytest

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
