"""Work after the response 响应之后的后台工作: Celery when a broker is configured, otherwise one
background thread per process (the embedded default, ``make run``).

Celery with no broker runs a task *eagerly*, inside the request that queued it: a booking used to
build and send its ticket e-mail (QR code PNG, calendar file, SMTP round trip) before the member saw
the answer — half of the booking's CPU and, with a real mail server, its slowest part.
:func:`enqueue` keeps Celery's contract (a task takes ids, is idempotent, is queued after commit)
and changes only where an eager task runs: on this process's background thread, after the response
has gone, one task at a time in order. A task that raises is logged, never retried, and never stops
the queue. See ``docs/decisions/0018-booking-path-and-background-work.md``.

What the thread does not promise: a worker process that ends before its queue is empty loses the
tasks still queued (a hard kill certainly; an orderly interpreter exit first waits up to 20 s for the
queue, :func:`drain` registered with ``atexit`` — not verified for every way granian stops a worker).
An eager task was lost the same way with its request. The state the task reports is already committed
(the ticket is on "我的活动"; the inbox row was written in the booking's transaction).

``KEPUYUE_BACKGROUND=inline`` (the default under tests) runs each task at once, in the caller, as
eager Celery did: tests read ``mail.outbox`` right after the request.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

_jobs: queue.Queue = queue.Queue()
_started_in: int | None = None  # the process that started the thread (a forked child starts its own)
_start_lock = threading.Lock()
_batches: dict[Callable, list] = {}  # batch function → arguments queued for it
_batch_lock = threading.Lock()
BATCH_SIZE = 100


def enqueue(task, *args, batch: Callable[[list], object] | None = None) -> None:
    """Run the Celery ``task`` with ``args`` in the background: ``task.delay(*args)`` with a broker,
    else on this process's background thread (or at once when ``KEPUYUE_BACKGROUND`` is ``inline``).
    ``batch``: a function that does the work of many such tasks at once, given the list of their
    single arguments — the thread then runs it with everything queued meanwhile (a burst of bookings:
    one query and one mail connection for all their tickets). Call it after commit
    (``transaction.on_commit``)."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        task.delay(*args)
    elif batch is not None and settings.KEPUYUE_BACKGROUND != "inline":
        (arg,) = args
        with _batch_lock:
            pending = _batches.setdefault(batch, [])
            pending.append(arg)
            first = len(pending) == 1
        if first:
            defer(_run_batch, batch)
    else:
        defer(task, *args)  # a Celery task object is callable: it runs the function itself


def defer(fn: Callable, *args) -> None:
    """Run ``fn(*args)`` after the current request, on this process's background thread."""
    if settings.KEPUYUE_BACKGROUND == "inline":
        _run(fn, args)
        return
    _ensure_thread()
    _jobs.put((fn, args))


def _run_batch(batch: Callable[[list], object]) -> None:
    with _batch_lock:
        items = _batches.pop(batch, [])
    for start in range(0, len(items), BATCH_SIZE):
        _run(batch, (items[start : start + BATCH_SIZE],))


def drain(timeout: float = 30.0) -> bool:
    """Wait until every queued job has run (at most ``timeout`` seconds); ``True`` when the queue is
    empty. Used at exit, by tests and by the benchmark."""
    done = threading.Event()

    def waiter():
        _jobs.join()
        done.set()

    threading.Thread(target=waiter, daemon=True, name="kepuyue-background-drain").start()
    return done.wait(timeout)


def _run(fn: Callable, args: tuple) -> None:
    try:
        fn(*args)
    except Exception:
        logger.exception("后台任务失败：%s", getattr(fn, "name", None) or getattr(fn, "__qualname__", fn))


def _worker() -> None:
    while True:
        fn, args = _jobs.get()
        try:
            _run(close_old_connections, ())  # as a request does: drop a connection past its age or broken
            _run(fn, args)
            if _jobs.empty():  # idle: hold no database connection until the next job
                _run(connections.close_all, ())
        finally:
            _jobs.task_done()


def _ensure_thread() -> None:
    global _started_in
    pid = os.getpid()
    if _started_in == pid:
        return
    with _start_lock:
        if _started_in == pid:
            return
        threading.Thread(target=_worker, daemon=True, name="kepuyue-background").start()
        _started_in = pid
        atexit.register(drain, 20.0)
