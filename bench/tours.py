"""Tours at the plan's scale (issue 15 part 1): 1,000 vehicles on 1,000 published tours of 30 stops each
(30,000 stops over random counties), then the public tour pages and the dashboard's 百县/千车/万里行
measures timed in-process, beside ``/healthz`` (the ceiling) in the same run.

    .venv/bin/python bench/tours.py [--tours 1000 --stops 30 --runs 30]

Uses a fresh SQLite database under ``var/bench-tours/`` (deleted first). Prints p50/p95 per page in ms,
the queries each page ran, and the load average to write beside the figures in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-tours"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tours", type=int, default=1000)
    parser.add_argument("--stops", type=int, default=30)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "kepuyue.settings",
            "SECRET_KEY": "bench",
            "KEPUYUE_VAR_DIR": str(VAR),
            "KEPUYUE_NOW": "2025-09-25T10:00+08:00",
            "KEPUYUE_HTTPS": "0",
            "KEPUYUE_RATE_LIMITS": "0",
            "DASHBOARD_CACHE_SECONDS": "0",
        }
    )
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = ["*"]
    # No collectstatic here: plain static URLs (the pages' cost is the same).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.DASHBOARD_CACHE_SECONDS = 0
    call_command("migrate", verbosity=0)
    call_command("load_regions", verbosity=0)
    call_command("load_campaign", str(ROOT / "campaigns/kepuyue-2025.yaml"), verbosity=0)
    from kepuyue.campaigns.models import Campaign
    from kepuyue.dashboard.measures import target_progress
    from kepuyue.orgs.models import Organization
    from kepuyue.regions.models import Region
    from kepuyue.tours import services
    from kepuyue.tours.models import Stop, Tour, Vehicle, VenueKind

    campaign = Campaign.objects.get(slug="kepuyue-2025")
    rng = random.Random(15)
    counties = list(Region.objects.filter(level=3, is_official=True).exclude(longitude=None))
    provinces = {r.code: r for r in Region.objects.filter(level=1)}
    started = time.perf_counter()
    units = Organization.objects.bulk_create(
        [Organization(name=f"运行单位{i}", type_id="science_museum") for i in range(args.tours // 10 or 1)]
    )
    vehicles = Vehicle.objects.bulk_create(
        [
            Vehicle(
                kind="caravan" if i % 4 else "museum",
                name=f"车{i}",
                plate=f"京A{i:05d}" if i % 4 else "",
                theme="" if i % 4 else "航空航天科学",
                operator=units[i % len(units)],
                province=provinces["110000"],
            )
            for i in range(args.tours)
        ]
    )
    tours = Tour.objects.bulk_create(
        [
            Tour(
                campaign=campaign,
                operator=v.operator,
                vehicle=v,
                title=f"巡展{i}",
                status="published",
            )
            for i, v in enumerate(vehicles)
        ]
    )
    kinds = list(VenueKind.values)
    stops = []
    for tour in tours:
        base = rng.choice(counties)
        near = [c for c in counties if c.province_code == base.province_code] or counties
        for n in range(args.stops):
            stops.append(
                Stop(
                    tour=tour,
                    position=n + 1,
                    date=date(2025, 9, 1) + timedelta(days=n % 30),
                    region=rng.choice(near),
                    venue_kind=rng.choice(kinds),
                )
            )
    Stop.objects.bulk_create(stops, batch_size=2000)
    for tour in tours:  # the summaries, as services.recompute writes them (in bulk here)
        rows = [s for s in stops if s.tour_id == tour.pk]
        rows.sort(key=lambda s: (s.date, s.position))
        legs = services.leg_lengths([s.region for s in rows])
        tour.distance_km = Decimal(str(round(sum(x for x in legs if x), 1)))
        tour.county_count = len({s.region_id for s in rows})
        tour.stop_count = len(rows)
        tour.starts_on, tour.ends_on = rows[0].date, rows[-1].date
    Tour.objects.bulk_update(
        tours, ["distance_km", "county_count", "stop_count", "starts_on", "ends_on"], batch_size=500
    )
    print(f"seeded {len(tours)} tours, {len(stops)} stops in {time.perf_counter() - started:.1f} s")

    client = Client()

    def timed(label: str, call) -> None:
        samples = []
        with CaptureQueriesContext(connection) as ctx:
            call()
        queries = len(ctx.captured_queries)
        for _ in range(args.runs):
            t0 = time.perf_counter()
            call()
            samples.append((time.perf_counter() - t0) * 1000)
        samples.sort()
        p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
        print(f"| {label} | {statistics.median(samples):.1f} | {p95:.1f} | {queries} |")

    def get(url):
        def call():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return call

    print(f"load average: {os.getloadavg()}")
    print("| what | p50 ms | p95 ms | queries |")
    print("|---|---|---|---|")
    timed("/healthz (ceiling)", get("/healthz"))
    timed("/tours/ (list, totals)", get("/tours/"))
    timed("/tours/?page=20", get("/tours/?page=20"))
    timed(f"/tours/<id>/ ({args.stops} stops)", get(f"/tours/{tours[len(tours) // 2].pk}/"))
    timed("百县/千车/万里 totals (services.totals)", lambda: services.totals(campaign))
    timed("all targets (dashboard.measures)", lambda: target_progress(campaign))
    timed("/dashboard/ (uncached)", get("/dashboard/"))
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
