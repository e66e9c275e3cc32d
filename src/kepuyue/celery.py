"""Celery application. With no broker configured tasks run eagerly, in-process."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepuyue.settings")

app = Celery("kepuyue")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Scale-out runs `celery -A kepuyue beat` next to the workers; the embedded default runs
# `manage.py send_reminders` from cron instead. 08:00 in CELERY_TIMEZONE (Asia/Shanghai).
app.conf.beat_schedule = {
    "send-reminders": {"task": "kepuyue.notifications.send_reminders", "schedule": crontab(hour=8, minute=0)},
    # Waitlist offers not confirmed in time move on; day-before reminders (kepuyue.registrations).
    "registrations-tick": {"task": "kepuyue.registrations.tick", "schedule": crontab(minute="*/5")},
    # Registrants' personal data past KEPUYUE_REGISTRATION_RETENTION_DAYS, every night at 03:30.
    # tus uploads and kept uploads not touched for CALLS_UPLOAD_EXPIRY_SECONDS (kepuyue.calls, ADR 0014).
    "calls-cleanup-uploads": {"task": "kepuyue.calls.cleanup_uploads", "schedule": crontab(minute=17)},
    "registrations-purge": {"task": "kepuyue.registrations.purge", "schedule": crontab(hour=3, minute=30)},
    # Export files past KEPUYUE_EXPORT_RETENTION_DAYS; stale export jobs end as failed (kepuyue.activities).
    "exports-purge": {"task": "kepuyue.activities.purge_exports", "schedule": crontab(hour=3, minute=45)},
    # Imports whose worker died or lost its database connection become retryable (ADR 0013).
    "imports-recover-stale": {
        "task": "kepuyue.activities.recover_stale_imports",
        "schedule": crontab(minute="*/5"),
    },
    # Webhook deliveries due again after a failure (exponential backoff, kepuyue.api.webhooks).
    "api-webhooks": {"task": "kepuyue.api.deliver_due_webhooks", "schedule": crontab(minute="*")},
    # Stored Idempotency-Key answers past API_IDEMPOTENCY_RETENTION_HOURS (kepuyue.api.write), hourly.
    "api-idempotency-purge": {"task": "kepuyue.api.purge_idempotency_keys", "schedule": crontab(minute=23)},
    # Webhook delivery rows past API_WEBHOOK_RETENTION_DAYS, and change-feed rows past
    # API_CHANGES_RETENTION_DAYS that no reader needs (decision 0032), every night.
    "api-webhooks-purge": {
        "task": "kepuyue.api.purge_webhook_deliveries",
        "schedule": crontab(hour=4, minute=10),
    },
    "api-changes-purge": {"task": "kepuyue.api.purge_changes", "schedule": crontab(hour=4, minute=20)},
}
