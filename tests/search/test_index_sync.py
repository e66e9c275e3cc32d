"""The index follows every way ``search_text`` is written, on both databases."""

import copy
from importlib import import_module

import pytest
from django.core.management import call_command
from django.db import connection

from kepuyue.activities.models import Activity
from kepuyue.activities.services import refresh_search_text
from kepuyue.search import schema
from kepuyue.search.segment import index_text
from kepuyue.search.services import rebuild_index, search_activities
from tests.activities.factories import ActivityFactory, JointActionFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

migration = import_module("kepuyue.search.migrations.0001_initial")
density_migration = import_module("kepuyue.search.migrations.0002_density_index")


def ids(query: str) -> set[int]:
    return set(search_activities(Activity.objects.all(), query).values_list("id", flat=True))


def assert_index_consistent():
    """FTS5's own check that the index holds exactly the content table's tokens (SQLite)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO search_activity_fts(search_activity_fts, rank) VALUES ('integrity-check', 1)"
            )


def test_index_follows_save_insert_update_delete():
    activity = ActivityFactory(title="航天科普讲座")
    assert ids("航天") == {activity.id}

    activity.title = "人工智能科普讲座"
    activity.search_text = index_text(activity.title)
    activity.save()
    assert ids("航天") == set()
    assert ids("人工智能") == {activity.id}

    activity.delete()
    assert ids("人工智能") == set()
    assert_index_consistent()


def test_index_follows_bulk_create_and_bulk_update():
    action = JointActionFactory()
    organizer = OrganizationFactory()
    built = [
        ActivityFactory.build(joint_action=action, organizer=organizer, title=f"星空观测第{n}场")
        for n in range(3)
    ]
    created = Activity.objects.bulk_create(built)
    assert ids("星空") == {a.id for a in created}

    for activity in created[:2]:
        activity.search_text = index_text("海洋科普")
    Activity.objects.bulk_update(created[:2], ["search_text"])
    assert ids("星空") == {created[2].id}
    assert ids("海洋") == {created[0].id, created[1].id}
    assert_index_consistent()


def test_index_follows_queryset_update_delete_and_raw_sql():
    first = ActivityFactory(title="地震应急科普")
    second = ActivityFactory(title="地震应急演练")

    Activity.objects.filter(id=first.id).update(search_text=index_text("防汛科普"))
    assert ids("地震") == {second.id}
    assert ids("防汛") == {first.id}

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE activities_activity SET search_text = %s WHERE id = %s",
            [index_text("气象科普"), second.id],
        )
    assert ids("气象") == {second.id}
    assert ids("地震") == set()

    Activity.objects.filter(id=first.id).delete()
    assert ids("防汛") == set()
    assert_index_consistent()


def test_index_ignores_updates_of_other_columns():
    activity = ActivityFactory(title="天文科普")
    Activity.objects.filter(id=activity.id).update(status="published", venue="北京天文馆")
    activity.refresh_from_db()
    activity.save()  # rewrites search_text with the same value
    assert ids("天文") == {activity.id}
    assert_index_consistent()


def test_refresh_search_text_follows_organizer_rename():
    organizer = OrganizationFactory(name="某市科技馆")
    activity = ActivityFactory(title="科学实验秀", organizer=organizer)
    untouched = ActivityFactory(title="科学实验秀")
    organizer.name = "星河科技馆"
    organizer.save()
    assert ids("星河") == set()

    assert refresh_search_text([activity.id, untouched.id]) == 1
    assert ids("星河") == {activity.id}
    assert refresh_search_text() == 0
    assert_index_consistent()


def test_rebuild_index_keeps_matches():
    activity = ActivityFactory(title="科普大篷车进校园")
    assert "重建" in rebuild_index()
    assert ids("大篷车") == {activity.id}
    assert_index_consistent()


def test_rebuild_search_index_command_recomputes(capsys):
    activity = ActivityFactory(title="科普大篷车进校园")
    Activity.objects.filter(id=activity.id).update(search_text="")
    call_command("rebuild_search_index", "--recompute")
    out = capsys.readouterr().out
    assert "1 条活动有变化" in out
    assert ids("大篷车") == {activity.id}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite triggers")
def test_ensure_index_restores_dropped_triggers():
    # What Django's SQLite schema editor does to a table it rebuilds for an ALTER.
    activity = ActivityFactory(title="科普剧场")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER search_activity_ai")
        cursor.execute("DROP TRIGGER search_activity_au")
    missed = ActivityFactory(title="科普剧场")
    assert ids("剧场") == {activity.id}

    assert schema.ensure_index(connection) == ["search_activity_ai", "search_activity_au"]
    assert ids("剧场") == {activity.id, missed.id}
    assert schema.sqlite_missing_triggers(connection) == []
    assert schema.ensure_index(connection) == []
    assert_index_consistent()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite schema")
def test_schema_statements_match_migration():
    created = [migration.SQLITE_FORWARD[0], *migration.SQLITE_FORWARD[1:4]]
    current = [schema.SQLITE_TABLE, *schema.SQLITE_TRIGGERS.values()]
    assert created == current
    assert migration.SQLITE_FORWARD[4] == schema.SQLITE_REBUILD
    assert list(schema.SQLITE_INDEXES.values()) == [density_migration.CREATE]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite schema")
def test_ensure_index_restores_the_density_index():
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX act_search_density_idx")
    assert schema.ensure_index(connection) == ["act_search_density_idx"]
    assert schema.sqlite_missing_indexes(connection) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL index")
def test_gin_index_exists_and_is_used():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [schema.GIN_INDEX])
        (definition,) = cursor.fetchone()
        assert "gin (search_tsv)" in definition
        queryset = search_activities(Activity.objects.all(), "航天")
        sql, params = queryset.query.sql_with_params()
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert schema.GIN_INDEX in plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite plans")
@pytest.mark.parametrize("analyzed", [False, True])
def test_list_and_relevance_plans_read_their_indexes_in_order(analyzed):
    """Plain lists read act_list_idx in order and relevance reads act_search_density_idx in
    order — no sort of all rows — with and without ANALYZE statistics."""
    from kepuyue.activities.listing import ActivityFilter, filter_activities

    first = ActivityFactory(title="人工智能讲座", status="published")
    for n in range(30):
        ActivityFactory(
            joint_action=first.joint_action, organizer=first.organizer, title=f"讲座{n}", status="published"
        )
    with connection.cursor() as cursor:
        if analyzed:
            cursor.execute("ANALYZE")

        def plan(activity_filter):
            queryset, _ = filter_activities(activity_filter, campaign=first.campaign)
            sql, params = queryset.values_list("id", flat=True)[:21].query.sql_with_params()
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return " / ".join(row[-1] for row in cursor.fetchall())

        listing = plan(ActivityFilter())
        relevance = plan(ActivityFilter(q="讲座", sort="relevance"))
    assert "act_list_idx" in listing and "TEMP B-TREE" not in listing
    assert "act_search_density_idx" in relevance and "TEMP B-TREE" not in relevance


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite triggers")
@pytest.mark.django_db(transaction=True)
def test_migrate_restores_the_index_after_a_table_rebuild():
    """activities 0004 (joint action optional) makes SQLite rebuild ``activities_activity``, which
    drops the sync triggers and the density index; ``migrate``'s post_migrate hook puts them back
    and the index then follows a campaign-wide activity (no joint action) as any other."""
    before = ActivityFactory(title="科普剧场")
    optional = Activity._meta.get_field("joint_action")
    required = copy.copy(optional)
    required.null = False
    with connection.schema_editor() as editor:
        # 0004 backwards and forwards: each time SQLite makes a new table, copies, drops, renames.
        editor.alter_field(Activity, optional, required)
        editor.alter_field(Activity, required, optional)
    assert schema.sqlite_missing_triggers(connection) == list(schema.SQLITE_TRIGGERS)
    call_command("migrate", verbosity=0)
    assert schema.sqlite_missing_triggers(connection) == []
    assert schema.sqlite_missing_indexes(connection) == []
    campaign_wide = ActivityFactory(joint_action=None, campaign=before.campaign, title="科普剧场开幕")
    assert ids("剧场") == {before.id, campaign_wide.id}
    assert_index_consistent()


def test_index_follows_campaign_wide_activity():
    action = JointActionFactory()
    activity = ActivityFactory(joint_action=None, campaign=action.campaign, title="全国科普月主场活动")
    assert ids("主场") == {activity.id}
    Activity.objects.filter(pk=activity.pk).update(title="开幕式", search_text=index_text("开幕式"))
    assert ids("主场") == set() and ids("开幕式") == {activity.id}
    assert_index_consistent()
