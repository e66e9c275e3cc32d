"""Reading import files: ``.csv`` in UTF-8, UTF-8 with BOM, UTF-16 (with BOM) or GB18030, ``.xlsx``
through python-calamine; the header row is found among the first rows.

Nothing is read before it is checked (issue 9 class 6, ADR 0013): the kind of file is told by its
first bytes, not its name (an old ``.xls``, a password-protected workbook, a PDF, an image or an
empty file is refused with a Chinese message); an ``.xlsx`` is a zip archive whose members are
checked before python-calamine opens it — member count, each member's and the total uncompressed
size (counted while inflating, not taken from the headers, which a zip bomb can falsify),
compression ratio — and no XML member may carry a document type declaration (``<!DOCTYPE``/
``<!ENTITY``: entity expansion; Office never writes one). Rows, columns and cell lengths are capped
(:data:`MAX_ROWS`, :data:`MAX_COLUMNS`, :data:`MAX_CELL_CHARS`).
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ..models import ImportJob
from .cells import nfkc
from .headers import INSTRUCTIONS_SHEET, LISTS_SHEET, TEMPLATE_SHEET, header_field

# --- caps on what a file may hold (settings override them; see ADR 0013) -------------------------------

# Data rows of one file: 100,000 (a province's whole campaign fits; the commit of that many rows is
# one transaction of well under the stale limit).
MAX_ROWS = 100_000
# Columns of the header row: the template has 23, the widest real sheet seen about 40.
MAX_COLUMNS = 200
# Characters of one cell (the longest field, 活动详情, is far shorter once imported).
MAX_CELL_CHARS = 20_000
# An .xlsx archive: members, uncompressed bytes in all, and the compression ratio of any member.
MAX_MEMBERS = 2_000
MAX_UNCOMPRESSED = 400 * 1024 * 1024
MAX_RATIO = 200
# Members whose compressed size is this small are not judged by ratio (a tiny XML part may shrink 300×).
RATIO_FLOOR = 64 * 1024


def _cap(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


# --- reading files ----------------------------------------------------------------------------------


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ImportFileError(Exception):
    """The file cannot be read as an activities sheet; the message (Chinese) says why."""


def detect_encoding(path: Path) -> str:
    """``"utf-16"`` for a file that starts with a UTF-16 byte order mark (Excel's "Unicode text"),
    ``"utf-8-sig"`` when the whole file decodes as UTF-8 (with or without BOM), else ``"gb18030"``
    (which decodes GBK/GB2312 files too). Reads the file in 1 MB chunks. A file with NUL bytes and
    no UTF-16 mark is not a text table: ``ImportFileError``."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    if b"\x00" in head:
        raise ImportFileError(
            _("文件含有二进制内容，不是文本表格（.csv 请用 UTF-8、带 BOM 的 UTF-16 或 GB18030 编码保存）")
        )
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    with open(path, "rb") as handle:
        try:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


@dataclass
class Sheet:
    """An opened table: the header cells (as written), the row number of the header, an iterator of
    ``(row_number, cells)`` after it, and an estimate of the number of data rows."""

    headers: list[str]
    header_row: int
    rows: Iterator[tuple[int, tuple]]
    estimated_rows: int


def _header_score(cells) -> tuple[int, bool]:
    fields = [header_field(c) for c in cells if c not in (None, "")]
    return sum(1 for f in fields if f), "title" in fields


def _pick_header(first_rows: list[tuple]) -> int | None:
    best, best_score = None, 0
    for index, cells in enumerate(first_rows):
        score, has_title = _header_score(cells)
        if has_title and score > best_score:
            best, best_score = index, score
    return best


def _csv_problem(exc: Exception) -> str:
    """A reader error in words a unit understands."""
    text = str(exc)
    if "field larger than field limit" in text:
        return _("有单元格内容过长（超过 13 万字）")
    if "NUL" in text:
        return _("文件含有空字符（NUL）")
    if isinstance(exc, UnicodeError):
        return _("文件编码无法识别")
    return _("格式错误：%(error)s") % {"error": text[:100]}


def _guarded(rows: Iterator[tuple], first_number: int) -> Iterator[tuple[int, tuple]]:
    """``(row_number, cells)`` from ``rows``, numbered from ``first_number``, within the row cap; a
    reader error part-way (a broken quote, a NUL, a corrupt sheet) becomes an ``ImportFileError``
    that names the row."""
    limit = _cap("KEPUYUE_IMPORT_MAX_ROWS", MAX_ROWS)
    filled = 0
    number = first_number - 1
    iterator = iter(rows)
    while True:
        try:
            cells = next(iterator)
        except StopIteration:
            return
        except ImportFileError:
            raise
        except (csv.Error, UnicodeError, ValueError, OSError) as exc:
            raise ImportFileError(
                _("第 %(row)d 行附近无法读取（%(error)s），请检查文件是否完整、引号是否成对")
                % {"row": number + 1, "error": _csv_problem(exc)}
            ) from exc
        number += 1
        if any(c not in (None, "") for c in cells):
            filled += 1
            if filled > limit:
                raise ImportFileError(_("数据超过 %(n)d 行的上限，请拆分成几个文件分别导入") % {"n": limit})
        elif number - first_number > 10 * limit:
            raise ImportFileError(_("空行过多，请删除表格末尾的空行后再导入"))
        yield number, tuple(cells)


def _check_header_width(cells: tuple) -> None:
    limit = _cap("KEPUYUE_IMPORT_MAX_COLUMNS", MAX_COLUMNS)
    if len(cells) > limit and any(c not in (None, "") for c in cells[limit:]):
        raise ImportFileError(_("表头超过 %(n)d 列，请删除多余的列后再导入") % {"n": limit})


def _open_csv(path: Path) -> Sheet:
    encoding = detect_encoding(path)
    handle = open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed by the generator
    try:
        header_line = handle.readline(1 << 20)
        handle.seek(0)
        # The delimiter is the most frequent of , tab ; in the first line (csv.Sniffer guesses quoting
        # rules from that line too, and gets doubled quotes wrong when it has none).
        delimiter = max(",\t;", key=header_line.count)
        reader = csv.reader(handle, csv.excel, delimiter=delimiter)
        first = []
        for row in reader:
            first.append(tuple(row))
            if len(first) >= 10:
                break
    except (csv.Error, UnicodeError, ValueError) as exc:
        handle.close()
        raise ImportFileError(
            _("文件开头无法按表格读取（%(error)s）：请用 Excel 另存为 .xlsx 或 UTF-8 编码的 .csv")
            % {"error": _csv_problem(exc)}
        ) from exc
    index = _pick_header(first)
    if index is None:
        handle.close()
        if not any(any(c.strip() for c in row) for row in first):
            raise ImportFileError(_("文件中没有内容（只有空行）"))
        raise ImportFileError(_("前10行中找不到表头（至少要有“活动名称”列）"))
    _check_header_width(first[index])
    with open(path, "rb") as raw:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b""))

    def rows():
        try:
            yield from _guarded(itertools.chain(first[index + 1 :], (tuple(r) for r in reader)), index + 2)
        finally:
            handle.close()

    return Sheet(list(first[index]), index + 1, rows(), max(0, lines - index - 1))


