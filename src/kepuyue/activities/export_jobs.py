"""Large exports of staff lists as background jobs (导出任务, issue 9 class 7).

A list of a few thousand activities is still answered on the request (``exporting.xlsx_response`` /
``csv_response``); above :data:`INLINE_MAX_ROWS` rows the page offers a job instead: :func:`start_export`
records it (and audits it: full phone numbers are personal data), and once the transaction commits
it runs in the background — a Celery task when a broker is configured (``REDIS_URL``), otherwise a
thread of the serving process (the embedded default's in-process runner; CELERY_TASK_ALWAYS_EAGER
would run it inside the request, which is what timed out). :func:`run_export` reads the rows again
from the owner's scope at run time, writes the workbook in openpyxl's write-only mode (constant
memory) to a temporary file beside its final place and renames it into place (atomic: a download
never sees half a file), updating ``processed`` every :data:`PROGRESS_EVERY` rows for the progress
page. Only the owner downloads it (anyone else: 404), until ``expires_at``
(``KEPUYUE_EXPORT_RETENTION_DAYS``, default 7); ``manage.py purge_exports`` deletes expired files
and marks stale jobs failed. Decision: ``docs/decisions/0015-bounded-staff-lists-and-export-jobs.md``.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from datetime import timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kepuyue.common import clock

from . import exporting
from .models import Activity, ExportJob, Status

log = logging.getLogger(__name__)

Kind = ExportJob.Kind
INLINE_MAX_ROWS = 5000
PROGRESS_EVERY = 2000
# A running job whose row was not touched for this long was killed with its worker.
STALE_AFTER = timedelta(minutes=10)
RUNNING_STATES = (ExportJob.State.PENDING, ExportJob.State.RUNNING)


def retention() -> timedelta:
    """How long a finished export stays downloadable (``KEPUYUE_EXPORT_RETENTION_DAYS``, default 7)."""
    return timedelta(days=int(getattr(settings, "KEPUYUE_EXPORT_RETENTION_DAYS", 7)))


def inline_limit() -> int:
    """Rows an export may have to be answered on the request (``KEPUYUE_EXPORT_INLINE_ROWS``)."""
    return int(getattr(settings, "KEPUYUE_EXPORT_INLINE_ROWS", INLINE_MAX_ROWS))


def too_large_for_request(rows: QuerySet) -> bool:
    """Whether ``rows`` holds more than :data:`INLINE_MAX_ROWS` activities (a capped count: at most
    that many index entries are read, however long the list)."""
    limit = inline_limit()
    return rows.order_by().values("id")[: limit + 1].count() > limit


def rows_for(job: ExportJob) -> QuerySet[Activity]:
    """The activities ``job`` exports, read from its owner's *current* scope (a role revoked since
    the job was asked for narrows it): ``scope`` — what the review desk may see in the campaign
    (``activities.rules.visible_activities``), optionally of one status; ``mine`` — the unit's own
    activities with the public list's filters (``listing.ActivityFilter``) and a status."""
    from django.http import QueryDict

    from . import services
    from .listing import ActivityFilter, filter_activities
    from .rules import visible_activities

    params = job.params or {}
    status = params.get("status", "")
    if job.kind == Kind.SCOPE:
        rows = visible_activities(job.owner).filter(campaign_id=job.campaign_id)
    else:
        if job.organization_id is None:
            return Activity.objects.none()
        query = QueryDict(mutable=True)
        for key, value in params.items():
            if key != "status":
                query[key] = value
        rows, _messages = filter_activities(
            ActivityFilter.from_params(query),
            queryset=services.activities_of(job.organization),
            paged=False,
        )
    if status in Status.values:
        rows = rows.filter(status=status)
    return rows.order_by("starts_at", "id")


def start_export(
    owner,
    *,
    kind: str,
    fmt: str,
    params: dict,
    filename: str,
    organization=None,
    campaign=None,
    run: bool = True,
) -> ExportJob:
    """Record an export job of ``owner`` and queue it after commit (``run=False``: only record it).
    ``params`` are the list's filters (strings, at most 20 of 200 characters). Audited as
    ``export.activities`` with the job id (full phones are personal data)."""
    from kepuyue.audit import services as audit

    clean = {str(k)[:40]: str(v)[:200] for k, v in list(params.items())[:20]}
    with transaction.atomic():
        job = ExportJob.objects.create(
            owner=owner,
            organization=organization,
            campaign=campaign,
            kind=kind,
            fmt=fmt,
            params=clean,
            filename=filename[:200],
        )
        audit.record(
            "export.activities",
            actor=owner,
            organization=organization,
            data={"format": fmt, "job": job.pk, "background": True, **clean},
        )
        if run:
            transaction.on_commit(lambda: dispatch(job.pk))
    return job


def dispatch(job_id: int) -> None:
    """Run job ``job_id`` in the background: a Celery task with a broker, else a daemon thread of
    this process (``KEPUYUE_EXPORT_THREADS=False`` runs it inline, as the tests do)."""
    from . import tasks

    if not settings.CELERY_TASK_ALWAYS_EAGER:
        tasks.export_task.delay(job_id)
        return
    if not getattr(settings, "KEPUYUE_EXPORT_THREADS", True):
        run_export(job_id)
        return
    threading.Thread(target=_in_thread, args=(job_id,), name=f"export-{job_id}", daemon=True).start()


def _in_thread(job_id: int) -> None:
    try:
        run_export(job_id)
    finally:
        connection.close()


def is_stale(job: ExportJob, at=None) -> bool:
    """Whether a pending or running job stopped moving (its worker was killed)."""
    return job.state in RUNNING_STATES and (at or timezone.now()) - job.updated > STALE_AFTER


