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


# sqlite_stat1 of activities_activity at 500,000 activities (seed_demo, ANALYZE): the statistics under
# which SQLite's planner took a province's (or joint action's) index for "ongoing" and read every row of
# it in each class's start range — 0.1–1.1 s a page where the ongoing index reads a few hundred rows.
STATS_500K = {
    "act_brand_idx": "500000 500000 17858 15 1",
    "act_county_idx": "500000 500000 167 2 1",
    "act_ends_idx": "500000 500000 500000 177",
    "act_external_id_unique": "500000 6 1",
    "act_ja_idx": "500000 500000 71429 77 1",
    "act_list_idx": "500000 500000 500000 177 1",
    "act_ongoing_idx": "500000 71429 152 125 125 125",
    "act_ongoing_list_idx": "500000 500000 500000 71429 152 1 1",
    "act_organizer_title_idx": "500000 6 1",
    "act_prefecture_idx": "500000 500000 1454 3 1",
    "act_province_idx": "500000 500000 15152 10 1",
    "act_published_idx": "500000 500000 500000 500000 1",
    "act_queue_idx": "500000 500000 500000 1",
    "act_scope_idx": "500000 6 6 6 6 6",
    "act_search_density_idx": "500000 500000 500000 17242 14 1",
    "activities_activity_brand_id_7e7ca2fa": "500000 17858",
    "activities_activity_campaign_id_f6c6dced": "500000 500000",
    "activities_activity_import_job_id_55a14968": "500000 500000",
    "activities_activity_joint_action_id_179fc372": "500000 71429",
    "activities_activity_key_task_id_02da2bc8": "500000 23810",
    "activities_activity_organizer_id_1d5df7db": "500000 6",
    "activities_activity_region_id_72ca3d51": "500000 167",
}


@pytest.mark.parametrize(
    "narrowing, index",
    [
        ({"province": "440000"}, "act_ongoing_list_idx"),
        ({"joint_action": "JA"}, "act_ongoing_list_idx"),
        ({"province": "440000", "brand": "BRAND"}, "act_ongoing_list_idx"),
        ({"county": "440902"}, "act_county_idx"),
    ],
)
def test_ongoing_with_another_filter_gives_the_plain_rows_through_the_right_index(
    rows, clock, monkeypatch, narrowing, index
):
    """ "Ongoing" with a province, a joint action or a brand: the plain definition's rows, and on
    SQLite (with 500,000 rows' statistics) every class read on ``act_ongoing_list_idx`` — the coarse
    filter tested on the rows read, never its own index's whole start range. A county keeps its index."""
    campaign, made = rows
    monkeypatch.setattr(listing, "ONGOING_PROBE", 1)
    clock("2025-09-10T10:00+08:00")
    from kepuyue.common import clock as campaign_clock

    now = campaign_clock.now()
    guangdong = {a.pk for a in made[::2]}
    Activity.objects.filter(pk__in=guangdong).update(
        province_code="440000", prefecture_code="440900", county_code="440902"
    )
    made[0].refresh_from_db()
    values = {"JA": made[0].joint_action.slug, "BRAND": made[0].brand.slug if made[0].brand else ""}
    activity_filter = ActivityFilter(phase="ongoing", **{k: values.get(v, v) for k, v in narrowing.items()})
    expected = [
        a.pk
        for a in sorted(made, key=lambda a: (a.starts_at, a.pk))
        if a.starts_at <= now <= a.ends_at and (a.pk in guangdong or set(narrowing) <= {"joint_action"})
    ]
    assert expected
    page = list_activities(activity_filter, campaign=campaign, limit=100)
    assert [a.pk for a in page.items] == expected
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'activities_activity'")
        for name, stat in STATS_500K.items():
            cursor.execute("INSERT INTO sqlite_stat1 VALUES ('activities_activity', %s, %s)", [name, stat])
        cursor.execute("ANALYZE sqlite_schema")  # reload the statistics
        with CaptureQueriesContext(connection) as queries:
            list_activities(activity_filter, campaign=campaign, limit=20)
        (union,) = [q["sql"] for q in queries.captured_queries if "UNION ALL" in q["sql"]]
        cursor.execute(f"EXPLAIN QUERY PLAN {union}")
        searches = [row[-1] for row in cursor.fetchall() if "activities_activity" in row[-1]]
    assert len(searches) == LONGEST_CLASS + 1
    assert all(index in step for step in searches), searches
