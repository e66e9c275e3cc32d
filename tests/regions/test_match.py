import time

import pytest

from kepuyue.regions.models import Region
from kepuyue.regions.services import get_region, invalidate_index, load_regions, match_region, resolve_place

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # suffixes left out, names run together
        ("浙江杭州西湖区", "330106"),
        ("广西南宁", "450100"),
        ("内蒙古乌兰察布丰镇", "150981"),
        ("宁夏银川", "640100"),
        ("新疆维吾尔自治区乌鲁木齐市", "650100"),
        ("西藏那曲", "540600"),
        ("湖北恩施", "422800"),
        # municipalities
        ("北京朝阳区", "110105"),
        ("上海市浦东新区", "310115"),
        ("重庆万州", "500101"),
        ("天津市河北区", "120105"),
        # county-level cities
        ("昆山", "320583"),
        ("江苏苏州昆山市", "320583"),
        ("丰镇市", "150981"),
        ("湖北天门", "429006"),
        ("济源市", "419001"),
        # autonomous prefectures and counties
        ("凉山州西昌市", "513401"),
        ("凉山彝族自治州", "513400"),
        ("黔西南州兴义市", "522301"),
        ("城步县", "430529"),
        ("海南州", "632500"),
        # ambiguous names decided by what comes before
        ("辽宁朝阳", "211300"),
        ("福州鼓楼区", "350102"),
        ("南京鼓楼", "320106"),
        ("青海黄南河南", "632324"),
        ("吉林吉林", "220200"),
        # 新疆生产建设兵团
        ("新疆生产建设兵团第八师石河子市", "659001"),
        ("兵团第六师五家渠市", "659004"),
        ("五家渠", "659004"),
        # Hong Kong, Macao, Taiwan
        ("香港特别行政区", "810000"),
        ("澳门", "820000"),
        ("香港湾仔区", "810102"),
        ("台湾省台北市", "710100"),
        # full-width characters and noise around the place
        ("　浙江省　杭州市　西湖区　", "330106"),
        ("活动地点：湖北省鄂州市梁子湖区沼山镇海博实验学校", "420702"),
        ("ＸＸ科技馆（山东省济南市市中区上新街）", "370103"),
        ("雄安新区容城县", "130629"),
    ],
)
def test_match_region_free_text(regions, text, code):
    match = match_region(text)
    assert match is not None, text
    assert match.region.code == code, (text, match)
    assert 0 < match.score <= 1


def test_match_region_names_and_context_give_high_scores(regions):
    assert match_region("浙江省杭州市西湖区").score >= 0.9
    assert match_region("北京朝阳区").score >= 0.9


@pytest.mark.parametrize("text", ["朝阳区", "鼓楼区", "新华区", "和平区"])
def test_match_region_ambiguous_without_context_is_not_guessed(regions, text):
    match = match_region(text)
    assert match is None or match.score <= 0.5


def test_match_region_ambiguous_within_one_province_gives_province(regions):
    # 鼓楼区 alone: 南京, 徐州 (江苏), 福州 (福建), 开封 (河南) — restricted to 江苏 it is one of two.
    match = match_region("鼓楼区", within="32")
    assert (match.region.code, match.score) == ("320000", 0.5)


def test_match_region_bare_name_prefers_higher_level_with_low_score(regions):
    match = match_region("朝阳")  # 朝阳市 in 辽宁, or 朝阳区 in 北京 / 长春
    assert match.region.code == "211300"
    assert match.score < 0.6


def test_match_region_place_below_known_division_gives_division_with_lower_score(regions):
    match = match_region("湖北省鄂州市临空经济区（沙窝乡）")
    assert match.region.code == "420700"
    assert match.score < match_region("湖北省鄂州市").score


def test_match_region_list_of_counties_gives_common_prefecture(regions):
    match = match_region("西昌市、金阳县、昭觉县")
    assert match.region.code == "513400"
    assert match.score < 0.9


def test_match_region_list_on_one_line_gives_deepest(regions):
    assert match_region("福州科技馆、福建省气象局").region.code == "350100"


def test_match_region_unrelated_list_gives_none(regions):
    assert match_region("北京、上海") is None


