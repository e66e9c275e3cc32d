"""Background work of the API: webhook deliveries (:mod:`.webhooks`). Tasks take ids, have explicit
names and are idempotent; with no broker they run in-process (``CELERY_TASK_ALWAYS_EAGER``)."""

from celery import shared_task

from . import webhooks


@shared_task(name="kepuyue.api.deliver_webhook")
def deliver_webhook_task(delivery_id: int) -> str:
    return webhooks.deliver(delivery_id)


@shared_task(name="kepuyue.api.deliver_webhooks")
def deliver_webhooks_task(delivery_ids: list[int]) -> int:
    """A batch of deliveries (``WEBHOOK_BATCH_SIZE``), sent concurrently over pooled connections."""
    return len(webhooks.deliver_many(delivery_ids))


@shared_task(name="kepuyue.api.announce")
def announce_task(event: dict) -> list[int]:
    """One event (``{"event", "data", "organizer_id", "activity_id"}``) fanned out to the subscriptions."""
    return webhooks.announce_many([event])


@shared_task(name="kepuyue.api.deliver_due_webhooks")
def deliver_due_task() -> int:
    return webhooks.deliver_due()


@shared_task(name="kepuyue.api.purge_idempotency_keys")
def purge_idempotency_task() -> int:
    from .write import purge_idempotency_keys

    return purge_idempotency_keys()


@shared_task(name="kepuyue.api.purge_webhook_deliveries")
def purge_deliveries_task() -> int:
    return webhooks.purge_deliveries()


@shared_task(name="kepuyue.api.purge_changes")
def purge_changes_task() -> int:
    from .changes import purge

    return purge()
