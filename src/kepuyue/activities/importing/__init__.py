"""Import of the 重点科普活动信息表 (key activities sheet) from ``.xlsx`` and ``.csv``.

Two steps on an :class:`~kepuyue.activities.models.ImportJob`: :func:`validate_import` reads the
file and writes a per-row report (row, column, value, reason; errors and warnings), then
:func:`commit_import` writes the valid rows in batches. Re-importing the same file changes nothing:
a row is the same activity as an existing one of the same organizer with the same external id
(活动编号), else with the same title and start time.

What the reader accepts (the real sheets units send, see ``data/form_fields.md``):

- ``.xlsx`` (any visible sheet whose first rows hold a header; the template's sheet first; read
  with python-calamine) and ``.csv`` in UTF-8, UTF-8 with BOM or GB18030 (tried in that order);
- Chinese headers with their common aliases (活动名称/名称/标题, 主办单位/举办单位, 开始日期/开始时间
  …) and the English ones of ``data/activities.csv``; a title row above the header is skipped;
- full-width digits, letters and spaces (NFKC for codes, dates and numbers);
- dates as real Excel dates, Excel serial numbers, ``2025年9月15日``, ``2025/9/15 14:00``,
  ``2025-09-15``, ``9月15日`` (year of the campaign) and ranges in one cell (``9月15日-9月25日``,
  ``2025/9/15 14:00-16:00``); a month alone (``2025-09``) is reported, not guessed;
- places as 6-digit codes or as names in province/city/county columns (``kepuyue.regions``);
- form 线下/线上/线上线下结合, audiences and topics as free words separated by 、,，;.

Who the organizer is: in a unit's import (``ImportJob.organization`` set, the staff pages and
``import_activities --organization``) every row is that unit's, and rows are saved as drafts (草稿)
the unit then submits. In an administrator's import (no organization: the trusted bulk load of
real records, ``make run``) the organizer is the first unit named in the 主办单位 cell (text in
brackets and "及/等/联合 …" tails dropped; the whole cell is kept as co-organizers); an unknown
unit is created with a type read from its name (科技馆/科学技术馆/科学馆 → science_museum,
大学/学院 → university, 科协/科学技术协会 → science_association, else other), and rows are
published at once.

Which joint action: the 联合行动 column, else the brand's, else the one joint action whose
participant types include the organizer's type (plan 一(一)…七(一)). A row none of these marks (a
science association's main-venue activity, say) is imported as a campaign-wide activity (全国科普月
活动, no joint action) with a warning, so the unit sees it and can mark it. Dates must lie in the
joint action's window (plan 五(二), 六(二)2, 七(三)), or in the campaign month for a campaign-wide
activity (plan 八(一)).

The package, in the order a file goes through it: :mod:`.reading` (formats, encodings, the header
row), :mod:`.headers` (column aliases, the template's columns), :mod:`.cells` (text, dates, words,
numbers, unit names), :mod:`.validation` (one row → activity values, calling the rules of
``kepuyue.activities.services``), :mod:`.writing` (organizers, bulk inserts and updates),
:mod:`.jobs` (the importer and the two steps on an ``ImportJob``) and :mod:`.report` (the template
and the report workbooks). Every public name is importable from ``kepuyue.activities.importing``.
"""

from .cells import (
    AUDIENCE_WORDS,
    CAMPAIGN_WIDE_KEYS,
    CAMPAIGN_WIDE_NAMES,
    CAMPAIGN_WIDE_WARNING,
    CONTROL_CHARS,
    DATE_RANGE,
    ERROR,
    EXCEL_SERIAL,
    FORM_WORDS,
    INFO,
    LEVEL_LABELS,
    LIST_SPLIT,
    MAX_COUNT,
    MONTH_ONLY,
    ORGANIZATION_TYPE_NAMES,
    SERIAL_RANGE,
    SINGLE_DATE,
    SPECIAL_AREA_WORDS,
    TOPIC_WORDS,
    WARNING,
    DateProblem,
    When,
    first_unit,
    key,
    national_organizer,
    nfkc,
    odd_digits,
    organization_type_for,
    parse_when,
    soft,
)
from .headers import (
    HEADER_ALIASES,
    INSTRUCTIONS_SHEET,
    LISTS_SHEET,
    TEMPLATE_COLUMNS,
    TEMPLATE_SHEET,
    header_field,
)
from .jobs import (
    BATCH_SIZE,
    MAX_ATTEMPTS,
    PROGRESS_EVERY,
    REPORT_LIMIT,
    RUNNING,
    STALE_SECONDS,
    Importer,
    commit_import,
    default_campaign,
    logger,
    recover_stale,
    retry_import,
    stale_q,
    validate_import,
)
from .reading import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_ROWS,
    ImportFileError,
    Sheet,
    check_archive,
    detect_encoding,
    local_path,
    open_sheet,
)
from .report import (
    build_template,
    counts_line,
    failed_rows,
    report_lines,
    report_workbook,
    row_report,
    summary_line,
)
from .validation import Result, Row, RowReader
from .writing import INSERT_ROWS_PER_STATEMENT, RowWriter, bulk_load_settings, insert_rows

__all__ = [
    "RUNNING",
    "counts_line",
    "report_lines",
    "row_report",
    "INFO",
    "MAX_COUNT",
    "national_organizer",
    "odd_digits",
    "MAX_ATTEMPTS",
    "STALE_SECONDS",
    "recover_stale",
    "retry_import",
    "stale_q",
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "check_archive",
    "AUDIENCE_WORDS",
    "BATCH_SIZE",
    "CAMPAIGN_WIDE_KEYS",
    "CAMPAIGN_WIDE_NAMES",
    "CAMPAIGN_WIDE_WARNING",
    "CONTROL_CHARS",
    "DATE_RANGE",
    "DateProblem",
    "ERROR",
    "EXCEL_SERIAL",
    "FORM_WORDS",
    "HEADER_ALIASES",
    "INSERT_ROWS_PER_STATEMENT",
    "INSTRUCTIONS_SHEET",
    "ImportFileError",
    "Importer",
    "LEVEL_LABELS",
    "LISTS_SHEET",
    "LIST_SPLIT",
    "MONTH_ONLY",
    "ORGANIZATION_TYPE_NAMES",
    "PROGRESS_EVERY",
    "REPORT_LIMIT",
    "Result",
    "Row",
    "RowReader",
    "RowWriter",
    "SERIAL_RANGE",
    "SINGLE_DATE",
    "SPECIAL_AREA_WORDS",
    "Sheet",
    "TEMPLATE_COLUMNS",
    "TEMPLATE_SHEET",
    "TOPIC_WORDS",
    "WARNING",
    "When",
    "build_template",
    "bulk_load_settings",
    "commit_import",
    "default_campaign",
    "detect_encoding",
    "failed_rows",
    "first_unit",
    "header_field",
    "insert_rows",
    "key",
    "local_path",
    "logger",
    "nfkc",
    "open_sheet",
    "organization_type_for",
    "parse_when",
    "report_workbook",
    "soft",
    "summary_line",
    "validate_import",
]
