"""``manage.py seed_demo --activities N [--campaign SLUG] [--seed S]``: synthetic activities for scale
work and demos.

Realistic in shape, not in content: provinces are drawn in proportion to their population (2020
national census, 第七次全国人口普查; Hong Kong and Macao from their own 2021 censuses), counties
uniformly inside them, one synthetic organization per county and participant type, every joint
action and brand of the campaign, dates spread over each joint action's window, titles built from
brand, place, topic and kind words, audience/topic bits and ``search_text``. All rows are published.
The same ``--seed`` gives the same rows; running it twice adds nothing (external ids
``demo-S-i`` per organizer). Inserts in batches of 5,000 rows (multi-row ``INSERT`` statements).
"""

import random
import time
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kepuyue.activities.importing import bulk_load_settings, insert_rows
from kepuyue.activities.models import Activity, Audience, Form, SpecialArea, Status, Topic
from kepuyue.common import clock
from kepuyue.search.segment import index_text

BATCH = 5000

# Resident population by province-level code, 2020 census (国家统计局《第七次全国人口普查公报》第三号);
# 81/82: the 2021 population censuses of Hong Kong and Macao.
POPULATION = {
    "110000": 21893095,
    "120000": 13866009,
    "130000": 74610235,
    "140000": 34915616,
    "150000": 24049155,
    "210000": 42591407,
    "220000": 24073453,
    "230000": 31850088,
    "310000": 24870895,
    "320000": 84748016,
    "330000": 64567588,
    "340000": 61027171,
    "350000": 41540086,
    "360000": 45188635,
    "370000": 101527453,
    "410000": 99365519,
    "420000": 57752557,
    "430000": 66444864,
    "440000": 126012510,
    "450000": 50126804,
    "460000": 10081232,
    "500000": 32054159,
    "510000": 83674866,
    "520000": 38562148,
    "530000": 47209277,
    "540000": 3648100,
    "610000": 39528999,
    "620000": 25019831,
    "630000": 5923957,
    "640000": 7202654,
    "650000": 25852345,
    "810000": 7413070,
    "820000": 683218,
}

# Synthetic unit names per participant type: {p} province, {c} prefecture, {x} county (short names).
ORG_PATTERNS = {
    "national_society": ["中国{field}学会"],
    "science_association": ["{x}科学技术协会", "{c}科学技术协会"],
    "university": ["{c}理工学院", "{c}师范学院", "{p}科技大学"],
    "enterprise": ["{x}{industry}有限公司", "{c}高新区{industry}集团"],
    "science_education_base": ["{x}{base}科普教育基地", "{c}{base}科普馆"],
    "science_museum": ["{c}科技馆", "{x}科技馆"],
    "museum_society_member": ["{c}自然博物馆", "{c}地质博物馆"],
    "film_alliance_member": ["{c}科普影院"],
    "rural_association": ["{x}农村专业技术协会", "{x}{crop}专业技术协会"],
    "science_backyard": ["{x}{crop}科技小院"],
    "publisher": ["{p}科学技术出版社"],
    "library": ["{c}图书馆", "{x}图书馆"],
    "bookstore": ["{x}新华书店"],
    "community_culture_center": ["{x}社区文化中心"],
    "other": ["{x}青少年活动中心"],
}
FIELDS = [
    "天文",
    "地质",
    "化学",
    "物理",
    "气象",
    "海洋",
    "营养",
    "药学",
    "林学",
    "农学",
    "计算机",
    "自动化",
    "机械工程",
    "航空",
    "宇航",
    "心理",
    "生态",
    "水利",
    "地理",
    "动物",
]
INDUSTRIES = ["新能源", "智能制造", "生物医药", "新材料", "电子信息", "航空装备", "现代农业", "汽车"]
BASES = ["青少年科技", "农业科技", "生态", "气象", "地震", "消防安全", "水利", "中医药"]
CROPS = ["茶叶", "柑橘", "水稻", "葡萄", "蔬菜", "食用菌", "小麦", "苹果"]
KINDS = [
    "科普讲座",
    "主题展览",
    "科学实验秀",
    "开放日",
    "研学活动",
    "科普报告",
    "互动体验",
    "巡展",
    "科普市集",
    "科学之夜专场",
    "知识竞赛",
    "观影活动",
]
PLACES = [
    "第一小学",
    "实验中学",
    "中心广场",
    "文化广场",
    "社区服务中心",
    "图书馆",
    "科技馆",
    "新时代文明实践中心",
    "村委会",
    "职业技术学校",
]
SUFFIXES = (
    "特别行政区",
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "自治州",
    "自治县",
    "省",
    "市",
    "地区",
    "盟",
    "县",
    "区",
    "旗",
)


