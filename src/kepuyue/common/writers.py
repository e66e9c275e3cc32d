"""One write transaction at a time per process on SQLite (the embedded default).

SQLite lets one writer at a time hold the database; the others poll it with growing sleeps, and under a
burst some wait past the busy timeout ("database is locked"). Writers of one process queue on a Python
lock instead, in turn; the worker processes still meet at SQLite's own lock. On PostgreSQL it is a plain
``transaction.atomic()`` (row locks do the queueing). Used by bookings (``docs/decisions/0011``) and
quiz submissions (``docs/decisions/0019``). (A file lock across the processes was tried for decision
0018: no gain measurable, so not kept.)"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from django.db import connection, transaction

# Re-entrant: a hook run after the commit (``transaction.on_commit``) is still inside the block that
# took it, and may write again in the same thread (the ticket e-mail outbox, decision 0031).
_SQLITE_WRITERS = threading.RLock()


@contextmanager
def serialized_write():
    """``transaction.atomic()``, queued behind this process's other writers on SQLite (outermost block only)."""
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with _SQLITE_WRITERS, transaction.atomic():
            yield
    else:
        with transaction.atomic():
            yield
