import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kepuyue.regions.models import Level, Region
from kepuyue.regions.services import RegionDataError, default_directory, load_regions

pytestmark = pytest.mark.django_db


def test_load_regions_counts_levels(regions):
    assert regions.created == Region.objects.count()
    assert Region.objects.filter(level=Level.PROVINCE, is_official=True).count() >= 31 + 3
    assert Region.objects.filter(level=Level.PREFECTURE, is_official=True).count() >= 330
    assert Region.objects.filter(level=Level.COUNTY, is_official=True).count() >= 2800
    assert set(
        Region.objects.filter(code__in=["710000", "810000", "820000"]).values_list("name", flat=True)
    ) == {
        "台湾省",
        "香港特别行政区",
        "澳门特别行政区",
    }


def test_load_regions_second_run_changes_nothing(regions):
    before = {r.code: (r.name, r.parent_id, r.full_name) for r in Region.objects.all()}
    counts = load_regions()
    assert (counts.created, counts.updated, counts.stale) == (0, 0, ())
    assert counts.unchanged == len(before)
    assert {r.code: (r.name, r.parent_id, r.full_name) for r in Region.objects.all()} == before


def test_load_regions_edit_updates_in_place(regions, tmp_path):
    directory = tmp_path / "regions"
    shutil.copytree(default_directory(), directory)
    areas = json.loads((directory / "areas.json").read_text(encoding="utf-8"))
    for area in areas:
        if area["code"] == "330106":
            area["name"] = "西湖新区"
    (directory / "areas.json").write_text(json.dumps(areas, ensure_ascii=False), encoding="utf-8")

    counts = load_regions(directory)

    assert (counts.created, counts.updated) == (0, 1)
    region = Region.objects.get(code="330106")
    assert (region.name, region.full_name) == ("西湖新区", "浙江省杭州市西湖新区")


def test_load_regions_keeps_and_reports_stale_codes(regions, tmp_path):
    directory = tmp_path / "regions"
    shutil.copytree(default_directory(), directory)
    areas = json.loads((directory / "areas.json").read_text(encoding="utf-8"))
    (directory / "areas.json").write_text(
        json.dumps([a for a in areas if a["code"] != "110101"], ensure_ascii=False), encoding="utf-8"
    )

    counts = load_regions(directory)

    assert counts.stale == ("110101",)
    assert Region.objects.filter(code="110101").exists()


def test_load_regions_missing_file_names_it(db, tmp_path):
    with pytest.raises(RegionDataError, match="provinces.json"):
        load_regions(tmp_path)


def test_load_regions_bad_code_names_file_and_entry(db, tmp_path):
    directory = tmp_path / "regions"
    shutil.copytree(default_directory(), directory)
    (directory / "cities.json").write_text('[{"code": "11x", "name": "坏"}]', encoding="utf-8")
    with pytest.raises(RegionDataError, match="cities.json 第1项"):
        load_regions(directory)


def test_load_regions_derives_codes_for_hong_kong_macao_taiwan(regions):
    hk_island = Region.objects.get(code="810100")
    assert (hk_island.name, hk_island.parent_id, hk_island.is_official) == ("香港岛", "810000", False)
    central = Region.objects.get(code="810101")
    assert (central.name, central.full_name) == ("中西区", "香港特别行政区香港岛中西区")
    assert Region.objects.get(code="710100").name == "台北市"
    assert Region.objects.get(code="820000").is_official


def test_load_regions_full_name_skips_placeholders(regions):
    assert Region.objects.get(code="110105").full_name == "北京市朝阳区"
    assert Region.objects.get(code="419001").full_name == "河南省济源市"
    assert Region.objects.get(code="500229").full_name == "重庆市城口县"
    assert Region.objects.get(code="110100").full_name == "北京市市辖区"


def test_load_regions_city_without_counties_is_not_repeated(regions):
    # areas.json repeats 东莞市 as 441900; it is the prefecture itself, stored once.
    dongguan = Region.objects.get(code="441900")
    assert dongguan.level == Level.PREFECTURE
    assert not dongguan.children.exists()


def test_load_regions_command_prints_counts(regions):
    out = StringIO()
    call_command("load_regions", stdout=out)
    assert "新增 0，更新 0" in out.getvalue()


def test_load_regions_command_reports_bad_directory(db, tmp_path):
    with pytest.raises(CommandError, match="区划数据文件不存在"):
        call_command("load_regions", "--dir", str(tmp_path), stdout=StringIO())


def test_source_notes_exist():
    source = Path(default_directory()) / "SOURCE.md"
    text = source.read_text(encoding="utf-8")
    assert "china-division" in text and "2.7.0" in text and "WTFPL" in text
