# ruff: noqa: F811 - the activities fixtures are imported by name
"""Hostile import files (issue 9 class 6): every unreadable, oversized or malicious sheet ends with a
clear Chinese message — or is stored harmlessly — through the real upload page, on SQLite and
PostgreSQL: never a 5xx, never a job stuck in "validating", no activity and no file left behind by a
refused import.

Each case builds its file from scratch (real bytes: zip archives, encodings, XML), uploads it as a
unit account would, runs validation (and the commit when validation passed) the way the pages do, and
checks the outcome.
"""

from __future__ import annotations

import codecs
import io
import resource
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from kepuyue.activities.models import Activity, ImportJob
from tests.activities.conftest import action, media_root, plan, staff, staff_client, unit  # noqa: F401

pytestmark = pytest.mark.django_db

# The row names its brand (plan 八(一)); the joint action follows from it.
HEADER = ["活动名称", "品牌活动", "开始日期", "结束日期", "省份"]
GOOD = ["科学之夜", "科学之夜", "2025-09-20", "2025-09-20", "浙江省"]


def csv_text(rows: list[list[str]]) -> str:
    return "".join(",".join(row) + "\r\n" for row in rows)


def xlsx_bytes(rows: list[list], *, sheet: str = "Sheet1") -> bytes:
    book = Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rezip(data: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    """``data`` (an .xlsx) with some members replaced or added."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = (replace or {}).get(info.filename, source.read(info))
            target.writestr(info.filename, body)
        for name, body in (add or {}).items():
            target.writestr(name, body)
    return out.getvalue()


GOOD_XLSX = xlsx_bytes([HEADER, GOOD])
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;'
    b'&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
    b"<si><t>&lol3;</t></si></sst>"
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&xxe;</t></si></sst>'
)


def zeros_member(size_mb: int) -> bytes:
    """An .xlsx whose sheet XML inflates to ``size_mb`` MB of zeros (compressed ~1/1000 of that)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        target.writestr("[Content_Types].xml", b"<Types/>")
        target.writestr("xl/workbook.xml", b"<workbook/>")
        with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(size_mb):
                member.write(block)
    return out.getvalue()


def lying_sizes(data: bytes) -> bytes:
    """``data`` (a zip) with every member's uncompressed size in the central directory made small:
    a reader trusting the headers would inflate far more than it was told."""
    raw = bytearray(data)
    position = raw.rfind(b"PK\x05\x06")
    count = int.from_bytes(raw[position + 10 : position + 12], "little")
    offset = int.from_bytes(raw[position + 16 : position + 20], "little")
    for _ in range(count):
        assert raw[offset : offset + 4] == b"PK\x01\x02"
        raw[offset + 24 : offset + 28] = (100).to_bytes(4, "little")
        name_len = int.from_bytes(raw[offset + 28 : offset + 30], "little")
        extra_len = int.from_bytes(raw[offset + 30 : offset + 32], "little")
        comment_len = int.from_bytes(raw[offset + 32 : offset + 34], "little")
        offset += 46 + name_len + extra_len + comment_len
    return bytes(raw)


def many_members(count: int) -> bytes:
    return rezip(GOOD_XLSX, add={f"xl/media/image{i}.xml": b"<x/>" for i in range(count)})


def encrypted_flag() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(GOOD_XLSX))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            copy = zipfile.ZipInfo(info.filename, info.date_time)
            copy.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(copy, source.read(info))
    raw = bytearray(out.getvalue())
    # Set the "encrypted" bit (general purpose flag bit 0) in every central directory entry.
    start = 0
    while (found := raw.find(b"PK\x01\x02", start)) != -1:
        raw[found + 8] |= 0x01
        start = found + 4
    return bytes(raw)


def docx_like() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        target.writestr("[Content_Types].xml", b"<Types/>")
        target.writestr("word/document.xml", b"<w:document/>")
    return out.getvalue()


WIDE = [f"列{i}" for i in range(300)]
ROWS_OK = csv_text([HEADER, GOOD])

