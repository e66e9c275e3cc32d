"""Background work of notifications: the e-mails of new notifications and the daily reminders.

Tasks take ids, have explicit names and are idempotent (a notification is mailed at most once; a
reminder is sent once per account, kind, object and day). With no broker configured they run
in-process. Celery beat runs ``kepuyue.notifications.send_reminders`` every morning in scale-out
(``kepuyue/celery.py``); the embedded default runs ``manage.py send_reminders`` from cron.
"""

from celery import shared_task

from . import reminders, services


@shared_task(name="kepuyue.notifications.send_emails")
def send_emails_task(ids: list[int]) -> int:
    """Mail the notifications ``ids`` that were not mailed yet; returns how many were sent."""
    return services.send_emails(ids)


@shared_task(name="kepuyue.notifications.send_reminders")
def send_reminders_task() -> dict[str, int]:
    """Send today's reminders (see :func:`kepuyue.notifications.reminders.send_reminders`)."""
    return reminders.send_reminders()