def reclaim_seconds() -> int:
    """After how many seconds without progress a running job may be claimed by a redelivered task."""
    return max(1, int(getattr(settings, "KEPUYUE_EXPORT_RECLAIM_SECONDS", 120)))


def run_export(job_id: int) -> str:
    """Write export job ``job_id``; returns its final state. Idempotent: only a pending job (or a running one
    whose worker died: no progress for :func:`reclaim_seconds`) is claimed, in one UPDATE, so two workers never
    write the same job; a done one is left alone. On any error the job ends ``failed`` with a Chinese message
    and no file is left behind."""
    # A job left "running" by a worker that died (acks-late redelivery, ADR 0026) is claimed again once its
    # heartbeat is older than KEPUYUE_EXPORT_RECLAIM_SECONDS; a live worker updates it every PROGRESS_EVERY rows.
    reclaim_before = timezone.now() - timedelta(seconds=reclaim_seconds())
    claimable = Q(state=ExportJob.State.PENDING) | Q(
        state=ExportJob.State.RUNNING, updated__lt=reclaim_before
    )
    claimed = ExportJob.objects.filter(claimable, pk=job_id).update(
        state=ExportJob.State.RUNNING, started_at=clock.now(), updated=timezone.now(), processed=0, error=""
    )
    job = ExportJob.objects.select_related("owner").filter(pk=job_id).first()
    if job is None:
        return "missing"
    if not claimed:
        return job.state
    storage = ExportJob._meta.get_field("file").storage
    handle = None
    try:
        rows = rows_for(job)
        total = rows.count()
        ExportJob.objects.filter(pk=job.pk).update(total=total, updated=timezone.now())
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in finally
            prefix="export-", suffix=f".{job.fmt}", dir=_temp_dir(storage), delete=False
        )
        progress = _Progress(job.pk)
        values = exporting.export_rows(rows, mask_phones=False)
        if job.fmt == "xlsx":
            exporting.write_xlsx_rows(values, handle, on_row=progress)
        else:
            for chunk in exporting.csv_chunks(_counted(values, progress)):
                handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        name = str(
            PurePosixPath("exports") / f"{clock.now():%Y/%m}" / f"{job.pk}-{os.urandom(8).hex()}.{job.fmt}"
        )
        with open(handle.name, "rb") as source:
            saved = storage.save(name, File(source))
        now = clock.now()
        ExportJob.objects.filter(pk=job.pk).update(
            state=ExportJob.State.DONE,
            file=saved,
            processed=progress.count,
            finished_at=now,
            expires_at=now + retention(),
            updated=now,
        )
        return ExportJob.State.DONE
    except Exception as exc:  # noqa: BLE001 - any failure ends the job with a message, never stuck
        log.exception("export job %s failed", job_id)
        ExportJob.objects.filter(pk=job.pk).update(
            state=ExportJob.State.FAILED,
            error=_("导出失败，请重试；仍失败请联系管理员（%(kind)s）") % {"kind": type(exc).__name__},
            finished_at=clock.now(),
            updated=timezone.now(),
        )
        return ExportJob.State.FAILED
    finally:
        if handle is not None:
            handle.close()
            if os.path.exists(handle.name):
                os.unlink(handle.name)


def _temp_dir(storage) -> str | None:
    """A folder on the same file system as the private storage, so the final save is a rename;
    the system's temporary folder for remote storage (an S3 storage's ``location`` is a key prefix, not a
    folder: taken for one, the files went to ``private/exports/tmp`` under the worker's working directory)."""
    if not isinstance(storage, FileSystemStorage):
        return None
    location = storage.location
    path = os.path.join(location, "exports", "tmp")
    os.makedirs(path, exist_ok=True)
    return path


class _Progress:
    """Counts written rows and stores the count every :data:`PROGRESS_EVERY` rows."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
        if self.count % PROGRESS_EVERY == 0:
            ExportJob.objects.filter(pk=self.job_id).update(processed=self.count, updated=timezone.now())


def _counted(values, progress):
    yield next(values)  # the header
    for row in values:
        progress()
        yield row


def retry(job: ExportJob) -> ExportJob:
    """Start a failed or stale job again (same list, same filters)."""
    if job.state == ExportJob.State.FAILED or is_stale(job):
        ExportJob.objects.filter(pk=job.pk).update(
            state=ExportJob.State.PENDING, processed=0, error="", updated=timezone.now()
        )
        job.refresh_from_db()
        transaction.on_commit(lambda: dispatch(job.pk))
    return job


def jobs_of(owner) -> QuerySet[ExportJob]:
    """``owner``'s export jobs, newest first (the only ones it may see)."""
    return ExportJob.objects.filter(owner=owner).order_by("-created", "-id")


def delete_job(job: ExportJob) -> None:
    """Delete ``job`` and its file."""
    if job.file:
        job.file.storage.delete(job.file.name)
    job.delete()


def purge(at=None) -> tuple[int, int]:
    """Delete jobs whose download expired (with their files) and end stale ones as failed;
    returns ``(deleted, failed)``. ``manage.py purge_exports`` runs it (daily from cron or beat)."""
    at = at or clock.now()
    deleted = 0
    for job in ExportJob.objects.filter(expires_at__lt=at).iterator():
        delete_job(job)
        deleted += 1
    failed = ExportJob.objects.filter(
        state__in=RUNNING_STATES, updated__lt=timezone.now() - STALE_AFTER
    ).update(state=ExportJob.State.FAILED, error=_("导出中断（服务进程已重启），请重试"), finished_at=at)
    return deleted, failed
