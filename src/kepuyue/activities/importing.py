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
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import logging
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kepuyue.common import clock
from kepuyue.search.segment import index_text

from . import services
from .models import Activity, Audience, Form, ImportJob, SpecialArea, Status, Topic

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
PROGRESS_EVERY = 1000
REPORT_LIMIT = 50_000
TEMPLATE_SHEET = "活动信息表"
LISTS_SHEET = "选项"
INSTRUCTIONS_SHEET = "填写说明"

# canonical field → header spellings (compared after NFKC, lower-casing and dropping spaces and
# the marks "*", "（必填）", "（选填）").
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("活动编号", "编号", "外部编号", "活动id", "external_id", "id"),
    "title": ("活动名称", "名称", "标题", "活动标题", "活动主题名称", "项目名称", "title", "name"),
    "organizer": ("主办单位", "举办单位", "主办方", "主办", "组织单位", "organizer"),
    "co_organizers": (
        "协办/承办单位",
        "承办/协办单位",
        "承办单位",
        "协办单位",
        "合作单位",
        "co_organizers",
    ),
    "joint_action": ("联合行动", "所属联合行动", "joint_action"),
    "key_task": ("重点任务", "key_task"),
    "brand": ("品牌活动", "活动品牌", "品牌", "所属品牌", "brand"),
    "start": (
        "开始日期",
        "开始时间",
        "起始日期",
        "起始时间",
        "活动开始时间",
        "活动开始日期",
        "start_date",
        "start",
        "starts_at",
    ),
    "end": (
        "结束日期",
        "结束时间",
        "截止日期",
        "截止时间",
        "活动结束时间",
        "活动结束日期",
        "end_date",
        "end",
        "ends_at",
    ),
    "when": ("活动时间", "活动日期", "举办时间", "举办日期", "时间", "日期", "date"),
    "province": ("省", "省份", "省级", "所在省份", "省(区、市)", "province"),
    "city": ("市", "地市", "城市", "地级", "地级市", "所在城市", "市(州)", "city", "prefecture"),
    "county": ("县", "区县", "县区", "县级", "区(县)", "县(区)", "所在区县", "county", "district"),
    "region_code": ("区划代码", "行政区划代码", "地区代码", "region_code", "county_code"),
    "venue": ("活动地点", "地点", "举办地点", "具体地点", "场所", "地址", "venue", "address"),
    "form": ("活动形式", "形式", "线上/线下", "form"),
    "online_url": ("线上地址", "线上链接", "直播链接", "活动链接", "网址", "链接", "online_url", "url"),
    "audiences": ("面向对象", "对象", "受众", "服务对象", "目标人群", "audience", "audiences"),
    "topics": ("活动主题", "主题领域", "领域", "主题", "topic", "topics"),
    "special_areas": ("特殊地区", "地区类型", "special_areas"),
    "summary": ("活动简介", "简介", "活动内容", "内容简介", "summary"),
    "description": ("活动详情", "详情", "详细介绍", "description"),
    "expected_participants": ("预计参与人数", "预计人数", "参与人数", "拟参加人数", "expected_participants"),
    "science_workers": ("参与科技工作者人数", "科技工作者人数", "science_workers"),
    "contact_name": ("联系人", "联系人姓名", "contact", "contact_name"),
    "contact_phone": ("联系电话", "联系方式", "电话", "手机", "phone", "contact_phone"),
    "latitude": ("纬度", "latitude", "lat"),
    "longitude": ("经度", "longitude", "lng", "lon"),
}

# The template's columns, in order: (field, header, required, note for the instructions sheet).
TEMPLATE_COLUMNS: list[tuple[str, str, bool, str]] = [
    ("external_id", "活动编号", False, "本单位自编的编号（选填）；再次导入时按编号更新同一活动"),
    ("title", "活动名称", True, "不超过200字"),
    (
        "joint_action",
        "联合行动",
        False,
        "从下拉列表选择；不属于联合行动的活动选“全国科普月活动”（不填时按主办单位类型推断，推断不出按全国科普月活动导入）",
    ),
    ("brand", "品牌活动", False, "从下拉列表选择（先选联合行动）；须属于所选联合行动"),
    ("key_task", "重点任务", False, "选填；不填时按品牌活动确定"),
    ("organizer", "主办单位", False, "单位账号导入时一律为本单位，可不填"),
    ("co_organizers", "协办/承办单位", False, "多个单位用顿号分隔"),
    ("start", "开始时间", True, "如 2025-09-15 或 2025-09-15 14:00（北京时间）"),
    (
        "end",
        "结束时间",
        True,
        "如 2025-09-15 或 2025-09-25 17:00；须在联合行动的活动时间内（全国科普月活动须在科普月内）",
    ),
    ("form", "活动形式", True, "线下、线上或线上线下结合"),
    ("online_url", "线上地址", False, "线上或线上线下结合的活动必填，以 http(s):// 开头"),
    ("province", "省份", True, "从下拉列表选择"),
    ("city", "城市", False, "先选省份，再从下拉列表选择"),
    ("county", "区县", False, "先选城市，再从下拉列表选择"),
    ("venue", "活动地点", False, "具体场所，如 某某科技馆一楼大厅"),
    ("audiences", "面向对象", False, "可多选，用顿号分隔：" + "、".join(a.label for a in Audience)),
    ("topics", "活动主题", False, "可多选，用顿号分隔：" + "、".join(t.label for t in Topic)),
    ("special_areas", "特殊地区", False, "可多选，用顿号分隔：" + "、".join(s.label for s in SpecialArea)),
    ("expected_participants", "预计参与人数", False, "整数"),
    ("science_workers", "参与科技工作者人数", False, "整数"),
    ("contact_name", "联系人", False, ""),
    ("contact_phone", "联系电话", False, "公开页面只显示部分号码"),
    ("summary", "活动简介", False, "不超过500字"),
]

ERROR, WARNING = "error", "warning"

# How the report begins the warning on a row imported as a campaign-wide activity without a mark.
CAMPAIGN_WIDE_WARNING = "未标记联合行动，按全国科普月活动导入"
# 联合行动 cells that mark a campaign-wide activity (全国科普月活动, no joint action) on purpose.
CAMPAIGN_WIDE_NAMES = (services.CAMPAIGN_WIDE_LABEL, "全国科普月", "不属于联合行动", "无")
LEVEL_LABELS = {ERROR: "错误", WARNING: "提醒"}

FORM_WORDS = {
    "线下": Form.OFFLINE,
    "现场": Form.OFFLINE,
    "offline": Form.OFFLINE,
    "线上": Form.ONLINE,
    "网络": Form.ONLINE,
    "直播": Form.ONLINE,
    "云端": Form.ONLINE,
    "online": Form.ONLINE,
    "线上线下结合": Form.HYBRID,
    "线上线下": Form.HYBRID,
    "线上+线下": Form.HYBRID,
    "线下+线上": Form.HYBRID,
    "线上与线下结合": Form.HYBRID,
    "线上线下相结合": Form.HYBRID,
    "混合": Form.HYBRID,
    "hybrid": Form.HYBRID,
}

