"""Background work of the API: webhook deliveries (:mod:`.webhooks`). Tasks take ids, have explicit
names and are idempotent; with no broker they run in-process (``CELERY_TASK_ALWAYS_EAGER``)."""

from celery import shared_task

from . import webhooks


@shared_task(name="kepuyue.api.deliver_webhook")
def deliver_webhook_task(delivery_id: int) -> str:
    return webhooks.deliver(delivery_id)


@shared_task(name="kepuyue.api.deliver_due_webhooks")
def deliver_due_task() -> int:
    return webhooks.deliver_due()


@shared_task(name="kepuyue.api.purge_idempotency_keys")
def purge_idempotency_task() -> int:
    from .write import purge_idempotency_keys

    return purge_idempotency_keys()
