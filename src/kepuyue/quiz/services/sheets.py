"""Reading an organizer's ``.xlsx`` template (the question bank, offline results) with python-calamine,
as the activity importer does: the first row is the header, matched by its Chinese names."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kepuyue.common.text import clean_text

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000


@dataclass
class Rows:
    """The data rows as ``(row number, {field: text})``, and the problems of the file itself."""

    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def cell_text(value) -> str:
    """A cell as clean one-line text (``3.0`` read from Excel → ``"3"``)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_text(value, multiline=False)


def read_template(
    upload, headers: dict[str, str], *, required: tuple[str, ...] = (), max_rows: int = MAX_ROWS
) -> Rows:
    """Read ``upload`` (a file object) as an ``.xlsx`` whose first visible sheet's first row names the
    columns; ``headers``: Chinese header → field name. Raises ``ValidationError`` (in Chinese) for a
    file that is too big, not ``.xlsx``, lacks a ``required`` column or has more than ``max_rows`` rows.
    Blank rows are skipped; row numbers are those Excel shows."""
    from python_calamine import CalamineWorkbook

    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ValidationError(_("文件不能超过 5 MB"))
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationError(_("文件不能超过 5 MB"))
    import io

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = book.get_sheet_by_index(0)
        raw = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine and zip errors: the message says what is wrong
        raise ValidationError(
            _("无法读取 Excel 文件（请使用 .xlsx 模板）：%(error)s") % {"error": exc}
        ) from exc
    if not raw:
        raise ValidationError(_("文件是空的"))
    header = [cell_text(c) for c in raw[0]]
    columns = {}
    for index, name in enumerate(header):
        if name in headers:
            columns[headers[name]] = index
    missing = [name for name, key in headers.items() if key in required and key not in columns]
    if missing:
        raise ValidationError(_("第1行缺少表头：%(names)s") % {"names": "、".join(missing)})
    result = Rows()
    for number, cells in enumerate(raw[1:], start=2):
        values = {
            key: cell_text(cells[index]) if index < len(cells) else "" for key, index in columns.items()
        }
        if not any(values.values()):
            continue
        if len(result.rows) >= max_rows:
            raise ValidationError(_("最多 %(n)d 行，请分批上传") % {"n": max_rows})
        result.rows.append((number, values))
    return result


def template(headers: list[str], examples: list[list], *, title: str, notes: list[str]) -> bytes:
    """An ``.xlsx`` template: the header row, example rows and a second sheet of instructions."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    from kepuyue.common.text import xlsx_safe

    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in examples:
        sheet.append([xlsx_safe(v) for v in row])
    for index in range(len(headers)):
        sheet.column_dimensions[chr(ord("A") + index)].width = 18
    help_sheet = book.create_sheet("填写说明")
    for line in notes:
        help_sheet.append([line])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