# Free words → audience bits, most specific first; a matched word is cut out of the item so that a
# shorter one inside it does not match again (青年科技工作者 is not also 科技工作者).
A = Audience
AUDIENCE_WORDS: list[tuple[str, int]] = [
    ("青年科技工作者", A.YOUNG_SCIENTISTS),
    ("大中小学生", A.YOUTH | A.COLLEGE),
    ("大中学生", A.YOUTH | A.COLLEGE),
    ("高校师生", A.COLLEGE | A.TEACHERS),
    ("高校学生", A.COLLEGE),
    ("大学生", A.COLLEGE),
    ("研究生", A.COLLEGE),
    ("本科生", A.COLLEGE),
    ("科技科普工作者", A.SCIENTISTS),
    ("科技工作者", A.SCIENTISTS),
    ("科研人员", A.SCIENTISTS),
    ("科普工作者", A.SCIENTISTS),
    ("产业工人", A.WORKERS),
    ("职工", A.WORKERS),
    ("工人", A.WORKERS),
    ("农牧民", A.FARMERS),
    ("农民", A.FARMERS),
    ("村民", A.FARMERS),
    ("新农人", A.FARMERS),
    ("老年", A.SENIORS),
    ("老人", A.SENIORS),
    ("社区居民", A.COMMUNITY),
    ("社区群众", A.COMMUNITY | A.PUBLIC),
    ("居民", A.COMMUNITY),
    ("家庭", A.FAMILIES),
    ("亲子", A.FAMILIES),
    ("科技辅导员", A.TEACHERS),
    ("教师", A.TEACHERS),
    ("老师", A.TEACHERS),
    ("领导干部", A.OFFICIALS),
    ("公务员", A.OFFICIALS),
    ("机关", A.OFFICIALS),
    ("师生", A.YOUTH | A.TEACHERS),
    ("青少年", A.YOUTH),
    ("中小学", A.YOUTH),
    ("小学生", A.YOUTH),
    ("中学生", A.YOUTH),
    ("学生", A.YOUTH),
    ("儿童", A.YOUTH),
    ("少年", A.YOUTH),
    ("研学", A.YOUTH),
    ("社会公众", A.PUBLIC),
    ("公众", A.PUBLIC),
    ("市民", A.PUBLIC),
    ("群众", A.PUBLIC),
    ("游客", A.PUBLIC),
    ("各界", A.PUBLIC),
    ("观众", A.PUBLIC),
]
T = Topic
TOPIC_WORDS: list[tuple[str, int]] = [
    *((t.label, t.value) for t in Topic),
    ("ai", T.AI),
    ("智能", T.AI),
    ("制造", T.MANUFACTURING),
    ("材料", T.MATERIALS),
    ("健康", T.HEALTH),
    ("医学", T.HEALTH),
    ("医疗", T.HEALTH),
    ("卫生", T.HEALTH),
    ("农技", T.AGRICULTURE),
    ("农业", T.AGRICULTURE),
    ("应急", T.SAFETY),
    ("安全", T.SAFETY),
    ("消防", T.SAFETY),
    ("防灾", T.SAFETY),
    ("航天", T.AEROSPACE),
    ("航空", T.AEROSPACE),
    ("能源", T.ENERGY),
    ("环境", T.ENERGY),
    ("生态", T.ECOLOGY),
    ("环保", T.ECOLOGY),
    ("信息", T.INFORMATION),
    ("数字", T.INFORMATION),
    ("生命", T.LIFE_SCIENCE),
    ("天文", T.EARTH_SPACE),
    ("地球", T.EARTH_SPACE),
    ("科学家精神", T.SCIENTIST_SPIRIT),
    ("科普法", T.LAW),
    ("法治", T.LAW),
    ("文化", T.CULTURE),
]
S = SpecialArea
SPECIAL_AREA_WORDS: list[tuple[str, int]] = [
    *((s.label, s.value) for s in SpecialArea),
    ("农村", S.RURAL),
    ("乡村", S.RURAL),
    ("老区", S.REVOLUTIONARY),
    ("民族", S.ETHNIC),
    ("边疆", S.BORDER),
    ("边境", S.BORDER),
    ("欠发达", S.UNDERDEVELOPED),
]
LIST_SPLIT = re.compile(r"[、,，;；/|\n]+")

# --- text normalisation -------------------------------------------------------------------------

# Full-width ASCII (digits, letters, symbols) and the ideographic space → ASCII, leaving Chinese
# punctuation such as （）“” alone in free text; codes, dates and numbers get full NFKC.
_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if chr(cp) not in "（）：；，！？"}
_WIDTH[0x3000] = 0x20
_SPACES = re.compile(r"\s+")
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
_ODD_SPACE = re.compile(r"\s\s|[^\S ]")
# Control characters (NUL above all: PostgreSQL text cannot hold it) never belong in a cell.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def soft(value) -> str:
    """A cell as text for free-text fields: full-width letters, digits and spaces made half-width,
    runs of whitespace collapsed, ends stripped. ``None`` gives ``""``."""
    if value is None or value == "":
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value if isinstance(value, str) else str(value)
    if CONTROL_CHARS.search(text):
        text = CONTROL_CHARS.sub("", text)
    # Most cells need neither step; checking first is cheaper than always translating.
    if _FULL_WIDTH.search(text):
        text = text.translate(_WIDTH)
    if _ODD_SPACE.search(text):
        text = _SPACES.sub(" ", text)
    return text.strip()


def nfkc(value) -> str:
    """A cell as NFKC-normalised text with all whitespace runs collapsed (codes, dates, numbers)."""
    if value is None or value == "":
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _SPACES.sub(" ", CONTROL_CHARS.sub("", unicodedata.normalize("NFKC", str(value)))).strip()


_KEY_NOISE = re.compile(r"[\s\"'“”‘’「」『』《》<>*]+")


@functools.lru_cache(maxsize=65536)
def key(text: str) -> str:
    """Comparison key for names (brands, joint actions, headers, units): NFKC, lower case, no
    spaces, quotes or asterisks. Cached: the same names come back row after row."""
    return _KEY_NOISE.sub("", unicodedata.normalize("NFKC", text or "")).lower()


CAMPAIGN_WIDE_KEYS = frozenset(key(name) for name in CAMPAIGN_WIDE_NAMES)


_HEADER_MARKS = re.compile(r"[(（](必填|选填|可选|必选)[)）]|[*※]")
_HEADER_INDEX = {
    key(_HEADER_MARKS.sub("", alias)): name for name, aliases in HEADER_ALIASES.items() for alias in aliases
}


def header_field(text) -> str | None:
    """The canonical field a header cell names, or ``None``."""
    return _HEADER_INDEX.get(key(_HEADER_MARKS.sub("", nfkc(text))))


# --- dates ------------------------------------------------------------------------------------------

_DATE = r"(?:(?P<{p}y>\d{{4}})\s*(?:年|[-/.])\s*)?(?P<{p}m>\d{{1,2}})\s*(?:月|[-/.])\s*(?P<{p}d>\d{{1,2}})\s*(?:日|号)?"
_TIME = r"(?:\s*T?\s*(?P<{p}H>\d{{1,2}})\s*(?::|时|点)\s*(?P<{p}M>\d{{1,2}})?\s*分?(?:\s*:\s*(?P<{p}S>\d{{1,2}}))?)?"
_SEP = r"\s*(?:至|到|~|—+|–|-|―|－)\s*"
SINGLE_DATE = re.compile("^" + _DATE.format(p="a") + _TIME.format(p="a") + "$")
DATE_RANGE = re.compile(
    "^"
    + _DATE.format(p="a")
    + _TIME.format(p="a")
    + _SEP
    + "(?:"
    + _DATE.format(p="b")
    + _TIME.format(p="b")
    + r"|(?P<bdonly>\d{1,2})\s*(?:日|号)"
    + r"|(?P<bH2>\d{1,2})\s*(?::|时|点)\s*(?P<bM2>\d{1,2})?\s*分?"
    + ")$"
)
MONTH_ONLY = re.compile(r"^(?:\d{4}\s*(?:年|[-/.])\s*)?\d{1,2}\s*月?(?:份)?(?:上旬|中旬|下旬|底|初)?$")
_BRACKETS = re.compile(r"[(（][^()（）]*[)）]")
EXCEL_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
# Plausible Excel day numbers: 2000-01-01 … 2099-12-31.
SERIAL_RANGE = (36526, 73050)


class DateProblem(ValueError):
    """A date cell that cannot be read; the message (Chinese) says why."""


@dataclass(frozen=True)
class When:
    """A read date cell: ``start`` (and ``end`` for a range), naive Beijing datetimes; ``*_time``
    tells whether a time of day was given (else the whole day is meant)."""

    start: datetime
    start_time: bool
    end: datetime | None = None
    end_time: bool = False


def _from_serial(number: float) -> tuple[datetime, bool]:
    from openpyxl.utils.datetime import from_excel

    if not SERIAL_RANGE[0] <= number <= SERIAL_RANGE[1]:
        raise DateProblem(_("“%(value)s”不是日期") % {"value": number})
    moment = from_excel(number)
    if isinstance(moment, date) and not isinstance(moment, datetime):
        moment = datetime.combine(moment, time.min)
    return moment.replace(microsecond=0), moment.time() != time.min


def _make(
    groups: dict, p: str, year: int, *, fallback_md: tuple[int, int] | None = None
) -> tuple[datetime, bool]:
    y = int(groups[p + "y"]) if groups.get(p + "y") else year
    if groups.get(p + "m"):
        m, d = int(groups[p + "m"]), int(groups[p + "d"])
    else:
        m, d = fallback_md
    hour = groups.get(p + "H")
    try:
        day = date(y, m, d)
    except ValueError:
        raise DateProblem(_("日期 %(y)d年%(m)d月%(d)d日 不存在") % {"y": y, "m": m, "d": d}) from None
    if hour is None:
        return datetime.combine(day, time.min), False
    h, mi, s = int(hour), int(groups.get(p + "M") or 0), int(groups.get(p + "S") or 0)
    if h > 23 or mi > 59 or s > 59:
        raise DateProblem(_("时间 %(h)d:%(m)02d 不存在") % {"h": h, "m": mi})
    return datetime.combine(day, time(h, mi, s)), True