_XML_DECLARATIONS = (b"<!doctype", b"<!entity")


def check_archive(path: Path) -> None:
    """Refuse an ``.xlsx`` that is not a sound, reasonably sized workbook — before any reader opens
    it: not a zip, no ``xl/workbook.xml``, encrypted members, more than :data:`MAX_MEMBERS` members,
    a member inflating past :data:`MAX_RATIO` times its compressed size, more than
    :data:`MAX_UNCOMPRESSED` bytes in all, or a document type declaration in an XML member.

    Sizes are counted while inflating in 1 MB chunks (memory stays flat; a member whose header
    understates its size fails its CRC check at the declared end). Raises ``ImportFileError``."""
    max_members = _cap("KEPUYUE_IMPORT_MAX_MEMBERS", MAX_MEMBERS)
    max_total = _cap("KEPUYUE_IMPORT_MAX_UNCOMPRESSED", MAX_UNCOMPRESSED)
    max_ratio = _cap("KEPUYUE_IMPORT_MAX_RATIO", MAX_RATIO)
    damaged = _("Excel 文件已损坏或不完整，无法打开（请在 Excel 中重新保存为 .xlsx 后再导入）")
    dtd = _("Excel 文件中含有 XML 文档类型声明（可用于实体扩展攻击），已拒绝；请在 Excel 中重新保存后再导入")
    bomb = _("Excel 文件解压后过大（可能是压缩炸弹），已拒绝；正常的活动信息表不会这样")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportFileError(damaged) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > max_members:
            raise ImportFileError(
                _("Excel 文件包含 %(n)d 个部件，超过 %(max)d 个的上限，已拒绝")
                % {"n": len(infos), "max": max_members}
            )
        if not any(i.filename.lower() == "xl/workbook.xml" for i in infos):
            raise ImportFileError(
                _("这是压缩包而不是 Excel 工作簿（.docx、.zip 等不能导入），请上传 .xlsx 或 .csv")
            )
        if any(i.flag_bits & 0x1 for i in infos):
            raise ImportFileError(_("Excel 文件设置了密码，请取消密码后另存为 .xlsx 再导入"))
        declared = sum(i.file_size for i in infos)
        if declared > max_total or any(
            i.file_size > max_ratio * max(i.compress_size, RATIO_FLOOR) for i in infos
        ):
            raise ImportFileError(bomb)
        total = 0
        for info in infos:
            is_xml = info.filename.lower().endswith((".xml", ".rels", ".vml"))
            budget = max_ratio * max(info.compress_size, RATIO_FLOOR)
            size = 0
            try:
                with archive.open(info) as member:
                    while chunk := member.read(1 << 20):
                        # A document type declaration can only stand in the prolog, before the root
                        # element: the first chunk holds it if there is one.
                        if (
                            is_xml
                            and size == 0
                            and any(d in chunk[:65536].lower() for d in _XML_DECLARATIONS)
                        ):
                            raise ImportFileError(dtd)
                        size += len(chunk)
                        total += len(chunk)
                        if size > budget or total > max_total:
                            raise ImportFileError(bomb)
            except ImportFileError:
                raise
            except (
                zipfile.BadZipFile,
                zlib.error,
                OSError,
                EOFError,
                RuntimeError,
                NotImplementedError,
                ValueError,
            ) as exc:
                raise ImportFileError(damaged) from exc


