"""Writes of /api/v1/org/: the same services and Chinese messages as the unit's pages, the
workflow, bulk upsert by external id, Idempotency-Key, and the unit's registrations (masked)."""

import json

import pytest

from kepuyue.activities.forms import ActivityForm
from kepuyue.activities.models import Activity, Status
from kepuyue.api.models import IdempotentRequest

from .conftest import activity_payload, bearer, make_activity

pytestmark = pytest.mark.django_db


def post(client, url, data, secret, **headers):
    return client.post(url, json.dumps(data), content_type="application/json", **bearer(secret), **headers)


def put(client, url, data, secret, **headers):
    return client.put(url, json.dumps(data), content_type="application/json", **bearer(secret), **headers)


def test_create_saves_a_draft_through_the_service(client, unit, token):
    response = post(client, "/api/v1/org/activities", activity_payload(external_id="HZ-1"), token[1])
    assert response.status_code == 201, response.content
    body = response.json()
    activity = Activity.objects.get(pk=body["id"])
    assert activity.organizer == unit and activity.status == Status.DRAFT
    assert activity.county_code == "330106" and activity.external_id == "HZ-1"
    assert body["contact_phone"] == "13812345678"  # the unit's own: unmasked
    assert body["audiences"] == [1, 2048] and body["topics"] == [1]
    from kepuyue.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="activity.create", object_id=str(activity.pk)).exists()


def test_same_chinese_messages_per_field_as_the_form(client, plan, unit, token):
    """The API and the publishing form refuse the same data with the same messages."""
    bad = activity_payload(
        title="某活动",
        starts_at="2025-12-01T09:00:00+08:00",
        ends_at="2025-12-01T10:00:00+08:00",
        form="online",
        online_url="",
    )
    response = post(client, "/api/v1/org/activities", bad, token[1])
    assert response.status_code == 422
    errors = response.json()["errors"]
    form = ActivityForm(
        {
            "joint_action": plan.joint_actions.get(slug="science-museums").pk,
            "brand": plan.joint_actions.get(slug="science-museums").brands.get(slug="science-nights").pk,
            "title": "某活动",
            "starts_at": "2025-12-01T09:00",
            "ends_at": "2025-12-01T10:00",
            "form": "online",
            "region": "330106",
        },
        campaign=plan,
    )
    assert not form.is_valid()
    assert set(errors) == set(form.errors) == {"starts_at", "ends_at", "online_url"}
    for field in errors:
        assert errors[field] == form.errors[field], field
    untitled = post(client, "/api/v1/org/activities", activity_payload(title="  "), token[1])
    assert untitled.json()["errors"] == {"title": ["活动名称：必须填写"]}
    assert not Activity.objects.exists()


def test_lookup_and_format_errors_are_chinese(client, unit, token):
    bad = activity_payload(joint_action="no-such", starts_at="明天", audiences=["外星人"], brand="nope")
    errors = post(client, "/api/v1/org/activities", bad, token[1]).json()["errors"]
    assert "联合行动“no-such”不属于" in errors["joint_action"][0]
    assert errors["starts_at"] == ["开始时间：格式不正确，应如 2025-09-15T09:00:00+08:00"]
    assert errors["audiences"] == ["面向对象“外星人”无效"]
    assert errors["brand"] == ["品牌活动“nope”不存在"]


def test_schema_errors_use_the_one_error_body(client, unit, token):
    response = post(client, "/api/v1/org/activities", {"title": 5, "audiences": "x"}, token[1])
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation" and body["errors"]["title"] == ["应为文本"]
    broken = client.post(
        "/api/v1/org/activities", "{not json", content_type="application/json", **bearer(token[1])
    )
    assert broken.status_code in (400, 422) and set(broken.json()) == {"detail", "code", "errors"}
    assert "JSON" in broken.json()["detail"] and "Cannot" not in broken.json()["detail"]


def test_a_method_a_path_lacks_is_the_one_error_body(client, plan, unit, token):
    """django-ninja answers it with text/html "Method not allowed"; the API with its JSON body."""
    activity = make_activity(unit)
    response = client.delete(f"/api/v1/activities/{activity.pk}")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "method_not_allowed" and "DELETE" in body["detail"] and "GET" in response["Allow"]


def test_what_a_read_gives_a_write_takes(client, unit, token):
    """The org read names the joint action and brand as ``{"slug", "name"}``; PUT takes that body back
    unchanged (it refused the objects with 应为文本)."""
    created = post(client, "/api/v1/org/activities", activity_payload(), token[1]).json()
    url = f"/api/v1/org/activities/{created['id']}"
    read = client.get(url, **bearer(token[1])).json()
    assert isinstance(read["joint_action"], dict) and isinstance(read["brand"], dict)
    again = put(client, url, {**read, "title": "原样写回"}, token[1])
    assert again.status_code == 200, again.json()
    assert again.json()["title"] == "原样写回"
    assert again.json()["brand"]["slug"] == read["brand"]["slug"]