def parse_when(value, *, year: int) -> When | None:
    """Read a date cell. ``year`` (the campaign's) completes dates written without one (``9月15日``).

    Accepts ``datetime``/``date`` values, Excel serial numbers, ``2025-09-15``, ``2025/9/15 14:00``,
    ``2025年9月15日``, ``2025.9.15``, and ranges ``9月15日-9月25日``, ``9月15日至25日``,
    ``2025/9/15 14:00-16:00``; a weekday in brackets is ignored. Returns ``None`` for an empty cell.
    Raises ``DateProblem`` for a month alone (``2025-09``) or anything else it cannot read.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return When(value.replace(tzinfo=None, microsecond=0), value.time() != time.min)
    if isinstance(value, date):
        return When(datetime.combine(value, time.min), False)
    if isinstance(value, int | float):
        moment, has_time = _from_serial(float(value))
        return When(moment, has_time)
    text = _BRACKETS.sub("", nfkc(value)).strip()
    if not text:
        return None
    if len(text) in (10, 16, 19) and text[4:5] == "-" and text[7:8] == "-":  # ISO, most cells
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return When(moment, len(text) > 10)
    if EXCEL_SERIAL.match(text):
        moment, has_time = _from_serial(float(text))
        return When(moment, has_time)
    if MONTH_ONLY.match(text):
        raise DateProblem(_("“%(value)s”只有月份，请填写具体日期（如 2025-09-15）") % {"value": text})
    if match := SINGLE_DATE.match(text):
        moment, has_time = _make(match.groupdict(), "a", year)
        return When(moment, has_time)
    if match := DATE_RANGE.match(text):
        groups = match.groupdict()
        start, start_time = _make(groups, "a", year)
        if groups.get("bdonly"):
            end, end_time = _make({}, "b", start.year, fallback_md=(start.month, int(groups["bdonly"])))
        elif groups.get("bH2"):
            end, end_time = _make(
                {"bH": groups["bH2"], "bM": groups.get("bM2")},
                "b",
                start.year,
                fallback_md=(start.month, start.day),
            )
        else:
            end, end_time = _make(groups, "b", start.year)
            if not groups.get("by") and end.date() < start.date():  # 12月28日-1月3日
                end = end.replace(year=end.year + 1)
        return When(start, start_time, end, end_time)
    raise DateProblem(
        _("“%(value)s”不是可识别的日期（可写 2025-09-15、2025年9月15日 或 2025/9/15 14:00）")
        % {"value": text}
    )


def _aware(moment: datetime, has_time: bool, *, end: bool) -> datetime:
    if has_time:
        return moment.replace(tzinfo=clock.BEIJING)
    return clock.end_of_day(moment.date()) if end else clock.start_of_day(moment.date())


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


# --- the import context: everything looked up once ----------------------------------------------------


def default_campaign():
    """The campaign rows are imported into when none is named: the current campaign by the
    campaign clock (``kepuyue.campaigns.services.current_campaign``), else the latest one."""
    from kepuyue.campaigns.models import Campaign

    try:
        from kepuyue.campaigns.services import current_campaign
    except ImportError:  # the campaigns service not installed yet
        current_campaign = None
    if current_campaign is not None:
        found = current_campaign()
        if found is not None:
            return found
    return Campaign.objects.order_by("-starts").first()


ORGANIZATION_TYPE_NAMES = {
    "science_museum": "科技馆",
    "university": "高等学校",
    "science_association": "科协",
    "other": "其他",
}


def organization_type_for(name: str) -> str:
    """The participant type code an unknown organizer is created with, read from its name:
    科技馆/科学技术馆/科学馆 → ``science_museum``; 大学/学院 (not 科学院) → ``university``;
    科协/科学技术协会 → ``science_association``; else ``other``."""
    if any(word in name for word in ("科技馆", "科学技术馆", "科学馆")):
        return "science_museum"
    if "大学" in name or ("学院" in name and "科学院" not in name):
        return "university"
    if "科协" in name or "科学技术协会" in name:
        return "science_association"
    return "other"


_UNIT_SPLIT = re.compile(r"[、,，;；]")
# "及/联合/会同 …" join further units only right after a unit's name (承德市科协及市委组织部); inside a
# name they are part of it (会同县, 北京联合大学). "等" ends a list before a count (金华市科协等16家).
_UNIT_ENDS = (
    "科协",
    "协会",
    "学会",
    "政府",
    "局",
    "馆",
    "部",
    "委",
    "办",
    "厅",
    "中心",
    "院",
    "站",
    "所",
    "校",
    "公司",
)
_UNIT_TAIL = re.compile(
    "(?:" + "|".join(f"(?<={end})" for end in _UNIT_ENDS) + r")(?:及|联合|会同).*$|等(?=\d|$|单位|部门|家).*$"
)


def first_unit(text: str) -> str:
    """The first unit named in a 主办单位 cell: brackets removed, cut at 、,; and at 及/联合/会同/等…
    (``承德市科协及市委组织部…`` → ``承德市科协``, ``中国科协等（科学大师宣传工程）；…`` → ``中国科协``)."""
    text = soft(text)
    while True:
        stripped = _BRACKETS.sub("", text)
        if stripped == text:
            break
        text = stripped
    first = _UNIT_SPLIT.split(text, maxsplit=1)[0]
    return _UNIT_TAIL.sub("", first).strip()


@functools.lru_cache(maxsize=16384)
def _words_to_bits(text: str, table: tuple[tuple[str, int], ...]) -> tuple[int, tuple[str, ...]]:
    """Bits for the free words in ``text`` (``table``: ``(key(word), bit)`` pairs, most specific
    first) and the items no word matched. Cached: sheets repeat the same few audience texts."""
    total, unknown = 0, []
    text = _BRACKETS.sub("", text)  # notes in brackets: 公众（预约观看）, 家庭（上午40组、下午20组）
    for item in LIST_SPLIT.split(text):
        item = item.strip()
        if not item:
            continue
        rest, found = key(item), 0
        for word_key, bit in table:
            if word_key in rest:
                found |= bit
                rest = rest.replace(word_key, " ")
        if found:
            total |= found
        else:
            unknown.append(item)
    return total, tuple(unknown)


def _keyed(table: list[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    return tuple((key(word), int(bit)) for word, bit in table)


_AUDIENCE_KEYS = _keyed(AUDIENCE_WORDS)
_TOPIC_KEYS = _keyed(TOPIC_WORDS)
_SPECIAL_AREA_KEYS = _keyed(SPECIAL_AREA_WORDS)


def _int_value(text: str) -> int | None:
    """``500``, ``约500人``, ``1,000``, ``500余`` → an int; ``None`` when there is no number."""
    digits = re.sub(r"[,，]", "", nfkc(text))
    match = re.search(r"\d+", digits)
    return int(match.group()) if match else None


@dataclass
class Row:
    """A valid row: its values for Activity (model field names), its organizer and its file row."""

    number: int
    values: dict
    organizer_id: int | None
    organizer_name: str


@dataclass
class Result:
    """What reading the file found: issues, row counts, the valid rows (when kept)."""

    issues: list[dict] = field(default_factory=list)
    total: int = 0
    valid: int = 0
    failed_rows: set = field(default_factory=set)


class Importer:
    """Reads one file into activity values, with every lookup done once (campaign, joint actions,
    brands, key tasks, organizations, regions) so that rows cost no queries."""

    def __init__(self, job: ImportJob, *, campaign=None):
        from kepuyue.campaigns.models import JointAction
        from kepuyue.orgs.models import Organization, OrganizationType
        from kepuyue.regions.models import Region

        self.job = job
        self.organization = job.organization
        self.campaign = campaign or default_campaign()
        if self.campaign is None:
            raise ImportFileError(_("还没有导入科普月方案（manage.py load_campaign），无法导入活动"))
        self.year = self.campaign.year
        self.now = clock.now()
        actions = list(
            JointAction.objects.filter(campaign=self.campaign)
            .prefetch_related("brands", "key_tasks", "participant_types")
            .order_by("number")
        )
        self.actions = actions
        self.action_by_key: dict[str, object] = {}
        self.brands_by_key: dict[str, list] = {}
        self.tasks_by_key: dict[tuple[int, str], object] = {}
        self.actions_by_type: dict[str, list] = {}
        for action in actions:
            short = re.sub(r"(联合)?行动$", "", action.name)
            for name in (action.name, short, action.slug, str(action.number), action.name_en):
                if name:
                    self.action_by_key.setdefault(key(name), action)
            for brand in action.brands.all():
                for name in (brand.name, brand.slug, *(brand.aliases or [])):
                    bucket = self.brands_by_key.setdefault(key(name), [])
                    if brand not in bucket:
                        bucket.append(brand)
            for task in action.key_tasks.all():
                for name in (task.name, task.slug, str(task.number)):
                    self.tasks_by_key.setdefault((action.pk, key(name)), task)
            for kind in action.participant_types.all():
                self.actions_by_type.setdefault(kind.code, []).append(action)
        self.type_names = dict(OrganizationType.objects.values_list("code", "name"))
        self.regions = {
            r.code: r
            for r in Region.objects.only("code", "name", "level", "parent_id", "province_code", "full_name")
        }
        self.org_ids: dict[str, int] = {}
        self.org_types: dict[str, str] = {}
        self.org_names: dict[int, str] = {}
        self.new_orgs: set[int] = set()
        if self.organization is None:
            for pk, name, kind in Organization.objects.values_list("pk", "name", "type_id").iterator(
                chunk_size=5000
            ):
                self.org_ids[key(name)] = pk
                self.org_types[key(name)] = kind
                self.org_names[pk] = name
        else:
            self.org_names[self.organization.pk] = self.organization.name
        self._places: dict[tuple, tuple] = {}
        self.seen: dict[tuple, int] = {}
        self.result = Result()
        self.errors = 0  # errors reported so far (the report itself stops at REPORT_LIMIT)
        self.present: set[str] = set()
        self.columns: dict[str, int] = {}
        self.headers: list[str] = []

    # -- reporting --

    def issue(self, row: int, column: str, value, reason: str, level: str = ERROR) -> None:
        if level == ERROR:
            self.result.failed_rows.add(row)
            self.errors += 1
        if len(self.result.issues) < REPORT_LIMIT:
            text = value if isinstance(value, str) else ("" if value is None else str(value))
            self.result.issues.append(
                {"row": row, "column": column, "value": text[:200], "reason": reason, "level": level}
            )

    def header_of(self, name: str) -> str:
        index = self.columns.get(name)
        return (
            self.headers[index]
            if index is not None
            else dict((f, h) for f, h, _r, _n in TEMPLATE_COLUMNS).get(name, name)
        )

    # -- the header --

    def read_header(self, sheet: Sheet) -> None:
        self.headers = [str(h) for h in sheet.headers]
        for index, text in enumerate(self.headers):
            if not text.strip():
                continue
            name = header_field(text)
            if name is None:
                self.issue(sheet.header_row, text, "", _("未识别的列，已忽略"), WARNING)
            elif name in self.columns:
                self.issue(
                    sheet.header_row,
                    text,
                    "",
                    _("与“%(other)s”列重复，已忽略") % {"other": self.headers[self.columns[name]]},
                    WARNING,
                )
            else:
                self.columns[name] = index
        self.present = set(self.columns)
        if not ({"start", "when"} & self.present):
            raise ImportFileError(_("找不到“开始时间”列（也可写作 开始日期、活动时间、start_date）"))
        if self.organization is None and "organizer" not in self.present:
            raise ImportFileError(_("管理员导入需要“主办单位”列（按单位名称匹配或新建单位）"))
        if self.organization is not None and "organizer" in self.present:
            self.issue(
                sheet.header_row,
                self.header_of("organizer"),
                "",
                _("本单位导入：主办单位一律为“%(org)s”，此列不导入") % {"org": self.organization.name},
                WARNING,
            )

    # -- one row --

    def row_cells(self, cells: tuple) -> dict:
        """A file row as ``{field: value}`` for the recognised columns, blank cells left out."""
        width = len(cells)
        found = {}
        for name, index in self.columns.items():
            if index < width:
                value = cells[index]
                if value is not None and value != "" and not (isinstance(value, str) and value.isspace()):
                    if isinstance(value, str) and value[:1] == "'" and value[1:2] in _FORMULA_STARTS:
                        value = value[1:]  # a cell our export neutralised: '=… is the text =…
                    found[name] = value
        return found

    def read_row(self, number: int, cells: dict) -> Row | None:
        """Turn one file row into activity values, reporting every problem; ``None`` if it fails."""
        errors_before = len(self.result.failed_rows)
        v: dict = {}
        title = soft(cells.get("title"))
        if not title:
            self.issue(number, self.header_of("title"), "", _("活动名称为空"))
        elif len(title) > 200:
            self.issue(
                number, self.header_of("title"), title, _("活动名称超过200字（%(n)d字）") % {"n": len(title)}
            )
        v["title"] = title

        organizer_id, organizer_name, organizer_type = self.read_organizer(number, cells, v)
        errors_before_marks = self.errors
        action, brand, task = self.read_marks(number, cells, organizer_type, organizer_name)
        marks_failed = self.errors > errors_before_marks or (action is None and not organizer_name)
        v["joint_action_id"] = action.pk if action else None
        v["campaign_id"] = action.campaign_id if action else self.campaign.pk
        v["brand_id"] = brand.pk if brand else None
        v["key_task_id"] = task.pk if task else None
        # A row whose marks failed has no known window: its dates are checked for order only, not
        # against the campaign month (which would mislead for a joint action of 7—10月).
        self.read_dates(number, cells, action, v, campaign=None if marks_failed else self.campaign)
        self.read_form(number, cells, v)
        self.read_place(number, cells, v)
        self.read_words(number, cells, v)
        self.read_plain(number, cells, v)

        if len(self.result.failed_rows) > errors_before or number in self.result.failed_rows:
            return None
        identity = (
            (organizer_id or key(organizer_name), v["external_id"])
            if v["external_id"]
            else (
                organizer_id or key(organizer_name),
                v["title"],
                v["starts_at"],
            )
        )
        earlier = self.seen.get(identity)
        if earlier is not None:
            what = _("活动编号") if v["external_id"] else _("主办单位、活动名称和开始时间")
            self.issue(
                number,
                self.header_of("title"),
                title,
                _("与第%(row)d行是同一活动（%(what)s相同），已跳过") % {"row": earlier, "what": what},
            )
            return None
        self.seen[identity] = number
        return Row(number, v, organizer_id, organizer_name)

    def read_organizer(self, number: int, cells: dict, v: dict) -> tuple[int | None, str, str | None]:
        if self.organization is not None:
            return self.organization.pk, self.organization.name, self.organization.type_id
        raw = soft(cells.get("organizer"))
        if not raw:
            self.issue(
                number,
                self.header_of("organizer"),
                "",
                _("主办单位为空（管理员导入需按主办单位确定活动归属）"),
            )
            return None, "", None
        name = first_unit(raw)
        if not name:
            self.issue(number, self.header_of("organizer"), raw, _("无法从主办单位中读出单位名称"))
            return None, "", None
        if len(name) > 200:
            self.issue(number, self.header_of("organizer"), raw, _("主办单位名称超过200字"))
            return None, "", None
        if name != raw and not soft(cells.get("co_organizers")):
            v["co_organizers"] = raw[:500]
        found = self.org_ids.get(key(name))
        kind = self.org_types.get(key(name)) or organization_type_for(name)
        return found, name, kind

    def read_marks(self, number: int, cells: dict, organizer_type: str | None, organizer_name: str):
        """``(joint_action, brand, key_task)`` of a row; a joint action of ``None`` on a row that did
        not fail is a campaign-wide activity (全国科普月活动): marked so in the 联合行动 column
        (``CAMPAIGN_WIDE_NAMES``, what the export writes), or unmarked and reported as a warning."""
        action = brand = task = None
        action_text = soft(cells.get("joint_action"))
        brand_text = soft(cells.get("brand"))
        task_text = soft(cells.get("key_task"))
        if action_text and key(action_text) in CAMPAIGN_WIDE_KEYS:
            if brand_text:
                candidates = self.brands_by_key.get(key(brand_text), [])
                if candidates:
                    self.issue(
                        number, self.header_of("brand"), brand_text, services.brand_error(candidates[0], None)
                    )
                    return None, None, None
                self.issue(
                    number,
                    self.header_of("brand"),
                    brand_text,
                    _("未识别的品牌活动，已留空（全国科普月活动不属于联合行动，没有品牌活动）"),
                    WARNING,
                )
            if task_text:
                self.issue(
                    number,
                    self.header_of("key_task"),
                    task_text,
                    _("全国科普月活动不属于联合行动，重点任务已留空"),
                    WARNING,
                )
            return None, None, None
        if action_text:
            action = self.action_by_key.get(key(action_text))
            if action is None:
                action = next(
                    (
                        a
                        for k, a in self.action_by_key.items()
                        if len(k) > 3 and (k in key(action_text) or key(action_text) in k)
                    ),
                    None,
                )
            if action is None:
                names = "、".join(a.name for a in self.actions)
                self.issue(
                    number,
                    self.header_of("joint_action"),
                    action_text,
                    _("未识别的联合行动（可选：%(names)s）") % {"names": names},
                )
                return None, None, None
        if brand_text:
            candidates = self.brands_by_key.get(key(brand_text), [])
            if action is not None:
                inside = [b for b in candidates if b.joint_action_id == action.pk]
                if candidates and not inside:
                    self.issue(
                        number,
                        self.header_of("brand"),
                        brand_text,
                        services.brand_error(candidates[0], action),
                    )
                    return action, None, None
                candidates = inside
            if len(candidates) == 1:
                brand = candidates[0]
                if action is None:
                    action = next(a for a in self.actions if a.pk == brand.joint_action_id)
            elif len(candidates) > 1:
                self.issue(
                    number,
                    self.header_of("brand"),
                    brand_text,
                    _("品牌活动名称对应多个联合行动，请填写“联合行动”列"),
                )
                return action, None, None
            else:
                self.issue(
                    number,
                    self.header_of("brand"),
                    brand_text,
                    _("未识别的品牌活动，已留空（品牌须是方案中的品牌活动）"),
                    WARNING,
                )
        if action is None and not organizer_name:
            return None, None, None  # the row already failed for its missing organizer
        if action is None:
            kinds = self.actions_by_type.get(organizer_type or "", [])
            if len(kinds) == 1:
                action = kinds[0]
            else:
                type_name = self.type_names.get(
                    organizer_type or "",
                    ORGANIZATION_TYPE_NAMES.get(organizer_type or "", organizer_type or ""),
                )
                if kinds:
                    reason = CAMPAIGN_WIDE_WARNING + _(
                        "（主办单位类型“%(type)s”可参加%(names)s，如属其中之一请填写“联合行动”列）"
                    ) % {"type": type_name, "names": "、".join(a.name for a in kinds)}
                else:
                    reason = CAMPAIGN_WIDE_WARNING + _(
                        "（主办单位“%(org)s”类型“%(type)s”不属于任何联合行动的参与对象；如属联合行动请填写“联合行动”或“品牌活动”列）"
                    ) % {"org": organizer_name, "type": type_name or "-"}
                self.issue(number, self.header_of("joint_action"), action_text, reason, WARNING)
                if task_text:
                    self.issue(
                        number,
                        self.header_of("key_task"),
                        task_text,
                        _("全国科普月活动不属于联合行动，重点任务已留空"),
                        WARNING,
                    )
                return None, None, None
        if task_text:
            task = self.tasks_by_key.get((action.pk, key(task_text)))
            if task is None:
                self.issue(
                    number,
                    self.header_of("key_task"),
                    task_text,
                    _("不是%(action)s的重点任务，已留空") % {"action": action.name},
                    WARNING,
                )
        if task is None and brand is not None and brand.key_task_id:
            task = next((t for t in action.key_tasks.all() if t.pk == brand.key_task_id), None)
        return action, brand, task

    def read_dates(self, number: int, cells: dict, action, v: dict, *, campaign=None) -> None:
        start_raw, end_raw, when_raw = (
            cells.get("start"),
            cells.get("end"),
            cells.get("when"),
        )
        start = end = None
        year = self.year
        try:
            start = parse_when(start_raw, year=year)
        except DateProblem as exc:
            self.issue(number, self.header_of("start"), start_raw, str(exc))
            return
        try:
            end = parse_when(end_raw, year=start.start.year if start else year)
        except DateProblem as exc:
            self.issue(number, self.header_of("end"), end_raw, str(exc))
            return
        column = self.header_of("start")
        if start is None and when_raw is not None:
            column = self.header_of("when")
            try:
                start = parse_when(when_raw, year=year)
            except DateProblem as exc:
                self.issue(number, column, when_raw, str(exc))
                return
        if start is None:
            if end is not None:
                self.issue(number, self.header_of("start"), "", _("开始时间为空（只填写了结束时间）"))
            else:
                self.issue(number, self.header_of("start"), "", _("开始时间为空"))
            return
        starts_at = _aware(start.start, start.start_time, end=False)
        if end is not None:
            ends_at = _aware(
                end.start if end.end is None else end.end,
                end.start_time if end.end is None else end.end_time,
                end=True,
            )
            if start.end is not None:
                self.issue(number, column, start_raw, _("开始时间是一个时间段，已取其开始"), WARNING)
        elif start.end is not None:
            ends_at = _aware(start.end, start.end_time, end=True)
        else:
            ends_at = clock.end_of_day(start.start.date())
            if "end" in self.present:
                self.issue(number, self.header_of("end"), "", _("结束时间为空，按开始当天结束处理"), WARNING)
        v["starts_at"], v["ends_at"] = starts_at, ends_at
        for name, message in services.date_errors(starts_at, ends_at, action, campaign=campaign):
            self.issue(
                number,
                self.header_of("start" if name == "starts_at" else "end"),
                start_raw if name == "starts_at" else end_raw,
                message,
            )

    def read_form(self, number: int, cells: dict, v: dict) -> None:
        raw = cells.get("form")
        text = key(nfkc(raw))
        if not text:
            v["form"] = Form.OFFLINE
            if "form" in self.present:
                self.issue(number, self.header_of("form"), "", _("活动形式为空，按线下处理"), WARNING)
        elif text in FORM_WORDS:
            v["form"] = FORM_WORDS[text]
        elif "线上" in text and "线下" in text:
            v["form"] = Form.HYBRID
        else:
            self.issue(number, self.header_of("form"), raw, _("活动形式应为线下、线上或线上线下结合"))
            v["form"] = Form.OFFLINE
        v["online_url"] = nfkc(cells.get("online_url"))
        if message := services.online_url_error(v["form"], v["online_url"]):
            self.issue(number, self.header_of("online_url"), v["online_url"], message)

    def resolve(self, province: str, city: str, county: str):
        """``(region, warning)`` for place names, cached per combination (``regions.resolve_place``)."""
        cache_key = (province, city, county)
        if cache_key in self._places:
            return self._places[cache_key]
        from kepuyue.regions.services import resolve_place

        match = resolve_place(province, city, county)
        warning = None
        if match is None:
            answer = (None, None)
        else:
            region = self.regions.get(match.region.code, match.region)
            wanted = 3 if county else 2 if city else 1
            finest = key(county or city or province)
            # 北京市/北京市, 香港特别行政区/香港: the finer part names the same place, nothing lost.
            same_place = finest and (
                key(region.name).startswith(finest) or finest.startswith(key(region.name))
            )
            if match.unresolved:
                warning = _("“%(parts)s”未能识别，地区记为%(region)s") % {
                    "parts": "、".join(match.unresolved),
                    "region": region.full_name,
                }
            elif region.level < wanted and not same_place:
                warning = _("未能定位到单个%(level)s，地区记为%(region)s") % {
                    "level": "区县" if wanted == 3 else "城市",
                    "region": region.full_name,
                }
            answer = (region, warning)
        self._places[cache_key] = answer
        return answer

    def read_place(self, number: int, cells: dict, v: dict) -> None:
        code_raw = cells.get("region_code")
        region = None
        if code_raw is not None:
            code = nfkc(code_raw)
            six = code.ljust(6, "0") if re.fullmatch(r"\d{2}|\d{4}|\d{6}", code) else ""
            region = self.regions.get(six)
            if region is None:
                self.issue(
                    number,
                    self.header_of("region_code"),
                    code,
                    _("区划代码 %(code)s 不存在（应为6位行政区划代码）") % {"code": code},
                )
        else:
            parts = [soft(cells.get(name)) for name in ("province", "city", "county")]
            if any(parts):
                region, warning = self.resolve(*parts)
                if region is None:
                    self.issue(
                        number,
                        self.header_of("province"),
                        "".join(parts),
                        _("无法识别地区“%(place)s”") % {"place": " ".join(p for p in parts if p)},
                    )
                elif warning:
                    self.issue(
                        number,
                        self.header_of("county" if parts[2] else "city"),
                        " ".join(p for p in parts if p),
                        warning,
                        WARNING,
                    )
            elif v.get("form") != Form.ONLINE and ({"province", "region_code"} & self.present):
                self.issue(number, self.header_of("province"), "", _("未填写地区"), WARNING)
        v["region_id"] = region.code if region else None
        v["province_code"], v["prefecture_code"], v["county_code"] = services.region_codes(region)

    def read_words(self, number: int, cells: dict, v: dict) -> None:
        for name, table, label in (
            ("audiences", _AUDIENCE_KEYS, "面向对象"),
            ("topics", _TOPIC_KEYS, "活动主题"),
            ("special_areas", _SPECIAL_AREA_KEYS, "特殊地区"),
        ):
            raw = soft(cells.get(name))
            value, unknown = _words_to_bits(raw, table) if raw else (0, ())
            v[name] = value
            if unknown:
                self.issue(
                    number,
                    self.header_of(name),
                    raw,
                    _("%(label)s中“%(words)s”未能识别，已忽略")
                    % {"label": label, "words": "、".join(unknown)},
                    WARNING,
                )

    def read_plain(self, number: int, cells: dict, v: dict) -> None:
        for name, limit in (("external_id", 64), ("contact_name", 64), ("contact_phone", 32), ("venue", 255)):
            text = (
                nfkc(cells.get(name)) if name in ("external_id", "contact_phone") else soft(cells.get(name))
            )
            if len(text) > limit:
                self.issue(number, self.header_of(name), text, _("超过%(n)d字") % {"n": limit})
            v[name] = text[:limit]
        co = v.get("co_organizers") or soft(cells.get("co_organizers"))
        if len(co) > 500:
            self.issue(
                number, self.header_of("co_organizers"), co, _("协办/承办单位超过500字，已截断"), WARNING
            )
        v["co_organizers"] = co[:500]
        summary = soft(cells.get("summary"))
        description = soft(cells.get("description"))
        if len(summary) > 500:
            self.issue(
                number,
                self.header_of("summary"),
                summary,
                _("活动简介超过500字，全文放入活动详情，简介截取前500字"),
                WARNING,
            )
            description = description or summary
            summary = summary[:499] + "…"
        v["summary"], v["description"] = summary, description
        for name in ("expected_participants", "science_workers"):
            raw = cells.get(name)
            number_value = _int_value(raw) if raw is not None else None
            if raw is not None and number_value is None:
                self.issue(number, self.header_of(name), raw, _("不是数字，已留空"), WARNING)
            v[name] = number_value
        for name, bound in (("latitude", 90), ("longitude", 180)):
            raw = cells.get(name)
            value = None
            if raw is not None:
                try:
                    value = Decimal(nfkc(raw)).quantize(Decimal("0.000001"))
                    if abs(value) > bound:
                        raise InvalidOperation
                except InvalidOperation:
                    self.issue(number, self.header_of(name), raw, _("坐标无效，已留空"), WARNING)
                    value = None
            v[name] = value

    # -- the whole file --

    def rows(self, path: Path) -> Iterator[Row | None]:
        """Every data row of the file, read and checked: a ``Row`` or ``None`` (failed/empty)."""
        sheet = open_sheet(path, self.job.original_name)
        self.read_header(sheet)
        self.job.total = sheet.estimated_rows
        ImportJob.objects.filter(pk=self.job.pk).update(total=self.job.total, processed=0)
        count = 0
        for number, cells in sheet.rows:
            if not any(c not in (None, "") and not (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            count += 1
            row = self.read_row(number, self.row_cells(cells))
            if row is not None:
                self.result.valid += 1
            yield row
            if count % PROGRESS_EVERY == 0:
                self.job.processed = count
                ImportJob.objects.filter(pk=self.job.pk).update(
                    processed=count, total=max(count, self.job.total)
                )
        self.result.total = count

    # -- writing --

    COMPARED = (
        "campaign_id",
        "joint_action_id",
        "key_task_id",
        "brand_id",
        "title",
        "starts_at",
        "ends_at",
        "form",
        "online_url",
        "region_id",
        "province_code",
        "prefecture_code",
        "county_code",
        "audiences",
        "topics",
        "special_areas",
        "external_id",
        "venue",
        "co_organizers",
        "summary",
        "description",
        "expected_participants",
        "science_workers",
        "contact_name",
        "contact_phone",
        "latitude",
        "longitude",
    )
    # Source column(s) of each optional field: a field is updated only if its column is in the file,
    # so a re-import of a sheet without e.g. 活动简介 keeps the summary written in the form.
    SOURCES = {
        "key_task_id": ("key_task", "brand"),
        "brand_id": ("brand",),
        "online_url": ("online_url",),
        "region_id": ("province", "city", "county", "region_code"),
        "province_code": ("province", "city", "county", "region_code"),
        "prefecture_code": ("province", "city", "county", "region_code"),
        "county_code": ("province", "city", "county", "region_code"),
        "audiences": ("audiences",),
        "topics": ("topics",),
        "special_areas": ("special_areas",),
        "external_id": ("external_id",),
        "venue": ("venue",),
        "co_organizers": ("co_organizers", "organizer"),
        "summary": ("summary",),
        "description": ("description",),
        "expected_participants": ("expected_participants",),
        "science_workers": ("science_workers",),
        "contact_name": ("contact_name",),
        "contact_phone": ("contact_phone",),
        "latitude": ("latitude",),
        "longitude": ("longitude",),
    }

    def updatable_fields(self) -> list[str]:
        return [f for f in self.COMPARED if f not in self.SOURCES or set(self.SOURCES[f]) & self.present]

    def ensure_organizers(self, batch: list[Row]) -> None:
        """Create the unknown organizers of an administrator's import (one insert per batch)."""
        from kepuyue.orgs.models import Organization, OrganizationType

        missing = {}
        # A new organizer is placed where its first activity is: the platform administrators' scopes
        # go by the unit's region (kepuyue.roles), and a unit without one would be in nobody's scope.
        places: dict[str, str | None] = {}
        for row in batch:
            if row.organizer_id is None:
                found = self.org_ids.get(key(row.organizer_name))
                if found:
                    row.organizer_id = found
                else:
                    missing.setdefault(key(row.organizer_name), row.organizer_name)
                    if not places.get(row.organizer_name):
                        places[row.organizer_name] = row.values.get("region_id")
        if missing:
            for name in missing.values():
                code = organization_type_for(name)
                if code not in self.type_names:
                    label = ORGANIZATION_TYPE_NAMES[code]
                    if OrganizationType.objects.filter(name=label).exclude(code=code).exists():
                        label = f"{label}（{code}）"
                    OrganizationType.objects.get_or_create(code=code, defaults={"name": label})
                    self.type_names[code] = label
            insert_rows(
                Organization,
                [
                    {"name": name, "type_id": organization_type_for(name), "region_id": places.get(name)}
                    for name in missing.values()
                ],
                now=self.now,
                ignore_conflicts=True,
            )
            for pk, name, kind, created in Organization.objects.filter(
                name__in=list(missing.values())
            ).values_list("pk", "name", "type_id", "created"):
                if created == self.now:  # inserted just now by this import: it has no activities yet
                    self.new_orgs.add(pk)
                self.org_ids[key(name)] = pk
                self.org_types[key(name)] = kind
                self.org_names[pk] = name
            for row in batch:
                if row.organizer_id is None:
                    row.organizer_id = self.org_ids[key(row.organizer_name)]

    def write(self, batch: list[Row], counts: dict) -> None:
        """Create, update or leave each row of ``batch`` (one transaction, a few queries)."""
        if not batch:
            return
        self.ensure_organizers(batch)
        fields = self.updatable_fields()
        external = {r.values["external_id"] for r in batch if r.values["external_id"]}
        titles = {r.values["title"] for r in batch}
        condition = Q(title__in=titles)
        if external:
            condition |= Q(external_id__in=external)
        # Units created by this import have only this import's activities, which the in-file check
        # (``seen``) already keeps unique: no need to look for them.
        known = {r.organizer_id for r in batch} - self.new_orgs
        existing = (
            Activity.objects.filter(organizer_id__in=known).filter(condition).order_by() if known else []
        )
        by_external, by_title = {}, {}
        for current in existing.values("id", "organizer_id", "status", *self.COMPARED) if known else ():
            if current["external_id"]:
                by_external[(current["organizer_id"], current["external_id"])] = current
            by_title.setdefault((current["organizer_id"], current["title"], current["starts_at"]), current)
        new, changed = [], []
        status = Status.DRAFT if self.organization is not None else Status.PUBLISHED
        for row in batch:
            v = row.values
            current = None
            if v["external_id"]:
                current = by_external.get((row.organizer_id, v["external_id"]))
            if current is None:
                candidate = by_title.get((row.organizer_id, v["title"], v["starts_at"]))
                if candidate is not None and (
                    not candidate["external_id"] or not v["external_id"] or "external_id" not in self.present
                ):
                    current = candidate
            name = self.org_names.get(row.organizer_id, row.organizer_name)
            if current is None:
                new.append(
                    {
                        **v,
                        "organizer_id": row.organizer_id,
                        "status": status,
                        "published_at": self.now if status == Status.PUBLISHED else None,
                        "search_text": index_text(v["title"], v["summary"], name, v["venue"]),
                    }
                )
                continue
            differs = [f for f in fields if current[f] != v[f]]
            if not differs:
                counts["unchanged"] += 1
                continue
            if self.organization is not None and current["status"] not in services.EDITABLE_STATUSES:
                self.issue(
                    row.number,
                    self.header_of("title"),
                    v["title"],
                    _("该活动已%(status)s，不能通过导入修改；请在活动管理中撤回或联系审核人员")
                    % {"status": Status(current["status"]).label},
                )
                self.result.valid -= 1
                continue
            merged = {f: (v[f] if f in fields else current[f]) for f in self.COMPARED}
            activity = Activity(pk=current["id"], organizer_id=row.organizer_id, **merged)
            activity.search_text = index_text(merged["title"], merged["summary"], name, merged["venue"])
            activity.updated = self.now
            changed.append(activity)
        with transaction.atomic():
            insert_rows(Activity, new, now=self.now)
            if changed:
                Activity.objects.bulk_update(changed, [*fields, "search_text", "updated"], batch_size=200)
        counts["created"] += len(new)
        counts["updated"] += len(changed)


