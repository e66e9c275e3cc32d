"""The change feed /api/v1/changes (publications, edits, withdrawals, deletions) and
manage.py pull_exchange between two Kepuyue instances on loopback."""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kepuyue.activities import services
from kepuyue.activities.models import Activity, Status
from kepuyue.api.models import ExchangeLink
from tests.fixtures_services import free_port

from .conftest import make_activity

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def no_settling(settings):
    settings.API_CHANGES_SETTLE_SECONDS = 0


def feed(client, since="0", limit=100):
    return client.get(f"/api/v1/changes?since={since}&limit={limit}").json()


def test_feed_has_publications_edits_withdrawals_and_deletions(client, plan, unit):
    first = make_activity(unit, title="第一")
    second = make_activity(unit, title="第二")
    draft = make_activity(unit, publish=False, title="草稿")
    page = feed(client)
    assert [(i["activity_id"], i["action"]) for i in page["items"]] == [
        (first.pk, "upsert"),
        (second.pk, "upsert"),
    ]
    assert page["items"][0]["activity"]["title"] == "第一"
    assert draft.pk not in [i["activity_id"] for i in page["items"]]
    cursor = page["next"]
    assert feed(client, cursor)["items"] == []
    # An edit of a published activity (the admin saves it), a withdrawal and a deletion.
    Activity.objects.filter(pk=first.pk).first().save()
    services.transition(second, Status.WITHDRAWN, reason="取消")
    third = make_activity(unit, title="第三")
    Activity.objects.filter(pk=third.pk).delete()
    later = feed(client, cursor)
    assert [(i["activity_id"], i["action"]) for i in later["items"]] == [
        (first.pk, "upsert"),
        (second.pk, "delete"),
        (third.pk, "delete"),
    ]
    assert later["items"][1]["activity"] is None


def test_feed_pages_and_bad_cursors(client, plan, unit):
    for i in range(5):
        make_activity(unit, title=f"活动{i}")
    page = feed(client, limit=2)
    assert len(page["items"]) == 2 and page["has_more"]
    rest = feed(client, page["next"], limit=100)
    assert len(rest["items"]) == 3 and not rest["has_more"]
    # A cursor that is no number, or out of range, is refused (422), never read as "from the start".
    for bad in ("abc", "-1", "1e3", str(2**70), "１"):
        response = client.get(f"/api/v1/changes?since={bad}")
        assert response.status_code == 422, bad
        assert list(response.json()["errors"]) == ["since"]
    assert client.get("/api/v1/changes?limit=0").json()["errors"]["limit"] == ["应为整数，不小于 1"]


def test_feed_settles(client, plan, unit, settings):
    settings.API_CHANGES_SETTLE_SECONDS = 3600
    make_activity(unit)
    assert feed(client)["items"] == []


def test_feed_query_count(client, plan, unit):
    def count():
        with CaptureQueriesContext(connection) as queries:
            client.get("/api/v1/changes?limit=100")
        return len(queries)

    make_activity(unit, title="一")
    few = count()
    for i in range(6):
        make_activity(unit, title=f"更多{i}")
    assert count() == few <= 4


# --- two instances on loopback --------------------------------------------------------------------

A_SETUP = """
from kepuyue.activities import services
from kepuyue.activities.models import Status
from kepuyue.campaigns.models import JointAction
from kepuyue.orgs.models import Organization
from datetime import datetime
from zoneinfo import ZoneInfo
bj = ZoneInfo("Asia/Shanghai")
unit, _ = Organization.objects.get_or_create(name="源平台科技馆", defaults={"type_id": "science_museum"})
action = JointAction.objects.get(slug="science-museums")
for day, title in ((15, "源平台：科技馆之夜"), (16, "源平台：机器人工作坊"), (17, "源平台：星空观测")):
    start = datetime(2025, 9, day, 9, tzinfo=bj)
    a = services.create_activity(unit, {"joint_action": action, "campaign": action.campaign, "title": title, "brand": action.brands.first(),
        "starts_at": start, "ends_at": start.replace(hour=17), "region_code": "330106", "topics": 1,
        "contact_phone": "13812345678", "venue": "源平台场馆"})
    services.transition(a, Status.SUBMITTED)
    services.transition(a, Status.PUBLISHED)
print("ok")
"""

