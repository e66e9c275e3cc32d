"""Measures as data: each kind against a hand-counted fixture; the schema's errors; a 2026 file."""

from pathlib import Path

import pytest

from kepuyue.activities.models import SpecialArea, Status
from kepuyue.campaigns.models import Brand, Target
from kepuyue.campaigns.schema import CampaignFileError, parse_campaign
from kepuyue.campaigns.services import load_campaign
from kepuyue.dashboard.measures import _Resolver, evaluate, target_progress
from kepuyue.orgs.models import Organization
from kepuyue.regions.models import Region
from tests.activities.factories import ActivityFactory, bj

FIXTURES = Path(__file__).parent / "fixtures"
PLAN_2025 = Path(__file__).resolve().parents[2] / "campaigns" / "kepuyue-2025.yaml"


def _progress(campaign):
    return {(p.target.joint_action.slug, p.target.slug): p for p in target_progress(campaign)}


def _brand(plan, slug):
    return Brand.objects.get(joint_action__campaign=plan, slug=slug)


def _unit(name, type_id):
    return Organization.objects.create(name=name, type_id=type_id)


def test_every_2025_target_says_how_it_is_measured(plan):
    targets = Target.objects.filter(joint_action__campaign=plan)
    assert targets.count() == 15
    assert all(t.measure is not None for t in targets)
    assert {t.slug for t in targets if t.measure["source"] != "none"} == {
        "plays",
        "enterprises",
        "bases",
        "counties",
        "cities",
        "exhibitions",
        "youth",
        "scientist-films",
        "scientist-short-films",
        "sci-fi-films",
        "red-films",
        "lecture-attendance",  # 大讲堂参训人次 (六(三)3): counted, the plan sets no number
        # 百县千车万里行 and the caravans: measured from the tours (kepuyue.tours, decision 0022).
        "vehicles",
        "distance",
        "caravans",
    }


def test_measures_against_hand_count(plan, counties, publish):
    plays = _brand(plan, "scientist-plays")
    bases_brand = _brand(plan, "bases-show-innovation")
    hundred = _brand(plan, "hundred-counties")
    caravans = _brand(plan, "science-caravans")
    reading = _brand(plan, "reading-events")
    museum = _unit("某科技馆", "science_museum")
    base_a, base_b = _unit("基地甲", "science_education_base"), _unit("基地乙", "science_education_base")
    # 科学大师剧: 3 published, 1 draft (not counted), 1 withdrawn (not counted).
    for _ in range(3):
        publish(joint_action=plays.joint_action, brand=plays, organizer=museum, region=counties[0])
    ActivityFactory(joint_action=plays.joint_action, brand=plays, organizer=museum)
    withdrawn = publish(joint_action=plays.joint_action, brand=plays, organizer=museum)
    from kepuyue.activities.services import transition

    transition(withdrawn, Status.WITHDRAWN)
    # 千家基地: base A twice, base B once, a museum under the same brand (not a base): 2 units.
    for organizer in (base_a, base_a, base_b, museum):
        publish(joint_action=bases_brand.joint_action, brand=bases_brand, organizer=organizer)
    # 百县: counties 0, 1 under the brand, county 3 under its sub-brand 科普大篷车, county 0 again: 3.
    for region, brand in (
        (counties[0], hundred),
        (counties[1], hundred),
        (counties[3], caravans),
        (counties[0], hundred),
    ):
        publish(joint_action=hundred.joint_action, brand=brand, organizer=museum, region=region)
    # 阅见科普 reading events: Hangzhou twice (two counties), Ningbo once, no place once: 2 prefectures,
    # of which only the key cities count (plan 七(四)1): Hangzhou and 昆明 (no event yet) chosen → 1.
    for region in (counties[0], counties[1], counties[2], None):
        publish(joint_action=reading.joint_action, brand=reading, organizer=museum, region=region)
    from kepuyue.campaigns.services import add_key_city

    add_key_city(reading.joint_action, "330100", actor=None)
    add_key_city(reading.joint_action, "530100", actor=None)

    progress = _progress(plan)
    assert progress[("universities", "plays")].value == 3
    assert progress[("universities", "plays")].percent == 3
    assert progress[("science-education-bases", "bases")].value == 2
    # 百县 reads the tours (kepuyue.tours, tests/tours/test_measures.py), not brand-marked activities.
    assert progress[("science-museums", "counties")].value == 0
    assert progress[("science-reading", "cities")].value == 1
    assert progress[("enterprises", "enterprises")].value == 0
    # The 星火馆 volunteers are measured now (the roster, kepuyue.specials): none yet is a real zero.
    assert progress[("universities", "youth")].value == 0
    # 千车 reads the tours too (kepuyue.tours): no tour yet is a real zero.
    assert progress[("science-museums", "vehicles")].value == 0


