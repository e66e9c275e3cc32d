"""Background work of the activities app: the two steps of an import.

Tasks take the job's id, have explicit names, are idempotent (a finished step is not run again;
running a commit twice changes nothing, see ``importing.commit_import``) and hand off to the
importer. With no broker configured they run eagerly, in-process (``CELERY_TASK_ALWAYS_EAGER``).
Queue them with :func:`queue_validate` / :func:`queue_commit`, which wait for the transaction that
created the job to commit.
"""

from celery import shared_task
from django.db import transaction

from . import importing
from .models import ImportJob


@shared_task(name="kepuyue.activities.validate_import")
def validate_import_task(job_id: int, campaign_id: int | None = None) -> str:
    """Validate import job ``job_id`` (step 1); returns the job's state. A job already validated or
    committed is left as it is."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return "missing"
    if job.state not in (ImportJob.State.PENDING, ImportJob.State.VALIDATING):
        return job.state
    return importing.validate_import(job, campaign=_campaign(campaign_id)).state


@shared_task(name="kepuyue.activities.commit_import")
def commit_import_task(job_id: int, campaign_id: int | None = None) -> str:
    """Commit import job ``job_id`` (step 2); returns the job's state. A job already done is left as
    it is; a re-run after a crash is safe (rows already written count as unchanged)."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return "missing"
    if job.state == ImportJob.State.DONE:
        return job.state
    return importing.commit_import(job, campaign=_campaign(campaign_id)).state


@shared_task(name="kepuyue.activities.recover_stale_imports")
def recover_stale_imports_task() -> int:
    """Mark stale import jobs (no heartbeat for ``KEPUYUE_IMPORT_STALE_SECONDS``) failed and
    retryable; returns how many. Every 5 minutes in scale-out (``kepuyue.celery``); the import
    pages also check the jobs they show, so the embedded default needs no scheduler."""
    return importing.recover_stale()


def _campaign(campaign_id: int | None):
    if campaign_id is None:
        return None
    from kepuyue.campaigns.models import Campaign

    return Campaign.objects.filter(pk=campaign_id).first()


def queue_validate(job: ImportJob, campaign=None) -> None:
    """Run step 1 of ``job`` in the background once the current transaction commits."""
    campaign_id = campaign.pk if campaign is not None else None
    transaction.on_commit(lambda: validate_import_task.delay(job.pk, campaign_id))


def queue_commit(job: ImportJob, campaign=None) -> None:
    """Run step 2 of ``job`` in the background once the current transaction commits."""
    campaign_id = campaign.pk if campaign is not None else None
    transaction.on_commit(lambda: commit_import_task.delay(job.pk, campaign_id))


@shared_task(name="kepuyue.activities.export")
def export_task(job_id: int) -> str:
    """Write export job ``job_id`` (``export_jobs.run_export``); returns its state. Idempotent: only a
    pending job is claimed."""
    from . import export_jobs

    return export_jobs.run_export(job_id)


@shared_task(name="kepuyue.activities.purge_exports")
def purge_exports_task() -> tuple[int, int]:
    """Delete expired export files and end stale export jobs (``export_jobs.purge``)."""
    from . import export_jobs

    return export_jobs.purge()
