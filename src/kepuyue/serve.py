"""The embedded default's web server: ``python -m kepuyue.serve [--host H] [--port P] [--workers N]``.

``make run`` (and the slow-client test, and ``bench/load_test.py``) start the platform through this
module, so there is one definition of how it is served. The server is **granian** in WSGI mode: HTTP is
parsed, buffered and written by Rust (hyper/tokio) in each worker process, and Django runs in a pool of
blocking threads. A client that trickles its request body or reads a video at phone speed waits in the
Rust event loop or holds one of those threads — never a whole worker, as gunicorn's sync workers did
(two slow connections froze the site for 30 s). Request bodies reach Django in chunks (uploads of 1 GB
stream to disk with memory bounded), responses stream (``StreamingHttpResponse`` exports, ``/media/`` with
byte ranges). BENCHMARKS.md compares it with gunicorn (sync and gevent), uvicorn (ASGI) and waitress;
docs/decisions/0008-embedded-server.md records the choice.

Scale-out behind nginx may keep gunicorn (nginx buffers slow clients itself) or use the same command.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# Django's threads per worker: each slow client holds at most one; 50 slow clients are the acceptance
# level of issue 9, and this leaves room for several hundred at once across two workers.
BLOCKING_THREADS = 128


def command(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 2,
    *,
    access_log: bool = False,
    threads: int = BLOCKING_THREADS,
) -> list[str]:
    """The granian command line that serves the platform on ``host``:``port`` with ``workers`` processes."""
    granian = Path(sys.executable).with_name("granian")
    args = [
        str(granian) if granian.exists() else "granian",
        "--interface",
        "wsgi",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        # A worker that dies is started again, as gunicorn's master does.
        "--respawn-failed-workers",
        # Stopping waits this long (seconds) for requests in progress.
        "--workers-kill-timeout",
        "30",
        "--log-level",
        "info",
    ]
    if access_log:
        args.append("--access-log")
    return [*args, "kepuyue.wsgi:application"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve Kepuyue (the embedded default) with granian.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "2")))
    # Off by default: granian writes the decoded path into its access log as it is, so a request
    # for /x%0a[…] forges a log line and %00 writes NUL bytes. The access log belongs to the reverse
    # proxy (nginx escapes such bytes as \xNN); turn this one on only where no proxy logs.
    parser.add_argument("--access-log", action="store_true", help="granian's access log (paths unescaped)")
    parser.add_argument("--no-access-log", action="store_true", help="the default; kept for old scripts")
    # Each thread may hold one database connection (and each worker's background thread one more,
    # kepuyue.common.background): with PostgreSQL keep (threads + 1) × workers under its
    # max_connections (or put PgBouncer in front).
    parser.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", str(BLOCKING_THREADS))))
    parser.add_argument(
        "--no-background-process",
        action="store_true",
        help="run work after the responses on each worker's own thread (decision 0018) instead",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepuyue.settings")
    if not args.no_background_process:
        start_background_process()
    cmd = command(
        args.host,
        args.port,
        args.workers,
        access_log=args.access_log and not args.no_access_log,
        threads=args.threads,
    )
    os.execv(cmd[0] if os.path.isabs(cmd[0]) else _which(cmd[0]), cmd)  # noqa: S606 - our own server


def start_background_process() -> subprocess.Popen | None:
    """Without a Celery broker, start the process that runs the work queued after the responses
    (ticket e-mails) for all the workers, at a lower CPU priority, and tell the workers where it
    listens (``KEPUYUE_BACKGROUND_SOCKET``; decision 0028). It stops by itself when the server (this
    process, about to become granian) is gone. With a broker, or under ``KEPUYUE_BACKGROUND=inline``,
    nothing is started."""
    from kepuyue.common.background import SOCKET_ENV

    broker = os.environ.get("CELERY_BROKER_URL", os.environ.get("REDIS_URL", ""))
    if broker or os.environ.get("KEPUYUE_BACKGROUND", "thread") != "thread":
        return None
    path = os.path.join(tempfile.mkdtemp(prefix="kepuyue-background-"), "jobs.sock")
    os.environ[SOCKET_ENV] = path
    code = "from kepuyue.common.background import main; main()"
    return subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-c", code, path, "--parent", str(os.getpid())],
        env={k: v for k, v in os.environ.items() if k != SOCKET_ENV},
        preexec_fn=lambda: os.nice(BACKGROUND_NICE),  # noqa: PLW1509 - no threads yet in this process
    )


# The background process yields the CPU to the workers: a burst of bookings is answered first and
# its tickets follow (nice 10: about a tenth of a core's share against a busy worker).
BACKGROUND_NICE = 10


def _which(name: str) -> str:
    import shutil

    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed (pip install -e .)")
    return found


if __name__ == "__main__":
    main()
