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

**A background process beside the server** (decision 0028). ``python -m kepuyue.serve`` starts one
more process, at a lower CPU priority (``nice`` 10), that runs these jobs for every worker: each worker
hands a job over as one datagram on a Unix socket (``KEPUYUE_BACKGROUND_SOCKET``; a task or function
named by its import path, and JSON arguments — ids), which costs the request ~20 µs instead of the ~7 ms
of a ticket e-mail, and the serving processes' CPU goes to answering. The process runs the jobs on its
own background thread exactly as above (batches included). A job that cannot be handed over (no such
process, a function that is not importable by name, arguments that are not JSON) runs on the worker's
own thread as before: nothing is ever dropped for want of the process. A batched job (ticket e-mails,
webhook announcements) that finds the process busy — its socket's queue full, as in any burst — is held
in the worker and follows in one datagram with the others (decision 0034); only after 5 s without the
process taking it, or at an orderly exit that cannot hand it over, does it run on the worker.
"""

from __future__ import annotations

import atexit
import errno
import json
import logging
import os
import queue
import signal
import socket
import sys
import threading
import time
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
SOCKET_ENV = "KEPUYUE_BACKGROUND_SOCKET"  # set by kepuyue.serve for its workers (decision 0028)
MAX_DATAGRAM = 60_000
_sender: tuple[int, socket.socket] | None = None  # (pid, unbound datagram socket) of this process
_serving = False  # this is the background process (serve() runs)
_sweeps: dict[Callable, float] = {}  # periodic work of higher apps (outboxes) → its interval in seconds


def every(seconds: float, fn: Callable[[], object]) -> None:
    """Register ``fn`` (no arguments, idempotent) as periodic background work: the background process
    runs it when it starts — picking up what a killed process left (decision 0031: the ticket e-mail
    outbox) — and every ``seconds`` after; a worker's own background thread (no background process
    and no broker) runs it once, after the job that started the thread. Called from an app's ``ready()``; registering again is harmless."""
    _sweeps[fn] = float(seconds)


def run_sweeps(due: dict[Callable, float] | None = None) -> None:
    """Run the registered periodic work now, each on its own (a failure is logged)."""
    for fn in list(due if due is not None else _sweeps):
        _run(fn, ())


def enqueue(task, *args, batch: Callable[[list], object] | None = None) -> None:
    """Run the Celery ``task`` with ``args`` in the background: ``task.delay(*args)`` with a broker,
    else on this process's background thread (or at once when ``KEPUYUE_BACKGROUND`` is ``inline``).
    ``batch``: a function that does the work of many such tasks at once, given the list of their
    single arguments — the thread then runs it with everything queued meanwhile (a burst of bookings:
    one query and one mail connection for all their tickets). Call it after commit
    (``transaction.on_commit``)."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        task.delay(*args)
    elif settings.KEPUYUE_BACKGROUND != "inline" and _hand_over(task, args, batch):
        return
    elif batch is not None and settings.KEPUYUE_BACKGROUND != "inline":
        _batch_here(batch, args)
    else:
        defer(task, *args)  # a Celery task object is callable: it runs the function itself


def _batch_here(batch: Callable[[list], object], args: tuple) -> None:
    (arg,) = args
    with _batch_lock:
        pending = _batches.setdefault(batch, [])
        pending.append(arg)
        first = len(pending) == 1
    if first:
        _queue_here(_run_batch, (batch,))


def _queue_here(fn: Callable, args: tuple) -> None:
    started = _ensure_thread()
    _jobs.put((fn, args))
    if started and _sweeps and _sweeps_here():
        _jobs.put((run_sweeps, ()))  # what a killed process left (outboxes), once per process, after this job


def defer(fn: Callable, *args) -> None:
    """Run ``fn(*args)`` after the current request, on this process's background thread."""
    if settings.KEPUYUE_BACKGROUND == "inline":
        _run(fn, args)
        return
    if _hand_over(fn, args, None):
        return
    _queue_here(fn, args)


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


def _sweeps_here() -> bool:
    """Whether this process's own thread sweeps: only when nothing else does — not in the background
    process (its loop sweeps), not in a worker beside one (it would pull the e-mails' CPU back into the
    serving process, decision 0028), not with a broker (beat sweeps)."""
    return not _serving and not os.environ.get(SOCKET_ENV) and settings.CELERY_TASK_ALWAYS_EAGER


