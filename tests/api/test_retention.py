"""Retention of the API's logs (decision 0032): webhook delivery rows after
``API_WEBHOOK_RETENTION_DAYS``, change-feed rows after ``API_CHANGES_RETENTION_DAYS`` — the latest row
of a published activity kept, tombstones removed with a 410 for the cursors they leave behind — by
management commands, Celery beat, and an exchange that resyncs on the 410."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from kepuyue.activities import services
from kepuyue.activities.models import Activity, Status
from kepuyue.api import webhooks
from kepuyue.api.models import ActivityChange, ChangeFeedPurge, DeliveryState, WebhookDelivery

from .conftest import make_activity
from .test_changes import _manage, instance_a, pull  # noqa: F401 - the two-instance fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_settling(settings):
    settings.API_CHANGES_SETTLE_SECONDS = 0


def beat_tasks():
    from kepuyue.celery import app

    return {entry["task"] for entry in app.conf.beat_schedule.values()}


def test_deliveries_are_purged_after_the_retention(settings, unit, publisher):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.API_WEBHOOK_RETENTION_DAYS = 30
    subscription = webhooks.create_subscription(
        publisher, url="http://127.0.0.1:8179/none", events=["activity.published"], kind="unit"
    )
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            subscription=subscription, event="activity.published", event_id=f"e{n}", payload={}, state=state
        )
        for n, state in enumerate([DeliveryState.DELIVERED, DeliveryState.FAILED, DeliveryState.PENDING] * 3)
    )
    old = [r.pk for r in rows[:6]]
    WebhookDelivery.objects.filter(pk__in=old).update(created=timezone.now() - timedelta(days=31))
    out = StringIO()
    call_command("purge_webhook_deliveries", stdout=out)
    assert "6" in out.getvalue()
    assert sorted(WebhookDelivery.objects.values_list("pk", flat=True)) == [r.pk for r in rows[6:]]
    # In slices: a small slice still removes everything past the window.
    WebhookDelivery.objects.update(created=timezone.now() - timedelta(days=40))
    assert webhooks.purge_deliveries(slice_size=2) == 3
    assert "kepuyue.api.purge_webhook_deliveries" in beat_tasks()
    from kepuyue.api.tasks import purge_deliveries_task

    assert purge_deliveries_task() == 0


def test_feed_purge_keeps_public_state_and_expires_old_cursors(client, plan, unit, settings):
    settings.API_CHANGES_RETENTION_DAYS = 400
    kept = make_activity(unit, title="一直发布")
    kept.refresh_from_db()
    kept.venue = "改过一次"
    kept.save()
    gone = make_activity(unit, title="后来撤回", starts_at=kept.starts_at + timedelta(days=1))
    services.transition(gone, Status.WITHDRAWN, reason="取消")
    rows = list(ActivityChange.objects.order_by("id").values_list("id", "activity_id"))
    tombstone = max(i for i, a in rows if a == gone.pk)
    latest_kept = max(i for i, a in rows if a == kept.pk)
    early_cursor = min(i for i, _a in rows)
    ActivityChange.objects.update(at=timezone.now() - timedelta(days=401))
    recent = make_activity(unit, title="最近发布", starts_at=kept.starts_at + timedelta(days=2))

    out = StringIO()
    call_command("purge_changes", stdout=out)
    left = list(ActivityChange.objects.order_by("id").values_list("id", "activity_id"))
    # Nothing older than the window is left; the published activity's latest row was re-appended.
    assert [a for _i, a in left] == [recent.pk, kept.pk]
    assert left[-1][0] > tombstone and (latest_kept, kept.pk) not in left
    assert ChangeFeedPurge.objects.get().up_to == tombstone  # the highest row removed
    # Reading from 0 is still the whole public state.
    items = client.get("/api/v1/changes?since=0").json()["items"]
    assert [(i["activity_id"], i["action"]) for i in items] == [(recent.pk, "upsert"), (kept.pk, "upsert")]
    # A cursor from before the purge: 410, in Chinese, saying what to do.
    response = client.get(f"/api/v1/changes?since={early_cursor}")
    assert response.status_code == 410
    body = response.json()
    assert body["code"] == "cursor_expired" and "since=0" in body["detail"] and "400 天" in body["detail"]
    assert body["errors"] == {"since": ["游标已过期，请从 0 重新同步"]}
    # A cursor at the horizon or after it is fine.
    assert client.get(f"/api/v1/changes?since={tombstone}").status_code == 200
    # Nothing more to purge; beat runs it nightly.
    assert ActivityChange.objects.count() == 2
    call_command("purge_changes", stdout=StringIO())
    assert ActivityChange.objects.count() == 2
    assert "kepuyue.api.purge_changes" in beat_tasks()


def test_exchange_resyncs_when_its_cursor_expired(instance_a, plan, unit):  # noqa: F811
    """B's cursor falls behind A's retention: A answers 410, B reads A from 0 again and withdraws
    the copy whose deletion record A purged."""
    from kepuyue.orgs.models import Organization

    base, env = instance_a
    mirror = Organization.objects.create(name="科普中国（同步）", type_id="science_museum")
    summary, _problems = pull(base, mirror)
    assert summary.startswith("新增 3")
    withdraw_and_purge = (
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from kepuyue.activities import services\n"
        "from kepuyue.activities.models import Activity, Status\n"
        "from kepuyue.api.changes import purge\n"
        "from kepuyue.api.models import ActivityChange\n"
        "services.transition(Activity.objects.get(title='源平台：星空观测'), Status.WITHDRAWN, reason='x')\n"
        "ActivityChange.objects.update(at=timezone.now() - timedelta(days=401))\n"
        "print(purge())\n"
    )
    _manage(env, "shell", "-c", withdraw_and_purge)
    summary, problems = pull(base, mirror)
    assert "已过期（410）" in problems and "撤回 1" in summary, (summary, problems)
    copies = Activity.objects.filter(organizer=mirror)
    assert copies.get(title="源平台：星空观测").status == Status.WITHDRAWN
    assert copies.filter(status=Status.PUBLISHED).count() == 2
    # The next pull starts from the resynced cursor: nothing to do, no 410.
    summary, problems = pull(base, mirror)
    assert summary.startswith("新增 0，更新 0，未变 0，撤回 0") and "410" not in problems
