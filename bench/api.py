"""HTTP benchmark of the open API at campaign scale (issue 16), on SQLite or PostgreSQL.

Reuses ``bench/http_pages.py``: seeds the database to N activities (``manage.py seed_demo``) if it
has fewer, serves it with gunicorn on loopback (port 8174 by default) and loads each operation with
wrk beside ``/healthz`` (the framework ceiling, same server, same run):

- ``/api/v1/activities`` page 1 (20 cards), a province + brand filter, a deep keyset cursor (the
  cursor of page 500, made by ``activities.listing.list_activities``), and one activity's detail.

    .venv/bin/python bench/api.py --db sqlite   --activities 500000
    .venv/bin/python bench/api.py --db postgres --activities 500000
    .venv/bin/python bench/api.py --db sqlite   --activities 500000 --read-cache-seconds 0   # uncached

Anonymous reads are rate-limited; the server runs with ``KEPUYUE_RATE_LIMITS=0`` so the figures are
the operations', not the limiter's. Anonymous lists and details are cached under the change feed's
latest row (``KEPUYUE_API_READ_CACHE_SECONDS``, default 30; ``--read-cache-seconds 0`` measures the
uncached path). ``KEPUYUE_BENCH_DATABASE_URL`` / ``KEPUYUE_BENCH_VAR_DIR`` choose the database (with PostgreSQL,
``KEPUYUE_BENCH_VAR_DIR`` still keeps static files and file caches out of the worktree's ``var/``).
Targets (issue 16): ≥ 30% of the ceiling's req/s, p95 ≤ 50 ms. Writes: ``bench/api_writes.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_pages import (  # noqa: E402 - the sibling module, found through sys.path
    GUNICORN,
    ROOT,
    WRK_SCRIPT,
    ensure_postgres_database,
    environment,
    prepare,
    shell,
    wait_for,
    wrk,
)

DEEP_CURSOR = (
    "from kepuyue.activities.listing import ActivityFilter, list_activities\n"
    "from kepuyue.campaigns.services import current_campaign\n"
    "from kepuyue.campaigns.models import Campaign\n"
    "campaign = current_campaign() or Campaign.objects.order_by('-starts').first()\n"
    "print(list_activities(ActivityFilter(), campaign=campaign, page=500).next_cursor)"
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--activities", type=int, default=500_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per operation")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=8, help="seconds of load before each measured one")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8174)
    parser.add_argument("--read-cache-seconds", type=int, default=None, help="KEPUYUE_API_READ_CACHE_SECONDS")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    env = environment(args.db)
    if args.db == "postgres" and os.environ.get("KEPUYUE_BENCH_VAR_DIR"):
        env["KEPUYUE_VAR_DIR"] = os.environ[
            "KEPUYUE_BENCH_VAR_DIR"
        ]  # static files, caches: not the worktree's var/
    env["KEPUYUE_RATE_LIMITS"] = "0"
    if args.read_cache_seconds is not None:
        env["KEPUYUE_API_READ_CACHE_SECONDS"] = str(args.read_cache_seconds)
    if args.db == "postgres":
        ensure_postgres_database()
    sample = prepare(env, args.activities)
    # seed_demo writes with bulk statements (no signals): give the change feed its rows, as
    # production data has them (the read cache keys on the feed's latest row).
    print(
        shell(env, "from kepuyue.api.changes import backfill; print(backfill())"),
        "feed rows added",
        flush=True,
    )
    cursor = shell(env, DEEP_CURSOR)
    base = f"http://127.0.0.1:{args.port}"
    quote = urllib.parse.quote
    operations = [
        ("trivial Django view (ceiling)", "/healthz"),
        ("activities, page 1", "/api/v1/activities"),
        (
            "activities, province + brand",
            f"/api/v1/activities?province={sample['province']}&brand={sample['brand']}",
        ),
        ("activities, deep cursor (page 501)", f"/api/v1/activities?cursor={quote(cursor)}"),
        ("activity detail", f"/api/v1/activities/{sample['id']}"),
        ("dashboard figures", "/api/v1/dashboard"),
    ]
    server = subprocess.Popen(
        [GUNICORN, "kepuyue.wsgi", "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = []
    try:
        wait_for(base + "/healthz")
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_SCRIPT)
        for name, path in operations:
            with urllib.request.urlopen(base + path, timeout=30) as response:  # noqa: S310 - loopback
                assert response.status == 200, (path, response.status)
                if path.startswith("/api/"):
                    body = json.loads(response.read())
                    assert body.get("items") or body.get("id") or body.get("totals"), path
            # Warm-up. The dashboard's figures are computed once per worker and cache period (every
            # roll-up read: seconds at 500,000 under load) — 2 s left one worker computing inside
            # the measured window, so it warms longer.
            warmup = max(args.warmup, 20) if path.startswith("/api/v1/dashboard") else args.warmup
            wrk(base + path, warmup, args.connections, script.name)
            rows.append((name, wrk(base + path, args.duration, args.connections, script.name)))
            print(f"{name}: {rows[-1][1]['rps']:.0f} req/s", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(60)  # a loaded machine can take a while to stop two workers
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    ceiling = rows[0][1]["rps"]
    load = Path("/proc/loadavg").read_text().split()[:3]
    print()
    print(f"load average after the run: {' / '.join(load)}")
    print(
        f"{args.db}, {sample['rows']:,} activities, gunicorn {args.workers} workers, "
        f"wrk {args.connections} connections × {args.duration} s, read cache "
        f"{'default (30 s)' if args.read_cache_seconds is None else f'{args.read_cache_seconds} s'}"
    )
    print()
    print("| operation | req/s | % of ceiling | p50 ms | p95 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, f in rows:
        share = f["rps"] / ceiling * 100
        print(
            f"| {name} | {f['rps']:.0f} | {share:.0f}% | {f['p50']:.1f} | {f['p95']:.1f} "
            f"| {f['errors'] + f['non2xx']} |"
        )


if __name__ == "__main__":
    sys.exit(main())
