"""Reading import files: ``.csv`` in UTF-8, UTF-8 with BOM or GB18030, ``.xlsx`` through
python-calamine; the header row is found among the first rows."""

from __future__ import annotations

import codecs
import csv
import itertools
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from ..models import ImportJob
from .cells import nfkc
from .headers import INSTRUCTIONS_SHEET, LISTS_SHEET, TEMPLATE_SHEET, header_field

# --- reading files ----------------------------------------------------------------------------------


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ImportFileError(Exception):
    """The file cannot be read as an activities sheet; the message (Chinese) says why."""


def detect_encoding(path: Path) -> str:
    """``"utf-8-sig"`` when the whole file decodes as UTF-8 (with or without BOM), else
    ``"gb18030"`` (which decodes GBK/GB2312 files too). Reads the file in 1 MB chunks."""
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


def _open_csv(path: Path) -> Sheet:
    encoding = detect_encoding(path)
    handle = open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed by the generator
    header_line = handle.readline()
    handle.seek(0)
    # The delimiter is the most frequent of , tab ; in the first line (csv.Sniffer guesses quoting
    # rules from that line too, and gets doubled quotes wrong when it has none).
    delimiter = max(",\t;", key=header_line.count)
    dialect = csv.excel
    reader = csv.reader(handle, dialect, delimiter=delimiter)
    first = []
    for row in reader:
        first.append(tuple(row))
        if len(first) >= 10:
            break
    index = _pick_header(first)
    if index is None:
        handle.close()
        raise ImportFileError(_("前10行中找不到表头（至少要有“活动名称”列）"))
    with open(path, "rb") as raw:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b""))

    def rows():
        try:
            yield from enumerate(
                itertools.chain(first[index + 1 :], (tuple(r) for r in reader)), start=index + 2
            )
        finally:
            handle.close()

    return Sheet(list(first[index]), index + 1, rows(), max(0, lines - index - 1))


def _open_xlsx(path: Path) -> Sheet:
    """Read ``.xlsx`` with python-calamine (Rust; about ten times faster than openpyxl's read-only
    mode here, which alone could not read 2,000 rows/s). Cells come back as str, float, int, bool,
    date or datetime; empty cells as ``""``."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # CalamineError, zip errors …: the message says what is wrong
        raise ImportFileError(
            _("无法读取 Excel 文件：%(error)s（请确认是 .xlsx 格式）") % {"error": exc}
        ) from exc
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
        iterator = iter(sheet.iter_rows())
        first = []
        for cells in iterator:
            first.append(tuple(cells))
            if len(first) >= 10 + sheet.start[0]:
                break
        index = _pick_header(first)
        if index is None:
            continue

        def rows(first=first, index=index, iterator=iterator):
            try:
                yield from enumerate(
                    itertools.chain(first[index + 1 :], (tuple(r) for r in iterator)), start=index + 2
                )
            finally:
                book.close()

        estimate = max(0, sheet.total_height - index - 1)
        return Sheet([nfkc(c) for c in first[index]], index + 1, rows(), estimate)
    book.close()
    raise ImportFileError(_("任何工作表的前10行中都找不到表头（至少要有“活动名称”列）"))


def open_sheet(path: Path, name: str = "") -> Sheet:
    """Open ``path`` (``.xlsx`` or ``.csv``, by the name's extension, else by content) as a
    :class:`Sheet`. Raises ``ImportFileError``."""
    suffix = Path(name or str(path)).suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        with open(path, "rb") as handle:
            suffix = ".xlsx" if handle.read(4) == b"PK\x03\x04" else ".csv"
    if suffix == ".xlsx":
        return _open_xlsx(path)
    return _open_csv(path)


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
