"""Class 5 of issue 9: characters that break exports. A title with control characters failed every
``.xlsx`` export that contained it (openpyxl refuses them): the export now drops them, still
neutralises formulas, and the file opens."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from kepuyue.activities.models import Activity, Status
from kepuyue.common.text import cell_safe

from .conftest import HOSTILE_TEXTS, login, no_server_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def dirty(world):
    """A published activity whose texts hold what openpyxl refuses, written past save() and the text
    layer (as rows imported before this issue may hold them)."""
    activity = world.activity(world.units.zj, Status.PUBLISHED)
    Activity.objects.filter(pk=activity.pk).update(
        title="标题\x1b[31m控制\x08字符",  # PostgreSQL itself refuses NUL
        summary='=HYPERLINK("http://evil")\x0b',
        venue="+1\x1f",
        contact_name="@王老师\x01",
    )
    return activity


def test_unit_xlsx_export_with_control_characters_opens(client, world, dirty):
    login(client, world.users.pub_zj)
    response = client.get("/org/activities/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    titles = [row[1] for row in rows[1:]]
    assert "标题[31m控制字符" in titles
    summaries = {row[-1] for row in rows[1:]}
    assert '\'=HYPERLINK("http://evil")' in summaries


def test_unit_csv_export_with_control_characters(client, world, dirty):
    login(client, world.users.pub_zj)
    response = client.get("/org/activities/export.csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "\x00" not in text and "\x1b" not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert any(row[1] == "标题[31m控制字符" for row in rows)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_review_export_with_control_characters(client, world, dirty, fmt):
    login(client, world.users.admin_zj)
    response = client.get(f"/org/review/export.{fmt}")
    no_server_error(response)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    if fmt == "xlsx":
        load_workbook(io.BytesIO(body), read_only=True)


def test_audit_csv_with_control_characters(client, world, dirty):
    login(client, world.users.cast)
    response = client.get("/org/review/audit/", {"format": "csv", "q": "\x00"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "\x00" not in text


@pytest.mark.parametrize("value", HOSTILE_TEXTS)
def test_every_hostile_text_is_a_valid_xlsx_cell(value, tmp_path):
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("t")
    sheet.append([cell_safe(value)])
    book.save(tmp_path / "t.xlsx")
    [[cell]] = list(load_workbook(tmp_path / "t.xlsx").active.iter_rows(values_only=True))
    assert not str(cell or "").startswith(("=", "+", "-", "@"))
