"""Large staff exports as background jobs (issue 9 class 7): above the inline limit the export page
offers a job; the job writes the file atomically into private storage with its progress, only its
owner downloads it (anyone else: 404), a failed or interrupted job says so and can be retried, and
``purge_exports`` deletes expired files."""

from __future__ import annotations

import csv
import io
import os
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook

from kepuyue.activities import export_jobs, exporting
from kepuyue.activities.models import Activity, ExportJob, Status
from kepuyue.audit.models import AuditEntry

from .conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_limit(settings, tmp_path, monkeypatch):
    """Two rows are "large"; jobs run inline once the transaction commits; private files in a
    temporary folder (the field's storage was built when the model loaded: it gets a real storage
    on the temporary folder instead, as tests/accounts does)."""
    from django.core.files.storage import FileSystemStorage

    settings.KEPUYUE_EXPORT_INLINE_ROWS = 2
    settings.KEPUYUE_EXPORT_THREADS = False
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.RATELIMIT_ENABLE = False
    field = ExportJob._meta.get_field("file")
    monkeypatch.setattr(
        field, "storage", FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)
    )
    return settings


@pytest.fixture
def three(world):
    """Three published activities of 浙江 units, one with a formula for a title."""
    rows = [world.activity(world.units.zj, Status.PUBLISHED) for _ in range(3)]
    Activity.objects.filter(pk=rows[0].pk).update(title='=HYPERLINK("http://evil")')
    return rows


def private_files(settings) -> list[Path]:
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def start(client, url, django_capture_on_commit_callbacks):
    """GET shows the offer (no job yet); POST starts the job and redirects to its page."""
    offer = client.get(url)
    assert offer.status_code == 200
    assert "后台生成" in offer.content.decode()
    assert not ExportJob.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert response["Location"] == f"/org/activities/exports/{job.pk}/"
    job.refresh_from_db()
    return job