# (id, file name, bytes or a builder, expected: a fragment of the refusal, or None when stored)
CASES = [
    ("empty-csv", "a.csv", b"", "文件是空的"),
    ("empty-xlsx-name", "a.xlsx", b"", None),  # the form refuses it (not .xlsx content)
    ("only-header-csv", "a.csv", csv_text([HEADER]).encode(), "只有表头"),
    ("only-header-xlsx", "a.xlsx", xlsx_bytes([HEADER]), "只有表头"),
    ("blank-lines-csv", "a.csv", b"\r\n\r\n,,,\r\n", "没有内容"),
    ("no-header-csv", "a.csv", csv_text([["甲", "乙"], ["1", "2"]]).encode(), "找不到表头"),
    ("no-header-xlsx", "a.xlsx", xlsx_bytes([["甲", "乙"], [1, 2]]), "找不到表头"),
    ("utf16-le-bom", "a.csv", codecs.BOM_UTF16_LE + ROWS_OK.encode("utf-16-le"), None),
    ("utf16-be-bom", "a.csv", codecs.BOM_UTF16_BE + ROWS_OK.encode("utf-16-be"), None),
    ("utf16-tabs-excel-unicode-text", "a.csv", ROWS_OK.replace(",", "\t").encode("utf-16"), None),
    ("utf16-no-bom", "a.csv", ROWS_OK.encode("utf-16-le"), "二进制内容"),
    ("utf8-bom", "a.csv", codecs.BOM_UTF8 + ROWS_OK.encode(), None),
    ("gb18030", "a.csv", ROWS_OK.encode("gb18030"), None),
    ("random-binary-csv", "a.csv", bytes(range(256)) * 50, "二进制内容"),
    ("ole2-xls", "a.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024, ".xls"),
    ("pdf", "a.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
    ("png", "a.csv", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "图片"),
    ("jpeg", "a.csv", b"\xff\xd8\xff\xe0" + b"\0" * 64, "图片"),
    ("gzip", "a.csv", b"\x1f\x8b\x08\x00" + b"\0" * 64, "gzip"),
    ("rtf", "a.csv", b"{\\rtf1\\ansi hello}", "RTF"),
    (
        "html-as-xls-export",
        "a.csv",
        "<html><table><tr><td>活动名称</td></tr></table></html>".encode(),
        "网页",
    ),
    ("xml", "a.csv", b'<?xml version="1.0"?><Workbook/>', "XML"),
    ("csv-named-xlsx", "a.xlsx", ROWS_OK.encode(), None),  # the form refuses it
    ("xlsx-named-csv", "a.csv", GOOD_XLSX, None),  # the content decides: read as .xlsx
    ("docx-as-xlsx", "a.xlsx", docx_like(), "压缩包而不是 Excel"),
    ("truncated-xlsx", "a.xlsx", GOOD_XLSX[: len(GOOD_XLSX) // 2], "损坏"),
    ("corrupt-member", "a.xlsx", GOOD_XLSX[:200] + b"\0" * 200 + GOOD_XLSX[400:], "损坏"),
    (
        "billion-laughs-shared-strings",
        "a.xlsx",
        rezip(GOOD_XLSX, add={"xl/sharedStrings.xml": LAUGHS}),
        "文档类型声明",
    ),
    (
        "billion-laughs-in-sheet",
        "a.xlsx",
        rezip(GOOD_XLSX, replace={"xl/worksheets/sheet1.xml": LAUGHS.replace(b"<sst", b"<worksheet", 1)}),
        "文档类型声明",
    ),
    ("xxe-in-workbook", "a.xlsx", rezip(GOOD_XLSX, replace={"xl/workbook.xml": XXE}), "文档类型声明"),
    ("high-ratio-member", "a.xlsx", zeros_member(40), "压缩炸弹"),
    ("lying-size-headers", "a.xlsx", lying_sizes(zeros_member(40)), "损坏"),
    ("too-many-members", "a.xlsx", many_members(2100), "部件"),
    ("encrypted-members", "a.xlsx", encrypted_flag(), "密码"),
    ("300-columns-xlsx", "a.xlsx", xlsx_bytes([[*HEADER, *WIDE], [*GOOD, *(["x"] * 300)]]), "超过 200 列"),
    (
        "300-columns-csv",
        "a.csv",
        csv_text([[*HEADER, *WIDE], [*GOOD, *(["x"] * 300)]]).encode(),
        "超过 200 列",
    ),
    ("huge-field-csv", "a.csv", csv_text([HEADER, ["x" * 200_000, *GOOD[1:]]]).encode(), "内容过长"),
    ("nul-after-header-csv", "a.csv", (csv_text([HEADER, GOOD]) + "a" * 5000 + "\0,b\r\n").encode(), None),
    ("unbalanced-quote-csv", "a.csv", (csv_text([HEADER]) + '"未闭合的引号,2025-09-20\r\n').encode(), None),
    ("long-cell", "a.csv", csv_text([HEADER, ["长" * 30_000, *GOOD[1:]], GOOD]).encode(), None),
    ("formula-cells", "a.csv", csv_text([HEADER, ['=HYPERLINK("http://evil")', *GOOD[1:]]]).encode(), None),
    ("control-chars", "a.csv", csv_text([HEADER, ["标题\x01\x1b[31m", *GOOD[1:]]]).encode(), None),
    (
        "superscript-date",
        "a.csv",
        csv_text([HEADER, ["活动", GOOD[1], "2025-0⁹-20", "", "浙江省"]]).encode(),
        None,
    ),
    ("circled-date", "a.csv", csv_text([HEADER, ["活动", GOOD[1], "①⑨月②⓪日", "", "浙江省"]]).encode(), None),
    (
        "arabic-indic-date",
        "a.csv",
        csv_text([HEADER, ["活动", GOOD[1], "٢٠٢٥-٠٩-٢٠", "", "浙江省"]]).encode(),
        None,
    ),
    (
        "far-past-date",
        "a.csv",
        csv_text([HEADER, ["活动", GOOD[1], "0001-01-01", "", "浙江省"]]).encode(),
        None,
    ),
    (
        "far-future-date",
        "a.csv",
        csv_text([HEADER, ["活动", GOOD[1], "9999-12-31", "", "浙江省"]]).encode(),
        None,
    ),
    (
        "huge-excel-serial",
        "a.csv",
        csv_text([HEADER, ["活动", GOOD[1], "99999999", "", "浙江省"]]).encode(),
        None,
    ),
    ("rtl-and-emoji-title", "a.csv", csv_text([HEADER, ["\u202e活动🎉", *GOOD[1:]]]).encode(), None),
    (
        "sql-in-title",
        "a.csv",
        csv_text([HEADER, ["'; DROP TABLE activities_activity; --", *GOOD[1:]]]).encode(),
        None,
    ),
]


def _files_under(root) -> list[Path]:
    root = Path(root)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize(("name", "data", "refusal"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_import_file(staff_client, unit, name, data, refusal, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("activities:import"), {"file": upload})
    assert response.status_code < 500
    job = ImportJob.objects.first()
    if job is None:  # the form refused it: nothing stored at all
        assert response.status_code == 200 and "errorlist" in response.content.decode()
        assert not _files_under(settings.PRIVATE_MEDIA_ROOT)
        return
    page = staff_client.get(reverse("activities:import_job", args=[job.pk]))
    assert page.status_code == 200
    job.refresh_from_db()
    assert job.state not in (ImportJob.State.PENDING, ImportJob.State.VALIDATING)
    if refusal is not None:
        assert job.state == ImportJob.State.FAILED and not job.retryable
        assert refusal in job.error, job.error
        assert job.error in page.content.decode()
        assert not Activity.objects.exists()
        assert not _files_under(settings.PRIVATE_MEDIA_ROOT)  # a refused file is not kept
        return
    # Stored harmlessly: validated with a report; the commit writes only what passed, then stops.
    assert job.state == ImportJob.State.VALIDATED, job.error
    with django_capture_on_commit_callbacks(execute=True):
        committed = staff_client.post(reverse("activities:import_commit", args=[job.pk]))
    assert committed.status_code < 500
    job.refresh_from_db()
    if job.valid_rows:
        assert job.state == ImportJob.State.DONE
        assert Activity.objects.count() == job.created_count == job.valid_rows
    for activity in Activity.objects.all():
        assert "\x00" not in activity.title and "\x01" not in activity.title and "\x1b" not in activity.title
    report = staff_client.get(reverse("activities:import_report", args=[job.pk]))
    assert report.status_code == 200


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("2025-0⁹-20", "非标准数字"),
        ("①⑨月②⓪日", "非标准数字"),
        ("٢٠٢٥-٠٩-٢٠", "非标准数字"),
        ("0001-01-01", "须在 1900-01-01 到 2100-12-31 之间"),
        ("9999-12-31", "须在 1900-01-01 到 2100-12-31 之间"),
        ("99999999", "不是可识别的日期"),
        ("2024-09-20", "不在活动时间内"),
    ],
)
def test_hostile_dates_are_refused_per_row(plan, unit, tmp_path, cell, message):
    """Odd digits never become other dates (NFKC would read ⁹ as 9); far dates are refused."""
    from tests.activities.helpers import reasons, run_import, write_csv

    path = write_csv(tmp_path / "d.csv", [HEADER, ["活动", GOOD[1], cell, "", "浙江省"], GOOD])
    job = run_import(path, unit)
    assert job.state == ImportJob.State.DONE and job.created_count == 1
    assert any(message in r for r in reasons(job, 2)), reasons(job, 2)


def test_hostile_counts_with_odd_digits_are_refused(plan, unit, tmp_path):
    """A count the form would refuse is refused by the import too, at validation (never left blank
    or read as another number)."""
    from tests.activities.helpers import reasons, run_import, write_csv

    rows = [
        [*HEADER, "预计参与人数", "纬度"],
        [*GOOD, "²⁰⁰", "٣٠.٥"],
        ["夜场2", *GOOD[1:], "１２０人", "30.5"],
    ]
    job = run_import(write_csv(tmp_path / "n.csv", rows), unit)
    assert not Activity.objects.filter(title="科学之夜").exists()
    assert any("非标准数字" in r for r in reasons(job, 2)), reasons(job, 2)
    second = Activity.objects.get(title="夜场2")
    assert second.expected_participants == 120 and str(second.latitude) == "30.500000"


def test_row_and_empty_row_caps(plan, unit, tmp_path, settings):
    from tests.activities.helpers import run_import, write_csv

    settings.KEPUYUE_IMPORT_MAX_ROWS = 5
    rows = [HEADER] + [[f"活动{i}", *GOOD[1:]] for i in range(6)]
    job = run_import(write_csv(tmp_path / "r.csv", rows), unit)
    assert job.state == ImportJob.State.FAILED and "超过 5 行的上限" in job.error
    assert not Activity.objects.exists()
    rows = [HEADER, GOOD] + [[""] * 5] * 60 + [["末尾", *GOOD[1:]]]
    job = run_import(write_csv(tmp_path / "e.csv", rows), unit)
    assert job.state == ImportJob.State.FAILED and "空行过多" in job.error


def test_two_megabyte_zip_bomb_is_refused_without_memory(plan, unit, tmp_path):
    """A ~2 MB .xlsx that inflates to 2 GB: refused from its headers, and with headers that lie,
    after inflating at most its ratio budget in 1 MB chunks — the process grows by far less than the
    bomb (issue 9 class 6: 2.3 GB before)."""
    from tests.activities.helpers import run_import

    bomb = zeros_member(2048)
    assert len(bomb) < 3 * 1024 * 1024
    for index, data in enumerate((bomb, lying_sizes(bomb))):
        path = tmp_path / f"bomb{index}.xlsx"
        path.write_bytes(data)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        job = run_import(path, unit)
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        assert job.state == ImportJob.State.FAILED
        assert "压缩炸弹" in job.error or "损坏" in job.error
        assert grown_mb < 100, grown_mb
    assert not Activity.objects.exists()