def _ensure_thread() -> bool:
    """Start this process's background thread if it is not running; ``True`` when it was started now."""
    global _started_in
    pid = os.getpid()
    if _started_in == pid:
        return False
    with _start_lock:
        if _started_in == pid:
            return False
        threading.Thread(target=_worker, daemon=True, name="kepuyue-background").start()
        _started_in = pid
        atexit.register(drain, 20.0)
        return True


# --- the background process (decision 0028) ------------------------------------------------------------


def _path(fn: Callable) -> str | None:
    """The import path that names ``fn`` in another process (a Celery task by its function), or
    ``None`` for a lambda, a bound method or a local function."""
    fn = getattr(fn, "run", fn) if hasattr(fn, "delay") else fn
    module, name = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or not name or "<" in name or "." in name:
        return None
    return f"{module}.{name}"


def _hand_over(fn: Callable, args: tuple, batch: Callable | None) -> bool:
    """Send the job to the background process; ``False`` when it cannot take it (then it runs here).
    A job with a ``batch`` function whose process is busy (its socket's queue full) is held here and
    sent with the next ones in one datagram (decision 0034), never built here."""
    target = os.environ.get(SOCKET_ENV)
    if not target:
        return False
    path = _path(fn)
    batch_path = _path(batch) if batch is not None else None
    if path is None or (batch is not None and batch_path is None):
        return False
    if batch is not None and len(args) == 1:
        return _hold(target, fn, path, batch, batch_path, args[0])
    try:
        message = json.dumps({"fn": path, "args": list(args), "batch": batch_path}).encode()
    except (TypeError, ValueError):
        return False
    if len(message) > MAX_DATAGRAM:
        return False
    return _send(message, target) == "sent"


def _send(message: bytes, target: str) -> str:
    """``"sent"``; ``"full"`` when the process's queue is full (it is busy: a burst); ``"gone"`` when
    no process listens."""
    global _sender
    pid = os.getpid()
    if _sender is None or _sender[0] != pid:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setblocking(False)  # a full queue must never hold a request up
        _sender = (pid, sock)
    try:
        _sender[1].sendto(message, target)
    except (BlockingIOError, InterruptedError):
        return "full"
    except OSError as exc:
        return "full" if exc.errno == errno.ENOBUFS else "gone"
    return "sent"


# Batched jobs the background process could not take yet — its socket's queue (Linux: 10 datagrams,
# ``net.unix.max_dgram_qlen``) fills in a burst while the process, at nice 10, waits for a core. Before
# decision 0034 each such job ran on the worker's own thread: in a burst of bookings the workers built
# a quarter of the ticket e-mails themselves. Now they wait here, in the worker's memory, and go over
# together in one datagram with the next job or from a small flusher thread; after HOLD_SECONDS without
# the process taking them (or at once if it is gone) they run here after all: never dropped.
_held: dict[tuple[str, str], tuple[Callable, Callable, list]] = {}
_held_lock = threading.Lock()
_held_since = 0.0
_flusher_in: int | None = None  # the process whose flusher thread runs
HOLD_SECONDS = 5.0
FLUSH_SECONDS = 0.02
HELD_PER_DATAGRAM = 2000


def _hold(target: str, fn: Callable, path: str, batch: Callable, batch_path: str, arg) -> bool:
    global _held_since
    try:
        json.dumps(arg)
    except (TypeError, ValueError):
        return False
    with _held_lock:
        if not _held:
            _held_since = time.monotonic()
        _held.setdefault((path, batch_path), (fn, batch, []))[2].append(arg)
        status = _flush_held(target)
        here = _take_held() if status == "gone" else {}
        if status == "full":
            _ensure_flusher(target)
    _run_here(here)
    return True


def _flush_held(target: str) -> str:
    """Send what is held (the lock held); ``"sent"`` when nothing is left."""
    for key in list(_held):
        path, batch_path = key
        items = _held[key][2]
        while items:
            chunk = items[:HELD_PER_DATAGRAM]
            message = json.dumps({"fn": path, "many": chunk, "batch": batch_path}).encode()
            status = _send(message, target)
            if status != "sent":
                return status
            del items[: len(chunk)]
        del _held[key]
    return "sent"


def _take_held() -> dict:
    taken = dict(_held)
    _held.clear()
    return taken


