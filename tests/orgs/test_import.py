import csv
import io
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from kepuyue.orgs.models import Organization, OrganizationType
from kepuyue.orgs.services import import_organizations

BASES = Path(__file__).resolve().parent.parent / "fixtures" / "bases.csv"
HEADER = "name,type,province,city,county,note,source_url\n"

pytestmark = pytest.mark.django_db


@pytest.fixture
def org_types(db):
    """The OrganizationType rows the bases list needs, named as in campaigns/kepuyue-2025.yaml."""
    for order, (code, name) in enumerate(
        [("university", "高等学校"), ("science_education_base", "科普教育基地"), ("science_museum", "科技馆")]
    ):
        OrganizationType.objects.get_or_create(code=code, defaults={"name": name, "order": order})


def bases_rows() -> int:
    with BASES.open(encoding="utf-8-sig") as f:
        return sum(1 for _ in csv.DictReader(f))


def test_import_bases_accounts_for_every_row(regions, org_types):
    report = import_organizations(BASES)
    assert bases_rows() == 107
    assert report.rows == 107
    assert report.created + report.skipped == 107
    assert report.created == Organization.objects.count() == 107
    # every row gives a province, and every one resolves
    assert not [p for p in report.problems if "地区" in p.reason]
    assert Organization.objects.filter(region__isnull=True).count() == 0


@pytest.mark.parametrize(
    ("name", "code", "type_code"),
    [
        ("南宁三峰环保发电厂", "450100", "science_education_base"),
        ("广西壮族自治区辐射环境监督管理站", "450000", "science_education_base"),
        ("石首麋鹿国家级自然保护区", "421081", "science_education_base"),
        ("兴义国家地质公园博物馆", "522301", "science_education_base"),
        ("澳门科学馆", "820000", "science_education_base"),
        ("香港科学馆", "810000", "science_museum"),
        ("济源市科技馆", "419001", "science_museum"),
        ("天门市科技馆", "429006", "science_museum"),
        ("京能五间房能源科普示范基地", "152500", "science_education_base"),
        ("北京科学中心", "110000", "science_museum"),
        ("柳州科技馆", "450200", "science_museum"),
        (
            "中国科学技术大学工程科学星火馆（工程科学实验教学中心“工程科学实验教学科普基地”）",
            "340104",
            "university",
        ),
    ],
)
def test_import_bases_resolves_regions_and_types(regions, org_types, name, code, type_code):
    import_organizations(BASES)
    org = Organization.objects.get(name=name)
    assert org.region_id == code
    assert org.type_id == type_code


def test_import_bases_keeps_label_and_batch_in_note(regions, org_types):
    import_organizations(BASES)
    assert Organization.objects.get(name="柳州科技馆").note == "全国科普教育基地;科技馆；2021-2025年度第一批"
    assert Organization.objects.get(name="浙江海洋大学").note.startswith(
        "高校星火馆；浙江省高校星火馆试点高校"
    )


def test_import_bases_again_changes_nothing(regions, org_types):
    import_organizations(BASES)
    before = list(
        Organization.objects.order_by("name").values_list("name", "type", "region", "note", "updated")
    )
    report = import_organizations(BASES)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 107)
    assert (
        list(Organization.objects.order_by("name").values_list("name", "type", "region", "note", "updated"))
        == before
    )


def test_import_edited_row_updates_in_place(regions, org_types):
    import_organizations(BASES)
    text = BASES.read_text(encoding="utf-8-sig").replace(
        "南宁三峰环保发电厂,全国科普教育基地,广西壮族自治区,南宁市,,",
        "南宁三峰环保发电厂,科技馆,广西壮族自治区,南宁市,西乡塘区,",
    )
    org = Organization.objects.get(name="南宁三峰环保发电厂")
    org.uscc = "91350100M000100Y43"  # set by hand: the import leaves it alone
    org.save()

    report = import_organizations(io.StringIO(text))

    assert (report.created, report.updated, report.unchanged) == (0, 1, 106)
    org.refresh_from_db()
    assert (org.type_id, org.region_id, org.uscc) == ("science_museum", "450107", "91350100M000100Y43")


def test_import_dry_run_writes_nothing(regions, org_types):
    report = import_organizations(BASES, dry_run=True)
    assert report.dry_run and report.created == 107
    assert not Organization.objects.exists()