def test_update_submit_withdraw(client, unit, token):
    created = post(client, "/api/v1/org/activities", activity_payload(), token[1]).json()
    url = f"/api/v1/org/activities/{created['id']}"
    changed = put(client, url, activity_payload(title="改过的名称"), token[1])
    assert changed.status_code == 200 and changed.json()["title"] == "改过的名称"
    submitted = post(client, url + "/submit", {}, token[1])
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    # A submitted activity cannot be changed: the service's message, as a conflict.
    refused = put(client, url, activity_payload(title="再改"), token[1])
    assert refused.status_code == 409
    assert "只有草稿或已退回的活动可以修改" in refused.json()["detail"]
    not_yet = post(client, url + "/withdraw", {"reason": "取消"}, token[1])
    assert not_yet.status_code == 409 and not_yet.json()["detail"] == "只有已发布的活动可以撤回"
    from kepuyue.activities import services

    services.transition(Activity.objects.get(pk=created["id"]), Status.PUBLISHED)
    withdrawn = post(client, url + "/withdraw", {"reason": "场馆维修"}, token[1])
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


def test_idempotent_create_never_creates_twice(client, unit, token):
    payload = activity_payload(title="只建一次")
    first = post(client, "/api/v1/org/activities", payload, token[1], HTTP_IDEMPOTENCY_KEY="k-1")
    again = post(client, "/api/v1/org/activities", payload, token[1], HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Activity.objects.count() == 1
    other = post(
        client, "/api/v1/org/activities", {**payload, "title": "另一个"}, token[1], HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_mismatch"
    assert Activity.objects.count() == 1
    # A refusal is stored too: the retry is refused alike and nothing is written.
    bad = activity_payload(title="")
    assert (
        post(client, "/api/v1/org/activities", bad, token[1], HTTP_IDEMPOTENCY_KEY="k-2").status_code == 422
    )
    assert (
        post(client, "/api/v1/org/activities", bad, token[1], HTTP_IDEMPOTENCY_KEY="k-2").status_code == 422
    )


def test_idempotency_keys_are_per_token(client, unit, other_unit, token, other_token):
    post(client, "/api/v1/org/activities", activity_payload(), token[1], HTTP_IDEMPOTENCY_KEY="same")
    post(client, "/api/v1/org/activities", activity_payload(), other_token[1], HTTP_IDEMPOTENCY_KEY="same")
    assert Activity.objects.filter(organizer=unit).count() == 1
    assert Activity.objects.filter(organizer=other_unit).count() == 1


def test_a_request_still_running_is_a_conflict(client, unit, token):
    IdempotentRequest.objects.create(token=token[0], key="busy", fingerprint="x" * 64)
    response = post(
        client, "/api/v1/org/activities", activity_payload(), token[1], HTTP_IDEMPOTENCY_KEY="busy"
    )
    assert response.status_code == 422  # another body than the one in flight
    body = activity_payload()
    import hashlib

    raw = json.dumps(body).encode()
    fingerprint = hashlib.sha256(b"\n".join([b"POST", b"/api/v1/org/activities", raw])).hexdigest()
    IdempotentRequest.objects.create(token=token[0], key="busy-2", fingerprint=fingerprint)
    running = post(client, "/api/v1/org/activities", body, token[1], HTTP_IDEMPOTENCY_KEY="busy-2")
    assert running.status_code == 409 and running.json()["code"] == "in_progress"
    assert not Activity.objects.exists()


def test_idempotent_submit(client, unit, token):
    activity = make_activity(unit, publish=False)
    url = f"/api/v1/org/activities/{activity.pk}/submit"
    assert post(client, url, {}, token[1], HTTP_IDEMPOTENCY_KEY="s").status_code == 200
    # Without the key a second submit is refused by the workflow; with it, the first answer again.
    assert post(client, url, {}, token[1], HTTP_IDEMPOTENCY_KEY="s").status_code == 200
    assert post(client, url, {}, token[1]).status_code == 409


def test_bulk_upsert_by_external_id(client, unit, token):
    items = [activity_payload(external_id=f"HZ-{i}", title=f"活动{i}") for i in range(3)]
    items.append(activity_payload(external_id="", title="没有编号"))
    items.append(activity_payload(external_id="HZ-9", title=""))
    first = post(client, "/api/v1/org/activities/bulk", {"items": items}, token[1]).json()
    assert (first["created"], first["updated"], first["unchanged"], first["failed"]) == (3, 0, 0, 2)
    assert first["results"][3]["errors"] == {"external_id": ["外部编号：批量导入时必须填写"]}
    assert first["results"][4]["errors"]["title"] == ["活动名称：必须填写"]
    # The same batch again changes nothing; a changed row is updated in place.
    items[1]["title"] = "活动1（改）"
    second = post(client, "/api/v1/org/activities/bulk", {"items": items[:3]}, token[1]).json()
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 1, 2)
    assert Activity.objects.filter(organizer=unit).count() == 3
    assert Activity.objects.get(external_id="HZ-1").title == "活动1（改）"


def test_bulk_does_not_touch_another_units_ids(client, unit, other_unit, token):
    make_activity(other_unit, publish=False, external_id="SAME")
    result = post(
        client, "/api/v1/org/activities/bulk", {"items": [activity_payload(external_id="SAME")]}, token[1]
    )
    assert result.json()["created"] == 1
    assert Activity.objects.filter(external_id="SAME").count() == 2


def test_bulk_limits(client, unit, token):
    too_many = {"items": [activity_payload(external_id=str(i)) for i in range(501)]}
    response = post(client, "/api/v1/org/activities/bulk", too_many, token[1])
    assert response.status_code == 422 and response.json()["code"] == "validation"
    assert response.json()["errors"]["items"] == ["条目过多：最多 500 项（收到 501 项）"]
    duplicate = {"items": [activity_payload(external_id="D"), activity_payload(external_id="D")]}
    body = post(client, "/api/v1/org/activities/bulk", duplicate, token[1]).json()
    assert body["created"] == 1 and body["results"][1]["errors"]["external_id"] == [
        "外部编号在本批数据中重复"
    ]


def test_external_id_unique_per_unit(client, unit, token):
    post(client, "/api/v1/org/activities", activity_payload(external_id="X"), token[1])
    again = post(client, "/api/v1/org/activities", activity_payload(external_id="X"), token[1])
    assert again.status_code == 422
    assert again.json()["errors"]["external_id"] == ["外部编号“X”已用于本单位的另一项活动"]


def test_registrations_of_own_activity_are_masked(client, unit, token, other_token, clock):
    from kepuyue.registrations import services as registrations
    from tests.fixtures_registrations import add_session, configure, make_member, party

    activity = make_activity(unit)
    clock("2025-09-10T10:00+08:00")
    configure(activity)
    session = add_session(activity, capacity=10)
    for name in ("张小明", "李华"):
        registrations.book(session, make_member(), party(name=name, phone="13812345678"))
    url = f"/api/v1/org/activities/{activity.pk}/registrations"
    body = client.get(url, **bearer(token[1])).json()
    assert [(b["name"], b["phone"], b["seats"]) for b in body["items"]] == [
        ("张**", "138****5678", 1),
        ("李*", "138****5678", 1),
    ]
    assert "13812345678" not in json.dumps(body, ensure_ascii=False)
    assert client.get(url, **bearer(other_token[1])).status_code == 404
    # Public availability reflects the two places taken.
    availability = client.get(f"/api/v1/activities/{activity.pk}/availability").json()
    assert availability["mode"] == "platform" and availability["sessions"][0]["available"] == 8


def test_org_list_query_count(client, unit, token):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        client.get("/api/v1/org/activities?limit=50", **bearer(token[1]))
        with CaptureQueriesContext(connection) as queries:
            client.get("/api/v1/org/activities?limit=50", **bearer(token[1]))
        return len(queries)

    for i in range(2):
        make_activity(unit, publish=False, title=f"草稿{i}")
    few = count()
    for i in range(6):
        make_activity(unit, title=f"活动{i}")
    assert count() == few <= 9


# --- the batched bulk upsert (decision 0032) ------------------------------------------------------


def bulk_items(n, start=0, **overrides):
    return [
        activity_payload(external_id=f"B-{i}", title=f"批量活动{i}", **overrides)
        for i in range(start, start + n)
    ]


def test_bulk_query_count_does_not_grow_with_the_items(client, unit, token):
    """Lookups once per request, bulk statements: 5 and 60 items cost the same queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(items):
        with CaptureQueriesContext(connection) as queries:
            body = post(client, "/api/v1/org/activities/bulk", {"items": items}, token[1]).json()
        return len(queries), body

    few, first = count(bulk_items(5))
    many, second = count(bulk_items(60, start=5))
    assert first["created"] == 5 and second["created"] == 60
    assert many <= few  # the first request also warms a cache or two
    # Sent again: all unchanged, and no more queries than the first pass.
    again, third = count(bulk_items(60, start=5))
    assert third["unchanged"] == 60 and again <= few


def test_bulk_writes_what_create_activity_writes(client, unit, token, publisher):
    """Search text, region chain, rendered description, audit entries, import-free rows."""
    from kepuyue.activities import services as activity_services
    from kepuyue.audit.models import AuditEntry

    items = bulk_items(2, description="**粗体**说明")
    body = post(client, "/api/v1/org/activities/bulk", {"items": items}, token[1]).json()
    single = post(
        client,
        "/api/v1/org/activities",
        activity_payload(external_id="S-1", title="批量活动0", description="**粗体**说明"),
        token[1],
    ).json()
    made = Activity.objects.get(pk=body["results"][0]["id"])
    reference = Activity.objects.get(pk=single["id"])
    for name in (
        "search_text",
        "description_html",
        "description_digest",
        "province_code",
        "prefecture_code",
        "county_code",
        "campaign_id",
        "joint_action_id",
        "brand_id",
        "key_task_id",
        "audiences",
        "topics",
        "status",
        "starts_at",
        "ends_at",
        "contact_phone",
        "region_id",
        "span_class",
    ):
        assert getattr(made, name) == getattr(reference, name), name
    assert made.search_text == activity_services.compute_search_text(made)
    entries = AuditEntry.objects.filter(
        action="activity.create", object_id__in=[str(r["id"]) for r in body["results"]]
    )
    assert entries.count() == 2 and {e.actor_id for e in entries} == {publisher.pk}
    assert {e.organization_id for e in entries} == {unit.pk}
    # An update is audited as such.
    items[0]["title"] = "批量活动0（改）"
    post(client, "/api/v1/org/activities/bulk", {"items": items}, token[1])
    assert AuditEntry.objects.filter(action="activity.update", object_id=str(made.pk)).count() == 1


def test_bulk_messages_are_the_single_writes(client, unit, token):
    """The same Chinese messages per field as POST /activities, item by item."""
    bad = [
        activity_payload(
            external_id="E-1", starts_at="2025-12-01T09:00:00+08:00", ends_at="2025-12-01T10:00:00+08:00"
        ),
        activity_payload(external_id="E-2", form="online", online_url=""),
        activity_payload(external_id="E-3", joint_action="no-such", audiences=["外星人"]),
        activity_payload(external_id="E-4", region_code="999999"),
        activity_payload(external_id="E-5", brand=None, title="科学之夜：星空观测"),
        activity_payload(external_id="E-6", title="x" * 201),
        activity_payload(external_id="E-7", contact_phone="12"),
    ]
    results = post(client, "/api/v1/org/activities/bulk", {"items": bad}, token[1]).json()["results"]
    for item, result in zip(bad, results, strict=True):
        single = post(client, "/api/v1/org/activities", item, token[1])
        assert single.status_code == 422
        assert result["result"] == "error" and result["errors"] == single.json()["errors"], item[
            "external_id"
        ]
    assert not Activity.objects.exists()


def test_bulk_refuses_a_published_activity_it_would_change(client, unit, token):
    first = post(client, "/api/v1/org/activities/bulk", {"items": bulk_items(2)}, token[1]).json()
    from kepuyue.activities import services

    published = Activity.objects.get(pk=first["results"][0]["id"])
    services.transition(published, Status.SUBMITTED)
    services.transition(published, Status.PUBLISHED)
    same = post(client, "/api/v1/org/activities/bulk", {"items": bulk_items(2)}, token[1]).json()
    assert [r["result"] for r in same["results"]] == ["unchanged", "unchanged"]
    changed = bulk_items(2)
    changed[0]["title"] = "改名"
    changed[1]["title"] = "也改名"
    body = post(client, "/api/v1/org/activities/bulk", {"items": changed}, token[1]).json()
    assert [r["result"] for r in body["results"]] == ["error", "updated"]
    assert "只有草稿或已退回的活动可以修改" in body["results"][0]["errors"]["request"][0]
    published.refresh_from_db()
    assert published.title == "批量活动0" and published.status == Status.PUBLISHED


def test_bulk_feeds_the_dashboard_and_not_the_public_feed(client, plan, unit, token, settings):
    """Drafts: counted by the roll-ups as the single writes are, never in the public change feed."""
    from kepuyue.api.models import ActivityChange
    from kepuyue.dashboard import rollups

    seen = []
    original = rollups.sync

    def spy(ids):
        seen.extend(ids)
        return original(ids)

    rollups.sync = spy
    try:
        body = post(client, "/api/v1/org/activities/bulk", {"items": bulk_items(3)}, token[1]).json()
    finally:
        rollups.sync = original
    assert sorted(seen) == sorted(r["id"] for r in body["results"])
    assert not ActivityChange.objects.exists()


def test_bulk_service_raises_on_a_concurrent_duplicate(unit, publisher):
    """A row another request wrote between the read and the write is an IntegrityError, and the
    batch writes nothing (the endpoint reads again and retries once)."""
    from django.db import IntegrityError

    from kepuyue.activities.services.bulk import Item, upsert_drafts
    from kepuyue.api.schemas import ActivityIn
    from kepuyue.api.write import Lookups, to_data

    make_activity(unit, publish=False, external_id="RACE")
    lookups = Lookups()
    items = [
        Item(external_id=e, data=to_data(ActivityIn(**activity_payload(external_id=e)), lookups=lookups)[0])
        for e in ("FIRST", "RACE")
    ]
    with pytest.raises(IntegrityError):
        upsert_drafts(unit, items, actor=publisher)
    assert not Activity.objects.filter(external_id="FIRST").exists()


def test_bulk_body_over_the_cap_is_a_clear_refusal(client, unit, token):
    """500 items is the cap; a body past DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is refused, never a 5xx."""
    big = {"items": bulk_items(300, description="长" * 4000)}
    response = post(client, "/api/v1/org/activities/bulk", big, token[1])
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "too_large" and "最多 500 条" in body["detail"]
    assert not Activity.objects.exists()


def test_withdraw_after_the_event_leaves_used_bookings_alone(
    client, unit, publisher, token, clock, django_capture_on_commit_callbacks
):
    """Withdrawing an activity that has ended (the tester's 09-16 withdrawal of a 09-15 activity)
    cancels nothing and tells nobody: its bookings are history (计划 §12)."""
    from kepuyue.notifications.models import Notification
    from kepuyue.registrations import services as registrations
    from kepuyue.registrations import tickets
    from kepuyue.registrations.models import Booking
    from kepuyue.registrations.models import Status as BookingStatus
    from tests.fixtures_registrations import add_session, configure, make_member, party

    activity = make_activity(unit)
    configure(activity, publisher)
    session = add_session(activity, start="2025-09-15 09:00", end="2025-09-15 11:00", capacity=10)
    came, missed = (registrations.book(session, make_member(), party())[0] for _ in range(2))
    clock("2025-09-15T09:30+08:00")
    registrations.check_in(session, tickets.qr_payload(session.pk, came.code), actor=publisher)
    clock("2025-09-16T10:00+08:00")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client, f"/api/v1/org/activities/{activity.pk}/withdraw", {"reason": "场馆维修"}, token[1]
        )
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    rows = {b.pk: b for b in Booking.objects.all()}
    assert rows[came.pk].status == BookingStatus.CONFIRMED and rows[came.pk].checked_in_at is not None
    assert rows[missed.pk].status == BookingStatus.CONFIRMED and rows[missed.pk].cancelled_at is None
    assert not Notification.objects.filter(kind="registration.cancelled").exists()
    assert registrations.attendance(activity) == 1


def test_a_boolean_is_not_a_number_and_an_item_must_be_an_object(client, unit, token):
    """Hostile JSON (fresh try): ``true`` was read as 1 (a count of 1, the audience bit 1) and a bulk
    item of ``5`` or ``"x"`` became an empty activity refused for its external id. Both are refused
    by name, and nothing is written."""
    for field, value in (
        ("expected_participants", True),
        ("science_workers", False),
        ("audiences", [True]),
        ("topics", [1, False]),
    ):
        response = post(
            client, "/api/v1/org/activities", activity_payload(external_id="B1", **{field: value}), token[1]
        )
        assert response.status_code == 422, (field, response.content)
        assert any("不能是 true/false" in m for ms in response.json()["errors"].values() for m in ms), field
    bulk = post(
        client,
        "/api/v1/org/activities/bulk",
        {"items": [activity_payload(external_id="OK"), 5, "x", None]},
        token[1],
    )
    assert bulk.status_code == 422
    errors = bulk.json()["errors"]
    assert errors["items.1"] == errors["items.2"] == errors["items.3"] == ["应为 JSON 对象（{…}）"]
    assert "items.0" not in errors
    for body in ([1, 2], "text", 5):
        response = post(client, "/api/v1/org/activities", body, token[1])
        assert response.status_code == 422 and response.json()["code"] == "validation"
    assert not Activity.objects.exists()
