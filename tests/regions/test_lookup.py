import pytest

from kepuyue.regions.models import Level, Region
from kepuyue.regions.services import ancestors, get_region, province_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("code", "expected", "name"),
    [
        ("33", "330000", "浙江省"),
        ("3301", "330100", "杭州市"),
        ("330106", "330106", "西湖区"),
        (11, "110000", "北京市"),
        (" ３３０１０６ ", "330106", "西湖区"),
    ],
)
def test_get_region_accepts_2_4_6_digits(regions, code, expected, name):
    region = get_region(code)
    assert (region.code, region.name) == (expected, name)


@pytest.mark.parametrize("code", ["999999", "33019", "abc", ""])
def test_get_region_unknown_or_malformed_raises(regions, code):
    with pytest.raises(Region.DoesNotExist):
        get_region(code)


def test_ancestors_lists_province_first(regions):
    xihu = get_region("330106")
    assert [r.code for r in ancestors(xihu)] == ["330000", "330100"]
    assert ancestors(get_region("33")) == []


def test_ancestors_keeps_grouping_rows(regions):
    assert [r.name for r in ancestors(get_region("110105"))] == ["北京市", "市辖区"]


def test_province_of_returns_province(regions):
    assert province_of(get_region("513401")).name == "四川省"
    assert province_of(get_region("659001")).code == "650000"
    assert province_of(get_region("810101")).code == "810000"
    zhejiang = get_region("33")
    assert province_of(zhejiang) is zhejiang


def test_code_to_name_and_parent(regions):
    region = get_region("513401")
    assert (region.name, region.level, region.parent.name, region.province_code) == (
        "西昌市",
        Level.COUNTY,
        "凉山彝族自治州",
        "510000",
    )
