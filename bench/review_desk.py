"""Scale check of the review desk's queries at campaign size (not a timed test, not HTTP).

Works on the database ``bench/seed_and_query.py`` filled (run that first, e.g. with
``--activities 500000``: 92% published, 5% submitted, 3% drafts). Gives its synthetic organizers
(``基准测试…``) a county and the science-museum type where they have none, dates the submitted rows
(``submitted_at`` up to 10 days back), and creates bench accounts with roles: the platform
administrator of 广东省 (440000), of 广州市 (440100, delegated), a joint-action manager and CAST.
Then times, in-process, what the desk runs: the queue page (30 rows with their joins) and its count,
the queue filtered by joint action, the published list for recommending and its count, the quota
table, one recommendation (and its withdrawal), the featured query of the home page, the scope's
visible activities count, and the overdue-queue scan of the reminders. Prints a Markdown table
(median and p95, milliseconds).

    .venv/bin/python bench/seed_and_query.py --activities 500000
    .venv/bin/python bench/review_desk.py
    # PostgreSQL:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kepuyue_bench .venv/bin/python bench/review_desk.py
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepuyue.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 40)
if not os.environ.get("DATABASE_URL"):
    os.environ.setdefault("KEPUYUE_VAR_DIR", str(ROOT / "var" / "bench-sqlite"))
if os.environ.get("DATABASE_URL", "").rstrip("/").endswith("/test"):
    sys.exit("refusing to benchmark in the test database; use kepuyue_bench")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Q  # noqa: E402

from kepuyue.activities import rules as activity_rules  # noqa: E402
from kepuyue.activities.models import Activity, Status  # noqa: E402
from kepuyue.campaigns.models import Campaign  # noqa: E402
from kepuyue.common import clock  # noqa: E402
from kepuyue.orgs.models import Organization  # noqa: E402
from kepuyue.portal.activity_display import featured  # noqa: E402
from kepuyue.regions.models import Level, Region  # noqa: E402
from kepuyue.review import services as review  # noqa: E402
from kepuyue.roles import services as roles  # noqa: E402
from kepuyue.roles.models import Role, RoleGrant  # noqa: E402

PAGE = 30


def prepare(campaign: Campaign) -> dict:
    rng = random.Random(2025)
    counties = list(Region.objects.filter(level=Level.COUNTY).values_list("code", flat=True))
    orgs = list(Organization.objects.filter(name__startswith="基准测试", region__isnull=True))
    for org in orgs:
        org.region_id = rng.choice(counties)
        org.type_id = "science_museum"
    Organization.objects.bulk_update(orgs, ["region", "type"], batch_size=2000)
    now = clock.now()
    undated = list(
        Activity.objects.filter(status=Status.SUBMITTED)
        .filter(Q(submitted_at__isnull=True) | Q(submitted_at__gt=now))
        .values_list("pk", flat=True)
    )
    with transaction.atomic():
        for pk in undated:
            Activity.objects.filter(pk=pk).update(
                submitted_at=now - timedelta(minutes=rng.randrange(0, 14400))
            )
    if orgs or undated:
        # Fresh statistics after the bulk changes (autovacuum would do it later; the plans need it now).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    users = {}
    User = get_user_model()  # noqa: N806
    grants = {
        "province": {"role": Role.PLATFORM_ADMIN, "region_id": "440000"},
        "prefecture": {"role": Role.PLATFORM_ADMIN, "region_id": "440100"},
        "manager": {"role": Role.JOINT_ACTION_MANAGER, "joint_action": campaign.joint_actions.get(number=5)},
        "cast": {"role": Role.CAST_ADMIN},
    }
    for name, grant in grants.items():
        user, _ = User.objects.get_or_create(username=f"bench-{name}")
        RoleGrant.objects.get_or_create(user=user, **grant)
        users[name] = User.objects.get(pk=user.pk)
    return users


def timed(label: str, fn, runs: int) -> tuple[str, float, float, object]:
    samples, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return label, statistics.median(samples), p95, result


def fresh(user):
    roles.forget(user)
    return user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    campaign = Campaign.objects.order_by("-starts").first()
    total = Activity.objects.filter(campaign=campaign).count()
    if total < 1000:
        sys.exit("run bench/seed_and_query.py first (e.g. --activities 500000)")
    # Recommendations are open in the plan until Aug 20: pin the clock there (before dating the queue).
    from django.conf import settings

    settings.KEPUYUE_NOW = "2025-08-15T10:00+08:00"
    users = prepare(campaign)
    province, prefecture, manager, cast = (users[k] for k in ("province", "prefecture", "manager", "cast"))
    ja = campaign.joint_actions.get(number=5)

    def queue(user, **filters):
        rows = activity_rules.review_queue(fresh(user)).filter(campaign=campaign, **filters)
        page = list(rows.select_related("organizer", "joint_action", "brand", "region")[:PAGE])
        return len(page), rows.count()

    def published(user):
        rows = Activity.objects.filter(
            roles.scope_q(fresh(user), "organizer__"),
            campaign=campaign,
            status=Status.PUBLISHED,
            joint_action__isnull=False,
        )
        page = list(
            rows.select_related("organizer", "joint_action", "brand").order_by("-published_at", "-id")[:PAGE]
        )
        return len(page), rows.count()

    target = (
        Activity.objects.filter(
            roles.scope_q(fresh(province), "organizer__"),
            campaign=campaign,
            status=Status.PUBLISHED,
            joint_action=ja,
            recommended_at__isnull=True,
        )
        .select_related("campaign", "joint_action")
        .first()
    )

    def recommend_and_withdraw():
        review.recommend(target, actor=fresh(province))
        review.withdraw_recommendation(target, actor=fresh(province))

    rows = [
        timed("queue page 1 + count, province (440000)", lambda: queue(province), args.runs),
        timed("queue page 1 + count, prefecture (440100)", lambda: queue(prefecture), args.runs),
        timed(
            "queue filtered by joint action, province", lambda: queue(province, joint_action=ja), args.runs
        ),
        timed("queue page 1 + count, CAST (all)", lambda: queue(cast), args.runs),
        timed("published list for recommending + count, province", lambda: published(province), args.runs),
        timed("quota table, province", lambda: len(review.quota_table(fresh(province), campaign)), args.runs),
        timed("recommend + withdraw one activity", recommend_and_withdraw, max(5, args.runs // 2)),
        timed("featured activities for the home page", lambda: len(featured(campaign)), args.runs),
        timed(
            "visible activities count, province",
            lambda: activity_rules.visible_activities(fresh(province)).filter(campaign=campaign).count(),
            args.runs,
        ),
        timed(
            "overdue-queue scan (reminders)",
            lambda: len(review.overdue_queues(campaign)),
            max(3, args.runs // 4),
        ),
    ]
    print(f"\n{connection.vendor}, {total:,} activities in campaign {campaign.slug}, {args.runs} runs\n")
    print("| query | median ms | p95 ms | result |")
    print("|---|---:|---:|---|")
    for label, median, p95, result in rows:
        print(f"| {label} | {median:.1f} | {p95:.1f} | {result} |")


if __name__ == "__main__":
    main()
