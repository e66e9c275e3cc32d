"""HTTP benchmark of the shared page cache (issue 17 §1, ADR 0025) at campaign scale.

Serves an existing, seeded database with gunicorn on loopback twice — with the page cache, then
without it (``KEPUYUE_PAGE_CACHE=0``) — and measures with wrk, in one run:

- the ceiling: a trivial Django view (``/healthz``) through the same middleware;
- each public page **cached** (anonymous, after one warming request): req/s, its share of the
  ceiling, p50/p95 ms under ``--connections`` connections;
- each page **cold** (rendered on every request: the cache off), one connection at a time, p50/p95.

The clock is pinned inside the campaign (``--now``), so "ongoing" is the campaign-month case.
Prints a Markdown table with the load average before and after.

    # SQLite: a directory holding kepuyue.sqlite3 (seeded, e.g. by bench/seed_and_query.py)
    .venv/bin/python bench/page_cache.py --db sqlite --var /tmp/pagecache-sqlite
    # PostgreSQL: an existing database on 127.0.0.1:5432
    .venv/bin/python bench/page_cache.py --db postgres --pg-name bench_pagecache

``--redis redis://127.0.0.1:6379/15`` puts the page cache (and sessions) in Redis, as a cluster
does; without it the pages live in files under the var directory (one node). Needs ``wrk``.
The database is migrated first (the run adds nothing else to it).
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

from http_pages import GUNICORN, ROOT, WRK_SCRIPT, free_port, manage, shell, wait_for, wrk  # noqa: E402


def environment(args, var: Path, cached: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL"}}
    env.update(
        {
            "SECRET_KEY": "bench-" + "k" * 40,
            "DEBUG": "0",
            "KEPUYUE_HTTPS": "0",
            "LOG_LEVEL": "WARNING",
            "KEPUYUE_VAR_DIR": str(var),
            "KEPUYUE_NOW": args.now,
            "KEPUYUE_PAGE_CACHE": "1" if cached else "0",
            # The search rate limit would refuse a load test of the search page.
            "KEPUYUE_RATE_LIMITS": "0",
        }
    )
    if args.db == "postgres":
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.pg_name}"
    if args.redis:
        env["REDIS_URL"] = args.redis
    return env


def sample(env: dict[str, str]) -> dict:
    code = (
        "import json\n"
        "from django.db.models import Count\n"
        "from kepuyue.activities.models import Activity\n"
        "from kepuyue.campaigns.services import current_campaign\n"
        "c = current_campaign()\n"
        "qs = Activity.objects.filter(status='published', campaign=c)\n"
        "pair = (qs.exclude(brand=None).values('province_code', 'brand__slug', 'brand__joint_action__slug')"
        ".annotate(n=Count('id')).order_by('-n').first())\n"
        "one = qs.filter(pk__gte=qs.order_by('-id').values_list('id', flat=True).first() // 2)"
        ".order_by('id').values_list('id', flat=True).first()\n"
        "print(json.dumps({'campaign': c.slug, 'province': pair['province_code'], 'brand': pair['brand__slug'],"
        " 'ja': pair['brand__joint_action__slug'], 'id': one, 'rows': Activity.objects.count()}))"
    )
    return json.loads(shell(env, code))


def pages(s: dict) -> list[tuple[str, str]]:
    q = urllib.parse.quote
    return [
        ("home", "/"),
        ("list, page 1", "/activities/"),
        ("list, province + brand", f"/activities/?province={s['province']}&brand={s['brand']}"),
        ("list, ongoing", "/activities/?phase=ongoing"),
        ("search 人工智能", f"/activities/?q={q('人工智能')}"),
        ("search 人工智能 青少年, by relevance", f"/activities/?q={q('人工智能 青少年')}&sort=relevance"),
        ("activity page", f"/activities/{s['id']}/"),
        ("zone", f"/campaigns/{s['campaign']}/zones/{s['ja']}/"),
        ("brand", f"/brands/{s['campaign']}/{s['brand']}/"),
    ]


def serve(env: dict[str, str], workers: int, port: int = 0) -> tuple[subprocess.Popen, str]:
    port = port or free_port()
    server = subprocess.Popen(
        [GUNICORN, "kepuyue.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(base + "/healthz")
    return server, base


def wrk1(url: str, seconds: int, script: str) -> dict:
    """One connection, one thread: each request waits for the last (latency without queueing)."""
    result = subprocess.run(
        ["wrk", "-t1", "-c1", f"-d{seconds}s", "--timeout", "20s", "-s", script, url],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["rps"] = figures["requests"] / figures["seconds"]
    return figures


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - loopback only
        return response.status


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--var", default="", help="SQLite: the directory of kepuyue.sqlite3")
    parser.add_argument("--pg-name", default="bench_pagecache")
    parser.add_argument("--redis", default="", help="e.g. redis://127.0.0.1:6379/15")
    parser.add_argument("--now", default="2025-09-10T10:00+08:00")
    parser.add_argument("--duration", type=int, default=8, help="seconds of load per cached page")
    parser.add_argument("--cold-seconds", type=int, default=6, help="seconds of one-at-a-time cold requests")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=0, help="serve on this port (default: any free one)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    if args.db == "sqlite" and not args.var:
        raise SystemExit("--var DIR (holding kepuyue.sqlite3) is needed for SQLite")
    var = Path(args.var) if args.var else Path(tempfile.mkdtemp(prefix="pagecache-var-"))
    shutil.rmtree(var / "cache" / "pages", ignore_errors=True)

    cached_env, cold_env = environment(args, var, True), environment(args, var, False)
    manage(cached_env, "migrate", "--noinput", "--verbosity", "0")
    manage(cached_env, "collectstatic", "--noinput", "--verbosity", "0")
    s = sample(cached_env)
    plan = pages(s)
    load_before = loadavg()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)

    results: dict[str, dict] = {}
    server, base = serve(cached_env, args.workers, args.port)
    try:
        wrk(base + "/healthz", 2, args.connections, script.name)
        ceiling = wrk(base + "/healthz", args.duration, args.connections, script.name)
        print(f"ceiling: {ceiling['rps']:.0f} req/s", flush=True)
        for name, path in plan:
            assert get(base + path) == 200, path
            results[name] = {"cached": wrk(base + path, args.duration, args.connections, script.name)}
            print(f"{name}: cached {results[name]['cached']['rps']:.0f} req/s", flush=True)
    finally:
        stop(server)

    server, base = serve(cold_env, args.workers, args.port)
    try:
        for name, path in plan:
            # Warm both workers' in-process state (regions, plan) first: cold means the page, not
            # a worker's first request.
            for _ in range(2 * args.workers):
                assert get(base + path) == 200, path
            results[name]["cold"] = wrk1(base + path, args.cold_seconds, script.name)
            print(f"{name}: cold p95 {results[name]['cold']['p95']:.1f} ms", flush=True)
    finally:
        stop(server)
    load_after = loadavg()

    store = "Redis" if args.redis else "files"
    print()
    print(
        f"{args.db}, {s['rows']:,} activities, clock {args.now}, gunicorn {args.workers} workers, page cache in "
        f"{store}; cached: wrk {args.connections} connections × {args.duration} s; cold: 1 connection × "
        f"{args.cold_seconds} s, cache off; load average {load_before} before, {load_after} after"
    )
    print()
    print("| page | cached req/s | % of ceiling | cached p50 / p95 ms | cold p50 / p95 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| trivial Django view (ceiling) | {ceiling['rps']:.0f} | 100% | {ceiling['p50']:.1f} / {ceiling['p95']:.1f} | | |"
    )
    for name, _path in plan:
        c, k = results[name]["cached"], results[name]["cold"]
        errors = c["errors"] + c["non2xx"] + k["errors"] + k["non2xx"]
        print(
            f"| {name} | {c['rps']:.0f} | {c['rps'] / ceiling['rps'] * 100:.0f}% | {c['p50']:.1f} / {c['p95']:.1f} "
            f"| {k['p50']:.1f} / {k['p95']:.1f} | {errors} |"
        )


if __name__ == "__main__":
    sys.exit(main())