A_CHANGE = """
from kepuyue.activities import services
from kepuyue.activities.models import Activity, Status
night = Activity.objects.get(title="源平台：科技馆之夜")
night.venue = "源平台新场馆"
night.save()
services.transition(Activity.objects.get(title="源平台：星空观测"), Status.WITHDRAWN, reason="天气")
print("ok")
"""


def _manage(env, *args, input_code=None):
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture
def instance_a(tmp_path):
    """A second Kepuyue (its own SQLite database under ``tmp_path``) served on a free port of 127.0.0.1."""
    port = free_port()  # never a fixed port: parallel runs on one machine must not meet
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
        },
        "KEPUYUE_VAR_DIR": str(tmp_path / "var-a"),
        "SECRET_KEY": "instance-a-test-only",
        "DEBUG": "0",
        "KEPUYUE_HTTPS": "0",
        "KEPUYUE_NOW": "2025-08-15T10:00+08:00",
        "KEPUYUE_API_CHANGES_SETTLE_SECONDS": "0",
        "KEPUYUE_RATE_LIMITS": "0",
    }
    (tmp_path / "var-a").mkdir(parents=True, exist_ok=True)
    _manage(env, "migrate", "--noinput", "-v", "0")
    _manage(env, "load_regions")
    _manage(env, "load_campaign", str(ROOT / "campaigns" / "kepuyue-2025.yaml"))
    _manage(env, "shell", "-c", A_SETUP)
    server = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "runserver",
            f"127.0.0.1:{port}",
            "--noreload",
            "--nothreading",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).read()  # noqa: S310 - loopback http
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise
            time.sleep(0.5)
    try:
        yield base, env
    finally:
        server.terminate()
        server.wait(timeout=20)


def pull(base, organization):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("pull_exchange", base, organization=organization.pk, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue().strip()


def test_two_instances_exchange(instance_a, plan, unit):
    """B (this test's database) pulls A's feed: creates, then applies an edit and a withdrawal,
    applies nothing twice, keeps provenance, and reports a conflict with a local change."""
    from kepuyue.orgs.models import Organization

    base, env = instance_a
    mirror = Organization.objects.create(name="科普中国（同步）", type_id="science_museum")
    summary, problems = pull(base, mirror)
    assert summary.startswith("新增 3，更新 0，未变 0，撤回 0"), (summary, problems)
    copies = Activity.objects.filter(organizer=mirror, status=Status.PUBLISHED)
    assert copies.count() == 3
    night = copies.get(title="源平台：科技馆之夜")
    assert night.contact_phone == ""  # masked at the source: not copied
    link = ExchangeLink.objects.get(activity=night)
    assert link.remote_url.startswith(base + "/activities/") and night.external_id.startswith("x")
    # Pulling again changes nothing.
    assert pull(base, mirror)[0].startswith("新增 0，更新 0，未变 0，撤回 0")
    # A changes one and withdraws another; B follows.
    _manage(env, "shell", "-c", A_CHANGE)
    summary, problems = pull(base, mirror)
    assert summary.startswith("新增 0，更新 1，未变 0，撤回 1"), (summary, problems)
    night.refresh_from_db()
    assert night.venue == "源平台新场馆"
    assert copies.model.objects.get(title="源平台：星空观测", organizer=mirror).status == Status.WITHDRAWN
    # Read from the start again: everything is already applied (idempotent).
    from kepuyue.api.models import ExchangeSource

    ExchangeSource.objects.update(cursor="0")
    summary, problems = pull(base, mirror)
    assert summary.startswith("新增 0，更新 0，未变 3，撤回 0"), (summary, problems)
    # A local edit of a copy, then a remote change: a conflict, reported and not applied.
    night.refresh_from_db()
    night.venue = "本地改过"
    night.save()
    remote_edit = "from kepuyue.activities.models import Activity\na = Activity.objects.get(title='源平台：科技馆之夜')\na.venue = '源平台第三次'\na.save()"
    _manage(env, "shell", "-c", remote_edit)
    summary, problems = pull(base, mirror)
    assert "冲突或错误 1" in summary and "冲突" in problems
    night.refresh_from_db()
    assert night.venue == "本地改过"
