"""Domain events 领域事件: how a lower app tells higher ones that something happened, without importing them.

Every event is a plain Django :class:`~django.dispatch.Signal`, declared in the ``signals.py`` of the
app that owns the data (``kepuyue.activities.signals``, ``kepuyue.review.signals``,
``kepuyue.calls.signals``); the apps that care connect their receivers in their ``apps.py``
``ready()``. The sender never knows its listeners (pretix's ``pretix.base.signals``, Saleor's
webhook events). ``docs/architecture.md`` lists every event with its subscribers, and
``docs/decisions/0007-domain-events.md`` says why.

Each event is sent in exactly one of two phases, written in its docstring:

- **in the transaction** (:func:`send_in_transaction`): right after the change and its audit entry,
  inside the same ``atomic`` block. A receiver's writes commit or roll back with the change, and a
  receiver that raises undoes the change. Only for consequences that must be atomic with it
  (a withdrawn activity gives back its recommendation).
- **after commit** (:func:`send_after_commit`): once the outermost transaction commits (at once in
  autocommit), never for a change that was rolled back. Each receiver runs on its own: one that
  raises is logged and the others still run, and the change stays made. For everything that leaves
  the process or can be redone: inbox and e-mail, webhooks, cache invalidation, dashboard roll-ups.

Receivers take keyword arguments (``**kwargs`` at the end, so new payload keys break nobody).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)


def send_in_transaction(signal: Signal, sender, **payload) -> None:
    """Send ``signal`` now, inside the caller's transaction; a receiver's exception propagates (and
    so rolls the caller's ``atomic`` block back). Returns nothing."""
    signal.send(sender, **payload)


def send_after_commit(signal: Signal, sender, **payload) -> None:
    """Send ``signal`` once the current transaction commits (immediately outside one). Receivers run
    one by one through ``send_robust``; an exception is logged with the receiver's name and does not
    stop the others. Nothing is sent if the transaction rolls back."""
    transaction.on_commit(lambda: _send_robust(signal, sender, payload), robust=True)


def _send_robust(signal: Signal, sender, payload: dict) -> None:
    for receiver, result in signal.send_robust(sender, **payload):
        if isinstance(result, Exception):
            logger.error(
                "领域事件的接收者失败：%s",
                getattr(receiver, "__qualname__", repr(receiver)),
                exc_info=(type(result), result, result.__traceback__),
            )
