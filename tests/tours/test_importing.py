"""Importing an itinerary: good rows, bad rows (each reported in Chinese, nothing written), hostile
files refused as the activities importer refuses them."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kepuyue.tours import importing
from kepuyue.tours.models import Stop

from .conftest import xlsx

HEADER = ["日期", "区县", "场所类型", "场所名称", "活动编号", "特殊地区", "备注"]


def _upload(data: bytes, name: str = "trip.xlsx"):
    return SimpleUploadedFile(name, data)


def test_good_rows_are_imported_in_one_go(tour, operator_user):
    data = xlsx(
        [
            HEADER,
            ["2025-09-16", "浙江省杭州市淳安县", "进学校", "中心小学", "", "", ""],
            ["2025/9/17", "330824", "乡村", "马金镇", "", "革命老区、边疆地区", "雨天"],
            ["2025年9月18日", "浙江 杭州 西湖区", "进企业", "", "", "", ""],
        ]
    )
    report = importing.import_itinerary(tour, _upload(data), actor=operator_user)
    assert report.problems == [] and report.added == 3
    tour.refresh_from_db()
    assert tour.county_count == 3 and tour.stop_count == 3
    kaihua = Stop.objects.get(region_id="330824")
    assert kaihua.venue_kind == "village" and kaihua.note == "雨天" and kaihua.special_areas == 2 | 8
    # The same sheet again adds nothing.
    again = importing.import_itinerary(tour, _upload(data), actor=operator_user)
    assert (again.added, again.skipped) == (0, 3)


def test_real_dates_from_excel_cells(tour, operator_user):
    from datetime import datetime

    data = xlsx([HEADER, [datetime(2025, 9, 16), "浙江省杭州市淳安县", "进社区"]])
    assert importing.import_itinerary(tour, _upload(data), actor=operator_user).added == 1


def test_csv_in_gb18030(tour, operator_user):
    text = "日期,区县,场所类型\n2025-09-16,浙江省杭州市淳安县,进军营\n"
    report = importing.import_itinerary(
        tour, _upload(text.encode("gb18030"), "trip.csv"), actor=operator_user
    )
    assert report.problems == [] and Stop.objects.get().venue_kind == "barracks"


def test_every_bad_row_is_reported_and_nothing_is_written(tour, operator_user):
    data = xlsx(
        [
            HEADER,
            ["2025-09-16", "浙江省杭州市淳安县", "进学校"],  # good, but not written: another row is bad
            ["2025-13-40", "浙江省杭州市淳安县", "进学校"],
            ["2025-09-16", "火星基地", "进学校"],
            ["2025-09-16", "浙江省杭州市淳安县", "进动物园"],
            ["2025-12-25", "浙江省杭州市淳安县", "进学校"],
            ["2025-09-16", "浙江省杭州市", "进学校"],
            ["2025-09-16", "浙江省杭州市淳安县", "进学校", "", "99999999", "", ""],
            ["2025-09-16", "浙江省杭州市淳安县", "进学校", "", "", "沙漠地区", ""],
            ["2025-09-16", "浙江省杭州市淳安县", "进学校", "场" * 101],
        ]
    )
    report = importing.import_itinerary(tour, _upload(data), actor=operator_user)
    text = "\n".join(report.problems)
    for row, words in (
        (3, "日期"),
        (4, "火星基地"),
        (5, "进动物园"),
        (6, "不在巡展时间内"),
        (7, "不是区县"),
        (8, "活动编号 99999999 不存在"),
        (9, "沙漠地区"),
        (10, "场所名称超过 100 个字"),
    ):
        assert any(p.startswith(f"第 {row} 行") and words in p for p in report.problems), (row, text)
    assert not any(p.startswith("第 2 行") for p in report.problems)
    assert not Stop.objects.exists()


def test_missing_columns_and_empty_sheets(tour, operator_user):
    report = importing.import_itinerary(
        tour, _upload(xlsx([["日期", "区县"], ["2025-09-16", "淳安"]])), actor=operator_user
    )
    assert report.problems == ["缺少列：场所类型"]
    report = importing.import_itinerary(tour, _upload(xlsx([HEADER])), actor=operator_user)
    assert report.problems == ["文件中只有表头，没有行程"]
    report = importing.import_itinerary(
        tour, _upload(xlsx([["名称", "地址"], ["a", "b"]])), actor=operator_user
    )
    assert "找不到表头" in report.problems[0]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data, name, words",
    [
        (b"", "trip.xlsx", "空的"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "trip.xls", "旧版 Excel"),
        (b"%PDF-1.4 hello", "trip.xlsx", "PDF"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 10, "trip.png", "图片"),
        (b"<html><table><tr><td>1</td></tr></table></html>", "trip.xls", "网页"),
        # The content decides (README): a CSV named .xlsx is read as CSV — here it lacks a column.
        ("日期,区县\n".encode(), "trip.xlsx", "缺少列"),
        (_zip({"word/document.xml": b"<w/>"}), "trip.xlsx", "压缩包"),
        (
            _zip({"xl/workbook.xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>'}),
            "trip.xlsx",
            "文档类型声明",
        ),
        (
            _zip({"xl/workbook.xml": b"<x/>", "xl/worksheets/sheet1.xml": b"\0" * (30 * 1024 * 1024)}),
            "trip.xlsx",
            "压缩炸弹",
        ),
        (b"PK\x03\x04broken", "trip.xlsx", "损坏"),
    ],
)
def test_hostile_files_are_refused(tour, operator_user, data, name, words):
    report = importing.import_itinerary(tour, _upload(data, name), actor=operator_user)
    assert len(report.problems) == 1 and words in report.problems[0], report.problems
    assert not Stop.objects.exists()


def test_too_big_a_file_is_refused(tour, operator_user):
    report = importing.import_itinerary(
        tour, _upload(b"a" * (importing.MAX_BYTES + 1), "trip.csv"), actor=operator_user
    )
    assert "5 MB" in report.problems[0]


def test_template_round_trips(tour, operator_user):
    report = importing.import_itinerary(tour, _upload(importing.template()), actor=operator_user)
    assert report.problems == [] and report.added == 2


def test_formula_cells_are_reported_not_stored_empty(tour, operator_user):
    """Issue: a =HYPERLINK venue and a =1+1 note were stored empty with no warning."""
    data = xlsx(
        [
            HEADER,
            [
                "2025-09-16",
                "浙江省杭州市淳安县",
                "进学校",
                '=HYPERLINK("https://example.org","中心小学")',
                "",
                "",
                "=1+1",
            ],
        ]
    )
    report = importing.import_itinerary(tour, _upload(data), actor=operator_user)
    assert report.problems == [
        "第 2 行：“场所名称”是公式，平台不计算公式，请复制后“粘贴为数值”再导入",
        "第 2 行：“备注”是公式，平台不计算公式，请复制后“粘贴为数值”再导入",
    ]
    assert not Stop.objects.exists()
