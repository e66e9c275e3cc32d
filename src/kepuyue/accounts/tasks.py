"""Background work of accounts: delivering password-reset links.

Tasks take ids, have explicit names and run in-process when no broker is configured (the embedded
default). In scale-out the delivery leaves the request, so the reset page answers in the same time
whether or not an account was found.
"""

from celery import shared_task

from . import reset


@shared_task(name="kepuyue.accounts.send_password_reset")
def send_password_reset(user_id: int, kind: str, value: str) -> bool:
    """Send the reset link of account ``user_id`` by ``kind`` (``email``/``phone``) to ``value``."""
    return reset.deliver(user_id, kind, value)
