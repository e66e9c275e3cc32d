"""CPU per booking request, in-process and one at a time: a figure the shared machine's load does not
distort (``time.thread_time`` of the request's thread; "all in" adds the process's background work —
the ticket e-mails sent after the responses — as ``time.process_time`` over all the bookings).

The request goes through Django's whole WSGI handler (every middleware, the view, the redirect or the
form page) exactly as granian hands it over; what is left out is granian's HTTP parsing (Rust, well
under 0.1 ms). The database is a fresh one, seeded like ``bench/bookings.py`` seeds it: SQLite in a
temporary directory, or with ``--db postgres`` the database ``bench_bookperf`` (dropped and made
again). Prints CPU ms per booking (median and p90 of ``--n`` bookings), per "full" answer, the queries
per booking, and with ``--profile`` the top of a cProfile of the bookings.

    .venv/bin/python bench/booking_cpu.py                   # SQLite
    .venv/bin/python bench/booking_cpu.py --db postgres     # PostgreSQL on 127.0.0.1:5432
    .venv/bin/python bench/booking_cpu.py --profile 25      # and the 25 costliest functions
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import bookings as bench  # noqa: E402 - the same seeding as the HTTP benchmark


def wsgi_environ(path: str, body: bytes, session_key: str) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8150",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8150",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_COOKIE": f"sessionid={session_key}; csrftoken={bench.CSRF}",
        "HTTP_X_CSRFTOKEN": bench.CSRF,
        "HTTP_ACCEPT_LANGUAGE": "zh-CN",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def booking_body(n: int, session_key: str) -> bytes:
    return urllib.parse.urlencode(
        {
            "name": f"用户{n}",
            "phone": f"139{n:08d}"[:11],
            "adults": "1",
            "children": "0",
            "consent": "on",
            "token": f"cpu-{session_key[:20]}-{n}",
        }
    ).encode()


def post(application, session_id: int, key: str, n: int) -> tuple[str, float]:
    status = {}

    def start_response(code, headers, exc_info=None):
        status["code"] = code
        status["headers"] = dict(headers)

    environ = wsgi_environ(f"/registrations/session/{session_id}/book/", booking_body(n, key), key)
    started = time.thread_time()
    chunks = application(environ, start_response)
    text = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    cpu = time.thread_time() - started
    code = status["code"].split()[0]
    if code == "302" and "/registrations/ticket/" in status["headers"].get("Location", ""):
        return "booked", cpu
    if code == "200" and "名额已满".encode() in text:
        return "full", cpu
    return f"error:{code}", cpu


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


def _backend_cpu(connection) -> tuple[int, float] | None:
    """(pid, CPU seconds) of the PostgreSQL server process behind ``connection`` — its parsing,
    planning and executing of the booking's statements, on the same cores — or ``None`` (SQLite, or a
    server on another machine)."""
    if connection.vendor != "postgresql":
        return None
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--n", type=int, default=200, help="bookings measured (after 20 to warm up)")
    parser.add_argument("--profile", type=int, default=0, help="print this many functions of a cProfile")
    parser.add_argument(
        "--sample", action="store_true", help="a pyinstrument sampling profile (if installed)"
    )
    parser.add_argument("--profile-full", action="store_true", help="profile the 'full' answers instead")
    parser.add_argument("--profile-dump", help="also write the cProfile's stats to this file (pstats)")
    parser.add_argument("--pg-database", default="bench_bookperf")
    parser.add_argument(
        "--background-process",
        action="store_true",
        help="ticket e-mails in the background process (decision 0028); 'all in' is then this process's",
    )
    parser.add_argument(
        "--query-cpu", action="store_true", help="CPU of the request's thread inside each kind of query"
    )
    args = parser.parse_args()
    bench.VAR = Path(tempfile.mkdtemp(prefix="kepuyue-booking-cpu-"))
    env = bench.environment(args.db, args.pg_database)
    bench.fresh_database(args.db, env, args.pg_database)
    sidecar = None
    if args.background_process:  # decision 0028: the e-mails go to the process serve.py starts
        os.environ.update(env)
        sys.path.insert(0, str(bench.ROOT / "src"))
        from kepuyue import serve

        sidecar = serve.start_background_process()
        env = {**env, "KEPUYUE_BACKGROUND_SOCKET": os.environ["KEPUYUE_BACKGROUND_SOCKET"]}
        deadline = time.monotonic() + 120
        while not Path(env["KEPUYUE_BACKGROUND_SOCKET"]).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    bench.setup_django(env)
    from django.conf import settings
    from django.db import connection, reset_queries

    from kepuyue.wsgi import application

    # The console e-mail backend (the embedded default) writes to stdout: to a null file here, as the
    # server's goes to its log.
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115

    warm = 20
    users = bench.make_users(warm + args.n + 50, 0)
    _, [roomy] = bench.make_activity(1, capacity=100_000)
    _, [full] = bench.make_activity(1, capacity=10, prefilled=10)
    for i, (_pk, key) in enumerate(users[:warm]):
        assert post(application, roomy.pk, key, i)[0] == "booked"
    try:
        from kepuyue.common.background import drain
    except ImportError:  # a tree from before decision 0018: the ticket e-mail is sent in the request

        def drain() -> bool:
            return True

    drain()
    if sidecar is not None:  # the process's CPU time (/proc), read when it has gone idle
        ticks = os.sysconf("SC_CLK_TCK")
        stat = Path(f"/proc/{sidecar.pid}/stat")

        def sidecar_cpu() -> float:
            cpu = lambda: sum(int(x) for x in stat.read_text().rsplit(")", 1)[1].split()[11:13]) / ticks  # noqa: E731
            last, still = cpu(), 0
            while still < 3:
                time.sleep(0.5)
                now = cpu()
                still = still + 1 if now - last < 0.01 else 0
                last = now
            return last

        sidecar_before = sidecar_cpu()  # its start (imports, the first sweep) and the warm-up's e-mails
    booked = []
    # CPU time of the request's thread, not wall time: the shared machine's load does not show in it.
    profile = cProfile.Profile(time.thread_time) if args.profile else None
    if args.sample:
        from pyinstrument import Profiler

        profile = Profiler(interval=0.0002)
    per_query: dict[str, list[float]] = {}

    def timed(execute, sql, params, many, context):
        started = time.thread_time()
        try:
            return execute(sql, params, many, context)
        finally:
            per_query.setdefault(" ".join(sql.split()[:4])[:70], []).append(time.thread_time() - started)

    wrapper = connection.execute_wrapper(timed) if args.query_cpu else None
    backend = _backend_cpu(connection)  # PostgreSQL's server process for this connection (same machine)
    if wrapper:
        wrapper.__enter__()
    all_in = time.process_time()
    for i, (_pk, key) in enumerate(users[warm : warm + args.n], start=warm):
        if profile and not args.profile_full:
            profile.start() if args.sample else profile.enable()
        outcome, cpu = post(application, roomy.pk, key, i)
        if profile and not args.profile_full:
            profile.stop() if args.sample else profile.disable()
        assert outcome == "booked", outcome
        booked.append(cpu)
    backend_cpu = _backend_cpu(connection)
    backend_cpu = round((backend_cpu[1] - backend[1]) * 1000 / args.n, 3) if backend and backend_cpu else None
    drain()  # the ticket e-mails queued after the responses
    all_in = (time.process_time() - all_in) / args.n
    background_ms = background_with_start_ms = None
    if sidecar is not None:
        sidecar_after = sidecar_cpu()
        # The measured bookings' e-mails only: the process's start is left out (it used to be spread
        # over the bookings, ~7 ms each of 220); the second figure is the old one, kept to compare.
        background_ms = round((sidecar_after - sidecar_before) * 1000 / args.n, 2)
        background_with_start_ms = round(sidecar_after * 1000 / (warm + args.n), 2)
    if wrapper:
        wrapper.__exit__(None, None, None)
    refused = []
    for i, (_pk, key) in enumerate(users[warm + args.n :], start=warm + args.n):
        if profile and args.profile_full:
            profile.start() if args.sample else profile.enable()
        outcome, cpu = post(application, full.pk, key, i)
        if profile and args.profile_full:
            profile.stop() if args.sample else profile.disable()
        assert outcome == "full", outcome
        refused.append(cpu)
    settings.DEBUG = True  # count the queries of one more booking
    reset_queries()
    extra = bench.make_users(1, 10**6)[0][1]
    reset_queries()
    assert post(application, roomy.pk, extra, 10**6)[0] == "booked"
    queries = [q["sql"] for q in connection.queries]
    settings.DEBUG = False
    sys.stdout = sys.__stdout__
    print(
        json.dumps(
            {
                "db": args.db,
                "booked_cpu": summary(booked),
                "booked_cpu_all_in_mean_ms": round(all_in * 1000, 2),
                "background_process_cpu_per_booking_ms": background_ms,
                "background_process_cpu_with_its_start_ms": background_with_start_ms,
                "database_server_cpu_per_booking_ms": backend_cpu,
                "full_cpu": summary(refused),
                "queries_per_booking": len(queries),
                "load_average": os.getloadavg(),
            },
            ensure_ascii=False,
        )
    )
    for sql in queries:
        print("  ", sql[:160])
    for sql, times in sorted(per_query.items(), key=lambda kv: -sum(kv[1])):
        print(f"   {sum(times) * 1000 / args.n:7.2f} ms/booking  {len(times) / args.n:5.2f}×  {sql}")
    if sidecar is not None:
        sidecar.terminate()
    if args.sample:
        print(profile.output_text(unicode=False, color=False, show_all=False))
    elif profile:
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        if args.profile_dump:
            stats.dump_stats(args.profile_dump)
        stats.sort_stats("cumulative").print_stats(args.profile)
        stats.sort_stats("tottime").print_stats(args.profile)
        print(out.getvalue())


if __name__ == "__main__":
    main()
