"""Dashboard at campaign scale (issue 13): public dashboard, map levels and staff dashboards over HTTP.

Seeds the database with ``bench/seed_and_query.py`` (N synthetic activities, 92% published, bulk
inserts that bypass the roll-ups), times ``manage.py rebuild_rollups`` from scratch, measures the map
JSON per level (bytes, and gzipped), creates a CAST and a province (广东省) administrator with
OTP-verified sessions, serves the site with gunicorn on loopback and measures with wrk: req/s,
p50/p95 ms of ``/dashboard/``, a province's map level, ``/org/dashboard/`` for CAST and for the
province, beside ``/healthz`` (the framework ceiling) in the same run. Prints Markdown.

    .venv/bin/python bench/dashboard.py --db sqlite --activities 500000     # /tmp/bench-dash-sqlite
    .venv/bin/python bench/dashboard.py --db postgres --activities 500000   # database bench_dash

Needs ``wrk`` (``apt-get install wrk``). The machine is shared: record ``uptime`` beside the figures.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE))

from http_pages import GUNICORN, PY, ROOT, WRK_SCRIPT, free_port, wait_for, wrk  # noqa: E402

PG_URL = "postgres://postgres@127.0.0.1:5432/bench_dash"
SQLITE_DIR = "/tmp/bench-dash-sqlite"  # noqa: S108 - the brief asks for /tmp; a bench, not a service

ACCOUNTS = """
import json
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore as DbStore
from django.conf import settings
from importlib import import_module
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from kepuyue.regions.models import Region
from kepuyue.roles.models import RoleGrant
from kepuyue.orgs.models import Organization
User = get_user_model()
store = import_module(settings.SESSION_ENGINE).SessionStore
# The synthetic units get the province of their county name's region? They have none: give them one.
keys = {}
for name, grant in (("bench-dash-cast", {"role": "cast_admin"}),
                    ("bench-dash-gd", {"role": "platform_admin", "region": Region.objects.get(pk="440000")})):
    user, _ = User.objects.get_or_create(username=name)
    RoleGrant.objects.get_or_create(user=user, **grant)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="bench", confirmed=True)
    s = store()
    s["_auth_user_id"] = str(user.pk)
    s["_auth_user_backend"] = "kepuyue.accounts.backends.ModelBackend"
    s["_auth_user_hash"] = user.get_session_auth_hash()
    s[DEVICE_ID_SESSION_KEY] = device.persistent_id
    s.create()
    keys[name] = s.session_key