class Formula(str):
    """A cell that holds a formula (its text, ``=HYPERLINK(…)``). The platform computes no formula and
    python-calamine gives only the value Excel cached — none at all in a file written by a program —
    so a formula read as a value would come in empty or stale: every importer reports it instead
    (:func:`formula_problem`)."""


def formula_problem(column: str, row: int | None = None) -> str:
    """The message for a formula cell, shared by the importers (activities, tour itineraries);
    without ``row`` for a report that names the row itself."""
    message = _("“%(column)s”是公式，平台不计算公式，请复制后“粘贴为数值”再导入") % {"column": column}
    return (_("第%(row)d行") % {"row": row} + message) if row is not None else message


_CELL_REF = re.compile(r"([A-Z]+)([0-9]+)")


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → its XML member, from ``xl/workbook.xml`` and its relationships."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    names = {info.filename.lower(): info.filename for info in archive.infolist()}
    targets = {}
    rels_name = names.get("xl/_rels/workbook.xml.rels")
    if rels_name:
        # S314: check_archive refused every member with a DTD or entity declaration (what defusedxml
        # guards against) before any XML here is parsed.
        for rel in ElementTree.fromstring(archive.read(rels_name)):  # noqa: S314
            target = rel.get("Target", "").lstrip("/")
            target = target if target.startswith("xl/") else "xl/" + target
            targets[rel.get("Id")] = names.get(target.lower(), target)
    parts = {}
    workbook = ElementTree.fromstring(archive.read(names["xl/workbook.xml"]))  # noqa: S314 - as above
    for sheet in workbook.iter(main + "sheet"):
        part = targets.get(sheet.get(rel_ns + "id"))
        if part:
            parts[sheet.get("name")] = part
    return parts


