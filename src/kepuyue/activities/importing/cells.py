"""Cell parsing for the import: text normalisation, comparison keys, dates and date ranges, free
words (form, audiences, topics, special areas), numbers and organizer names."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kepuyue.common import clock
from kepuyue.common.text import clean_text, parse_date, parse_int

from .. import services
from ..models import Audience, Form, SpecialArea, Topic

# Issue levels: a row with an error is not imported; a warning is shown; info is the row's outcome
# (新增 / 更新 / 无变化 / 可能重复).
ERROR, WARNING, INFO = "error", "warning", "info"

# How the report begins the warning on a row imported as a campaign-wide activity without a mark.
CAMPAIGN_WIDE_WARNING = "未标记联合行动，按全国科普月活动导入"
# 联合行动 cells that mark a campaign-wide activity (全国科普月活动, no joint action) on purpose.
CAMPAIGN_WIDE_NAMES = (services.CAMPAIGN_WIDE_LABEL, "全国科普月", "不属于联合行动", "无")
LEVEL_LABELS = {ERROR: "错误", WARNING: "提醒", INFO: "结果"}

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


_LINE_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def soft_multiline(value) -> str:
    """A cell as text for a field whose line breaks carry meaning (活动详情 is Markdown: a list in
    a cell is one item per line). As :func:`soft`, but line breaks (CR LF, CR, U+2028 …) are kept
    as ``\n``, spaces collapsed within each line, more than one blank line made one."""
    if value is None or value == "":
        return ""
    text = clean_text(value, multiline=True)
    if _FULL_WIDTH.search(text):
        text = text.translate(_WIDTH)
    lines = [_LINE_SPACES.sub(" ", line).rstrip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


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
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")

# --- dates ------------------------------------------------------------------------------------------

_DATE = r"(?:(?P<{p}y>[0-9]{{4}})\s*(?:年|[-/.])\s*)?(?P<{p}m>[0-9]{{1,2}})\s*(?:月|[-/.])\s*(?P<{p}d>[0-9]{{1,2}})\s*(?:日|号)?"
_TIME = r"(?:\s*T?\s*(?P<{p}H>[0-9]{{1,2}})\s*(?::|时|点)\s*(?P<{p}M>[0-9]{{1,2}})?\s*分?(?:\s*:\s*(?P<{p}S>[0-9]{{1,2}}))?)?"
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
    + r"|(?P<bdonly>[0-9]{1,2})\s*(?:日|号)"
    + r"|(?P<bH2>[0-9]{1,2})\s*(?::|时|点)\s*(?P<bM2>[0-9]{1,2})?\s*分?"
    + ")$"
)
MONTH_ONLY = re.compile(r"^(?:[0-9]{4}\s*(?:年|[-/.])\s*)?[0-9]{1,2}\s*月?(?:份)?(?:上旬|中旬|下旬|底|初)?$")
_BRACKETS = re.compile(r"[(（][^()（）]*[)）]")
EXCEL_SERIAL = re.compile(r"^[0-9]{5}(?:\.[0-9]+)?$")
# Plausible Excel day numbers: 2000-01-01 … 2099-12-31.
SERIAL_RANGE = (36526, 73050)


class DateProblem(ValueError):
    """A date cell that cannot be read; the message (Chinese) says why."""


def _digits(text: str) -> int:
    """A run of ASCII digits matched by the patterns above, through the one strict integer parser."""
    return parse_int(text)


def odd_digits(text: str) -> bool:
    """Whether ``text`` holds digits other than ASCII 0-9 and their full-width forms — ``²``, ``①``,
    Arabic-Indic … — which NFKC would quietly turn into other numbers (issue 9 class 5)."""
    return any(c.isdigit() and not ("0" <= c <= "9" or "０" <= c <= "９") for c in text)


def _odd_digit_problem(raw) -> DateProblem:
    return DateProblem(_("“%(value)s”含有非标准数字（如 ²、①），请只用 0—9") % {"value": raw})


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
    y = _digits(groups[p + "y"]) if groups.get(p + "y") else year
    if groups.get(p + "m"):
        m, d = _digits(groups[p + "m"]), _digits(groups[p + "d"])
    else:
        m, d = fallback_md
    hour = groups.get(p + "H")
    try:
        day = date(y, m, d)
    except ValueError:
        raise DateProblem(_("日期 %(y)d年%(m)d月%(d)d日 不存在") % {"y": y, "m": m, "d": d}) from None
    if hour is None:
        return datetime.combine(day, time.min), False
    h, mi, s = _digits(hour), _digits(groups.get(p + "M") or "0"), _digits(groups.get(p + "S") or "0")
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
    if odd_digits(str(value)):
        raise _odd_digit_problem(value)
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
        groups = match.groupdict()
        if groups.get("ay") and groups.get("aH") is None:
            # A whole date: the common text layer's parser (its range check included).
            try:
                day = parse_date(f"{groups['ay']}-{groups['am']}-{groups['ad']}", label=_("日期"))
            except ValidationError:
                raise DateProblem(
                    _("日期 %(y)s年%(m)s月%(d)s日 不存在")
                    % {"y": groups["ay"], "m": groups["am"], "d": groups["ad"]}
                ) from None
            return When(datetime.combine(day, time.min), False)
        moment, has_time = _make(groups, "a", year)
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


ORGANIZATION_TYPE_NAMES = {
    "national_society": "全国学会",
    "science_museum": "科技馆",
    "university": "高等学校",
    "science_association": "科协",
    "other": "其他",
}


_NATIONAL_PREFIXES = ("中国", "中华", "全国")
_NATIONAL_CAST = ("中国科协", "中国科学技术协会")


def national_organizer(name: str) -> bool:
    """Whether ``name`` is a national organizer — 中国科协 itself or a national society (全国学会:
    中国/中华/全国…学会, …协会, …研究会 without a place in front). Such a unit belongs to no province:
    an administrator's import creates it without a region, so it never lands in the review scope of
    the province where one of its activities takes place (issue 11 point 1)."""
    text = key(name)
    if any(text.startswith(key(c)) and len(text) <= len(key(c)) + 2 for c in _NATIONAL_CAST):
        return True
    return text.startswith(_NATIONAL_PREFIXES) and text.endswith(("学会", "协会", "研究会", "联合会"))


def organization_type_for(name: str) -> str:
    """The participant type code an unknown organizer is created with, read from its name: a
    national society (:func:`national_organizer`, not 中国科协 itself) → ``national_society``;
    科技馆/科学技术馆/科学馆 → ``science_museum``; 大学/学院 (not 科学院) → ``university``;
    科协/科学技术协会 → ``science_association``; else ``other``."""
    if national_organizer(name) and not any(key(name).startswith(key(c)) for c in _NATIONAL_CAST):
        return "national_society"
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


# Counts (预计参与人数 …): the bound is the form's and the API's (``services.COUNT_MAX``).
MAX_COUNT = services.COUNT_MAX
# A count as people write it: 500, 1,000, 约500人, 500余人, 200人次, 300左右 — one whole number with
# words around it that say nothing else; a sign is kept so that -5 is refused, never read as 5.
_COUNT = re.compile(
    r"^(?:约|大约)?\s*(?P<n>[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+))\s*(?:余|多)?\s*(?:人次|人|名)?\s*(?:左右)?$"
)


def shown(value) -> str:
    """A cell's value as the user typed it: an Excel number 12.0 → ``12``, 1e11 → ``100000000000``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def read_count(value) -> tuple[int | None, str | None]:
    """A count cell → ``(number, None)``, or ``(None, reason)`` in Chinese. Strict (issue: -5 was read
    as 5): one whole number — an Excel float such as ``12.0`` is one — full-width digits allowed,
    ``约``/``余``/``人`` around it; a negative or too large number gets the form's message
    (``services.count_error``), anything else “不是数字” or “不是整数”. Empty → ``(None, None)``."""
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return None, _("不是数字")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None, _("不是数字")
        if not value.is_integer():
            return None, _("须为整数")
        value = int(value)
    if isinstance(value, int):
        number = value
    else:
        raw = str(value)
        if odd_digits(raw):
            return None, _("含有非标准数字（如 ²、①），请只用 0—9")
        text = _SPACES.sub("", raw.translate(_FULL_WIDTH_DIGITS)).replace("，", ",")
        match = _COUNT.fullmatch(text)
        if match is None:
            if re.fullmatch(r"[+-]?[0-9]+\.[0-9]+", text):
                return None, _("须为整数")
            return None, _("不是数字")
        digits = match.group("n").replace(",", "")
        if len(digits.lstrip("+-")) > 19:
            return None, _(services.COUNT_MAX_MESSAGE) % {"limit_value": MAX_COUNT}
        number = parse_int(digits)
    problem = services.count_error(number)
    return (None, problem) if problem else (number, None)