def test_import_bad_rows_reported_with_row_and_reason(regions, org_types):
    text = HEADER + "\n".join(
        [
            "好单位,科技馆,浙江省,杭州市,西湖区,,https://example.org/a",  # row 2: imported
            ",科技馆,浙江省,,,,",  # row 3: empty name
            "怪单位,外星基地,浙江省,,,,",  # row 4: unknown type
            "好单位,科技馆,浙江省,,,,",  # row 5: duplicate name
            "无地区单位,科技馆,火星,,,,",  # row 6: imported, region unknown
            "半地区单位,科技馆,湖北省,鄂州市,临空经济区（沙窝乡）,,",  # row 7: imported at the city
            "坏网址单位,高校星火馆,浙江省,,,,not a url",  # row 8: imported, URL dropped and reported
        ]
    )
    report = import_organizations(io.StringIO(text))

    assert (report.created, report.skipped, report.rows) == (4, 3, 7)
    by_row = {p.row: p for p in report.problems}
    assert by_row[3].column == "name" and "单位名称为空" in by_row[3].reason
    assert (
        by_row[4].column == "type"
        and by_row[4].value == "外星基地"
        and "不认识的单位类型" in by_row[4].reason
    )
    assert "与第2行单位名称重复" in by_row[5].reason
    assert by_row[6].value == "火星" and "无法识别地区" in by_row[6].reason
    assert by_row[7].column == "county" and "临空经济区（沙窝乡）" in by_row[7].reason
    assert by_row[8].column == "source_url" and "来源网址无效" in by_row[8].reason
    assert Organization.objects.get(name="无地区单位").region is None
    assert Organization.objects.get(name="半地区单位").region_id == "420700"
    assert Organization.objects.get(name="好单位").region_id == "330106"
    assert not Organization.objects.filter(name="怪单位").exists()


def test_import_missing_type_in_database_is_reported_not_crashing(regions):
    OrganizationType.objects.create(code="science_education_base", name="科普教育基地")
    report = import_organizations(BASES)
    missing = [p for p in report.problems if "尚未建立" in p.reason]
    assert report.created == 54 + 13  # the two labels that map to science_education_base
    assert report.skipped == len(missing) == 107 - 67
    assert "science_museum" in missing[0].reason and "load_campaign" in missing[0].reason


def test_import_header_without_name_column_raises(db):
    with pytest.raises(ValidationError, match="表头缺少列：name"):
        import_organizations(io.StringIO("title,type\nx,科技馆\n"))


def test_import_accepts_bytes_gb18030_and_chinese_headings(regions, org_types):
    text = "单位名称,类型,省,市,县,备注,来源\n某科技馆,科技馆,江苏省,苏州市,昆山市,,\n"
    report = import_organizations(io.BytesIO(text.encode("gb18030")))
    assert report.created == 1
    assert Organization.objects.get(name="某科技馆").region_id == "320583"


def test_import_command_prints_counts_and_problems(regions, org_types, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(HEADER + "好单位,科技馆,浙江省,,,,\n,科技馆,,,,,\n", encoding="utf-8")
    out = StringIO()
    call_command("import_organizations", str(path), stdout=out)
    text = out.getvalue()
    assert "新建 1，更新 0，未变 0，未导入 1" in text
    assert "第3行 name" in text and "单位名称为空" in text


def test_import_command_dry_run_says_so(regions, org_types):
    out = StringIO()
    call_command("import_organizations", str(BASES), "--dry-run", stdout=out)
    assert "试运行" in out.getvalue()
    assert not Organization.objects.exists()


def test_import_accepts_type_names_of_the_plan_and_codes(regions, org_types):
    text = (
        "name,type,province,city,county,note,source_url\n"
        "测试科普基地,科普教育基地,浙江省,杭州市,西湖区,,\n"
        "测试图书馆,library,浙江省,杭州市,,,\n"
    )
    OrganizationType.objects.create(code="library", name="图书馆", order=20)
    report = import_organizations(io.StringIO(text))
    types = dict(Organization.objects.filter(name__startswith="测试").values_list("name", "type_id"))
    assert report.problems == []
    assert types == {"测试科普基地": "science_education_base", "测试图书馆": "library"}