print(json.dumps(keys))
"""


def environment(db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL"}}
    env.update(
        {
            "SECRET_KEY": "bench-" + "k" * 40,
            "DEBUG": "0",
            "KEPUYUE_HTTPS": "0",
            "LOG_LEVEL": "WARNING",
            # The campaign month: the dashboards show the running campaign.
            "KEPUYUE_NOW": "2025-09-20T10:00:00+08:00",
        }
    )
    if db == "postgres":
        env["DATABASE_URL"] = PG_URL
    else:
        env["KEPUYUE_VAR_DIR"] = SQLITE_DIR
    return env


def run(env, *args, capture=True) -> str:
    result = subprocess.run([PY, *args], cwd=ROOT, env=env, check=True, text=True, capture_output=capture)
    return result.stdout if capture else ""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--activities", type=int, default=500_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-seed", action="store_true", help="use the rows already there")
    parser.add_argument("--skip-rebuild", action="store_true", help="keep the roll-ups already built")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: any free one)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    env = environment(args.db)
    if args.db == "postgres":
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", "bench_dash"], capture_output=True, check=False
        )
    started = time.perf_counter()
    if not args.skip_seed:
        # Seeds (bulk inserts: no roll-ups) and prints its own query table, which is not needed here.
        run(
            env,
            str(HERE / "seed_and_query.py"),
            "--activities",
            str(args.activities),
            "--repeat",
            "1",
            capture=True,
        )
        print(f"seeded / checked in {time.perf_counter() - started:.0f} s", flush=True)
    # A database seeded by an older checkout gets this one's tables (e.g. new roll-ups).
    run(env, "manage.py", "migrate", "--noinput", "--verbosity", "0")
    # Give the synthetic units their county (the staff scope follows the unit's region).
    run(
        env,
        "manage.py",
        "shell",
        "--no-imports",
        "-c",
        "from django.db import connection\n"
        "from kepuyue.orgs.models import Organization\n"
        "from kepuyue.activities.models import Activity\n"
        "rows = dict(Activity.objects.filter(organizer__region__isnull=True, organizer__name__startswith='基准测试')"
        ".values_list('organizer_id', 'region_id').distinct().order_by())\n"
        "for org, region in rows.items(): Organization.objects.filter(pk=org).update(region_id=region)\n",
    )
    if args.skip_rebuild:
        code = "from kepuyue.dashboard.models import Fact; print(Fact.objects.count())"
        counted = int(run(env, "manage.py", "shell", "--no-imports", "-c", code).split()[-1])
        rebuild_s = float("nan")
    else:
        out = run(env, "manage.py", "rebuild_rollups")
        rebuild = re.search(r"已重新统计 (\d+) 个已发布活动，用时 ([\d.]+) 秒", out)
        counted, rebuild_s = int(rebuild.group(1)), float(rebuild.group(2))
        print(out.strip(), flush=True)
    run(env, "manage.py", "collectstatic", "--noinput", "--verbosity", "0")
    keys = json.loads(run(env, "manage.py", "shell", "--no-imports", "-c", ACCOUNTS).strip().splitlines()[-1])

    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [GUNICORN, "kepuyue.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cookie = "sessionid"
    pages = [
        ("trivial Django view (ceiling)", "/healthz", None),
        ("/dashboard/", "/dashboard/", None),
        ("map, China (provinces)", "/dashboard/map.json", None),
        ("map, 广东省 (prefectures)", "/dashboard/map.json?region=440000", None),
        ("map, 广州市 (counties)", "/dashboard/map.json?region=440100", None),
        ("/org/dashboard/ CAST", "/org/dashboard/", keys["bench-dash-cast"]),
        ("/org/dashboard/ 广东省", "/org/dashboard/", keys["bench-dash-gd"]),
    ]
    rows, sizes, colds = [], [], []
    try:
        wait_for(base + "/healthz")
        for name, path, session in pages:
            request = urllib.request.Request(base + path)  # noqa: S310 - loopback only
            if session:
                request.add_header("Cookie", f"{cookie}={session}")
            first = time.perf_counter()
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - loopback only
                body = response.read()
                assert response.status == 200 and (not session or b"login" not in response.url.encode()), path
            colds.append((name, (time.perf_counter() - first) * 1000))
            if path.startswith("/dashboard/map.json"):
                sizes.append((name, len(body), len(gzip.compress(body))))
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
                header = f'wrk.headers["Cookie"] = "{cookie}={session}"\n' if session else ""
                script.write(header + WRK_SCRIPT)
            wrk(base + path, 2, args.connections, script.name)  # warm-up
            rows.append((name, wrk(base + path, args.duration, args.connections, script.name)))
            print(f"{name}: {rows[-1][1]['rps']:.0f} req/s, p95 {rows[-1][1]['p95']:.1f} ms", flush=True)
    finally:
        server.terminate()
        server.wait(10)
    load = os.getloadavg()
    ceiling = rows[0][1]["rps"]
    print()
    print(
        f"{args.db}, {counted:,} published activities counted, gunicorn {args.workers} workers, "
        f"wrk {args.connections} connections × {args.duration} s; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print()
    print(f"rebuild_rollups from scratch: {rebuild_s:.1f} s")
    print()
    print("| page | req/s | % of ceiling | p50 ms | p95 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, f in rows:
        print(
            f"| {name} | {f['rps']:.0f} | {f['rps'] / ceiling * 100:.0f}% | {f['p50']:.1f} | {f['p95']:.1f} "
            f"| {f['errors'] + f['non2xx']} |"
        )
    print()
    print("| first request (cold: figures computed, nothing cached) | ms |")
    print("|---|---:|")
    for name, ms in colds:
        print(f"| {name} | {ms:.0f} |")
    print()
    print("| map JSON level | bytes | gzipped |")
    print("|---|---:|---:|")
    for name, raw, packed in sizes:
        print(f"| {name} | {raw:,} | {packed:,} |")


if __name__ == "__main__":
    sys.exit(main())
