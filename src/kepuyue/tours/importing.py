"""Importing an itinerary (巡展行程表) from ``.xlsx`` or ``.csv`` into a tour (plan 五(三)2).

One row a stop: 日期, 区县 (a full place such as 浙江省杭州市淳安县, a six-digit code, or split
省份/城市/区县 columns), 场所类型 (one of the six “进”, 学校 alone is fine), 场所名称, 活动编号 (a
published activity of the campaign: its day and county fill the blanks), 特殊地区, 备注.

The file is checked as the activities importer checks its files (``activities.importing.reading``:
the content decides the format, ``.xlsx`` archives are inspected for zip bombs and XML entity
declarations before python-calamine reads them, size and row caps); then every row is checked and
the problems come back in Chinese naming the row. Only a file without problems is written — all its
stops in one transaction (``services.add_stops``), or none.
"""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kepuyue.activities.importing.reading import (
    Formula,
    ImportFileError,
    _mark_formulas,
    check_file_kind,
    detect_encoding,
    formula_cells,
    formula_problem,
)
from kepuyue.activities.models import Activity, SpecialArea
from kepuyue.common.text import clean_text, parse_date, xlsx_safe
from kepuyue.regions.models import Region
from kepuyue.regions.services import match_region, resolve_place

from . import services
from .models import Tour, VenueKind

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = services.MAX_STOPS
MAX_CELL = 500
MAX_COLUMNS = 50

#: Header → field. The template's names first, then what operators write.
HEADERS = {
    "日期": "date",
    "巡展日期": "date",
    "时间": "date",
    "区县": "place",
    "所在区县": "county",
    "地点": "place",
    "所在地": "place",
    "区划代码": "place",
    "省份": "province",
    "所在省份": "province",
    "城市": "city",
    "所在市": "city",
    "所在城市": "city",
    "县区": "county",
    "场所类型": "venue_kind",
    "进": "venue_kind",
    "六进": "venue_kind",
    "场所名称": "venue",
    "场所": "venue",
    "巡展地点": "venue",
    "活动编号": "activity",
    "平台活动编号": "activity",
    "特殊地区": "special_areas",
    "备注": "note",
}
TEMPLATE_HEADERS = ["日期", "区县", "场所类型", "场所名称", "活动编号", "特殊地区", "备注"]

_VENUES = {label: value for value, label in VenueKind.choices} | {
    label.removeprefix("进"): value for value, label in VenueKind.choices
}
_VENUES |= {
    "乡村": VenueKind.VILLAGE,
    "农村": VenueKind.VILLAGE,
    "进农村": VenueKind.VILLAGE,
    "部队": VenueKind.BARRACKS,
}
_SPECIAL = {s.label: s.value for s in SpecialArea} | {
    s.label.removesuffix("地区"): s.value for s in SpecialArea
}


@dataclass
class Report:
    """What an import found: ``problems`` (Chinese, one per row and field) or the stops to add."""

    rows: int = 0
    problems: list[str] = field(default_factory=list)
    stops: list[services.StopInput] = field(default_factory=list)
    added: int = 0
    skipped: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    return clean_text(value if not isinstance(value, date) else value.isoformat())


def _rows_xlsx(path: Path) -> list[list]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine's own errors: the message says what is wrong
        raise ImportFileError(_("无法读取 Excel 文件（%(error)s）") % {"error": str(exc)[:100]}) from exc
    try:
        visible = [m.name for m in book.sheets_metadata if str(m.visible).endswith("Visible")]
        if not visible:
            raise ImportFileError(_("Excel 文件中没有可见的工作表"))
        rows = []
        sheet = book.get_sheet_by_name(visible[0])
        # Formula cells come back as ``Formula`` (the activities importer's reader): reported, never
        # read as the empty value calamine gives for them.
        for cells in _mark_formulas(sheet.iter_rows(), formula_cells(path, visible[0]), sheet.start[1]):
            rows.append(list(cells))
            if len(rows) > MAX_ROWS + 1:
                raise ImportFileError(_("行程超过 %(n)d 行，请分成几个文件导入") % {"n": MAX_ROWS})
        return rows
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError(_("无法读取 Excel 工作表（%(error)s）") % {"error": str(exc)[:100]}) from exc
    finally:
        book.close()


def _rows_csv(path: Path) -> list[list]:
    rows = []
    try:
        with open(path, encoding=detect_encoding(path), newline="") as handle:
            for row in csv.reader(handle):
                rows.append(row)
                if len(rows) > MAX_ROWS + 1:
                    raise ImportFileError(_("行程超过 %(n)d 行，请分成几个文件导入") % {"n": MAX_ROWS})
    except (csv.Error, UnicodeError) as exc:
        raise ImportFileError(_("无法按表格读取 CSV 文件：请用 Excel 另存为 .xlsx")) from exc
    return rows


