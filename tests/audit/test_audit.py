"""The audit log: what is written, from where, how long it is kept, and how CAST reads it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from kepuyue.activities.models import Status
from kepuyue.audit import services as audit
from kepuyue.audit.models import AuditEntry
from tests.review.conftest import login

pytestmark = pytest.mark.django_db


def test_each_workflow_step_is_recorded_with_who_from_to_and_why(world):
    activity = world.activity(world.units.zj, Status.RETURNED)
    steps = list(audit.history(activity).values_list("action", "actor_name", "data"))
    assert [s[0] for s in steps] == ["activity.create", "activity.submit", "activity.return"]
    assert steps[1][1] == "pub-zj"
    assert steps[2][2] == {"from": "submitted", "to": "returned", "reason": "请补充"}
    entry = audit.history(activity).last()
    assert entry.organization_id == world.units.zj.pk
    assert entry.status_change == "待审核 → 已退回" and entry.action_label == "退回修改"


def test_the_request_ip_is_kept(world, client):
    activity = world.activity(world.units.zj, Status.SUBMITTED)
    login(client, world.users.admin_zj)
    client.post(f"/org/review/{activity.pk}/approve/", REMOTE_ADDR="203.0.113.7")
    entry = AuditEntry.objects.get(action="activity.approve")
    assert entry.ip == "203.0.113.7" and entry.actor == world.users.admin_zj


def test_forwarded_for_is_trusted_only_from_a_trusted_proxy(world, client, settings):
    activity = world.activity(world.units.zj, Status.SUBMITTED)
    login(client, world.users.admin_zj)
    client.post(
        f"/org/review/{activity.pk}/return/",
        {"note": "缺少地点"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.9",
    )
    assert AuditEntry.objects.get(action="activity.return").ip == "10.0.0.2"
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    other = world.activity(world.units.zj, Status.SUBMITTED)
    client.post(
        f"/org/review/{other.pk}/approve/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.9, 10.0.0.2",
    )
    assert AuditEntry.objects.get(action="activity.approve").ip == "198.51.100.9"


def test_admin_edits_are_copied_into_the_audit_log(world, admin_client):
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.log_actions(
        user_id=world.users.cast.pk,
        queryset=[world.units.zj],
        action_flag=CHANGE,
        change_message="改了联系人",
        single_object=True,
    )
    entry = AuditEntry.objects.get(action="admin.change")
    assert entry.object_type == "orgs.organization" and entry.object_id == str(world.units.zj.pk)
    assert entry.actor_name == "cast"
    assert ContentType.objects.exists()


def test_entries_are_kept_at_least_180_days_by_the_real_time(world, clock):
    from django.utils import timezone

    old = audit.record("activity.update", actor=world.users.pub_zj, obj=world.units.zj)
    AuditEntry.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=181))
    recent = audit.record("activity.update", actor=world.users.pub_zj, obj=world.units.zj)
    AuditEntry.objects.filter(pk=recent.pk).update(at=timezone.now() - timedelta(days=179))
    with pytest.raises(ValueError, match="180"):
        audit.prune(days=30)
    with pytest.raises(CommandError):
        call_command("prune_audit", "--days", "90")
    # A campaign clock pinned years ahead (demos, KEPUYUE_NOW) neither dates entries nor ages them.
    clock("2030-01-01T00:00+08:00")
    assert audit.prune(days=180) == 1
    assert AuditEntry.objects.filter(pk=recent.pk).exists()
    assert not AuditEntry.objects.filter(pk=old.pk).exists()
    pruned = AuditEntry.objects.get(action="audit.prune")
    assert pruned.data == {"days": 180, "deleted": 1}
    assert abs((pruned.at - timezone.now()).total_seconds()) < 60


def test_cast_searches_and_exports_the_log_formula_safe(world, client):
    activity = world.activity(world.units.zj, Status.SUBMITTED, title='=HYPERLINK("http://x")活动')
    world.activity(world.units.gd, Status.SUBMITTED, title="广东的活动")
    login(client, world.users.cast)
    page = client.get("/org/review/audit/", {"q": "HYPERLINK", "action": "activity."}).content.decode()
    assert "HYPERLINK" in page and "广东的活动" not in page
    response = client.get("/org/review/audit/", {"q": "HYPERLINK", "format": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK" in body and "\n=HYPERLINK" not in body
    assert AuditEntry.objects.filter(action="export.audit", actor=world.users.cast).exists()
    assert activity.pk


def test_a_units_own_export_is_audited(world, client):
    login(client, world.users.pub_zj)
    response = client.get("/org/activities/export.csv")
    b"".join(response.streaming_content)
    entry = AuditEntry.objects.get(action="export.activities")
    assert entry.actor == world.users.pub_zj and entry.organization_id == world.units.zj.pk
    # The import's own audit entry is checked in tests/activities/test_views.py (the import flow).
