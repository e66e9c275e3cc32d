"""Staff pages at campaign scale (issue 9 class 7): p50/p95 of each staff list through the Django test client.

Works on the database ``bench/seed_and_query.py`` filled (``--activities 500000``). Creates bench
accounts with their roles — CAST, the platform administrators of 广东省 (440000), 广州市 (440100) and of
a national society with no unit under it (an empty scope), a joint-action manager, the publisher of the bench unit with the
most activities, a superuser — signs each in (with the second factor, as a real sign-in leaves it),
and times each staff page in-process (middleware, view, templates, SQL; no HTTP server) beside the
trivial ``/healthz`` view in the same run. Each page's first request is timed on its own ("first"),
then ``--runs`` more give p50 and p95. ``--export`` also runs CAST's ``.xlsx`` export job of every
activity in scope (the background job's total time, measured in this process) and its ``.csv``.
``--cold`` times the public region pages in a fresh process each (cold caches, cold region index,
template not compiled; the process has served only ``/healthz``).

    KEPUYUE_VAR_DIR=/tmp/staffperf-sqlite .venv/bin/python bench/seed_and_query.py --activities 500000
    KEPUYUE_VAR_DIR=/tmp/staffperf-sqlite .venv/bin/python bench/staff_pages.py --export --cold
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_staffperf .venv/bin/python bench/staff_pages.py --export --cold

Prints a Markdown table (milliseconds) and the query count of each page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepuyue.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 40)
os.environ.setdefault("KEPUYUE_HTTPS", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
if not os.environ.get("DATABASE_URL"):
    os.environ.setdefault("KEPUYUE_VAR_DIR", str(ROOT / "var" / "bench-sqlite"))
if os.environ.get("DATABASE_URL", "").rstrip("/").endswith("/test"):
    sys.exit("refusing to benchmark in the test database")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from kepuyue.activities.models import Activity, Status  # noqa: E402
from kepuyue.campaigns.models import Campaign  # noqa: E402
from kepuyue.orgs.models import Membership, Organization  # noqa: E402
from kepuyue.roles.models import Role, RoleGrant  # noqa: E402


def signed_in(user) -> Client:
    """A test client signed in as ``user`` with a TOTP-verified session (as tests/fixtures_accounts)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="bench", confirmed=True
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def accounts(campaign: Campaign) -> dict:
    User = get_user_model()  # noqa: N806
    # An administrator whose review scope holds no unit with an activity: a national society of its own
    # (the "empty scope" of the issue; a province always holds some of the 5,000 bench units).
    society, _ = Organization.objects.get_or_create(
        name="基准测试空学会", defaults={"type_id": "national_society"}
    )
    busiest = (
        Activity.objects.filter(campaign=campaign)
        .values("organizer")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    grants = {
        "cast": {"role": Role.CAST_ADMIN},
        "province": {"role": Role.PLATFORM_ADMIN, "region_id": "440000"},
        "prefecture": {"role": Role.PLATFORM_ADMIN, "region_id": "440100"},
        "empty_scope": {"role": Role.PLATFORM_ADMIN, "organization": society},
        "manager": {"role": Role.JOINT_ACTION_MANAGER, "joint_action": campaign.joint_actions.get(number=5)},
        "publisher": None,
        "superuser": None,
    }
    users = {}
    for name, grant in grants.items():
        user, _ = User.objects.get_or_create(username=f"bench-staff-{name}")
        if grant:
            RoleGrant.objects.get_or_create(user=user, **grant)
        if name == "publisher":
            Membership.objects.get_or_create(user=user, defaults={"organization_id": busiest["organizer"]})
        if name == "superuser" and not user.is_superuser:
            user.is_superuser = user.is_staff = True
            user.save(update_fields=["is_superuser", "is_staff"])
        users[name] = user
    return users


def measure(client: Client, path: str, runs: int) -> tuple[float, float, float, float, int, int]:
    """(first ms, p50 ms, p95 ms, p50 CPU ms of this process, queries, status) of ``runs`` GETs of
    ``path``. The CPU column is what the page costs this process (on SQLite the queries too),
    whatever the neighbours on the machine take: wall time divided by it shows the load."""
    started = time.perf_counter()
    response = client.get(path)
    first = (time.perf_counter() - started) * 1000
    samples, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(path)
        if hasattr(response, "streaming_content"):
            for _chunk in response.streaming_content:
                pass
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return (
        first,
        statistics.median(samples),
        p95,
        statistics.median(cpu),
        len(queries.captured_queries),
        response.status_code,
    )


def export_job(user, fmt: str) -> tuple[float, int, int]:
    """Run ``user``'s export of every activity in scope as the background job does (in this
    process): (seconds, rows, bytes)."""
    from kepuyue.activities import export_jobs

    started = time.perf_counter()
    campaign = Campaign.objects.order_by("-starts").first()
    job = export_jobs.start_export(
        user,
        kind=export_jobs.Kind.SCOPE,
        fmt=fmt,
        params={},
        filename=f"bench.{fmt}",
        campaign=campaign,
        run=False,
    )
    export_jobs.run_export(job.pk)
    job.refresh_from_db()
    seconds = time.perf_counter() - started
    size = job.file.size if job.file else 0
    if job.state != export_jobs.ExportJob.State.DONE:
        print(f"export {fmt} ended {job.state}: {job.error}", file=sys.stderr)
    export_jobs.delete_job(job)
    return seconds, job.total, size


def cold_region(code: str) -> float:
    """Milliseconds of the first ``/region/<code>/`` request of a fresh process: ``kepuyue.wsgi``
    loaded (as a started worker, with its warm-up) and one trivial request served, the cache empty,
    no region index built."""
    code_ = (
        "import time,os,django;django.setup();from django.conf import settings;import kepuyue.wsgi;"
        "settings.STORAGES={**settings.STORAGES,'staticfiles':"
        "{'BACKEND':'django.contrib.staticfiles.storage.StaticFilesStorage'}};"
        "from django.test import Client;from django.core.cache import cache;c=Client();"
        "c.get('/healthz');cache.clear();"
        f"t=time.perf_counter();r=c.get('/region/{code}/');"
        "print((time.perf_counter()-t)*1000, r.status_code)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run(
        [sys.executable, "-c", code_], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    ms, status = out.stdout.strip().splitlines()[-1].split()
    assert status == "200", out
    return float(ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--export", action="store_true", help="time CAST's export jobs (.xlsx, .csv)")
    parser.add_argument("--cold", action="store_true", help="time cold region pages in fresh processes")
    parser.add_argument("--only", default="", help="only pages whose label contains this text")
    args = parser.parse_args()
    from django.core.cache import cache

    campaign = Campaign.objects.order_by("-starts").first()
    total = Activity.objects.count()
    if total < 1000:
        sys.exit("run bench/seed_and_query.py first (e.g. --activities 500000)")
    # Recommendations are open in the plan until Aug 20: pin the clock there.
    settings.KEPUYUE_NOW = "2025-08-15T10:00+08:00"
    settings.RATELIMIT_ENABLE = False
    # No collectstatic for an in-process run: plain static URLs instead of the hashed manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    users = accounts(campaign)
    clients = {name: signed_in(user) for name, user in users.items()}
    anonymous = Client()
    ja = campaign.joint_actions.get(number=5)
    some = Activity.objects.filter(campaign=campaign, status=Status.PUBLISHED).order_by("id").first()
    pages = [
        ("healthz (framework ceiling)", anonymous, "/healthz"),
        ("review queue, CAST", clients["cast"], "/org/review/"),
        ("review queue, province 440000", clients["province"], "/org/review/"),
        ("review queue, prefecture 440100", clients["prefecture"], "/org/review/"),
        ("review queue, empty scope (society)", clients["empty_scope"], "/org/review/"),
        ("review queue page 50, CAST", clients["cast"], "/org/review/?page=50"),
        ("review queue by joint action, CAST", clients["cast"], f"/org/review/?joint_action={ja.slug}"),
        ("published list, CAST", clients["cast"], "/org/review/published/"),
        ("published list page 200, CAST", clients["cast"], "/org/review/published/?page=200"),
        ("published list, province 440000", clients["province"], "/org/review/published/"),
        ("published list, empty scope (society)", clients["empty_scope"], "/org/review/published/"),
        (
            "published list recommended only, province",
            clients["province"],
            "/org/review/published/?recommended=1",
        ),
        ("featuring (重点呈现), CAST", clients["cast"], "/org/review/featuring/"),
        ("featuring (重点呈现), manager", clients["manager"], "/org/review/featuring/"),
        ("audit log, CAST", clients["cast"], "/org/review/audit/"),
        ("unit's activities", clients["publisher"], "/org/activities/"),
        ("unit's activities, published", clients["publisher"], "/org/activities/?status=published"),
        ("admin: activities", clients["superuser"], "/admin/activities/activity/"),
        (
            "admin: activities, search",
            clients["superuser"],
            "/admin/activities/activity/?q=%E7%A7%91%E6%8A%80",
        ),
        (
            "admin: activities, status filter",
            clients["superuser"],
            "/admin/activities/activity/?status__exact=submitted",
        ),
        ("admin: organizations", clients["superuser"], "/admin/orgs/organization/"),
        ("admin: users", clients["superuser"], "/admin/auth/user/"),
        ("admin: entries", clients["superuser"], "/admin/calls/entry/"),
        ("region page 440000 (warm)", anonymous, "/region/440000/"),
        ("region page 440106 (warm)", anonymous, "/region/440106/"),
        ("public activity", anonymous, f"/activities/{some.pk}/"),
    ]
    if args.only:
        pages = [p for p in pages if args.only in p[0]]
    cache.clear()
    published = Activity.objects.filter(status=Status.PUBLISHED).count()
    print(
        f"\n{connection.vendor}, {total:,} activities ({published:,} published); {args.runs} runs each, "
        f"in-process test client; load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
        f"{os.getloadavg()[2]:.2f}\n"
    )
    print("| page | first ms | p50 ms | p95 ms | CPU p50 ms | queries | status |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, client, path in pages:
        first, p50, p95, cpu, queries, status = measure(client, path, args.runs)
        print(
            f"| {label} | {first:.0f} | {p50:.1f} | {p95:.1f} | {cpu:.1f} | {queries} | {status} |",
            flush=True,
        )
    if args.cold:
        print("\n| cold region page (fresh process, first request) | ms |\n|---|---:|")
        for code in ("440000", "440100", "440106", "110000", "820000"):
            print(f"| /region/{code}/ | {cold_region(code):.0f} |", flush=True)
    if args.export:
        print(
            "\n| export job, CAST, every activity in scope | seconds | rows | bytes |\n|---|---:|---:|---:|"
        )
        for fmt in ("xlsx", "csv"):
            seconds, rows, size = export_job(users["cast"], fmt)
            print(f"| {fmt} | {seconds:.1f} | {rows:,} | {size:,} |", flush=True)
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
