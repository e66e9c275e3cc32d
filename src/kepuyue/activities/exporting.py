"""Export of activity lists to ``.xlsx`` and ``.csv``, streamed.

Memory does not grow with the number of rows: rows come from ``values_list(...).iterator()`` in
chunks, the ``.xlsx`` is written by openpyxl's write-only workbook to a temporary file that is then
streamed (``FileResponse``), and the ``.csv`` is generated row by row (``StreamingHttpResponse``,
UTF-8 with BOM so that Excel opens it). Cells that Excel would run as a formula (starting with
``=``, ``+``, ``-``, ``@``, tab or CR) are prefixed with ``'``, and control characters that
openpyxl refuses are dropped (``common.text.cell_safe``). The columns are the import
template's, so an exported file imports again unchanged.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime, time
from urllib.parse import quote

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse

from kepuyue.common import clock
from kepuyue.common.text import FORMULA_STARTS, cell_safe, neutralise_formula

from . import services
from .models import Audience, Form, SpecialArea, Status, Topic

CHUNK_SIZE = 2000

# (header, value path) — the headers are the import template's (importing.TEMPLATE_COLUMNS).
COLUMNS: list[tuple[str, str]] = [
    ("活动编号", "external_id"),
    ("活动名称", "title"),
    ("状态", "status"),
    ("联合行动", "joint_action__name"),
    ("品牌活动", "brand__name"),
    ("重点任务", "key_task__name"),
    ("主办单位", "organizer__name"),
    ("协办/承办单位", "co_organizers"),
    ("开始时间", "starts_at"),
    ("结束时间", "ends_at"),
    ("活动形式", "form"),
    ("线上地址", "online_url"),
    ("省份", "province_code"),
    ("城市", "prefecture_code"),
    ("区县", "county_code"),
    ("区划代码", "region_id"),
    ("活动地点", "venue"),
    ("面向对象", "audiences"),
    ("活动主题", "topics"),
    ("特殊地区", "special_areas"),
    ("预计参与人数", "expected_participants"),
    ("参与科技工作者人数", "science_workers"),
    ("联系人", "contact_name"),
    ("联系电话", "contact_phone"),
    ("活动简介", "summary"),
]
HEADERS = [header for header, _path in COLUMNS]
PATHS = [path for _header, path in COLUMNS]
END_OF_DAY = time.max


neutralise = neutralise_formula
xlsx_safe = cell_safe
__all__ = ["FORMULA_STARTS", "cell_safe", "neutralise", "xlsx_safe"]


def content_disposition(filename: str, *, fallback: str = "", inline: bool = False) -> str:
    """A ``Content-Disposition`` value per RFC 6266 with an RFC 5987 UTF-8 name:
    ``attachment; filename="activities.xlsx"; filename*=UTF-8''%E6%B4%BB%E5%8A%A8.xlsx``.
    ``fallback`` is the plain-ASCII name for old clients (default: ``download`` + the extension)."""
    if not fallback:
        fallback = "download" + os.path.splitext(filename)[1]
    fallback = "".join(c for c in fallback if 32 <= ord(c) < 127 and c not in '"\\') or "download"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _region_names() -> dict[str, str]:
    """Region code → display name (grouping rows 市辖区/县 show as their province), one query."""
    from kepuyue.regions.models import Region

    rows = list(Region.objects.values_list("code", "name", "level", "province_code"))
    names = {code: name for code, name, _level, _province in rows}
    return {
        code: (names.get(province, name) if level == 2 and name in ("市辖区", "县") else name)
        for code, name, level, province in rows
    }


def _when(moment: datetime | None, *, end: bool) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(clock.BEIJING)
    # Whole days export as dates, so that a re-import gives the same instants.
    if (end and local.time() == END_OF_DAY) or (not end and local.time() == time.min):
        return local.date().isoformat()
    return local.strftime("%Y-%m-%d %H:%M")


def export_rows(queryset: QuerySet, *, mask_phones: bool = True) -> Iterator[list]:
    """The header, then one list of cell values per activity of ``queryset`` (any filter and
    order), read ``CHUNK_SIZE`` rows at a time. Phones are masked unless ``mask_phones`` is False
    (only for the activities' own organization). Values are neutralised against formulas."""
    yield list(HEADERS)
    regions = _region_names()
    statuses = dict(Status.choices)
    forms = dict(Form.choices)
    for values in queryset.values_list(*PATHS).iterator(chunk_size=CHUNK_SIZE):
        row = dict(zip(PATHS, values, strict=True))
        row["status"] = statuses.get(row["status"], row["status"])
        # A campaign-wide activity (全国科普月活动); the import reads the label back as no joint action.
        row["joint_action__name"] = row["joint_action__name"] or services.CAMPAIGN_WIDE_LABEL
        row["form"] = forms.get(row["form"], row["form"])
        row["starts_at"] = _when(row["starts_at"], end=False)
        row["ends_at"] = _when(row["ends_at"], end=True)
        for name in ("province_code", "prefecture_code", "county_code"):
            row[name] = regions.get(row[name], "") if row[name] else ""
        row["audiences"] = "、".join(services.labels_of(row["audiences"], Audience))
        row["topics"] = "、".join(services.labels_of(row["topics"], Topic))
        row["special_areas"] = "、".join(services.labels_of(row["special_areas"], SpecialArea))
        if mask_phones:
            row["contact_phone"] = services.mask_phone(row["contact_phone"])
        yield [cell_safe("" if value is None else value) for value in (row[p] for p in PATHS)]


class _Echo:
    """A file-like object whose ``write`` returns what it is given (csv.writer → a string)."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(rows: Iterable[list], *, rows_per_chunk: int = 500) -> Iterator[bytes]:
    """UTF-8 bytes of a CSV file (BOM first, CRLF lines), a few hundred rows per chunk."""
    writer = csv.writer(_Echo())
    yield "\ufeff".encode()
    buffer: list[str] = []
    for row in rows:
        buffer.append(writer.writerow(row))
        if len(buffer) >= rows_per_chunk:
            yield "".join(buffer).encode()
            buffer = []
    if buffer:
        yield "".join(buffer).encode()


def csv_response(queryset: QuerySet, filename: str, *, mask_phones: bool = True) -> StreamingHttpResponse:
    """A streamed ``.csv`` download of ``queryset`` (UTF-8 with BOM) named ``filename``."""
    response = StreamingHttpResponse(
        csv_chunks(export_rows(queryset, mask_phones=mask_phones)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition(filename, fallback="activities.csv")
    return response


def write_xlsx(queryset: QuerySet, handle, *, mask_phones: bool = True) -> None:
    """Write ``queryset`` as an ``.xlsx`` workbook to the binary file ``handle`` (write-only mode)."""
    write_xlsx_rows(export_rows(queryset, mask_phones=mask_phones), handle)


def write_xlsx_rows(rows: Iterator[list], handle, *, on_row=None) -> None:
    """Write ``rows`` (the header first, as :func:`export_rows` gives them) as an ``.xlsx`` workbook
    to the binary file ``handle`` in openpyxl's write-only mode: memory stays constant whatever the
    number of rows. ``on_row()`` is called after each data row (progress of an export job)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet("活动")
    sheet.freeze_panes = "A2"
    header = []
    for text in next(rows):
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
        if on_row is not None:
            on_row()
    book.save(handle)


def xlsx_response(queryset: QuerySet, filename: str, *, mask_phones: bool = True) -> FileResponse:
    """An ``.xlsx`` download of ``queryset`` named ``filename``: written to a temporary file that is
    unlinked at once and streamed from its open handle (gone when the response closes)."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    write_xlsx(queryset, handle, mask_phones=mask_phones)
    handle.seek(0)
    response = FileResponse(
        handle, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = content_disposition(filename, fallback="activities.xlsx")
    return response


def export_filename(stem: str, extension: str) -> str:
    """``{stem}_{YYYYMMDD-HHMM}.{extension}`` in Beijing time, e.g. ``活动_20250915-1030.xlsx``."""
    return f"{stem}_{clock.now().astimezone(clock.BEIJING):%Y%m%d-%H%M}.{extension}"