def _run_here(taken: dict) -> None:
    for _fn, batch, items in taken.values():
        for arg in items:
            _batch_here(batch, (arg,))


_exit_flush_in: int | None = None  # the process whose exit sends (or runs) what is still held


def _ensure_flusher(target: str) -> None:
    global _flusher_in, _exit_flush_in
    if _flusher_in == os.getpid():
        return
    _flusher_in = os.getpid()
    if _exit_flush_in != _flusher_in:
        _exit_flush_in = _flusher_in
        atexit.register(_flush_at_exit, target)
    threading.Thread(target=_flush_loop, args=(target,), name="kepuyue-background-flush", daemon=True).start()


def _flush_at_exit(target: str) -> None:
    """An orderly exit hands over what is still held, or runs it here (and waits, as :func:`drain`)."""
    with _held_lock:
        here = _take_held() if _held and _flush_held(target) != "sent" else {}
    if here:
        _run_here(here)
        drain(20.0)


def _flush_loop(target: str) -> None:
    global _flusher_in
    while True:
        time.sleep(FLUSH_SECONDS)
        with _held_lock:
            status = _flush_held(target) if _held else "sent"
            if status == "full" and time.monotonic() - _held_since > HOLD_SECONDS:
                status = "gone"  # the process takes nothing: do the work here after all
            here = _take_held() if status == "gone" else {}
            if status != "full":
                _flusher_in = None
        _run_here(here)
        if status != "full":
            return


def serve(path: str, parent: int | None = None) -> None:
    """Run the jobs the server's workers send to ``path`` until the process ``parent`` (the server)
    is gone; then wait for the queue (up to 20 s) and return."""
    from django.utils.module_loading import import_string

    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(1.0)
    resolved: dict[str, Callable] = {}
    global _serving
    _serving = True  # the thread started below runs no sweep of its own: sweep_due() does
    last_swept: dict[Callable, float] = {}

    def sweep_due() -> None:  # at start (rows a dead process left), then each at its interval
        now = time.monotonic()
        due = {fn: s for fn, s in _sweeps.items() if now - last_swept.get(fn, -1e18) >= s}
        if due:
            last_swept.update(dict.fromkeys(due, now))
            defer(run_sweeps, due)

    def resolve(name: str) -> Callable:
        if name not in resolved:
            resolved[name] = import_string(name)
        return resolved[name]

    try:
        while parent is None or os.getppid() == parent:
            sweep_due()
            try:
                data = sock.recv(MAX_DATAGRAM + 1)
            except TimeoutError:
                continue
            try:
                job = json.loads(data)
                fn = resolve(job["fn"])
                batch = resolve(job["batch"]) if job.get("batch") else None
                many = job.get("many")  # jobs a worker held while this process was busy (0034)
                calls = [(arg,) for arg in many] if many is not None else [tuple(job["args"])]
            except Exception:
                logger.exception("后台任务无法读取：%r", data[:200])
                continue
            for args in calls:
                if batch is not None:
                    enqueue(fn, *args, batch=batch)
                else:
                    defer(fn, *args)
    finally:
        sock.close()
        for remove in (os.unlink, os.rmdir):  # the socket, and its directory if nothing else is there
            try:
                remove(path if remove is os.unlink else os.path.dirname(path))
            except OSError:
                pass
        drain(20.0)


def main(argv: list[str] | None = None) -> None:
    """``python -m kepuyue.common.background SOCKET [--parent PID]``: the background process that
    ``kepuyue.serve`` starts beside granian (not meant to be run by hand)."""
    import argparse

    import django

    parser = argparse.ArgumentParser(description="Kepuyue's background process (decision 0028).")
    parser.add_argument("socket")
    parser.add_argument("--parent", type=int, default=None, help="stop when this process is gone")
    args = parser.parse_args(argv)
    os.environ.pop(SOCKET_ENV, None)  # this process runs its jobs itself
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepuyue.settings")
    # Stopped with the server (SIGTERM to its process group): leave as from a gone parent — run
    # what is queued, remove the socket and its folder (they were left in /tmp on every stop).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    django.setup()
    logging.getLogger(__name__).info("后台进程已启动：%s", args.socket)
    serve(args.socket, args.parent)


if __name__ == "__main__":  # run the module's own copy, not this __main__ one (one job queue)
    from kepuyue.common.background import main as _main

    _main()