def short(name: str) -> str:
    """``浙江省`` → ``浙江``, ``凉山彝族自治州`` → ``凉山彝族``; names of two characters stay."""
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


class Command(BaseCommand):
    help = "生成合成活动数据（按人口加权的省份、各联合行动和品牌、活动时间内的日期），用于规模测试和演示。"

    def add_arguments(self, parser):
        parser.add_argument("--activities", type=int, required=True, help="活动条数")
        parser.add_argument("--campaign", help="科普月标识，默认当前科普月")
        parser.add_argument("--seed", type=int, default=2025, help="随机种子（相同种子生成相同数据）")
        parser.add_argument(
            "--xlsx", help="不写数据库，把合成的活动写成导入用的信息表（.xlsx），供导入基准测试"
        )

    def handle(self, *args, **options):
        from kepuyue.activities.importing import default_campaign
        from kepuyue.campaigns.models import Campaign
        from kepuyue.orgs.models import Organization, OrganizationType
        from kepuyue.regions.models import Region

        total = options["activities"]
        if total < 0:
            raise CommandError("--activities 不能为负数")
        if options["campaign"]:
            campaign = Campaign.objects.filter(slug=options["campaign"]).first()
        else:
            campaign = default_campaign()
        if campaign is None:
            raise CommandError("没有科普月方案：请先运行 manage.py load_campaign campaigns/kepuyue-2025.yaml")
        actions = list(
            campaign.joint_actions.prefetch_related("brands", "participant_types").order_by("number")
        )
        if not actions:
            raise CommandError(f"{campaign.name} 没有联合行动")
        regions = {r.code: r for r in Region.objects.all()}
        if not regions:
            raise CommandError("没有行政区划：请先运行 manage.py load_regions")

        rng = random.Random(options["seed"])  # noqa: S311 - synthetic data, reproducible by seed
        provinces = [code for code in POPULATION if code in regions]
        weights = [POPULATION[code] for code in provinces]
        counties: dict[str, list] = {code: [] for code in provinces}
        for region in regions.values():
            if region.level == 3 and region.province_code in counties:
                counties[region.province_code].append(region)
        for code in provinces:
            if not counties[code]:  # a province without county rows: use its prefectures, or itself
                counties[code] = [
                    r for r in regions.values() if r.level == 2 and r.province_code == code
                ] or [regions[code]]
            counties[code].sort(key=lambda r: r.code)
        known_types = set(OrganizationType.objects.values_list("code", flat=True))
        action_types = {
            a.pk: [t.code for t in a.participant_types.all() if t.code in known_types] or ["other"]
            for a in actions
        }
        if "other" not in known_types:
            OrganizationType.objects.get_or_create(code="other", defaults={"name": "其他"})
        org_ids = dict(Organization.objects.values_list("name", "pk"))
        now = clock.now()
        bulk_load_settings()
        before = Activity.objects.count()
        started = time.perf_counter()
        created = 0
        seed = options["seed"]

        def organization_name(kind: str, county) -> str:
            prefecture = regions.get(county.parent_id) if county.parent_id else None
            province = regions[county.province_code]
            c = (
                prefecture.name
                if prefecture
                and prefecture.name not in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")
                else province.name
            )
            pattern = rng.choice(ORG_PATTERNS.get(kind, ORG_PATTERNS["other"]))
            return pattern.format(
                p=short(province.name),
                c=c,
                x=county.name,
                field=rng.choice(FIELDS),
                industry=rng.choice(INDUSTRIES),
                base=rng.choice(BASES),
                crop=rng.choice(CROPS),
            )

        if options["xlsx"]:
            self.write_sheet(
                options["xlsx"],
                rng,
                seed,
                campaign,
                actions,
                provinces,
                weights,
                counties,
                action_types,
                organization_name,
                regions,
                total,
            )
            return
        index = 0
        while index < total:
            size = min(BATCH, total - index)
            rows = []
            wanted_orgs: dict[str, str] = {}
            for offset in range(size):
                row = self.draw(
                    rng,
                    index + offset,
                    actions,
                    provinces,
                    weights,
                    counties,
                    action_types,
                    organization_name,
                )
                wanted_orgs.setdefault(row[4], row[5])
                rows.append(row)
            missing = [name for name in wanted_orgs if name not in org_ids]
            if missing:
                Organization.objects.bulk_create(
                    [Organization(name=name, type_id=wanted_orgs[name]) for name in missing],
                    ignore_conflicts=True,
                    batch_size=1000,
                )
                org_ids.update(Organization.objects.filter(name__in=missing).values_list("name", "pk"))
            activities = [self.activity(rng, seed, now, campaign, *row[:5], org_ids[row[4]]) for row in rows]
            with transaction.atomic():
                # Multi-row INSERTs (see importing.insert_rows): bulk_create's 24-row statements make
                # SQLite's search index flush once per statement.
                insert_rows(Activity, activities, now=now, ignore_conflicts=True)
            index += size
            created += size
            elapsed = time.perf_counter() - started
            self.stderr.write(f"  {created:,}/{total:,} 行，{created / elapsed:,.0f} 行/秒")
        elapsed = time.perf_counter() - started
        rate = created / elapsed if elapsed else 0
        added = Activity.objects.count() - before
        self.stdout.write(
            f"生成 {created:,} 条活动，新增 {added:,} 条（{campaign.name}），用时 {elapsed:.1f} 秒，{rate:,.0f} 行/秒"
        )

    @staticmethod
    def draw(rng, number, actions, provinces, weights, counties, action_types, organization_name):
        """``(number, joint action, brand, county, organizer name, organizer type)`` of one row."""
        action = rng.choice(actions)
        brands = list(action.brands.all())
        # Plan 八(一): a joint action's activity carries one of its brands (decision 0024).
        brand = rng.choice(brands) if brands else None
        province_code = rng.choices(provinces, weights)[0]
        county = rng.choice(counties[province_code])
        kind = rng.choice(action_types[action.pk])
        return number, action, brand, county, organization_name(kind, county), kind

    def write_sheet(
        self,
        path,
        rng,
        seed,
        campaign,
        actions,
        provinces,
        weights,
        counties,
        action_types,
        organization_name,
        regions,
        total,
    ):
        """Write the synthetic rows as a 重点科普活动信息表 (.xlsx, the template's columns, write-only)
        for import benchmarks, instead of into the database."""
        from openpyxl import Workbook

        from kepuyue.activities.exporting import _when
        from kepuyue.activities.importing import TEMPLATE_COLUMNS, TEMPLATE_SHEET

        started = time.perf_counter()
        now = clock.now()
        book = Workbook(write_only=True)
        sheet = book.create_sheet(TEMPLATE_SHEET)
        sheet.append([header for _f, header, _r, _n in TEMPLATE_COLUMNS])
        forms = dict(Form.choices)
        for number in range(total):
            row = self.draw(
                rng, number, actions, provinces, weights, counties, action_types, organization_name
            )
            a = self.activity(rng, seed, now, campaign, *row[:5], None)
            county = row[3]
            prefecture = regions.get(county.parent_id) if county.parent_id else None
            values = {
                "external_id": a["external_id"],
                "title": a["title"],
                "joint_action": row[1].name,
                "brand": row[2].name if row[2] else "",
                "key_task": "",
                "organizer": row[4],
                "co_organizers": "",
                "start": _when(a["starts_at"], end=False),
                "end": _when(a["ends_at"], end=True),
                "form": forms[a["form"]],
                "online_url": a["online_url"],
                "province": regions[county.province_code].name,
                "city": prefecture.name if prefecture and prefecture.name not in ("市辖区", "县") else "",
                "county": county.name if county.level == 3 else "",
                "venue": a["venue"],
                "audiences": "、".join(m.label for m in Audience if a["audiences"] & m.value),
                "topics": "、".join(m.label for m in Topic if a["topics"] & m.value),
                "special_areas": "、".join(m.label for m in SpecialArea if a["special_areas"] & m.value),
                "expected_participants": a["expected_participants"],
                "science_workers": None,
                "contact_name": a["contact_name"],
                "contact_phone": a["contact_phone"],
                "summary": a["summary"],
            }
            sheet.append([values[f] for f, _h, _r, _n in TEMPLATE_COLUMNS])
        book.save(path)
        self.stdout.write(f"写入 {total:,} 行到 {path}，用时 {time.perf_counter() - started:.1f} 秒")

    @staticmethod
    def activity(rng, seed, now, campaign, number, action, brand, county, org_name, org_id) -> dict:
        """One synthetic activity as ``{attname: value}``."""
        span = (action.window_end - action.window_start).days
        day = action.window_start + timedelta(days=rng.randint(0, max(span, 0)))
        roll = rng.random()
        if roll < 0.7:  # a two-hour event
            starts = datetime(
                day.year, day.month, day.day, rng.randint(9, 19), rng.choice((0, 30)), tzinfo=clock.BEIJING
            )
            ends = starts + timedelta(hours=2)
        elif roll < 0.9:  # a whole day
            starts, ends = clock.start_of_day(day), clock.end_of_day(day)
        else:  # a tour or exhibition over several days, inside the window
            last = min(action.window_end, day + timedelta(days=rng.randint(1, 10)))
            starts, ends = clock.start_of_day(day), clock.end_of_day(last)
        topic = rng.choice(list(Topic))
        kind = rng.choice(KINDS)
        place = county.name
        if brand is not None and rng.random() < 0.5:
            title = f"{place}“{brand.name}”{topic.label}{kind}"
        elif brand is not None:
            title = f"{org_name}{brand.name}：{topic.label}{kind}"
        else:
            title = f"{campaign.year}年全国科普月{place}{topic.label}{kind}"
        venue = rng.choice((org_name, f"{place}{rng.choice(PLACES)}"))
        form_roll = rng.random()
        form = Form.OFFLINE if form_roll < 0.8 else Form.HYBRID if form_roll < 0.92 else Form.ONLINE
        audiences = 0
        for member in rng.sample(list(Audience), rng.randint(1, 3)):
            audiences |= member.value
        topics = topic.value | (rng.choice(list(Topic)).value if rng.random() < 0.3 else 0)
        special = rng.choice(list(SpecialArea)).value if rng.random() < 0.15 else 0
        summary = f"{org_name}面向公众开展{topic.label}主题{kind}，普及科学知识，弘扬科学精神。"
        return dict(
            campaign_id=campaign.pk,
            joint_action_id=action.pk,
            brand_id=brand.pk if brand else None,
            key_task_id=brand.key_task_id if brand else None,
            title=title[:200],
            summary=summary,
            organizer_id=org_id,
            starts_at=starts,
            ends_at=ends,
            form=form,
            online_url=f"https://live.example.org/demo/{seed}/{number}" if form != Form.OFFLINE else "",
            venue=venue,
            region_id=county.code,
            province_code=county.province_code,
            prefecture_code=county.parent_id
            if county.level == 3
            else (county.code if county.level == 2 else ""),
            county_code=county.code if county.level == 3 else "",
            audiences=audiences,
            topics=topics,
            special_areas=special,
            expected_participants=rng.randint(5, 500) * 10,
            contact_name="联系人A",
            # A well-formed (fictitious) landline: 000-… was refused by 提交 and, now, by the import
            # of the sheet this command writes.
            contact_phone=f"010-5{rng.randint(0, 9999999):07d}",
            external_id=f"demo-{seed}-{number}",
            status=Status.PUBLISHED,
            published_at=now,
            search_text=index_text(title, summary, org_name, venue) if org_id else "",
        )