# --- writing rows fast -------------------------------------------------------------------------------


def insert_rows(model, rows: list[dict], *, now: datetime, ignore_conflicts: bool = False) -> None:
    """Insert ``rows`` (dicts of field ``attname`` → value; missing fields take their defaults,
    ``created``/``updated`` are ``now``) with multi-row ``INSERT`` statements.

    Why not ``bulk_create``: profiling a 100,000-row import on SQLite showed Django's per-field
    preparation and 24-row statements (SQLite's 999-parameter limit) costing more time than the
    database itself. Values here are adapted once per field type by the backend's own adapters
    (``adapt_datetimefield_value``, ``adapt_decimalfield_value``), which is what ``bulk_create``
    ends up doing for these field types. No pre_save hooks or signals run (the models have none
    beyond the timestamps set here). ``ignore_conflicts`` skips rows that hit a unique constraint
    (``ON CONFLICT DO NOTHING``, SQLite 3.24+ and PostgreSQL).
    """
    if not rows:
        return
    from django.db import connections, router
    from django.db.models import DateTimeField, DecimalField

    connection = connections[router.db_for_write(model)]
    ops = connection.ops
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    plan = []
    for f in fields:
        if f.attname in ("created", "updated"):
            plan.append((f.attname, now, ops.adapt_datetimefield_value, True))
            continue
        if isinstance(f, DateTimeField):
            adapt = ops.adapt_datetimefield_value
        elif isinstance(f, DecimalField):
            adapt = functools.partial(
                ops.adapt_decimalfield_value, max_digits=f.max_digits, decimal_places=f.decimal_places
            )
        else:
            adapt = None
        plan.append((f.attname, f.get_default(), adapt, False))
    plan = [
        (name, adapt(default) if fixed else default, None if fixed else adapt, fixed)
        for name, default, adapt, fixed in plan
    ]
    adapted: dict = {}  # the same instants recur (start and end days, published_at)
    values = []
    for row in rows:
        record = []
        for name, default, adapt, fixed in plan:
            value = default if fixed else row.get(name, default)
            if adapt is not None and value is not None:
                cached = adapted.get(value)
                if cached is None:
                    cached = adapted[value] = adapt(value)
                value = cached
            record.append(value)
        values.append(record)
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    if connection.vendor == "postgresql" and not ignore_conflicts:
        # COPY: psycopg adapts rows in C, several times faster than 17,500-parameter INSERTs.
        with connection.cursor() as cursor:
            with cursor.cursor.copy(
                f"COPY {ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
            ) as copy:
                for record in values:
                    copy.write_row(record)
        return
    marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Identifiers come from the model (quoted by the backend); every value is a parameter.
    head = f"INSERT INTO {ops.quote_name(model._meta.db_table)} ({columns}) VALUES "  # noqa: S608
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    per_statement = max(1, min(INSERT_ROWS_PER_STATEMENT, _parameter_limit(connection) // len(fields)))
    with connection.cursor() as cursor:
        for start in range(0, len(values), per_statement):
            chunk = values[start : start + per_statement]
            cursor.execute(
                head + ", ".join([marks] * len(chunk)) + tail, [v for record in chunk for v in record]
            )


# Many rows per INSERT statement: SQLite's FTS5 index (kepuyue.search) flushes its pending terms at
# every statement, so one row per statement costs ~4× more than 500 rows per statement.
INSERT_ROWS_PER_STATEMENT = 500


def _parameter_limit(connection) -> int:
    """How many ``%s`` parameters one statement may carry on ``connection``."""
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 65535


# --- the two steps -----------------------------------------------------------------------------------


def _finish(job: ImportJob, importer: Importer | None, state: str, *, error: str = "") -> ImportJob:
    if importer is not None:
        result = importer.result
        issues = sorted(result.issues, key=lambda i: (i["row"], i["level"] != ERROR))
        if len(result.issues) >= REPORT_LIMIT:
            issues.append(
                {
                    "row": 0,
                    "column": "",
                    "value": "",
                    "reason": _("问题过多，只列出前 %(n)d 条") % {"n": REPORT_LIMIT},
                    "level": WARNING,
                }
            )
        job.report = issues
        job.total = result.total
        job.processed = result.total
        job.valid_rows = result.valid
    job.state = state
    job.error = error
    job.save()
    return job


def validate_import(job: ImportJob, *, campaign=None) -> ImportJob:
    """Step 1: read the whole file and record, for every row, what is wrong with it.

    Sets ``job.report`` (``[{"row", "column", "value", "reason", "level"}, …]``, level ``error`` or
    ``warning``, rows numbered as the file shows them), ``total`` and ``valid_rows``, and the state
    ``validated`` — or ``failed`` with ``job.error`` when the file cannot be read at all. Writes no
    activity. ``campaign`` defaults to :func:`default_campaign`. Returns the job.
    """
    job.state = ImportJob.State.VALIDATING
    job.save(update_fields=["state", "updated"])
    importer = None
    try:
        importer = Importer(job, campaign=campaign)
        with local_path(job) as path:
            for _row in importer.rows(path):
                pass
    except ImportFileError as exc:
        return _finish(job, importer, ImportJob.State.FAILED, error=str(exc))
    return _finish(job, importer, ImportJob.State.VALIDATED)


def commit_import(job: ImportJob, *, campaign=None) -> ImportJob:
    """Step 2: write the file's valid rows (read and checked again, so the result does not depend on
    the file having been validated in this process), in batches of ``BATCH_SIZE`` with
    ``bulk_create``/``bulk_update``, updating ``job.processed`` as it goes.

    Idempotent: a row that matches an existing activity of the same organizer (external id, else
    title + start) updates it only where the file's columns differ, else counts as unchanged.
    Rows of a unit's import become drafts (a unit cannot change a submitted or published activity
    by import: such rows are reported); rows of an administrator's import are published.
    Sets ``created_count``, ``updated_count``, ``unchanged_count``, the report and state ``done``
    (or ``failed``). Returns the job.
    """
    job.state = ImportJob.State.COMMITTING
    job.save(update_fields=["state", "updated"])
    bulk_load_settings()
    importer = None
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    try:
        importer = Importer(job, campaign=campaign)
        batch: list[Row] = []
        with local_path(job) as path:
            for row in importer.rows(path):
                if row is not None:
                    batch.append(row)
                if len(batch) >= BATCH_SIZE:
                    importer.write(batch, counts)
                    batch = []
            importer.write(batch, counts)
    except ImportFileError as exc:
        return _finish(job, importer, ImportJob.State.FAILED, error=str(exc))
    job.created_count, job.updated_count, job.unchanged_count = (
        counts["created"],
        counts["updated"],
        counts["unchanged"],
    )
    from kepuyue.audit import services as audit

    audit.record(
        "activity.import",
        actor=job.created_by,
        obj=job,
        organization=job.organization,
        data={"created": counts["created"], "updated": counts["updated"], "unchanged": counts["unchanged"]},
    )
    return _finish(job, importer, ImportJob.State.DONE)


def bulk_load_settings() -> None:
    """On SQLite, give this connection a 64 MB page cache for the import: the table's dozen indexes
    and the search index outgrow the 2 MB default, and re-reading their pages showed as system time."""
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -65536")


def failed_rows(job: ImportJob) -> list[tuple[int, list[dict]]]:
    """The job's rows that failed, each with its error issues: ``[(row, [issue, …]), …]``."""
    grouped: dict[int, list[dict]] = {}
    for issue in job.report:
        if issue.get("level", ERROR) == ERROR and issue["row"]:
            grouped.setdefault(issue["row"], []).append(issue)
    return sorted(grouped.items())


# --- workbooks: the template and the report ---------------------------------------------------------


def _regions_tree():
    """Provinces → prefectures → counties from the Region table, as display names."""
    from kepuyue.regions.models import Region

    rows = list(Region.objects.order_by("code").values_list("code", "name", "level", "parent_id"))
    names = {code: name for code, name, _l, _p in rows}
    provinces = [(code, name) for code, name, level, _p in rows if level == 1]
    prefectures: dict[str, list[tuple[str, str]]] = {}
    counties: dict[str, list[str]] = {}
    for code, name, level, parent in rows:
        if level == 2:
            # The 市辖区/县 grouping rows of the municipalities read as the municipality itself.
            shown = names[parent] if name in ("市辖区", "县") else name
            prefectures.setdefault(parent, []).append((code, shown))
        elif level == 3:
            counties.setdefault(parent, []).append(name)
    return provinces, prefectures, counties


_NAME_OK = re.compile(r"^\w+$")


def build_template(campaign=None) -> bytes:
    """The downloadable 重点科普活动信息表 template (``.xlsx``): a sheet to fill in with Chinese
    headers and drop-down lists (data validation) for joint action, brand (of the chosen joint
    action), form, province, city (of the province) and county (of the city); an instructions
    sheet; the lists on a hidden sheet. Returns the file's bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    campaign = campaign or default_campaign()
    book = Workbook()
    sheet = book.active
    sheet.title = TEMPLATE_SHEET
    notes = book.create_sheet(INSTRUCTIONS_SHEET)
    lists = book.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    quoted = quote_sheetname(LISTS_SHEET)

    # Lists: one column per list; dependent lists get a defined name (联合行动 → its brands, 省 → its
    # cities, 省+市 → its counties) that INDIRECT() finds from the chosen value.
    column = 0

    def put(values: list[str], name: str | None = None) -> str:
        nonlocal column
        column += 1
        letter = get_column_letter(column)
        for row, value in enumerate(values or [""], start=1):
            lists.cell(row=row, column=column, value=value)
        ref = f"{quoted}!${letter}$1:${letter}${max(1, len(values))}"
        if name and _NAME_OK.match(name):
            book.defined_names[name] = DefinedName(name, attr_text=ref)
        return ref

    actions = list(campaign.joint_actions.prefetch_related("brands").order_by("number")) if campaign else []
    action_ref = put([*(a.name for a in actions), services.CAMPAIGN_WIDE_LABEL])
    for action in actions:
        put([b.name for b in action.brands.all()], f"品牌_{action.name}")
    form_ref = put([label for _v, label in Form.choices])
    provinces, prefectures, counties = _regions_tree()
    province_ref = put([name for _c, name in provinces])
    province_names = dict(provinces)
    for code, name in provinces:
        put([shown for _c, shown in prefectures.get(code, [])], f"市_{name}")
    for province_code, items in prefectures.items():
        for code, shown in items:
            put(counties.get(code, []), f"县_{province_names[province_code]}_{shown}")

    headers = [header for _f, header, _r, _n in TEMPLATE_COLUMNS]
    sheet.append(headers)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    for index, (_f, _h, required, _n) in enumerate(TEMPLATE_COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = bold
        if required:
            cell.fill = fill
        sheet.column_dimensions[get_column_letter(index)].width = (
            30 if _f in ("title", "summary", "venue") else 16
        )
    sheet.freeze_panes = "A2"
    letter = {f: get_column_letter(i) for i, (f, _h, _r, _n) in enumerate(TEMPLATE_COLUMNS, start=1)}
    last = 5001

    def validate(field_name: str, formula: str, prompt: str) -> None:
        rule = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True)
        rule.error, rule.errorTitle = _("请从下拉列表中选择"), _("无效的值")
        rule.prompt, rule.promptTitle = prompt, dict((f, h) for f, h, _r, _n in TEMPLATE_COLUMNS)[field_name]
        rule.add(f"{letter[field_name]}2:{letter[field_name]}{last}")
        sheet.add_data_validation(rule)

    validate("joint_action", action_ref, _("选择联合行动；不属于联合行动的选“全国科普月活动”"))
    validate("brand", f'INDIRECT("品牌_"&${letter["joint_action"]}2)', _("先选联合行动，再选其品牌活动"))
    validate("form", form_ref, _("线下、线上或线上线下结合"))
    validate("province", province_ref, _("选择省份"))
    validate("city", f'INDIRECT("市_"&${letter["province"]}2)', _("先选省份"))
    validate("county", f'INDIRECT("县_"&${letter["province"]}2&"_"&${letter["city"]}2)', _("先选省份和城市"))
    for name in ("start", "end"):
        for row in range(2, 200):
            sheet[f"{letter[name]}{row}"].number_format = "yyyy-mm-dd hh:mm"

    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 12
    notes.column_dimensions["C"].width = 80
    title = _("重点科普活动信息表 · 填写说明")
    if campaign:
        title = f"{campaign.name} {title}"
    notes.append([title])
    notes["A1"].font = Font(bold=True, size=14)
    notes.append([])
    notes.append([_("列"), _("是否必填"), _("说明")])
    for cell in notes[3]:
        cell.font = bold
    for _f, header, required, note in TEMPLATE_COLUMNS:
        notes.append([header, _("必填") if required else _("选填"), note])
    notes.append([])
    notes.append([_("联合行动及活动时间")])
    notes[notes.max_row][0].font = bold
    for action in actions:
        brands = "、".join(b.name for b in action.brands.all())
        notes.append(
            [action.name, "", services.window_text(action) + (f"；品牌活动：{brands}" if brands else "")]
        )
    notes.append([])
    for line in (
        _("时间均为北京时间；只写日期时，开始按当天0点、结束按当天24点计。"),
        _("同一单位再次导入同一文件不会重复：有活动编号时按编号，没有时按活动名称和开始时间识别同一活动。"),
        _("导入分两步：先校验并下载问题报告，确认后再导入。"),
    ):
        notes.append([line])
    for row in notes.iter_rows(min_row=4):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def report_workbook(job: ImportJob) -> bytes:
    """The job's problem report as ``.xlsx`` bytes: 行号, 列, 内容, 问题, 级别 (values from the file
    are neutralised so that a formula in it is shown, never run)."""
    from openpyxl import Workbook

    from .exporting import neutralise

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("问题报告"))
    sheet.append([_("行号"), _("列"), _("内容"), _("问题"), _("级别")])
    for issue in job.report:
        sheet.append(
            [
                issue["row"] or "",
                neutralise(issue["column"]),
                neutralise(issue["value"]),
                issue["reason"],
                LEVEL_LABELS.get(issue.get("level", ERROR), ""),
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def summary_line(job: ImportJob) -> str:
    """``导入 42 条，更新 0 条，未变 0 条，失败 65 条（原因见下）``."""
    failed = len(failed_rows(job))
    line = _("导入 %(c)d 条，更新 %(u)d 条，未变 %(n)d 条，失败 %(f)d 条") % {
        "c": job.created_count,
        "u": job.updated_count,
        "n": job.unchanged_count,
        "f": failed,
    }
    return line + (_("（原因见下）") if failed else "")
