"""What issue 16 still lacked: the dashboard's figures and map in the API, a change feed that sees
imported and back-filled activities and admin unpublishing, registration availability closed
once every session is past, idempotency records pruned, and cached anonymous reads that never
serve a change late."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kepuyue.activities import services
from kepuyue.activities.models import Activity, Status
from kepuyue.api.models import ActivityChange, IdempotentRequest

from .conftest import bearer, make_activity

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_settling(settings):
    settings.API_CHANGES_SETTLE_SECONDS = 0


def feed_ids(client):
    items = client.get("/api/v1/changes?limit=200").json()["items"]
    return [(i["activity_id"], i["action"]) for i in items]


# --- the dashboard ------------------------------------------------------------------------------


def test_dashboard_figures_are_the_pages(client, plan, unit, other_unit, settings):
    from kepuyue.dashboard import figures

    settings.DASHBOARD_CACHE_SECONDS = 0
    for i in range(3):
        make_activity(unit, title=f"杭州{i}")
    make_activity(other_unit, title="宁波", region_code="330203")
    make_activity(unit, publish=False, title="草稿")
    body = client.get("/api/v1/dashboard").json()
    assert body["campaign"] == "kepuyue-2025"
    assert body["totals"]["activities"] == 4 == figures.totals(plan)["activities"]
    assert body["totals"]["units"] == 2
    assert body["totals"]["provinces"]["reached"] == 1
    assert body["totals"]["provinces"]["total"] >= 31
    museums = next(r for r in body["joint_actions"] if "科技馆" in r["name"])
    assert museums["count"] == 4
    zhejiang = next(r for r in body["provinces"] if r["code"] == "330000")
    assert zhejiang == {"code": "330000", "name": "浙江省", "count": 4}
    assert sum(day["published"] for day in body["daily"]) == 4
    assert body["targets"] and {"joint_action", "target", "planned", "goal", "value"} <= set(
        body["targets"][0]
    )
    # The map: per province, then per city of a province — the numbers of the dashboard's own JSON.
    provinces = client.get("/api/v1/dashboard/map").json()
    assert provinces["level"] == 1 and provinces["parent"] == ""
    assert next(r for r in provinces["regions"] if r["code"] == "330000")["count"] == 4
    cities = client.get("/api/v1/dashboard/map?region=330000").json()
    page = client.get("/dashboard/map.json?region=330000").json()
    assert [[r["code"], r["name"], r["count"]] for r in cities["regions"]] == page["regions"]
    assert {r["code"]: r["count"] for r in cities["regions"]}["330200"] == 1
    assert client.get("/api/v1/dashboard?campaign=kepuyue-1999").status_code == 422


# --- the change feed ----------------------------------------------------------------------------


def test_imported_activities_are_in_the_feed(client, plan, tmp_path, no_settling):
    """A platform import (published at once) writes with bulk statements and no model signals;
    the feed still names every activity it published."""
    from tests.activities.helpers import write_csv

    rows = [
        ["活动名称", "主办单位", "联合行动", "品牌活动", "开始日期", "省份"],
        ["夜场", "宁波科技馆", "现代科技馆体系联合行动", "科学之夜", "2025-09-20", "浙江省"],
        ["工作坊", "杭州科技馆", "现代科技馆体系联合行动", "科学之夜", "2025-09-21", "浙江省"],
    ]
    call_command("import_activities", str(write_csv(tmp_path / "a.csv", rows)))
    imported = list(Activity.objects.filter(status=Status.PUBLISHED).order_by("pk"))
    assert len(imported) == 2
    assert feed_ids(client) == [(a.pk, "upsert") for a in imported]
    # Imported again with a change: the update is in the feed too.
    rows[1][0] = "夜场（改期）"
    call_command("import_activities", str(write_csv(tmp_path / "b.csv", rows)))
    assert len(ActivityChange.objects.filter(activity_id=imported[0].pk)) >= 1
    assert client.get("/api/v1/activities").json()["items"][0]["title"] in ("夜场（改期）", "夜场")


def test_a_units_import_of_drafts_is_not_in_the_feed(client, plan, unit, tmp_path, no_settling):
    from tests.activities.helpers import write_csv

    rows = [
        ["活动名称", "联合行动", "品牌活动", "开始日期", "省份"],
        ["夜场", "现代科技馆体系联合行动", "科学之夜", "2025-09-20", "浙江省"],
    ]
    call_command("import_activities", str(write_csv(tmp_path / "a.csv", rows)), "--organization", unit.name)
    assert Activity.objects.get().status == Status.DRAFT
    assert feed_ids(client) == []


def test_backfill_names_published_activities_the_feed_never_saw(client, plan, unit, no_settling):
    published = [make_activity(unit, title=f"活动{i}") for i in range(3)]
    make_activity(unit, publish=False, title="草稿")
    ActivityChange.objects.all().delete()  # as after seed_demo, or data loaded before the feed
    assert feed_ids(client) == []
    call_command("backfill_changes")
    assert feed_ids(client) == [(a.pk, "upsert") for a in published]
    call_command("backfill_changes")  # idempotent
    assert ActivityChange.objects.count() == 3


def test_unpublished_in_the_admin_is_a_delete(client, plan, unit, no_settling):
    activity = make_activity(unit)
    since = client.get("/api/v1/changes").json()["next"]
    activity.refresh_from_db()
    activity.status = Status.DRAFT  # the admin saves it back to a draft
    activity.save()
    later = client.get(f"/api/v1/changes?since={since}").json()["items"]
    assert [(i["activity_id"], i["action"]) for i in later] == [(activity.pk, "delete")]
    # Drafts the feed never named stay out of it, saved or deleted.
    draft = make_activity(unit, publish=False, title="草稿")
    draft.save()
    draft.delete()
    assert ActivityChange.objects.filter(activity_id=draft.pk).count() == 0


# --- registrations availability -----------------------------------------------------------------


def test_availability_is_closed_once_every_session_is_past(client, plan, unit, clock):
    from tests.fixtures_registrations import add_session, configure

    activity = make_activity(unit)  # 2025-09-15 09:00–17:00
    clock("2025-09-10T10:00+08:00")
    configure(activity)
    add_session(activity, start="2025-09-15 09:00", end="2025-09-15 11:00")
    add_session(activity, start="2025-09-15 14:00", end="2025-09-15 16:00")
    urls = (
        f"/api/v1/activities/{activity.pk}/availability",
        f"/registrations/activity/{activity.pk}/availability.json",
    )

    def closed():
        return [client.get(url).json()["closed"] for url in urls]

    assert closed() == [False, False]
    clock("2025-09-15T12:00+08:00")  # the morning session started, the afternoon one is open
    assert closed() == [False, False]
    clock("2025-09-15T15:00+08:00")  # both started
    assert closed() == [True, True]
    body = client.get(urls[0]).json()
    assert [s["open"] for s in body["sessions"]] == [False, False]
    clock("2025-09-20T10:00+08:00")  # long past
    assert closed() == [True, True]


# --- idempotency records ------------------------------------------------------------------------


def test_idempotency_records_are_pruned_after_the_retention(client, unit, token, settings):
    from kepuyue.celery import app

    settings.API_IDEMPOTENCY_RETENTION_HOURS = 24
    from .conftest import activity_payload

    for key in ("old-1", "old-2", "new-1"):
        response = client.post(
            "/api/v1/org/activities",
            activity_payload(title=key),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=key,
            **bearer(token[1]),
        )
        assert response.status_code == 201
    IdempotentRequest.objects.filter(key__startswith="old").update(
        created=timezone.now() - timedelta(hours=25)
    )
    call_command("purge_idempotency_keys")
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new-1"]
    # The kept key still replays; a pruned key runs as a new request.
    again = client.post(
        "/api/v1/org/activities",
        activity_payload(title="new-1"),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="new-1",
        **bearer(token[1]),
    )
    assert again["Idempotent-Replayed"] == "true"
    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "kepuyue.api.purge_idempotency_keys" in schedule
    from kepuyue.api.tasks import purge_idempotency_task

    assert purge_idempotency_task() == 0


# --- cached anonymous reads ---------------------------------------------------------------------


def test_cached_reads_ask_the_database_nothing_and_never_serve_a_change_late(client, plan, unit, settings):
    settings.API_READ_CACHE_SECONDS = 30
    first = make_activity(unit, title="第一")
    body = client.get("/api/v1/activities").json()
    assert [a["title"] for a in body["items"]] == ["第一"]
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/api/v1/activities")
    assert again.json() == body
    # The feed's version lives in the shared page cache (it was the feed's latest row: one query).
    assert [q["sql"] for q in queries] == []
    assert client.get("/api/v1/activities", HTTP_IF_NONE_MATCH=again["ETag"]).status_code == 304
    # A publication, a withdrawal, an admin edit: each seen by the very next request.
    second = make_activity(unit, title="第二", starts_at=first.starts_at + timedelta(days=1))
    assert [a["title"] for a in client.get("/api/v1/activities").json()["items"]] == ["第一", "第二"]
    services.transition(first, Status.WITHDRAWN, reason="取消")
    assert [a["title"] for a in client.get("/api/v1/activities").json()["items"]] == ["第二"]
    detail = client.get(f"/api/v1/activities/{second.pk}").json()
    second.refresh_from_db()
    second.venue = "新场馆"
    second.save()
    assert client.get(f"/api/v1/activities/{second.pk}").json()["venue"] == "新场馆" != detail["venue"]
    assert client.get(f"/api/v1/activities/{first.pk}").status_code == 404


def test_the_feed_version_moves_again_when_the_write_commits(plan, unit, django_capture_on_commit_callbacks):
    """A read between a write and its commit may cache the old rows under the new version: the bump
    after the commit makes that entry unreachable; a rolled-back write leaves only a spent version."""
    from kepuyue.api.core import latest_change

    before = latest_change()
    with django_capture_on_commit_callbacks(execute=True):
        make_activity(unit)
        during = latest_change()
    after = latest_change()
    assert len({before, during, after}) == 3
    assert latest_change() == after  # reading does not move it


def test_registrations_list_query_count(client, unit, token, clock):
    from kepuyue.registrations import services as registrations
    from tests.fixtures_registrations import add_session, configure, make_member, party

    activity = make_activity(unit)
    clock("2025-09-10T10:00+08:00")
    configure(activity)
    session = add_session(activity, capacity=40)
    url = f"/api/v1/org/activities/{activity.pk}/registrations"

    def count():
        client.get(url, **bearer(token[1]))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, **bearer(token[1])).status_code == 200
        return len(queries)

    registrations.book(session, make_member(), party(name="张小明", phone="13812345678"))
    few = count()
    for i in range(5):
        registrations.book(session, make_member(), party(name=f"李{i}", phone="13812345678"))
    assert count() == few <= 10
    assert client.get(url + "?cursor=forged", **bearer(token[1])).json()["errors"] == {
        "cursor": ["翻页游标无效或已过期，请从第一页重新读取"]
    }