def test_match_region_bingtuan_alone_maps_to_its_grouping(regions):
    match = match_region("新疆生产建设兵团")
    assert match.region.code == "659000"
    assert {r.code for r in match.region.children.all()} >= {"659001", "659004"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "科学之夜大型科普活动",
        "中华人民共和国科学技术普及法",
        "乡村振兴大讲堂",
        "光明日报",
        "城关镇中心小学",
        "康定社区",
        "流动科普百县千车万里行",
        "广大社区居民",
        "Hello world 123",
    ],
)
def test_match_region_text_without_place_gives_none(regions, text):
    assert match_region(text) is None


def test_match_region_within_restricts(regions):
    assert match_region("朝阳区", within=get_region("11")).region.code == "110105"
    assert match_region("朝阳区", within="22").region.code == "220104"
    assert match_region("杭州", within="32") is None


def test_match_region_before_load_gives_none_then_sees_load(db):
    invalidate_index()  # as in a fresh process
    assert not Region.objects.exists()
    assert match_region("浙江杭州") is None
    load_regions()
    assert match_region("浙江杭州").region.code == "330100"


def test_match_region_index_follows_reload(regions, tmp_path):
    import json
    import shutil

    from kepuyue.regions.services import default_directory

    assert match_region("西湖新区") is None
    directory = tmp_path / "regions"
    shutil.copytree(default_directory(), directory)
    areas = json.loads((directory / "areas.json").read_text(encoding="utf-8"))
    for area in areas:
        if area["code"] == "330106":
            area["name"] = "西湖新区"
    (directory / "areas.json").write_text(json.dumps(areas, ensure_ascii=False), encoding="utf-8")
    load_regions(directory)
    assert match_region("杭州西湖新区").region.code == "330106"


def test_match_region_many_places_is_fast(regions):
    counties = list(Region.objects.filter(level=3, is_official=True).select_related("parent__parent")[:2000])
    texts = [f"第{i}场 活动地点：{c.full_name}某街道{i}号" for i, c in enumerate(counties * 5)]
    started = time.perf_counter()
    results = [match_region(t) for t in texts]
    elapsed = time.perf_counter() - started
    assert sum(1 for m, c in zip(results, counties * 5, strict=True) if m and m.region.code == c.code) >= 9900
    assert elapsed < 10, f"10,000 places took {elapsed:.1f}s"


# --- resolve_place --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("province", "city", "county", "code"),
    [
        ("广西壮族自治区", "南宁市", "", "450100"),
        ("北京市", "北京市", "朝阳区", "110105"),
        ("澳门特别行政区", "澳门", "", "820000"),
        ("香港特别行政区", "香港", "", "810000"),
        ("河南省", "济源市", "", "419001"),
        ("湖北省", "神农架林区", "", "429021"),
        ("河北省", "雄安新区", "容城县", "130629"),
        ("四川省", "凉山彝族自治州", "西昌市、金阳县、昭觉县", "513400"),
        ("西藏自治区", "阿里地区、那曲市", "改则县、尼玛县", "540000"),
        ("四川省", "", "", "510000"),
        ("吉林省", "延边朝鲜族自治州", "图们市", "222402"),
        ("山东省", "济南市", "市中区", "370103"),
        ("内蒙古自治区", "乌兰察布市", "丰镇市", "150981"),
    ],
)
def test_resolve_place_split_columns(regions, province, city, county, code):
    match = resolve_place(province, city, county)
    assert match.region.code == code
    assert match.unresolved == ()


def test_resolve_place_unknown_county_stays_at_city_and_reports(regions):
    match = resolve_place("湖北省", "鄂州市", "临空经济区（沙窝乡）")
    assert match.region.code == "420700"
    assert match.unresolved == ("临空经济区（沙窝乡）",)
    assert match.score < 0.6


def test_resolve_place_new_area_in_municipality_stays_at_municipality(regions):
    match = resolve_place("重庆市", "重庆市", "两江新区")
    assert (match.region.code, match.unresolved) == ("500000", ("两江新区",))


def test_resolve_place_county_of_other_province_is_not_taken(regions):
    match = resolve_place("浙江省", "杭州市", "朝阳区")
    assert match.region.code == "330100"
    assert match.unresolved == ("朝阳区",)


def test_resolve_place_nothing_known_gives_none(regions):
    assert resolve_place("", "", "") is None
    assert resolve_place("火星", "", "") is None
