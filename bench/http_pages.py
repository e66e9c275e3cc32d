"""HTTP benchmark of the public pages at campaign scale, on SQLite or PostgreSQL.

Seeds the database to N activities (``manage.py seed_demo``) if it has fewer, serves it with
gunicorn (2 workers, as `make run` does) on loopback, and measures each page with wrk: requests
per second and p50/p95 latency in milliseconds, next to a trivial Django view (``/healthz``) on the
same server, the framework ceiling. Prints a Markdown table for BENCHMARKS.md.

    .venv/bin/python bench/http_pages.py --db sqlite --activities 500000
    .venv/bin/python bench/http_pages.py --db postgres --activities 500000

Needs ``wrk`` (Debian: ``apt-get install wrk``). The PostgreSQL run uses the database
``kepuyue_bench`` on 127.0.0.1:5432 (created if missing), never the test database.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
PG_URL = "postgres://postgres@127.0.0.1:5432/kepuyue_bench"

# wrk reports latency in microseconds; this prints the figures as one JSON line at the end.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %f, "p50": %f, "p95": %f, "errors": %d, "non2xx": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def environment(db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL"}}
    env.update(
        {"SECRET_KEY": "bench-" + "k" * 40, "DEBUG": "0", "KEPUYUE_HTTPS": "0", "LOG_LEVEL": "WARNING"}
    )
    # KEPUYUE_BENCH_DATABASE_URL / KEPUYUE_BENCH_VAR_DIR point a run at another database (one per
    # person on a shared machine); the defaults are kepuyue_bench and var/bench-sqlite.
    if db == "postgres":
        env["DATABASE_URL"] = os.environ.get("KEPUYUE_BENCH_DATABASE_URL", PG_URL)
    else:
        env["KEPUYUE_VAR_DIR"] = os.environ.get("KEPUYUE_BENCH_VAR_DIR", str(ROOT / "var" / "bench-sqlite"))
    return env


def manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=True, text=True, capture_output=capture
    )
    return result.stdout if capture else ""


def shell(env: dict[str, str], code: str) -> str:
    return manage(env, "shell", "--no-imports", "-c", code, capture=True).strip().splitlines()[-1]


def ensure_postgres_database() -> None:
    name = os.environ.get("KEPUYUE_BENCH_DATABASE_URL", PG_URL).rsplit("/", 1)[-1]
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], capture_output=True, check=False)


def prepare(env: dict[str, str], activities: int) -> dict[str, str]:
    """Migrate, load the plan and regions, seed to ``activities`` rows; return sample URL parts."""
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    manage(env, "load_regions")
    manage(env, "load_campaign", str(ROOT / "campaigns" / "kepuyue-2025.yaml"))
    have = int(shell(env, "from kepuyue.activities.models import Activity; print(Activity.objects.count())"))
    if have < activities:
        started = time.perf_counter()
        manage(env, "seed_demo", "--activities", str(activities - have))
        print(f"seeded {activities - have} activities in {time.perf_counter() - started:.0f} s", flush=True)
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    sample = shell(
        env,
        "import json\n"
        "from django.db.models import Count\n"
        "from kepuyue.activities.models import Activity\n"
        "qs = Activity.objects.filter(status='published')\n"
        "pair = (qs.exclude(brand=None).values('province_code', 'brand__slug')"
        ".annotate(n=Count('id')).order_by('-n').first())\n"
        "one = qs.order_by('id').values_list('id', flat=True)[qs.count() // 2]\n"
        "print(json.dumps({'province': pair['province_code'], 'brand': pair['brand__slug'], 'id': one,"
        " 'rows': Activity.objects.count()}))",
    )
    return json.loads(sample.splitlines()[-1])


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server did not answer {url}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url: str, seconds: int, connections: int, script: str) -> dict:
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script, url],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["rps"] = figures["requests"] / figures["seconds"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--activities", type=int, default=500_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    env = environment(args.db)
    if args.db == "postgres":
        ensure_postgres_database()
    sample = prepare(env, args.activities)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    q = urllib.parse.quote("人工智能")
    pages = [
        ("trivial Django view (ceiling)", "/healthz"),
        ("home", "/"),
        ("list, page 1", "/activities/"),
        ("list, province + brand", f"/activities/?province={sample['province']}&brand={sample['brand']}"),
        ("search 人工智能", f"/activities/?q={q}"),
        ("list, page 500", "/activities/?page=500"),
        ("activity page", f"/activities/{sample['id']}/"),
    ]
    server = subprocess.Popen(
        [GUNICORN, "kepuyue.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)],
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
        for name, path in pages:
            with urllib.request.urlopen(base + path, timeout=30) as response:  # noqa: S310 - loopback
                assert response.status == 200, (path, response.status)
            wrk(base + path, 2, args.connections, script.name)  # warm-up
            rows.append((name, path, wrk(base + path, args.duration, args.connections, script.name)))
            print(f"{name}: {rows[-1][2]['rps']:.0f} req/s", flush=True)
    finally:
        server.terminate()
        server.wait(10)

    ceiling = rows[0][2]["rps"]
    print()
    print(
        f"{args.db}, {sample['rows']:,} activities, gunicorn {args.workers} workers, "
        f"wrk {args.connections} connections × {args.duration} s"
    )
    print()
    print("| page | req/s | % of ceiling | p50 ms | p95 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, _path, f in rows:
        share = f["rps"] / ceiling * 100
        print(
            f"| {name} | {f['rps']:.0f} | {share:.0f}% | {f['p50']:.1f} | {f['p95']:.1f} "
            f"| {f['errors'] + f['non2xx']} |"
        )


if __name__ == "__main__":
    sys.exit(main())