def test_review_desk_xlsx_export_becomes_a_private_job(
    client, world, three, settings, django_capture_on_commit_callbacks
):
    login(client, world.users.admin_zj)
    job = start(client, "/org/review/export.xlsx", django_capture_on_commit_callbacks)
    assert job.state == ExportJob.State.DONE
    assert job.owner == world.users.admin_zj
    assert (job.total, job.processed) == (3, 3)
    assert job.expires_at > job.finished_at
    # Written into private storage, no temporary file left beside it.
    files = private_files(settings)
    assert [p.name for p in files] == [Path(job.file.name).name]
    page = client.get(f"/org/activities/exports/{job.pk}/").content.decode()
    assert "下载" in page and "只有您本人可以下载" in page
    response = client.get(f"/org/activities/exports/{job.pk}/download/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == exporting.HEADERS
    assert len(rows) == 4
    titles = {row[1] for row in rows[1:]}
    assert '\'=HYPERLINK("http://evil")' in titles  # formula-safe (common.text.cell_safe)
    assert "13812345678" in {row[exporting.HEADERS.index("联系电话")] for row in rows[1:]}
    # Audited with the job (full phones are personal data).
    entry = AuditEntry.objects.get(action="export.activities")
    assert entry.data["job"] == job.pk and entry.data["background"] is True


def test_unit_csv_export_job_keeps_the_list_filters(
    client, world, settings, django_capture_on_commit_callbacks
):
    for _ in range(3):
        world.activity(world.units.zj, Status.PUBLISHED)
    world.activity(world.units.zj, Status.DRAFT)
    login(client, world.users.pub_zj)
    job = start(client, "/org/activities/export.csv?status=published", django_capture_on_commit_callbacks)
    assert job.kind == ExportJob.Kind.MINE and job.params == {"status": "published"}
    assert job.state == ExportJob.State.DONE and job.total == 3
    body = b"".join(client.get(f"/org/activities/exports/{job.pk}/download/").streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 4 and {row[2] for row in rows[1:]} == {"已发布"}


def test_small_exports_still_answer_on_the_request(client, world, settings):
    settings.KEPUYUE_EXPORT_INLINE_ROWS = 100
    world.activity(world.units.zj, Status.PUBLISHED)
    login(client, world.users.admin_zj)
    response = client.get("/org/review/export.csv")
    assert response.status_code == 200 and response.streaming
    assert not ExportJob.objects.exists()


def test_only_the_owner_sees_and_downloads_a_job(client, world, three, django_capture_on_commit_callbacks):
    login(client, world.users.admin_zj)
    job = start(client, "/org/review/export.xlsx", django_capture_on_commit_callbacks)
    for other in (world.users.admin_zj2, world.users.cast, world.users.pub_zj):
        login(client, other)
        assert client.get(f"/org/activities/exports/{job.pk}/").status_code == 404
        assert client.get(f"/org/activities/exports/{job.pk}/download/").status_code == 404
        assert client.post(f"/org/activities/exports/{job.pk}/", {"action": "retry"}).status_code == 404
        assert job.filename not in client.get("/org/activities/exports/").content.decode()
    client.logout()
    assert client.get(f"/org/activities/exports/{job.pk}/download/").status_code == 302  # to sign-in


def test_the_job_reads_the_owners_scope_when_it_runs(world, three):
    """A job exports what its owner may see when it runs: another province's activities never."""
    world.activity(world.units.gd, Status.PUBLISHED)
    job = export_jobs.start_export(
        world.users.admin_gd,
        kind=export_jobs.Kind.SCOPE,
        fmt="csv",
        params={},
        filename="x.csv",
        campaign=world.plan,
        run=False,
    )
    assert export_jobs.run_export(job.pk) == ExportJob.State.DONE
    job.refresh_from_db()
    assert job.total == 1


def test_a_failed_job_leaves_no_file_and_can_be_retried(
    client, world, three, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """A full disk (or any error while writing) ends the job failed with a Chinese message and no
    file, temporary or final; a retry then writes it."""

    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    working = exporting.write_xlsx_rows
    monkeypatch.setattr(exporting, "write_xlsx_rows", broken)
    login(client, world.users.admin_zj)
    job = start(client, "/org/review/export.xlsx", django_capture_on_commit_callbacks)
    assert job.state == ExportJob.State.FAILED
    assert "导出失败" in job.error and not job.file
    assert private_files(settings) == []
    assert client.get(f"/org/activities/exports/{job.pk}/download/").status_code == 404
    assert "重试" in client.get(f"/org/activities/exports/{job.pk}/").content.decode()
    monkeypatch.setattr(exporting, "write_xlsx_rows", working)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/org/activities/exports/{job.pk}/", {"action": "retry"})
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE and job.error == ""


def test_running_a_job_twice_writes_it_once(world, three):
    job = export_jobs.start_export(
        world.users.admin_zj,
        kind="scope",
        fmt="csv",
        params={},
        filename="x.csv",
        campaign=world.plan,
        run=False,
    )
    assert export_jobs.run_export(job.pk) == ExportJob.State.DONE
    first = ExportJob.objects.get(pk=job.pk).file.name
    assert export_jobs.run_export(job.pk) == ExportJob.State.DONE
    assert ExportJob.objects.get(pk=job.pk).file.name == first
    assert export_jobs.run_export(999999) == "missing"


def test_a_redelivered_task_takes_up_a_job_whose_worker_died_but_not_a_live_one(world, three, settings):
    """Acks late (ADR 0026): the message of a worker killed mid-export comes back; the job, left running, is
    claimed again once it has shown no progress for KEPUYUE_EXPORT_RECLAIM_SECONDS, never while it moves."""
    settings.KEPUYUE_EXPORT_RECLAIM_SECONDS = 60
    job = export_jobs.start_export(
        world.users.admin_zj,
        kind="scope",
        fmt="csv",
        params={},
        filename="x.csv",
        campaign=world.plan,
        run=False,
    )
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.RUNNING, updated=timezone.now())
    assert export_jobs.run_export(job.pk) == ExportJob.State.RUNNING  # a live worker has it: left alone
    assert not ExportJob.objects.get(pk=job.pk).file
    ExportJob.objects.filter(pk=job.pk).update(updated=timezone.now() - timedelta(seconds=61))
    assert export_jobs.run_export(job.pk) == ExportJob.State.DONE  # its worker died: written once
    assert ExportJob.objects.get(pk=job.pk).file


def test_a_stale_job_shows_as_interrupted_and_is_ended_by_the_purge(client, world):
    job = ExportJob.objects.create(
        owner=world.users.admin_zj, kind="scope", fmt="xlsx", filename="x.xlsx", state=ExportJob.State.RUNNING
    )
    ExportJob.objects.filter(pk=job.pk).update(updated=timezone.now() - timedelta(minutes=11))
    login(client, world.users.admin_zj)
    page = client.get(f"/org/activities/exports/{job.pk}/").content.decode()
    assert "已中断" in page and "重试" in page and 'http-equiv="refresh"' not in page
    call_command("purge_exports")
    job.refresh_from_db()
    assert job.state == ExportJob.State.FAILED and "中断" in job.error


def test_a_running_job_page_refreshes_itself(client, world):
    job = ExportJob.objects.create(
        owner=world.users.admin_zj,
        kind="scope",
        fmt="xlsx",
        filename="x.xlsx",
        state=ExportJob.State.RUNNING,
        total=10,
        processed=4,
    )
    login(client, world.users.admin_zj)
    page = client.get(f"/org/activities/exports/{job.pk}/").content.decode()
    assert 'http-equiv="refresh"' in page and "已写入 4 / 10 行" in page and 'value="40"' in page


def test_purge_deletes_expired_files(world, three, settings, clock):
    job = export_jobs.start_export(
        world.users.admin_zj,
        kind="scope",
        fmt="csv",
        params={},
        filename="x.csv",
        campaign=world.plan,
        run=False,
    )
    export_jobs.run_export(job.pk)
    assert len(private_files(settings)) == 1
    clock("2025-08-21T10:00+08:00")  # 6 days later: kept
    call_command("purge_exports")
    assert ExportJob.objects.filter(pk=job.pk).exists()
    clock("2025-08-23T10:00+08:00")  # past the 7 days
    call_command("purge_exports")
    assert not ExportJob.objects.filter(pk=job.pk).exists()
    assert private_files(settings) == []


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_the_job_runs_in_a_thread_of_the_process(world, three, settings):
    settings.KEPUYUE_EXPORT_THREADS = True
    job = export_jobs.start_export(
        world.users.admin_zj, kind="scope", fmt="xlsx", params={}, filename="x.xlsx", campaign=world.plan
    )
    for thread in threading.enumerate():
        if thread.name == f"export-{job.pk}":
            thread.join(timeout=60)
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE, job.error
    assert os.path.exists(job.file.path)
