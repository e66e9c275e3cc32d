"""Bookings under load through the real HTTP stack: 200 users at once for the last 50 places of one
session, and 2,000 users at once over 500 sessions; bookings per second, p95, and 0 oversold (asserted).

The server is the one ``make run`` starts (``python -m kepuyue.serve``: granian, 2 workers) on
``--port``, against a fresh database: SQLite under ``var/bench-bookings/`` (the embedded default:
WAL, IMMEDIATE transactions) or, with ``--db postgres``, the PostgreSQL database ``bench_bookings``
on 127.0.0.1 (dropped and created again). With PostgreSQL the server runs ``--threads 40`` per
worker so that threads × workers (80) stay under the server's ``max_connections`` (100) — each Django
thread holds one connection (the README says so for deployments).

Each user is a real verified public account with a signed-in session (a session row made in the
database, the cookie given to the client) and a CSRF cookie; it POSTs the booking form once, as a
phone does, with its own idempotency token, and follows nothing. A request is "booked" when the
answer is the 302 to the ticket, "full" when it is the form again with the full-session message;
anything else is an error. After each scenario the script reads the database: every session's
``booked`` must equal the seats of its confirmed bookings and never exceed its capacity, and exactly
the free places must have been booked.

    .venv/bin/python bench/bookings.py                       # SQLite
    .venv/bin/python bench/bookings.py --db postgres         # PostgreSQL on 127.0.0.1:5432

Prints one JSON line per scenario and Markdown rows for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(tempfile.gettempdir()) / "kepuyue-bench-bookings"
PG_DATABASE = "bench_bookperf"
CSRF = "benchcsrftokenbenchcsrftoken0123"  # 32 characters: Django accepts an unmasked secret
NOW = "2025-09-10T10:00+08:00"


def environment(db: str, pg_database: str = PG_DATABASE) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        {
            "SECRET_KEY": "bench-bookings-" + "k" * 40,
            "KEPUYUE_HTTPS": "0",
            "KEPUYUE_NOW": NOW,
            "DJANGO_SETTINGS_MODULE": "kepuyue.settings",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT / "src"),
        }
    )
    env["KEPUYUE_VAR_DIR"] = str(VAR)  # static files (and the SQLite database)
    if db == "postgres":
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{pg_database}"
    return env


def fresh_database(db: str, env: dict, pg_database: str = PG_DATABASE) -> None:
    if db == "postgres":
        for sql in (f"DROP DATABASE IF EXISTS {pg_database}", f"CREATE DATABASE {pg_database}"):
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql, "postgres"], check=True)
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    for step in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *step, "-v", "0"], env=env, check=True, cwd=ROOT
        )


def setup_django(env: dict) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def make_users(n: int, start: int) -> list[tuple[int, str]]:
    """``n`` verified public accounts with a signed-in session each: ``[(user id, session key)]``."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from kepuyue.accounts import services as accounts
    from kepuyue.accounts.models import Profile

    users = get_user_model()
    password = make_password(None)
    created = users.objects.bulk_create(
        [
            users(
                username=f"bench{start + i}@example.com",
                email=f"bench{start + i}@example.com",
                password=password,
            )
            for i in range(n)
        ]
    )
    if created and created[0].pk is None:  # SQLite before 3.35 gives no ids back
        created = list(users.objects.filter(username__startswith="bench").order_by("pk"))[start : start + n]
    now = timezone.now()
    Profile.objects.bulk_create(
        [Profile(user=u, verified_email=u.email, email_verified_at=now) for u in created]
    )
    out = []
    for user in created:
        store = SessionStore()
        store["_auth_user_id"] = str(user.pk)
        store["_auth_user_backend"] = "kepuyue.accounts.backends.ModelBackend"
        store["_auth_user_hash"] = user.get_session_auth_hash()
        store[accounts.FLAGS_KEY] = {"staff": False, "otp": False, "change": False}
        store[accounts.SEEN_KEY] = time.time() + 3600  # no flag refresh during the run
        store.create()
        out.append((user.pk, store.session_key))
    return out


