"""Streamed export to .xlsx and .csv: neutralised formulas, RFC 5987 names, masked phones, round trip."""

import csv
import io

import pytest
from django.http import FileResponse, StreamingHttpResponse
from openpyxl import load_workbook

from kepuyue.activities import exporting, importing, services
from kepuyue.activities.models import Activity, Audience, Status
from tests.activities.factories import bj
from tests.activities.helpers import run_import


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("科学之夜", "科学之夜"),
        ("a=b", "a=b"),
        (42, 42),
    ],
)
def test_neutralise(value, shown):
    assert exporting.neutralise(value) == shown


def test_content_disposition_rfc_5987():
    assert exporting.content_disposition("活动.xlsx", fallback="activities.xlsx") == (
        "attachment; filename=\"activities.xlsx\"; filename*=UTF-8''%E6%B4%BB%E5%8A%A8.xlsx"
    )
    assert exporting.content_disposition('a b;"c".csv').startswith(
        "attachment; filename=\"download.csv\"; filename*=UTF-8''a%20b%3B%22c%22.csv"
    )


@pytest.fixture
def two(plan, unit, action):
    museums = action("science-museums")
    data = {
        "joint_action": museums,
        "brand": museums.brands.get(slug="science-nights"),
        "starts_at": bj("2025-09-20 19:00"),
        "ends_at": bj("2025-09-20 21:30"),
        "form": "offline",
        "region_code": "330106",
        "venue": "杭州科技馆",
        "contact_phone": "13812345678",
        "audiences": Audience.YOUTH | Audience.PUBLIC,
    }
    first = services.create_activity(unit, {**data, "title": '=HYPERLINK("http://evil","点我")'})
    second = services.create_activity(
        unit,
        {
            **data,
            "title": "全天开放日",
            "starts_at": bj("2025-09-21 00:00"),
            "ends_at": bj("2025-09-21 00:00").replace(hour=23, minute=59, second=59, microsecond=999999),
        },
    )
    return first, second


def _csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.django_db
def test_csv_export_streams_neutralises_and_masks(two):
    response = exporting.csv_response(Activity.objects.order_by("id"), "活动.csv")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "filename*=UTF-8''%E6%B4%BB%E5%8A%A8.csv" in response["Content-Disposition"]
    rows = _csv_rows(response)
    header, first, second = rows
    assert header[:3] == ["活动编号", "活动名称", "状态"]
    row = dict(zip(header, first, strict=True))
    assert row["活动名称"] == '\'=HYPERLINK("http://evil","点我")'
    assert row["联系电话"] == "138****5678"
    assert row["开始时间"] == "2025-09-20 19:00" and row["区县"] == "西湖区" and row["城市"] == "杭州市"
    assert row["面向对象"] == "青少年、公众" and row["状态"] == "草稿"
    whole_day = dict(zip(header, second, strict=True))
    assert (whole_day["开始时间"], whole_day["结束时间"]) == ("2025-09-21", "2025-09-21")


@pytest.mark.django_db
def test_csv_export_owner_sees_phone(two):
    rows = _csv_rows(exporting.csv_response(Activity.objects.order_by("id"), "a.csv", mask_phones=False))
    assert rows[1][rows[0].index("联系电话")] == "13812345678"


@pytest.mark.django_db
def test_csv_export_round_trips_through_import(two, unit, tmp_path):
    body = b"".join(
        exporting.csv_response(Activity.objects.order_by("id"), "a.csv", mask_phones=False).streaming_content
    )
    path = tmp_path / "export.csv"
    path.write_bytes(body)
    job = run_import(path, unit)
    # The neutralised title ('=HYPERLINK…) reads back as the text it was: nothing changes.
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 2), job.report
    assert importing.failed_rows(job) == []


@pytest.mark.django_db
def test_export_campaign_wide_activity_round_trips(plan, unit, tmp_path):
    """A campaign-wide activity (全国科普月活动) exports with that label in the 联合行动 column, and
    the import reads the label back as no joint action: nothing changes, nothing is warned."""
    activity = services.create_activity(
        unit,
        {
            "campaign": plan,
            "title": "全国科普月开幕式",
            "starts_at": bj("2025-09-01 09:00"),
            "ends_at": bj("2025-09-01 11:00"),
            "region_code": "330106",
        },
    )
    rows = _csv_rows(exporting.csv_response(Activity.objects.order_by("id"), "a.csv", mask_phones=False))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["活动名称"], row["联合行动"], row["品牌活动"]) == ("全国科普月开幕式", "全国科普月活动", "")
    path = tmp_path / "export.csv"
    path.write_bytes(b"".join(exporting.csv_response(Activity.objects.all(), "a.csv").streaming_content))
    job = run_import(path, unit)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 1), job.report
    assert [i for i in job.report if i["column"] == "联合行动"] == []
    activity.refresh_from_db()
    assert activity.joint_action is None


@pytest.mark.django_db
def test_xlsx_export_is_a_file_response(two):
    response = exporting.xlsx_response(Activity.objects.order_by("id"), "杭州科技馆_活动.xlsx")
    assert isinstance(response, FileResponse)
    assert response["Content-Disposition"].startswith(
        "attachment; filename=\"activities.xlsx\"; filename*=UTF-8''"
    )
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][1] == "活动名称"
    assert rows[1][1].startswith("'=HYPERLINK")
    assert "138****5678" in rows[1]
    assert len(rows) == 3


@pytest.mark.django_db
def test_export_reads_in_chunks(two, monkeypatch, django_assert_max_num_queries):
    monkeypatch.setattr(exporting, "CHUNK_SIZE", 1)
    with django_assert_max_num_queries(3):  # regions + the activities (server-side cursor or chunks)
        rows = list(exporting.export_rows(Activity.objects.filter(status=Status.DRAFT).order_by("id")))
    assert len(rows) == 3
