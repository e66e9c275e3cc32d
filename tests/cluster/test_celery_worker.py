"""Celery tasks run by a real worker process against a real Redis broker (issue 17 acceptance), with the
settings of scale-out: acknowledged late, one message reserved per process, idempotent tasks.

The worker is ``celery -A kepuyue worker`` started as a subprocess with ``REDIS_URL`` pointing at the
session's own ``redis-server``; the test sends with ``.delay()`` and waits for the result through Redis.
The export task needs the worker to share the test's database, so it runs on PostgreSQL only (SQLite's test
database lives in the test process's memory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str | None:
    data = connection.settings_dict
    if connection.vendor != "postgresql":
        return None
    user = data.get("USER") or "postgres"
    password = f":{data['PASSWORD']}" if data.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{data.get('HOST') or '127.0.0.1'}:{data.get('PORT') or 5432}/{data['NAME']}"


def _rebind(app) -> None:
    """Drop what the app cached from an earlier broker: the connection and producer pools (the control
    mailbox publishes through them, so a ping would go to the old broker and never be answered) and the
    result backend. An earlier test of the session (a health check, an eager task) may have built them."""
    app._pool = None
    app.__dict__.get("amqp") and setattr(app.amqp, "_producer_pool", None)
    app.control.mailbox.__dict__.pop("producer_pool", None)
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)
    # The results are awaited with ``disable_sync_subtasks=False``: an earlier test that ran task code
    # in this process may have marked it as a worker, where ``.get()`` refuses to block.


@pytest.fixture
def worker(redis_url, tmp_path, settings):
    """A Celery worker subprocess on ``redis_url``; yields the Celery app, switched to that broker."""
    from kepuyue.celery import app

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DATABASE_URL"))}
    env.update(
        {
            "REDIS_URL": redis_url,
            "SECRET_KEY": "celery-worker-test-key",
            "KEPUYUE_VAR_DIR": str(tmp_path / "var"),
            "CALLS_UPLOAD_TEMP_DIR": str(tmp_path / "uploads"),
            "PRIVATE_MEDIA_ROOT": str(tmp_path / "private"),
            "PYTHONPATH": str(ROOT / "src"),
        }
    )
    if url := _database_url():
        env["DATABASE_URL"] = url
    settings.CALLS_UPLOAD_TEMP_DIR = tmp_path / "uploads"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "kepuyue",
            "worker",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--hostname",
            f"test-{os.getpid()}@localhost",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    previous = {k: app.conf.get(k) for k in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=redis_url, result_backend=redis_url, task_always_eager=False)
    _rebind(app)
    try:
        deadline = time.monotonic() + 120
        while not app.control.ping(timeout=1.0):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(
                    "the Celery worker did not start:\n" + (tmp_path / "worker.log").read_text()[-3000:]
                )
        yield app
    finally:
        app.conf.update(previous)
        _rebind(app)
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_scale_out_delivery_is_at_least_once():
    assert django_settings.CELERY_TASK_ACKS_LATE is True
    assert django_settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert django_settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    options = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert options["visibility_timeout"] >= 600
    # A dead worker's message comes back soon after its timeout: every sweep scans, sweeps ≤ 10 s apart
    # (kombu 5.7's default scans every 10th sweep, 100 s — the drill's redelivery missed its window).
    assert options["unacked_restore_throttle"] == 1
    assert 1 <= options["unacked_restore_interval"] <= 10


def test_the_restore_sweep_follows_a_short_visibility_timeout():
    """The drill runs with a 10 s timeout: the sweep must come every 2 s, not every 10 s."""
    code = (
        "import os; os.environ['SECRET_KEY']='x'; os.environ['CELERY_VISIBILITY_TIMEOUT']='10';"
        "import django; os.environ['DJANGO_SETTINGS_MODULE']='kepuyue.settings';"
        "from django.conf import settings; o=settings.CELERY_BROKER_TRANSPORT_OPTIONS;"
        "print(o['visibility_timeout'], o['unacked_restore_interval'], o['unacked_restore_throttle'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["10", "2", "1"]


def test_a_real_worker_runs_the_upload_cleanup_through_redis(worker, tmp_path):
    from kepuyue.calls.tasks import cleanup_uploads_task

    tus = tmp_path / "uploads" / "tus"
    tus.mkdir(parents=True)
    (tus / ("0" * 32 + ".part")).write_bytes(b"half a video")
    (tus / ("0" * 32 + ".json")).write_text(json.dumps({"id": "0" * 32, "expires": time.time() - 10}))
    (tus / ("1" * 32 + ".part")).write_bytes(b"still uploading")
    (tus / ("1" * 32 + ".json")).write_text(json.dumps({"id": "1" * 32, "expires": time.time() + 3600}))
    result = cleanup_uploads_task.delay()
    assert result.get(timeout=90, disable_sync_subtasks=False) == 1
    assert sorted(p.name for p in tus.iterdir()) == ["1" * 32 + ".json", "1" * 32 + ".part"]
    # Idempotent: delivered again (as after a worker died before acknowledging), nothing more happens.
    assert cleanup_uploads_task.delay().get(timeout=90, disable_sync_subtasks=False) == 0


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the worker shares the test database on PostgreSQL only")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_an_export_job(postgres_only, worker, regions, campaign_2025, django_user_model):
    from kepuyue.activities import export_jobs
    from kepuyue.activities.models import ExportJob
    from kepuyue.activities.tasks import export_task
    from kepuyue.orgs.models import Organization

    owner = django_user_model.objects.create_user("worker-exporter", password="Pw-worker-1")
    org = Organization.objects.create(name="杭州植物园", type_id="science_education_base", region_id="330106")
    job = export_jobs.start_export(
        owner, kind="mine", fmt="csv", params={}, filename="a.csv", organization=org, run=False
    )
    assert export_task.delay(job.pk).get(timeout=120, disable_sync_subtasks=False) == ExportJob.State.DONE
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE and job.file
    assert job.file.storage.exists(job.file.name)
    # A second delivery of the same message (acks late) finds the job done and leaves it alone.
    assert export_task.delay(job.pk).get(timeout=120, disable_sync_subtasks=False) == ExportJob.State.DONE
    assert ExportJob.objects.get(pk=job.pk).file.name == job.file.name