def make_activity(sessions: int, capacity: int, prefilled: int = 0):
    """A published activity with registration on the platform and ``sessions`` sessions."""
    from datetime import datetime

    from kepuyue.activities.models import Activity, Status
    from kepuyue.campaigns.models import Campaign
    from kepuyue.common import clock
    from kepuyue.orgs.models import Organization, OrganizationType
    from kepuyue.registrations import services, tickets
    from kepuyue.registrations.models import Booking, Session

    campaign, _ = Campaign.objects.get_or_create(
        slug="kepuyue-2025",
        defaults={"year": 2025, "name": "2025年全国科普月", "starts": "2025-09-01", "ends": "2025-09-30"},
    )
    kind, _ = OrganizationType.objects.get_or_create(code="science_museum", defaults={"name": "科技馆"})
    unit, _ = Organization.objects.get_or_create(name="基准测试科技馆", defaults={"type": kind})
    day = datetime(2025, 9, 15, tzinfo=clock.BEIJING)
    activity = Activity.objects.create(
        campaign=campaign,
        organizer=unit,
        title=f"基准测试活动 {sessions} 场",
        starts_at=day.replace(hour=0),
        ends_at=day.replace(hour=23, minute=59),
        status=Status.PUBLISHED,
    )
    services.save_config(
        activity,
        {
            "mode": "platform",
            "max_adults": 1,
            "max_children": 0,
            "waitlist_enabled": True,
            "offer_hours": 24,
            "cancel_cutoff_hours": 2,
        },
        actor=None,
    )
    rows = Session.objects.bulk_create(
        [
            Session(
                activity=activity,
                label=f"第{i + 1}场",
                starts_at=day.replace(hour=9 + (i % 12), minute=0),
                ends_at=day.replace(hour=9 + (i % 12), minute=50),
                capacity=capacity,
            )
            for i in range(sessions)
        ]
    )
    rows = list(Session.objects.filter(activity=activity).order_by("pk"))
    if prefilled:
        Booking.objects.bulk_create(
            [
                Booking(
                    session=rows[0],
                    activity=activity,
                    status="confirmed",
                    seats=1,
                    name="预先报名",
                    phone="13800000000",
                    code=tickets.new_code(),
                    consent="-",
                )
                for _ in range(prefilled)
            ]
        )
        Session.objects.filter(pk=rows[0].pk).update(booked=prefilled)
    return activity, rows


def post_booking(port: int, session_id: int, session_key: str, n: int) -> tuple[str, float]:
    body = urllib.parse.urlencode(
        {
            "name": f"用户{n}",
            "phone": f"139{n:08d}"[:11],
            "adults": "1",
            "children": "0",
            "consent": "on",
            "token": f"bench-{session_key[:20]}-{n}",
        }
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"sessionid={session_key}; csrftoken={CSRF}",
        "X-CSRFToken": CSRF,
        "Accept-Language": "zh-CN",
    }
    started = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", f"/registrations/session/{session_id}/book/", body, headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        conn.close()
    except OSError as exc:
        return f"error:{type(exc).__name__}", time.perf_counter() - started
    elapsed = time.perf_counter() - started
    if response.status == 302 and "/registrations/ticket/" in (response.getheader("Location") or ""):
        return "booked", elapsed
    if response.status == 200 and "名额已满" in text:
        return "full", elapsed
    return f"error:{response.status}", elapsed


def summary(results: list[tuple[str, float]], wall: float) -> dict:
    """Outcomes, rates and latencies of one scenario's ``(outcome, seconds)`` answers."""
    latencies = sorted(r[1] for r in results)
    outcomes = {}
    for outcome, _ in results:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {
        "requests": len(results),
        "wall_s": round(wall, 2),
        "requests_per_s": round(len(results) / wall, 1),
        "bookings_per_s": round(outcomes.get("booked", 0) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "outcomes": outcomes,
    }


def fire(port: int, jobs: list[tuple[int, str, int]], concurrency: int) -> dict:
    gate = threading.Barrier(min(concurrency, len(jobs)))

    def run(job):
        session_id, key, n = job
        if n < concurrency:
            try:
                gate.wait(timeout=60)  # the first wave starts at once
            except threading.BrokenBarrierError:
                pass
        return post_booking(port, session_id, key, n)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(run, jobs))
    wall = time.perf_counter() - started
    return summary(results, wall)


def arrive(port: int, jobs: list[tuple[int, str, int]], rate: float) -> dict:
    """Open loop: one booking starts every ``1 / rate`` seconds whatever the answers (people arriving
    at a steady rate), so the latency is the node's, not the queue of a fixed crowd."""
    results: list = [None] * len(jobs)

    def run(i, job):
        results[i] = post_booking(port, *job)

    threads = []
    started = time.perf_counter()
    for i, job in enumerate(jobs):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=run, args=(i, job))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return summary(results, wall)