def formula_cells(path: Path, sheet_name: str) -> dict[tuple[int, int], str]:
    """``{(row, column): "=…"}`` (0-based, absolute) of the formula cells of one sheet of an ``.xlsx``
    that :func:`check_archive` passed. Streams the sheet's XML (memory stays flat); a sheet without
    any ``<f>`` element costs one pass over its bytes."""
    found: dict[tuple[int, int], str] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_parts(archive).get(sheet_name)
            if part is None:
                return found
            with archive.open(part) as member:
                tail = b""
                while chunk := member.read(1 << 20):
                    if b"<f>" in tail + chunk or b"<f " in tail + chunk or b":f>" in tail + chunk:
                        break
                    tail = chunk[-8:]
                else:
                    return found
            with archive.open(part) as member:
                ref = None
                events = ElementTree.iterparse(member, events=("start", "end"))  # noqa: S314 - checked
                for event, element in events:
                    local = element.tag.rsplit("}", 1)[-1]
                    if event == "start" and local == "c":
                        ref = element.get("r")
                    elif event == "end" and local == "f" and ref:
                        match = _CELL_REF.fullmatch(ref)
                        if match:
                            column = 0
                            for letter in match.group(1):
                                column = column * 26 + ord(letter) - 64
                            found[(int(match.group(2)) - 1, column - 1)] = "=" + (element.text or "")
                    elif event == "end" and local == "row":
                        element.clear()
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, OSError):
        return found
    return found


def _mark_formulas(rows, formulas: dict[tuple[int, int], str], first_column: int):
    """Rows of calamine (row ``i`` is the sheet's row ``i``; cell ``j`` its column ``j + first_column``)
    with each formula cell replaced by its :class:`Formula`."""
    by_row: dict[int, list[tuple[int, str]]] = {}
    for (r, c), text in formulas.items():
        by_row.setdefault(r, []).append((c - first_column, text))
    for index, cells in enumerate(rows):
        cells = tuple(cells)
        marks = by_row.get(index) if by_row else None
        if marks:
            cells = list(cells)
            for position, text in marks:
                if 0 <= position < len(cells):
                    cells[position] = Formula(text)
            cells = tuple(cells)
        yield cells


