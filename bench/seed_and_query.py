"""Scale check of the activity list and search queries (not a timed test, not HTTP).

Tops the configured database up to N synthetic published-or-not activities of its own (external
id ``bench-…``, organizers ``基准测试…``) inserted with ``bulk_create`` — ``search_text`` filled
as the services fill it — then times, in-process, the queries the public list runs: list page 1,
province + brand, search "人工智能" (by relevance and by start), search + province, page 500 as a
deep link, a cursor step, and a COUNT. Prints a Markdown table (median and p95 of repeated runs,
milliseconds, 20 cards with their joins loaded) and each query's plan.

    # SQLite (the embedded default), in var/bench-sqlite/ — never the development database
    .venv/bin/python bench/seed_and_query.py --activities 500000
    # PostgreSQL (scale-out); createdb -h 127.0.0.1 -U postgres kepuyue_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kepuyue_bench .venv/bin/python bench/seed_and_query.py --activities 500000

``--drop`` deletes this script's rows again (the HTTP benchmark, bench/http_pages.py, would otherwise
count them). The plan (``load_campaign``) and the regions (``load_regions``) are loaded first
when missing.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
# Scripts in bench/ must not shadow standard modules; keep only src/ on the path, not bench/.
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

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from kepuyue.activities.listing import ActivityFilter, count_activities, list_activities  # noqa: E402
from kepuyue.activities.models import Activity, Audience, Form, Status, Topic  # noqa: E402
from kepuyue.campaigns.models import Brand, Campaign, JointAction  # noqa: E402
from kepuyue.orgs.models import Organization, OrganizationType  # noqa: E402
from kepuyue.regions.models import Level, Region  # noqa: E402
from kepuyue.search.segment import index_text  # noqa: E402

BJ = ZoneInfo("Asia/Shanghai")
TAG = "bench-"

# Topic → phrases that titles and summaries use. 人工智能 comes up in about one row in twenty,
# as the hot topic it is; the other topics share the rest.
PHRASES = {
    Topic.AI: ["人工智能", "人工智能", "大模型", "机器人编程", "智能机器人"],
    Topic.MANUFACTURING: ["智能制造", "先进制造", "工业机器人", "数控机床"],
    Topic.MATERIALS: ["新材料", "石墨烯", "超导材料"],
    Topic.HEALTH: ["健康素养", "中医药", "心理健康", "慢病防治", "合理膳食"],
    Topic.AGRICULTURE: ["智慧农业", "科技小院", "种业科技", "农技服务"],
    Topic.SAFETY: ["防灾减灾", "应急避险", "消防安全", "防震减灾"],
    Topic.AEROSPACE: ["航空航天", "中国空间站", "火箭与卫星", "探月工程"],
    Topic.ENERGY: ["新能源", "双碳", "节能降碳"],
    Topic.ECOLOGY: ["生态保护", "湿地科普", "生物多样性"],
    Topic.INFORMATION: ["网络安全", "量子信息", "数字素养"],
    Topic.LIFE_SCIENCE: ["生命科学", "基因与健康", "昆虫世界"],
    Topic.EARTH_SPACE: ["天文观测", "地质奇观", "气象科普"],
    Topic.SCIENTIST_SPIRIT: ["科学家精神", "院士故事"],
    Topic.LAW: ["科普法", "反诈宣传"],
    Topic.CULTURE: ["非遗科韵", "科学文化"],
}
TOPIC_WEIGHTS = {Topic.AI: 8, Topic.HEALTH: 10, Topic.AGRICULTURE: 9, Topic.SAFETY: 9}
FORMATS = [
    "科普讲座",
    "科普展览",
    "互动体验",
    "科学实验秀",
    "科普进校园",
    "开放日",
    "研学活动",
    "科普市集",
    "科普剧展演",
]
VENUE_KINDS = [
    "科技馆",
    "图书馆",
    "第一中学",
    "实验小学",
    "文化馆",
    "科普教育基地",
    "社区服务中心",
    "青少年宫",
]
ORG_KINDS = ["科学技术协会", "科技馆", "青少年科技中心", "科普教育基地", "职业技术学院"]
AUDIENCE_BITS = [a.value for a in Audience]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare() -> tuple[Campaign, list[JointAction], list[Brand], list[Region]]:
    call_command("migrate", verbosity=0)
    if not Region.objects.exists():
        call_command("load_regions", verbosity=0)
    if not Campaign.objects.filter(slug="kepuyue-2025").exists():
        call_command("load_campaign", str(ROOT / "campaigns" / "kepuyue-2025.yaml"), verbosity=0)
    campaign = Campaign.objects.get(slug="kepuyue-2025")
    actions = list(campaign.joint_actions.all())
    brands = list(Brand.objects.filter(joint_action__campaign=campaign))
    counties = list(Region.objects.filter(level=Level.COUNTY).select_related("parent__parent"))
    return campaign, actions, brands, counties


def organizations(counties: list[Region], n: int) -> list[Organization]:
    kind = OrganizationType.objects.order_by("order").first()
    wanted = []
    for i in range(n):
        county = counties[i * 7919 % len(counties)]
        city = county.parent.name if county.parent and county.parent.name != "市辖区" else ""
        wanted.append(f"基准测试{city}{county.name}{ORG_KINDS[i % len(ORG_KINDS)]}{i}")
    existing = set(Organization.objects.filter(name__in=wanted).values_list("name", flat=True))
    Organization.objects.bulk_create(
        [Organization(name=name, type=kind) for name in wanted if name not in existing], batch_size=2000
    )
    return list(Organization.objects.filter(name__in=wanted))


def synthetic(rng: random.Random, n: int, campaign, actions, brands_by_action, counties, orgs) -> Activity:
    action = rng.choice(actions)
    brand = (
        rng.choice(brands_by_action[action.id])
        if brands_by_action[action.id] and rng.random() < 0.8
        else None
    )
    county = rng.choice(counties)
    chain = {county.level: county}
    node = county.parent
    while node is not None:
        chain[node.level] = node
        node = node.parent
    province = chain[Level.PROVINCE]
    prefecture = chain.get(Level.PREFECTURE, province)
    topics = list(PHRASES)
    topic = rng.choices(topics, weights=[TOPIC_WEIGHTS.get(t, 5) for t in topics])[0]
    phrase = rng.choice(PHRASES[topic])
    kind = rng.choice(FORMATS)
    place = (
        county.name
        if rng.random() < 0.5
        else (prefecture.name if prefecture.name != "市辖区" else county.name)
    )
    title = f"{place}{rng.choice(VENUE_KINDS)}“{phrase}”{kind}"
    if brand and rng.random() < 0.5:
        title = f"{brand.name}｜{title}"
    audiences = rng.sample(AUDIENCE_BITS, rng.randint(1, 3))
    summary = (
        f"面向{'、'.join(Audience(a).label for a in audiences)}开展{phrase}主题{kind}，"
        f"邀请专家讲解{rng.choice(PHRASES[rng.choice(topics)])}知识并设置互动环节。"
    )
    organizer = rng.choice(orgs)
    venue = f"{province.name}{prefecture.name if prefecture.name != '市辖区' else ''}{county.name}{rng.choice(VENUE_KINDS)}"
    window_days = max((action.window_end - action.window_start).days, 0)
    day = action.window_start + timedelta(days=rng.randint(0, window_days))
    starts = datetime(day.year, day.month, day.day, rng.randint(8, 19), rng.choice((0, 30)), tzinfo=BJ)
    form = rng.choices([Form.OFFLINE, Form.ONLINE, Form.HYBRID], weights=[80, 10, 10])[0]
    return Activity(
        campaign=campaign,
        joint_action=action,
        brand=brand,
        title=title[:200],
        summary=summary,
        organizer=organizer,
        starts_at=starts,
        ends_at=starts + timedelta(hours=rng.choice((1, 2, 3, 8, 72))),
        form=form,
        online_url="https://example.org/live" if form != Form.OFFLINE else "",
        venue=venue,
        region=county,
        province_code=province.code,
        prefecture_code=chain[Level.PREFECTURE].code if Level.PREFECTURE in chain else "",
        county_code=county.code,
        audiences=sum(audiences),
        topics=topic.value,
        external_id=f"{TAG}{n}",
        status=rng.choices([Status.PUBLISHED, Status.SUBMITTED, Status.DRAFT], weights=[92, 5, 3])[0],
        search_text=index_text(title, summary, organizer.name, venue),
    )


def seed(total: int, batch: int = 5000) -> None:
    campaign, actions, brands, counties = prepare()
    have = Activity.objects.filter(external_id__startswith=TAG).count()
    if have >= total:
        log(f"{have:,} bench activities already there")
        return
    brands_by_action = {a.id: [b for b in brands if b.joint_action_id == a.id] for a in actions}
    orgs = organizations(counties, 5000)
    rng = random.Random(have)
    started = time.perf_counter()
    for first in range(have, total, batch):
        rows = [
            synthetic(rng, n, campaign, actions, brands_by_action, counties, orgs)
            for n in range(first, min(first + batch, total))
        ]
        with transaction.atomic():
            Activity.objects.bulk_create(rows, batch_size=1000)
        done = first + len(rows) - have
        log(f"  {first + len(rows):,} rows, {done / (time.perf_counter() - started):,.0f} rows/s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE activities_activity")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("INSERT INTO search_activity_fts(search_activity_fts) VALUES ('optimize')")
    log(f"seeded {total - have:,} rows in {time.perf_counter() - started:.0f} s")


def drop() -> None:
    deleted, _ = Activity.objects.filter(external_id__startswith=TAG).delete()
    Organization.objects.filter(name__startswith="基准测试", activities__isnull=True).delete()
    log(f"deleted {deleted:,} rows")


def timed(fn, repeat: int) -> tuple[float, float, object]:
    result = fn()  # warm-up: caches, prepared plans
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return (
        statistics.median(samples),
        samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))],
        result,
    )


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(row[-1] for row in cursor.fetchall())


def query(repeat: int, show_plans: bool) -> None:
    from kepuyue.activities.listing import filter_activities

    campaign = Campaign.objects.get(slug="kepuyue-2025")
    total = Activity.objects.count()
    published = Activity.objects.filter(status=Status.PUBLISHED, campaign=campaign).count()
    # A common province and one of its brands, as a person would pick them.
    sample = Activity.objects.filter(status=Status.PUBLISHED, brand__isnull=False).order_by("id").first()
    province, brand = sample.province_code, sample.brand.slug

    def cards(page):
        return [
            (a.joint_action.name, a.brand and a.brand.name, a.organizer.name, a.region) for a in page.items
        ]

    def run(query_string: str, **kwargs):
        from django.http import QueryDict

        activity_filter = ActivityFilter.from_params(QueryDict(query_string))
        page = list_activities(activity_filter, campaign=campaign, **kwargs)
        cards(page)
        return page

    page499 = run("", page=499)
    cases = [
        ("list, page 1", lambda: run("")),
        (f"list, province {province} + brand {brand}", lambda: run(f"province={province}&brand={brand}")),
        ("search 人工智能 (by start, the default)", lambda: run("q=人工智能")),
        ("search 人工智能 (by relevance)", lambda: run("q=人工智能&sort=relevance")),
        (f"search 人工智能 + province {province}", lambda: run(f"q=人工智能&province={province}")),
        ("search 科学之夜 丰镇 (rare)", lambda: run("q=科学之夜 丰镇")),
        ("list, page 500 (?page=500)", lambda: run("", page=500)),
        ("list, page 500 by cursor from 499", lambda: run("", cursor=page499.next_cursor)),
        ("list, page 2500 (?page=2500)", lambda: run("", page=2500)),
        ("count, all published", lambda: count_activities(ActivityFilter(), campaign=campaign)),
        ("count, search 人工智能", lambda: count_activities(ActivityFilter(q="人工智能"), campaign=campaign)),
        # Issue 17 §2–3 (pin the clock in the campaign: KEPUYUE_NOW=2025-09-10T10:00+08:00).
        ("ongoing, page 1", lambda: run("phase=ongoing")),
        (f"ongoing + province {province}", lambda: run(f"phase=ongoing&province={province}")),
        ("ongoing, page 2 by cursor", lambda: run("phase=ongoing", cursor=run("phase=ongoing").next_cursor)),
        ("search 科学之夜 (10,000+ matches), by start", lambda: run("q=科学之夜")),
        ("search 科学之夜, by relevance", lambda: run("q=科学之夜&sort=relevance")),
        (
            "search 人工智能 科学之夜 (two words), by relevance",
            lambda: run("q=人工智能 科学之夜&sort=relevance"),
        ),
        ("search 人工智能 青少年 (two words), by relevance", lambda: run("q=人工智能 青少年&sort=relevance")),
        ("search 人工智能 青少年 (two words), by start", lambda: run("q=人工智能 青少年")),
    ]
    for word in ("科学之夜", "青少年", "人工智能 青少年", "人工智能 科学之夜"):
        print(f"{word}: {count_activities(ActivityFilter(q=word), campaign=campaign):,} matches")
    ongoing = count_activities(ActivityFilter(phase="ongoing"), campaign=campaign)
    print(f"ongoing at {os.environ.get('KEPUYUE_NOW', 'now')}: {ongoing:,}")
    matches = count_activities(ActivityFilter(q="人工智能"), campaign=campaign)
    print(
        f"\n{connection.vendor}, {total:,} activities ({published:,} published in the campaign; "
        f"人工智能 matches {matches:,}); {repeat} runs each, in-process, 20 cards with joins\n"
    )
    print("| query | median ms | p95 ms | rows |")
    print("|---|---:|---:|---:|")
    for name, fn in cases:
        median, p95, result = timed(fn, repeat)
        rows = len(result.items) if hasattr(result, "items") else result
        print(f"| {name} | {median:.1f} | {p95:.1f} | {rows} |", flush=True)
    if show_plans:
        for name, query_string in [
            ("list page 1", ""),
            ("province + brand", f"province={province}&brand={brand}"),
            ("search 人工智能 (by start)", "q=人工智能"),
            ("search 人工智能 (by relevance)", "q=人工智能&sort=relevance"),
            ("search 科学之夜 丰镇 (rare)", "q=科学之夜 丰镇"),
        ]:
            from django.http import QueryDict

            queryset, _ = filter_activities(
                ActivityFilter.from_params(QueryDict(query_string)), campaign=campaign
            )
            # The page's first query (ids); the second loads 20 cards by primary key.
            print(f"\n-- plan: {name}\n{plan(queryset.values_list('id', flat=True)[:21])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activities", type=int, default=500_000, help="top up to this many bench rows")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--plans", action="store_true", help="print the query plans")
    parser.add_argument("--drop", action="store_true", help="delete the bench rows and stop")
    args = parser.parse_args()
    if args.drop:
        drop()
        return
    if args.no_seed:
        call_command("migrate", verbosity=0)
    else:
        seed(args.activities)
    query(args.repeat, args.plans)


if __name__ == "__main__":
    main()