def group_cpu_seconds(pgid: int, *, background: bool = False) -> float:
    """CPU time (user + system, seconds) used so far by the server's processes (its process group):
    requests per CPU-second say what the stack costs apart from what else shares the machine.
    ``background``: only the background process's (the ticket e-mails, decision 0028)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if background and b"kepuyue.common.background" not in (entry / "cmdline").read_bytes():
                continue
        except OSError:
            continue
        if int(fields[2]) == pgid:  # pgrp
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def measured(pgid: int, scenario) -> dict:
    """Run ``scenario`` (a :func:`fire`) and add the CPU it cost: the server's (its process group)
    while the requests ran, the server's "all in" (until it is idle again: the ticket e-mails its
    background threads send after the responses), the background process's share of that "all in",
    and this client's own (it shares the cores)."""
    server, client = group_cpu_seconds(pgid), time.process_time()
    background = group_cpu_seconds(pgid, background=True)
    result = scenario()
    result["server_cpu_s"] = round(group_cpu_seconds(pgid) - server, 2)
    result["client_cpu_s"] = round(time.process_time() - client, 2)
    last, idle_since = group_cpu_seconds(pgid), time.perf_counter()
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        time.sleep(0.5)
        now = group_cpu_seconds(pgid)
        if now - last > 0.02:
            last, idle_since = now, time.perf_counter()
        elif time.perf_counter() - idle_since >= 1.5:
            break
    result["server_cpu_all_in_s"] = round(last - server, 2)
    result["background_cpu_all_in_s"] = round(group_cpu_seconds(pgid, background=True) - background, 2)
    return result


def check_not_oversold(sessions) -> dict:
    from django.db.models import Sum

    from kepuyue.registrations.models import Booking, Session

    oversold = 0
    mismatched = 0
    free = 0
    for session in Session.objects.filter(pk__in=[s.pk for s in sessions]):
        held = (
            Booking.objects.filter(session=session, status__in=["confirmed", "offered"]).aggregate(
                n=Sum("seats")
            )["n"]
            or 0
        )
        oversold += max(0, held - session.capacity) + max(0, session.booked - session.capacity)
        mismatched += held != session.booked
        free += session.capacity - session.booked
    assert oversold == 0, f"OVERSOLD by {oversold} places"
    assert mismatched == 0, f"{mismatched} sessions whose counter differs from their bookings"
    return {"oversold": oversold, "counter_mismatches": mismatched, "free_places_left": free}


def get_healthz(port: int) -> tuple[str, float]:
    started = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        conn.close()
    except OSError as exc:
        return f"error:{type(exc).__name__}", time.perf_counter() - started
    return ("booked" if response.status == 200 else f"error:{response.status}"), time.perf_counter() - started


def ceiling(port: int, requests: int = 2000, concurrency: int = 200) -> dict:
    """The same client against ``/healthz`` (no database, no session): the stack's ceiling on this
    machine at this moment, so that a booking figure taken under load can be read as a ratio."""
    gate = threading.Barrier(concurrency)

    def run(n):
        if n < concurrency:
            try:
                gate.wait(timeout=60)
            except threading.BrokenBarrierError:
                pass
        return get_healthz(port)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(run, range(requests)))
    result = summary(results, time.perf_counter() - started)
    result["outcomes"] = {"ok" if k == "booked" else k: v for k, v in result["outcomes"].items()}
    return result