def _open_xlsx(path: Path) -> Sheet:
    """Read ``.xlsx`` with python-calamine (Rust; about ten times faster than openpyxl's read-only
    mode here, which alone could not read 2,000 rows/s) once :func:`check_archive` has passed it
    (in :func:`check_file_kind`). Cells come back as str, float, int, bool, date or datetime; empty
    cells as ``""``."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # CalamineError, zip errors …: the message says what is wrong
        raise ImportFileError(
            _("无法读取 Excel 文件（%(error)s），请在 Excel 中重新保存为 .xlsx 后再导入")
            % {"error": str(exc)[:100]}
        ) from exc
    try:
        visible = {m.name for m in book.sheets_metadata if str(m.visible).endswith("Visible")}
        names = [TEMPLATE_SHEET] if TEMPLATE_SHEET in book.sheet_names else []
        names += [
            n
            for n in book.sheet_names
            if n in visible and n not in (TEMPLATE_SHEET, LISTS_SHEET, INSTRUCTIONS_SHEET)
        ]
        for name in names:
            sheet = book.get_sheet_by_name(name)
            # iter_rows() starts at the sheet's first row (rows above the used range come as empty
            # rows) and at the used range's first column; row numbers are therefore index + 1.
            formulas = formula_cells(path, name)
            iterator = _mark_formulas(sheet.iter_rows(), formulas, sheet.start[1])
            first = []
            for cells in iterator:
                first.append(tuple(cells))
                if len(first) >= 10 + sheet.start[0]:
                    break
            index = _pick_header(first)
            if index is None:
                continue
            _check_header_width(first[index])

            def rows(first=first, index=index, iterator=iterator):
                try:
                    yield from _guarded(
                        itertools.chain(first[index + 1 :], (tuple(r) for r in iterator)), index + 2
                    )
                finally:
                    book.close()

            estimate = max(0, sheet.total_height - index - 1)
            return Sheet([nfkc(c) for c in first[index]], index + 1, rows(), estimate)
    except ImportFileError:
        book.close()
        raise
    except Exception as exc:  # a sheet calamine cannot parse
        book.close()
        raise ImportFileError(
            _("无法读取 Excel 工作表（%(error)s），请在 Excel 中重新保存为 .xlsx 后再导入")
            % {"error": str(exc)[:100]}
        ) from exc
    book.close()
    raise ImportFileError(_("任何工作表的前10行中都找不到表头（至少要有“活动名称”列）"))


# First bytes of files that are not a table we read, and what to tell the user.
_NOT_TABLES = (
    (
        b"\xd0\xcf\x11\xe0",
        gettext_noop(
            "这是旧版 Excel（.xls）文件，或设置了打开密码的工作簿：请在 Excel 中“另存为” .xlsx（并取消密码）后再导入"
        ),
    ),
    (b"%PDF", gettext_noop("这是 PDF 文件，不是表格：请上传 .xlsx 或 .csv")),
    (b"\x89PNG", gettext_noop("这是图片，不是表格：请上传 .xlsx 或 .csv")),
    (b"\xff\xd8\xff", gettext_noop("这是图片，不是表格：请上传 .xlsx 或 .csv")),
    (b"GIF8", gettext_noop("这是图片，不是表格：请上传 .xlsx 或 .csv")),
    (b"Rar!", gettext_noop("这是 RAR 压缩包，不是表格：请上传 .xlsx 或 .csv")),
    (b"7z\xbc\xaf", gettext_noop("这是 7z 压缩包，不是表格：请上传 .xlsx 或 .csv")),
    (b"\x1f\x8b", gettext_noop("这是 gzip 压缩包，不是表格：请上传 .xlsx 或 .csv")),
    (b"{\\rtf", gettext_noop("这是 RTF 文档，不是表格：请上传 .xlsx 或 .csv")),
)


def open_sheet(path: Path, name: str = "") -> Sheet:
    """Open ``path`` as a :class:`Sheet`: an ``.xlsx`` when its content is a zip archive, a CSV when
    it is text; whatever the name says, the content decides (a CSV named ``.xlsx`` is read as CSV). Raises ``ImportFileError`` (Chinese) for anything else."""
    if check_file_kind(path, name) == "xlsx":
        return _open_xlsx(path)
    return _open_csv(path)


def check_file_kind(path: Path, name: str = "") -> str:
    """``"xlsx"`` (a workbook that passed :func:`check_archive`) or ``"csv"`` (text) for the file at
    ``path``, told by its content; ``ImportFileError`` (Chinese) for anything else — empty, over the
    size cap, old ``.xls``, PDF, images, archives, web pages. Other importers (the tours' itineraries)
    check their files with it too."""
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError(_("文件是空的（0 字节），请检查是否上传了正确的文件"))
    limit = _cap("KEPUYUE_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
    if size > limit:
        raise ImportFileError(
            _("文件过大（%(mb).1f MB），不能超过 %(max)d MB")
            % {"mb": size / 1048576, "max": limit // 1048576}
        )
    with open(path, "rb") as handle:
        head = handle.read(8)
    for magic, message in _NOT_TABLES:
        if head.startswith(magic):
            raise ImportFileError(_(message))
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        check_archive(path)
        return "xlsx"
    text_head = head.lstrip(codecs.BOM_UTF8).lstrip().lower()
    if text_head.startswith((b"<html", b"<!doc", b"<?xml", b"<table")):
        raise ImportFileError(
            _("这是网页或 XML 文件（有些系统导出的“.xls”其实是网页），请在 Excel 中另存为 .xlsx 后再导入")
        )
    # Text: a CSV, whatever its name says (a CSV renamed .xlsx is read as CSV — README's promise);
    # binary content that is no table is refused by ``detect_encoding`` (NUL bytes).
    detect_encoding(path)
    return "csv"


@contextmanager
def local_path(job: ImportJob):
    """A local file path for the job's upload (its own path on local storage, else a temporary copy)."""
    try:
        yield Path(job.file.path)
        return
    except NotImplementedError:
        pass
    suffix = Path(job.original_name or job.file.name).suffix
    with tempfile.NamedTemporaryFile(suffix=suffix) as copy, job.file.open("rb") as source:
        for chunk in source.chunks():
            copy.write(chunk)
        copy.flush()
        yield Path(copy.name)
