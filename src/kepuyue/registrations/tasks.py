"""Background work of registrations. Tasks take ids, have explicit names, are idempotent and hand off
to the services; with no broker they run in-process. Celery beat (``kepuyue/celery.py``) runs
``tick`` every 5 minutes (offers that expired, reminders, ticket e-mails due) and ``purge`` daily (retention)."""

from celery import shared_task

from . import services
from .services import messaging, outbox


@shared_task(name="kepuyue.registrations.send_ticket_email")
def send_ticket_email_task(booking_id: int) -> bool:
    """Send the booking's ticket e-mail due in the outbox (decision 0031): claimed by one drain,
    marked sent; ``False`` when none is due (already sent, or waiting for a retry)."""
    return messaging.send_ticket_email(booking_id)


@shared_task(name="kepuyue.registrations.tick")
def tick_task() -> dict[str, int]:
    """Expire unconfirmed waitlist offers (their places move on), send the day-before reminders, and
    the ticket e-mails due in the outbox (left by a dead worker, or retries)."""
    return {
        "expired": services.expire_offers(),
        "reminded": services.send_reminders(),
        "tickets": outbox.sweep(),
    }


@shared_task(name="kepuyue.registrations.purge")
def purge_task() -> int:
    """Delete registrants' personal data past the retention period."""
    return services.purge_personal_data()