def read_rows(upload) -> list[list]:
    """The rows of an uploaded file (header first), checked as the activities importer checks
    files. Raises ``ImportFileError`` (Chinese)."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ImportFileError(_("文件不能超过 5 MB"))
    with tempfile.TemporaryDirectory() as folder:
        name = Path(getattr(upload, "name", "") or "itinerary").name[-100:]
        path = Path(folder) / "upload"
        written = 0
        with open(path, "wb") as out:
            for chunk in (
                upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b"")
            ):
                written += len(chunk)
                if written > MAX_BYTES:
                    raise ImportFileError(_("文件不能超过 5 MB"))
                out.write(chunk)
        kind = check_file_kind(path, name)
        rows = _rows_xlsx(path) if kind == "xlsx" else _rows_csv(path)
    if not rows or not any(_text(c) for row in rows for c in row):
        raise ImportFileError(_("文件中没有内容"))
    return rows


def _header(rows: list[list]) -> tuple[int, dict[str, int]]:
    """The header row (among the first five) and its columns."""
    for index, row in enumerate(rows[:5]):
        if len(row) > MAX_COLUMNS and any(_text(c) for c in row[MAX_COLUMNS:]):
            raise ImportFileError(_("表头超过 %(n)d 列") % {"n": MAX_COLUMNS})
        columns: dict[str, int] = {}
        for position, cell in enumerate(row[:MAX_COLUMNS]):
            name = _text(cell).replace(" ", "").rstrip("*＊")
            if name in HEADERS and HEADERS[name] not in columns:
                columns[HEADERS[name]] = position
        if "date" in columns or "activity" in columns:
            return index, columns
    raise ImportFileError(_("前5行中找不到表头：至少要有“日期”（或“活动编号”）和“区县”“场所类型”列"))


def _date(value, label: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_date(_text(value), label=label)


def region_of(values: dict) -> tuple[Region | None, str]:
    place = values.get("place", "")
    if place.isdigit() and len(place) == 6:
        region = Region.objects.filter(pk=place).first()
        return region, "" if region else _("区划代码 %(code)s 不存在") % {"code": place}
    if place:
        found = match_region(place)
    elif values.get("county") or values.get("city") or values.get("province"):
        found = resolve_place(values.get("province", ""), values.get("city", ""), values.get("county", ""))
        if found is not None and found.unresolved:
            return None, _("地区“%(text)s”无法识别") % {"text": "、".join(found.unresolved)}
    else:
        return None, ""
    text = place or "".join(values.get(k, "") for k in ("province", "city", "county"))
    if found is None or found.score < 0.7:
        return None, _("地区“%(text)s”无法识别或有歧义，请写全省、市、县（例如：浙江省杭州市淳安县）") % {
            "text": text[:60]
        }
    return Region.objects.filter(pk=found.region.code).first(), ""


def check_rows(tour: Tour, rows: list[list]) -> Report:
    """Check every row of an itinerary for ``tour``; the report lists each problem by row."""
    report = Report()
    start, columns = _header(rows)
    missing = [label for key, label in (("venue_kind", "场所类型"),) if key not in columns]
    if not ({"place", "county"} & columns.keys()) and "activity" not in columns:
        missing.append("区县")
    if missing:
        raise ImportFileError(_("缺少列：%(names)s") % {"names": "、".join(missing)})
    activity_ids = set()
    parsed = []
    for number, row in enumerate(rows[start + 1 :], start=start + 2):
        raw = {key: (row[i] if i < len(row) else "") for key, i in columns.items()}
        texts = {}
        problems = []
        for key, value in raw.items():
            if isinstance(value, Formula):
                problems.append(formula_problem(_text(rows[start][columns[key]]) or key))
                value = ""
            text = _text(value)
            if len(text) > MAX_CELL:
                problems.append(_("“%(col)s”超过 %(n)d 个字") % {"col": key, "n": MAX_CELL})
                text = text[:MAX_CELL]
            texts[key] = text
        if not any(texts.values()) and not problems:
            continue
        report.rows += 1
        parsed.append((number, raw, texts, problems))
        if texts.get("activity", "").isdigit() and len(texts["activity"]) < 12:
            activity_ids.add(int(texts["activity"]))
    activities = Activity.objects.in_bulk(activity_ids) if activity_ids else {}
    for number, raw, texts, problems in parsed:
        where = _("第 %(n)d 行") % {"n": number}
        day = None
        if texts.get("date"):
            try:
                day = _date(raw["date"], _("日期"))
            except ValidationError as exc:
                problems.append(exc.messages[0])
        activity = None
        if texts.get("activity"):
            activity = (
                activities.get(int(texts["activity"]))
                if texts["activity"].isdigit() and len(texts["activity"]) < 12
                else None
            )
            if activity is None:
                problems.append(_("活动编号 %(id)s 不存在") % {"id": texts["activity"][:20]})
        region, problem = region_of(texts)
        if problem:
            problems.append(problem)
        venue_kind = _VENUES.get(texts.get("venue_kind", "").replace(" ", ""), "")
        special = 0
        for part in filter(
            None,
            (
                p.strip()
                for p in texts.get("special_areas", "").replace("，", "、").replace(",", "、").split("、")
            ),
        ):
            if part in _SPECIAL:
                special |= _SPECIAL[part]
            else:
                problems.append(
                    _("特殊地区“%(text)s”无法识别，可填：%(choices)s")
                    % {"text": part[:20], "choices": "、".join(SpecialArea.labels)}
                )
        if len(texts.get("venue", "")) > 100:
            problems.append(_("场所名称超过 100 个字"))
        if len(texts.get("note", "")) > 200:
            problems.append(_("备注超过 200 个字"))
        given = services.StopInput(
            date=day,
            region=region,
            venue_kind=venue_kind,
            venue=texts.get("venue", "")[:100],
            activity=activity,
            special_areas=special,
            note=texts.get("note", "")[:200],
        )
        stop, rule_problems = services.check_stop(tour, given)
        if problem or (texts.get("activity") and activity is None):
            # The place or activity was already reported; the rules would only repeat it.
            rule_problems = [p for p in rule_problems if "区县" not in p]
        if texts.get("venue_kind") and not venue_kind:
            rule_problems = [p for p in rule_problems if "六进" not in p]
            problems.append(
                _("场所类型“%(text)s”无法识别，可填：%(kinds)s")
                % {"text": texts["venue_kind"][:20], "kinds": "、".join(VenueKind.labels)}
            )
        problems += [p for p in rule_problems if p not in problems]
        for p in problems:
            report.problems.append(f"{where}：{p}")
        if not problems:
            report.stops.append(stop)
    if not report.rows:
        report.problems.append(_("文件中只有表头，没有行程"))
    return report


def import_itinerary(tour: Tour, upload, *, actor, dry_run: bool = False) -> Report:
    """Read, check and (unless ``dry_run`` or any row has a problem) add the stops of an uploaded
    itinerary to ``tour`` in one transaction. A file that cannot be read gives one problem."""
    try:
        report = check_rows(tour, read_rows(upload))
    except ImportFileError as exc:
        return Report(problems=[str(exc)])
    if report.ok and not dry_run:
        try:
            report.added, report.skipped = services.add_stops(
                tour, report.stops, actor=actor, source="import"
            )
        except ValidationError as exc:
            report.problems.extend(exc.messages)
    return report


def template() -> bytes:
    """The itinerary template (``.xlsx``): the header, two example rows and the instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = "巡展行程"
    sheet.append(TEMPLATE_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in (
        ["2025-09-16", "浙江省杭州市淳安县", "进学校", "淳安县千岛湖镇中心小学", "", "", ""],
        ["2025-09-17", "浙江省衢州市开化县", "进乡村", "开化县马金镇", "", "革命老区", ""],
    ):
        sheet.append([xlsx_safe(v) for v in row])
    kinds = DataValidation(type="list", formula1='"' + ",".join(VenueKind.labels) + '"', allow_blank=False)
    sheet.add_data_validation(kinds)
    kinds.add("C2:C1001")
    for letter, width in zip("ABCDEFG", (14, 28, 12, 30, 12, 20, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    notes = book.create_sheet("填写说明")
    for line in (
        "每行一个站点。日期写成 2025-09-16；区县写全省、市、县（也可填六位区划代码）。",
        "场所类型为“六进”之一：" + "、".join(VenueKind.labels) + "。",
        "活动编号：站点是平台上已发布的活动时填写（活动页地址中的数字），日期和区县可留空。",
        "特殊地区可多选，用顿号分隔：" + "、".join(SpecialArea.labels) + "；民族地区与进乡村由平台自动识别。",
        f"每个文件最多 {MAX_ROWS} 行；有任何一行出错时不会导入，请按提示改正后重新上传。",
        "重复上传同一行程不会重复添加站点（同一天、同一区县、同一场所视为同一站点）。",
    ):
        notes.append([line])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