def test_special_area_region_and_distinct_province(plan, counties, publish):
    plays = _brand(plan, "scientist-plays")
    museum = _unit("某科技馆", "science_museum")
    publish(
        joint_action=plays.joint_action,
        brand=plays,
        organizer=museum,
        region=counties[0],
        special_areas=SpecialArea.RURAL | SpecialArea.ETHNIC,
    )
    publish(
        joint_action=plays.joint_action,
        brand=plays,
        organizer=museum,
        region=counties[4],
        special_areas=SpecialArea.BORDER,
    )
    publish(joint_action=plays.joint_action, brand=plays, organizer=museum, region=counties[5])
    target = Target.objects.get(joint_action__campaign=plan, slug="plays")
    resolver = _Resolver(plan)

    def value(measure):
        target.measure = measure
        return evaluate(target, resolver).value

    assert value({"source": "activities", "filters": {"special_area": ["ethnic"]}}) == 1
    assert value({"source": "activities", "filters": {"special_area": ["rural", "border"]}}) == 2
    assert value({"source": "activities", "filters": {"region": "530000"}}) == 2
    assert value({"source": "activities", "filters": {"region": counties[0].code}}) == 1
    assert value({"source": "activities", "kind": "distinct", "field": "province"}) == 2
    assert value({"source": "organizations", "filters": {"special_area": ["border"]}}) == 1
    assert value({"source": "activities", "filters": {"brand": "all", "joint_action": "all"}}) == 3
    assert value({"source": "activities", "filters": {"unit_type": ["publisher"]}}) == 0
    assert value({"source": "call_entries"}) == 0
    assert value({"source": "registrations"}) == 0


@pytest.mark.parametrize(
    ("measure", "message"),
    [
        ("{source: activity}", "targets[0].measure.source: 只能是"),
        ("{source: activities, kind: distinct}", "去重计数要写 field"),
        ("{source: activities, kind: distinct, field: title}", "不能按“title”去重"),
        ("{source: activities, field: county}", "只有 kind: distinct 才写 field"),
        ("{source: registrations, kind: distinct, field: county}", "只能计数，不能去重"),
        ("{source: activities, filters: {status: draft}}", "没有状态“draft”"),
        ("{source: call_entries, filters: {special_area: [rural]}}", "不能按 special_area 筛选"),
        ("{source: activities, filters: {special_area: [mountain]}}", "只能是"),
        ("{source: activities, filters: {unit_type: [spaceport]}}", "未声明的单位类型“spaceport”"),
        ("{source: activities, filters: {brand: nowhere}}", "没有品牌活动“nowhere”"),
        ("{source: activities, filters: {joint_action: nowhere}}", "没有联合行动“nowhere”"),
        ("{source: activities, filters: {region: '33'}}", "不是六位行政区划代码"),
        ("{source: activities, colour: red}", "不认识的键"),
    ],
)
def test_bad_measures_get_clear_chinese_errors(measure, message):
    text = PLAN_2025.read_text(encoding="utf-8").replace(
        "              source: performances  # 已发布、标记“科学大师剧”或登记为剧目演出的活动场次（剧目库见 /plays/）",
        f"              {measure}".replace("{", "{", 1),
        1,
    )
    # Put the measure in flow style on the line of the plays target.
    text = text.replace(
        f"            measure:\n              {measure}", f"            measure: {measure}", 1
    )
    with pytest.raises(CampaignFileError) as info:
        parse_campaign(text)
    assert any(message in line and "measure" in line for line in info.value.errors), info.value.errors


def test_a_2026_file_with_its_own_measures_loads_and_shows(db, regions, clock, client, publish):
    """Next year's plan: new joint action, brands, unit type and measures — no code change."""
    clock("2026-09-10T10:00+08:00")
    campaign = load_campaign(FIXTURES / "kepuyue-2026.yaml").campaign
    maker = Organization.objects.create(name="某创客空间", type_id="makerspace")
    ja = campaign.joint_actions.get(slug="makers")
    brand = ja.brands.get(slug="maker-fairs")
    county = Region.objects.filter(level=3).order_by("code").first()
    when = bj("2026-09-12 09:00")
    for _ in range(2):
        publish(joint_action=ja, brand=brand, organizer=maker, region=county, starts_at=when, ends_at=when)
    progress = _progress(campaign)
    assert progress[("makers", "fairs")].value == 2
    assert progress[("makers", "makerspaces")].value == 1
    assert progress[("makers", "provinces")].value == 1
    assert progress[("makers", "robots")].value is None
    page = client.get("/dashboard/?campaign=kepuyue-2026")
    assert page.status_code == 200
    html = page.content.decode()
    assert "2026年全国科普月" in html and "创客集市" in html and "暂无数据来源" in html
    assert "2 / 50场（4%）" in html
