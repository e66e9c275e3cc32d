"""Background work of calls for works. With no broker the task runs in-process; Celery beat
(``kepuyue/celery.py``) runs it hourly. The embedded default runs ``manage.py calls_cleanup_uploads`` from cron."""

from celery import shared_task

from . import uploads


@shared_task(name="kepuyue.calls.cleanup_uploads")
def cleanup_uploads_task() -> int:
    """Remove expired tus uploads, kept uploads and stray upload temporaries (idempotent)."""
    return uploads.cleanup_expired()