def start_server(
    env: dict, port: int, db: str, threads: int = 0, *, background_process: bool = True
) -> subprocess.Popen:
    try:
        http.client.HTTPConnection("127.0.0.1", port, timeout=2).connect()
    except OSError:
        pass
    else:  # another server (another run of this benchmark?) would answer our requests
        raise SystemExit(f"port {port} is in use: pass --port")
    threads = str(threads or (40 if db == "postgres" else 128))
    log = open(VAR / f"server-{db}.log", "wb")  # noqa: SIM115 - open while the server runs
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kepuyue.serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--threads",
            threads,
            "--no-access-log",
            *([] if background_process else ["--no-background-process"]),
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 180  # a loaded machine takes a while to import Django twice
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit(f"the server did not start: see {log.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--port", type=int, default=8150)
    parser.add_argument("--pg-database", default=PG_DATABASE, help="dropped and created again")
    parser.add_argument(
        "--var-dir", default="", help=f"static files and the SQLite database (emptied first; default {VAR})"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="per worker (default 128; 40 on PostgreSQL: 2 × (40 + 1 background) connections stay under 100)",
    )
    parser.add_argument("--users", type=int, default=200, help="users racing for the last places")
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--spread-users", type=int, default=2000, help="users booking across the sessions")
    parser.add_argument(
        "--rate", type=float, default=0, help="also: bookings arriving at this steady rate (per second), 10 s"
    )
    parser.add_argument(
        "--no-background-process",
        action="store_true",
        help="ticket e-mails on each worker's own thread (decision 0018), not the background process (0028)",
    )
    args = parser.parse_args()
    if args.var_dir:
        globals()["VAR"] = Path(args.var_dir)
    env = environment(args.db, args.pg_database)
    fresh_database(args.db, env, args.pg_database)
    setup_django(env)
    from django.db import connection

    last_places_users = make_users(args.users, 0)
    activity, [hot] = make_activity(1, capacity=1000, prefilled=950)
    spread_users = make_users(args.spread_users, args.users)
    _, many = make_activity(args.sessions, capacity=5)
    steady_users = make_users(int(args.rate * 10), 10**6) if args.rate else []
    _, roomy = make_activity(50, capacity=1000) if args.rate else (None, [])
    connection.close()

    server = start_server(
        env, args.port, args.db, args.threads, background_process=not args.no_background_process
    )
    try:
        # Warm both workers (imports, templates, connections) before measuring.
        warm_users = make_users(20, args.users + args.spread_users)
        _, [warm] = make_activity(1, capacity=1000)
        connection.close()
        fire(args.port, [(warm.pk, key, i) for i, (_pk, key) in enumerate(warm_users)], 20)

        rows = []
        load_before = os.getloadavg()
        result = measured(server.pid, lambda: ceiling(args.port))
        result.update(oversold=0, scenario="ceiling: GET /healthz, 2,000 requests, 200 at once")
        result["load_average_before"] = load_before
        rows.append(result)
        jobs = [(hot.pk, key, i) for i, (_pk, key) in enumerate(last_places_users)]
        load_before = os.getloadavg()
        result = measured(server.pid, lambda: fire(args.port, jobs, concurrency=len(jobs)))
        result.update(check_not_oversold([hot]))
        assert result["outcomes"].get("booked", 0) == 50 and result["free_places_left"] == 0, result
        result["scenario"] = f"{args.users} users, last 50 places of one session"
        result["load_average_before"] = load_before
        rows.append(result)

        rng = random.Random(12)
        load_before = os.getloadavg()
        jobs = [(rng.choice(many).pk, key, i) for i, (_pk, key) in enumerate(spread_users)]
        result = measured(server.pid, lambda: fire(args.port, jobs, concurrency=200))
        result.update(check_not_oversold(many))
        booked = result["outcomes"].get("booked", 0)
        assert booked == args.sessions * 5 - result["free_places_left"], result
        result["scenario"] = f"{args.spread_users} users over {args.sessions} sessions (200 at once)"
        result["load_average_before"] = load_before
        rows.append(result)

        if args.rate:
            load_before = os.getloadavg()
            jobs = [(roomy[i % len(roomy)].pk, key, i) for i, (_pk, key) in enumerate(steady_users)]
            result = measured(server.pid, lambda: arrive(args.port, jobs, args.rate))
            result.update(check_not_oversold(roomy))
            assert result["outcomes"].get("booked", 0) == len(jobs), result
            result["scenario"] = f"{len(jobs)} users arriving at {args.rate:g}/s over 50 sessions"
            result["load_average_before"] = load_before
            rows.append(result)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    for row in rows:
        row["db"] = args.db
        row["load_average"] = os.getloadavg()
        print(json.dumps(row, ensure_ascii=False))
    print()
    print(
        "| database | scenario | requests | bookings | bookings/s | requests/s | ÷ ceiling | p50 ms | p95 ms "
        "| max ms | server CPU ms/request | all in | of which background process "
        "| client CPU ms/request | oversold | load average before |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    top = rows[0]["requests_per_s"]
    for row in rows:
        booked = "—" if row["scenario"].startswith("ceiling") else row["outcomes"].get("booked", 0)
        per_s = "—" if booked == "—" else row["bookings_per_s"]
        load = " ".join(f"{x:.1f}" for x in row["load_average_before"])
        print(
            f"| {row['db']} | {row['scenario']} | {row['requests']} | {booked} | "
            f"{per_s} | {row['requests_per_s']} | {row['requests_per_s'] / top:.1%} | {row['p50_ms']} "
            f"| {row['p95_ms']} | {row['max_ms']} "
            f"| {round(row['server_cpu_s'] * 1000 / row['requests'], 1)} "
            f"| {round(row['server_cpu_all_in_s'] * 1000 / row['requests'], 1)} "
            f"| {round(row.get('background_cpu_all_in_s', 0) * 1000 / row['requests'], 1)} "
            f"| {round(row['client_cpu_s'] * 1000 / row['requests'], 1)} | {row['oversold']} | {load} |"
        )
    errors = sum(v for row in rows for k, v in row["outcomes"].items() if k.startswith("error"))
    if errors:
        raise SystemExit(f"{errors} requests failed")


if __name__ == "__main__":
    main()
