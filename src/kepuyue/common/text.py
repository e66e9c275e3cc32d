"""One normalisation and validation layer for text, digits, dates, phones and e-mail addresses.

Everything a person types reaches a writer downstream — PostgreSQL (refuses NUL), openpyxl (refuses
C0 control characters), e-mail headers (a CR/LF ends the header), ``int()`` (takes ``²``? no: it
raises, although ``"²".isdigit()`` is true) — so every input path (forms, services, admin, API,
query parameters, tus headers) cleans and checks it here, with one set of rules and Chinese messages
naming the field:

- :func:`clean_text` — Unicode NFC; NUL, C0/C1 control characters, lone surrogates and non-characters
  removed (``\\n`` and ``\\t`` kept in multi-line text, CR/LF made ``\\n``); in single-line text every
  line break becomes a space; trimmed; a length limit that is refused with a message, never cut.
- :func:`parse_int` / :func:`int_or_none` — ASCII digits only (full-width ``１２３`` typed by a Chinese
  input method are taken as ``123``); ``²``, ``①``, Arabic-Indic or other scripts' digits are refused
  with a message; bounds checked before ``int()`` can be slow.
- :func:`parse_date` / :func:`check_date` — ``2025-09-15`` (also ``/``, ``.``, ``年月日``) within
  :data:`MIN_DATE`..:data:`MAX_DATE` (1900–2100), so ``0001-01-01`` or ``9999-12-31`` never reach
  time-zone arithmetic that overflows.
- :func:`normalize_phone` — one canonical form for mobiles (``13812345678``), landlines
  (``010-68571988``, extension ``-123``) and 400/800 numbers, from full-width or other decimal
  digits, ``+86``/``0086``, spaces, dashes and brackets.
- :func:`normalize_email` — the domain through IDNA 2008 with UTS #46 mapping (``idna``), stored as
  its ASCII (``xn--``) form, the whole address lower-cased: ``用户@例子.中国`` and
  ``用户@xn--fsqu00a.xn--fiqs8s`` are one mailbox.
- :func:`normalize_code` — a one-time code as typed (SMS code, authenticator code): the
  full-width ``７４０１７４`` of a Chinese input method is ``740174``; spaces and dashes removed.
- :func:`mask_email` — ``e***@example.com``, for a message that must not reveal the address.
- :func:`safe_header` — one line for an e-mail subject or any header; :func:`cell_safe` — a cell for
  ``.xlsx``/``.csv`` (no characters openpyxl refuses, formulas neutralised).

Django glue: :class:`CleanCharField`, :class:`PhoneField`, :class:`CleanEmailField`,
:class:`CleanedFormMixin` (cleans every text field of any form, the admin's included), and
:func:`clean_instance` — the model-level hook run before every ``save()`` (``common.apps``) so that
services and the admin store nothing a downstream writer refuses.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import cache

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# --- text ---------------------------------------------------------------------------------------

# C0 controls but \t \n (and \r, turned into \n first), DEL, C1 controls; lone surrogates (a str can
# hold them, UTF-8 cannot); the non-characters U+FFFE/U+FFFF and U+FDD0–U+FDEF.
_CONTROLS_MULTILINE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)
_CONTROLS_ALL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
# Line breaks in the Unicode sense (besides \n): NEL is a C1 control (already removed), U+2028/9.
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x0b\x0c\x1c-\x1e\x85]")
_SINGLE_LINE_BREAKS = re.compile("\r\n|[\r\n\u2028\u2029\x0b\x0c\x1c-\x1e\x85]")
# Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): stored text would
# reorder the platform's own words around it ("待审核" shown as "核审 · 待" after a unit name ending in
# U+202E). No Chinese or English field needs them; the marks U+200E/U+200F (which reorder nothing
# beyond themselves) are kept.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Invisible characters that make a field look filled while showing nothing: the zero-width space
# U+200B, word joiner U+2060 and zero-width no-break space / BOM U+FEFF, removed everywhere; the
# joiners U+200C/U+200D, removed unless between two visible characters (an emoji sequence keeps its
# ZWJ). A name of two zero-width spaces is then empty, and a required field refuses it.
_INVISIBLE = re.compile("[\u200b\u2060\ufeff]")
_LOOSE_JOINERS = re.compile(r"(?<!\S)[\u200c\u200d]+|[\u200c\u200d]+(?!\S)")


def strip_controls(value: str, *, multiline: bool = True) -> str:
    """``value`` without NUL, control characters (``\\n``/``\\t`` kept when ``multiline``), lone
    surrogates and non-characters. No other change: for values whose exact text matters (JSON data,
    a search word)."""
    pattern = _CONTROLS_MULTILINE if multiline else _CONTROLS_ALL
    return pattern.sub("", value)


def has_controls(value: str) -> bool:
    """Whether ``value`` holds anything :func:`strip_controls` removes (``\n``/``\t`` allowed)."""
    return _CONTROLS_MULTILINE.search(value) is not None


def clean_text(
    value,
    *,
    multiline: bool = False,
    max_length: int | None = None,
    label: str = "",
    strip: bool = True,
) -> str:
    """The text ``value`` cleaned for storage and for every writer downstream.

    ``value``: anything (``None`` gives ``""``, other objects their ``str``). ``multiline``: keep
    line breaks (as ``\\n``) and tabs; otherwise every line break (CR, LF, U+2028 …) becomes one
    space and tabs become spaces. Always: Unicode NFC, control characters, NUL, bidirectional
    overrides/embeddings/isolates and zero-width characters (U+200B, U+2060, U+FEFF; U+200C/U+200D
    unless joining two visible characters) removed — text of only these is empty.
    ``strip`` trims white space at both ends. ``max_length`` (characters, counted after cleaning):
    a longer text raises ``ValidationError`` naming ``label`` and the limit — it is never cut.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if multiline:
        text = _LINE_BREAKS.sub("\n", text)
        text = _CONTROLS_MULTILINE.sub("", text)
    else:
        text = _SINGLE_LINE_BREAKS.sub(" ", text).replace("\t", " ")
        text = _CONTROLS_ALL.sub("", text)
    if not text.isascii():
        text = _INVISIBLE.sub("", _BIDI_CONTROLS.sub("", text))
        text = unicodedata.normalize("NFC", _LOOSE_JOINERS.sub("", text))
    if strip:
        text = text.strip()
    if max_length is not None and len(text) > max_length:
        raise ValidationError(too_long_message(label, max_length, len(text)), code="max_length")
    return text


def too_long_message(label: str, limit: int, length: int) -> str:
    """``活动详情不能超过 20000 个字符（现有 31234 个）``."""
    return _("%(label)s不能超过 %(limit)d 个字符（现有 %(length)d 个）") % {
        "label": label or _("内容"),
        "limit": limit,
        "length": length,
    }


def check_lengths(values, limits, labels) -> list[tuple[str, str]]:
    """``[(field, message)]`` for each ``values[field]`` (a str) longer than ``limits[field]``;
    ``labels[field]`` names it. For services that collect every problem before refusing."""
    errors = []
    for name, limit in limits.items():
        text = values.get(name)
        if isinstance(text, str) and len(text) > limit:
            errors.append((name, too_long_message(labels.get(name, name), limit, len(text))))
    return errors


# --- digits and integers --------------------------------------------------------------------------

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９－＋", "0123456789-+")
_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
# More digits than this is never a count, a page or a byte offset (and int() on thousands of digits
# is slow or refused).
MAX_INTEGER_DIGITS = 19


def parse_int(
    value,
    *,
    label: str = "",
    min_value: int | None = None,
    max_value: int | None = None,
) -> int:
    """An integer typed by a person or sent by a client, strictly.

    Accepted: optional sign and ASCII digits ``0-9``, or their full-width forms ``０-９`` (a Chinese
    input method types those), surrounding white space ignored. Refused with ``ValidationError``
    naming ``label``: anything else — ``²`` and ``①`` (which ``str.isdigit()`` accepts and ``int()``
    does not), Arabic-Indic and other scripts' digits, decimals, more than
    :data:`MAX_INTEGER_DIGITS` digits — and values outside ``min_value``..``max_value``.
    """
    text = (value if isinstance(value, str) else "" if value is None else str(value)).strip()
    text = text.translate(_FULLWIDTH_DIGITS)
    if not _ASCII_INTEGER.fullmatch(text) or len(text.lstrip("+-")) > MAX_INTEGER_DIGITS:
        raise ValidationError(
            _("%(label)s须为整数（只能使用数字 0—9）") % {"label": label or _("数值")}, code="invalid"
        )
    number = int(text)
    if min_value is not None and number < min_value or max_value is not None and number > max_value:
        if min_value is not None and max_value is not None:
            message = _("%(label)s须在 %(min)d 到 %(max)d 之间")
        elif min_value is not None:
            message = _("%(label)s不能小于 %(min)d")
        else:
            message = _("%(label)s不能大于 %(max)d")
        raise ValidationError(
            message % {"label": label or _("数值"), "min": min_value or 0, "max": max_value or 0},
            code="out_of_range",
        )
    return number


def int_or_none(value, *, min_value: int | None = None, max_value: int | None = None) -> int | None:
    """:func:`parse_int` for query parameters and headers: ``None`` instead of an error."""
    try:
        return parse_int(value, min_value=min_value, max_value=max_value)
    except ValidationError:
        return None


def ids_from(values, *, limit: int = 1000) -> list[int]:
    """Positive integer ids from posted values (check boxes), bad ones skipped, at most ``limit``."""
    found = []
    for value in list(values or [])[:limit]:
        number = int_or_none(value, min_value=1, max_value=2**63 - 1)
        if number is not None:
            found.append(number)
    return found


# --- dates ---------------------------------------------------------------------------------------

# Dates a person may mean on this platform. Far dates (0001-01-01, 9999-12-31) overflow once shifted
# to UTC and are never a campaign's.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2100, 12, 31)
_DATE = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?", re.ASCII)


def date_range_message(label: str) -> str:
    return _("%(label)s须在 %(min)s 到 %(max)s 之间") % {
        "label": label or _("日期"),
        "min": MIN_DATE.isoformat(),
        "max": MAX_DATE.isoformat(),
    }


def check_date(value: date, *, label: str = "") -> date:
    """``value`` (a date or datetime) if within :data:`MIN_DATE`..:data:`MAX_DATE`, else
    ``ValidationError`` naming ``label``."""
    day = value.date() if hasattr(value, "date") and callable(value.date) else value
    if not MIN_DATE <= day <= MAX_DATE:
        raise ValidationError(date_range_message(label), code="date_range")
    return value


def parse_date(value, *, label: str = "") -> date:
    """A date typed as ``2025-09-15``, ``2025/9/15``, ``2025.9.15`` or ``2025年9月15日`` (full-width
    digits accepted), within 1900–2100. Raises ``ValidationError`` naming ``label``."""
    text = (value if isinstance(value, str) else "" if value is None else str(value)).strip()
    text = text.translate(_FULLWIDTH_DIGITS).replace("／", "/").replace("．", ".")
    match = _DATE.fullmatch(text)
    if match is None:
        raise ValidationError(
            _("%(label)s不是有效日期（例如 2025-09-15）") % {"label": label or _("日期")}, code="invalid"
        )
    try:
        day = date(*(int(part) for part in match.groups()))
    except ValueError:
        raise ValidationError(
            _("%(label)s不是有效日期（例如 2025-09-15）") % {"label": label or _("日期")}, code="invalid"
        ) from None
    return check_date(day, label=label)


def date_or_none(value) -> date | None:
    """:func:`parse_date` for query parameters: ``None`` instead of an error."""
    try:
        return parse_date(value)
    except ValidationError:
        return None


# --- phones -------------------------------------------------------------------------------------

_PHONE_SEPARATORS = re.compile(r"[、,，;；/／|]+")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_SERVICE = re.compile(r"([48]00)([0-9]{3})([0-9]{4})")
_EXTENSION = re.compile(r"(?:转|ext\.?|x|#|分机)\s*([0-9]{1,6})$", re.IGNORECASE)
_PHONE_SPLIT = re.compile(r"[\s\-－–—‐‑‒―_.·()（）\[\]【】]+")


def _decimal_digits(text: str) -> str:
    """Every decimal digit (Unicode category Nd: full-width, Arabic-Indic …) as its ASCII digit.
    ``²`` and ``①`` are not decimal digits (No) and stay, so they are refused later."""
    return "".join(
        str(unicodedata.decimal(ch)) if not ch.isascii() and unicodedata.category(ch) == "Nd" else ch
        for ch in text
    )


def _landline(digits: str) -> tuple[str, str] | None:
    """``(area code, local number)`` of a national landline number, or ``None``: area codes are
    010 and 02X (three digits) or 0XXX (four); local numbers have 7–8 digits, not starting 0 or 1."""
    if len(digits) < 10 or not digits.startswith("0") or not digits.isdigit():
        return None
    size = 3 if digits[1] in "12" else 4
    area, local = digits[:size], digits[size:]
    if 7 <= len(local) <= 8 and local[0] not in "01":
        return area, local
    return None


def _one_phone(text: str, *, mobile_only: bool) -> str | None:
    text = _decimal_digits(unicodedata.normalize("NFKC", text) if "＋" in text else text).strip()
    extension = ""
    if match := _EXTENSION.search(text):
        extension, text = match.group(1), text[: match.start()].strip()
    pieces = [p for p in _PHONE_SPLIT.split(text) if p]
    compact = "".join(pieces)
    for prefix in ("+86", "0086"):
        if compact.startswith(prefix):
            compact = compact[len(prefix) :]
            if not compact.startswith("0") and not _MOBILE.fullmatch(compact):
                compact = "0" + compact  # +86 10 6857 1988: the trunk 0 is left out from abroad
            break
    else:
        if len(compact) == 13 and compact.startswith("86") and _MOBILE.fullmatch(compact[2:]):
            compact = compact[2:]
    if not compact.isascii() or not compact.isdigit():
        return None
    if _MOBILE.fullmatch(compact) and not extension:
        return compact
    if mobile_only:
        return None
    parts = _landline(compact)
    if parts is None and not extension and len(pieces) >= 3 and len(pieces[-1]) <= 6:
        # 010-68571988-123: the last group is an extension.
        head = compact[: -len(pieces[-1])]
        if (parts := _landline(head)) is not None:
            extension = pieces[-1]
    if parts is not None:
        number = "-".join(parts)
        return f"{number}-{extension}" if extension else number
    if (match := _SERVICE.fullmatch(compact)) and not extension:
        return "-".join(match.groups())
    return None


def normalize_phone(value, *, label: str = "", mobile_only: bool = False, several: bool = False) -> str:
    """One canonical form for a phone number; ``""`` for an empty value.

    Input may use full-width or other decimal digits, ``+86``/``0086``/``86``, spaces, dashes,
    dots and brackets, and an extension (``转123``, ``ext 123``, ``-123`` after a landline).
    Output: a mobile as 11 digits (``13812345678``), a landline as ``area-local[-extension]``
    (``010-68571988``, ``0571-87654321-123``), a 400/800 number as ``400-123-4567``.
    ``mobile_only`` accepts mobiles only (an account's phone); ``several`` accepts a list separated
    by ``、`` ``,`` ``;`` ``/`` (a contact line), normalised one by one and joined with ``、``.
    Raises ``ValidationError`` naming ``label`` for anything else (``²``, ``①``, letters, wrong
    length).
    """
    text = clean_text(value)
    if not text:
        return ""
    parts = [p for p in _PHONE_SEPARATORS.split(text) if p.strip()] if several else [text]
    found = []
    for part in parts:
        number = _one_phone(part, mobile_only=mobile_only)
        if number is None:
            if mobile_only and _one_phone(part, mobile_only=False) is not None:  # a landline or 400 number
                message = _("%(label)s“%(value)s”是固定电话，此处只能填写手机号码（11 位，如 13812345678）")
            elif mobile_only:
                message = _("%(label)s“%(value)s”不是有效的手机号码（11 位，如 13812345678）")
            else:
                message = _(
                    "%(label)s“%(value)s”不是有效的电话号码（手机 11 位，座机如 010-68571988，可加分机号）"
                )
            raise ValidationError(
                message % {"label": label or _("电话号码"), "value": part.strip()[:40]}, code="phone"
            )
        if number not in found:
            found.append(number)
    return "、".join(found)


# --- e-mail ----------------------------------------------------------------------------------------


def normalize_email(value, *, label: str = "") -> str:
    """A canonical e-mail address: trimmed, NFC, lower-case, the domain as IDNA 2008 A-labels after
    UTS #46 mapping (``用户@例子.中国`` → ``用户@xn--fsqu00a.xn--fiqs8s``; ``User@EXAMPLE.org`` →
    ``user@example.org``). ``""`` for an empty value. Raises ``ValidationError`` naming ``label``
    when there is no ``@`` or the domain is not a valid (internationalised) domain name.

    Local parts are lower-cased too: every mail system the public uses in China treats them so,
    and one mailbox must not hold two accounts.
    """
    import idna

    text = clean_text(value)
    if not text:
        return ""
    local, at, domain = text.rpartition("@")
    message = _("%(label)s“%(value)s”不是有效的电子邮箱地址") % {
        "label": label or _("电子邮箱"),
        "value": text[:80],
    }
    if not at or not local or not domain or any(ch.isspace() for ch in text):
        raise ValidationError(message, code="invalid")
    try:
        ascii_domain = idna.encode(domain.rstrip("."), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        raise ValidationError(message, code="invalid") from None
    return f"{unicodedata.normalize('NFC', local).lower()}@{ascii_domain.lower()}"


# --- one-time codes --------------------------------------------------------------------------------

# Full-width ASCII (U+FF01–U+FF5E, what a Chinese input method types) and the ideographic space.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Separators people type inside a code ("740 174", "740-174"): white space, hyphens and dashes, the
# minus sign, the middle dot, invisible marks.
_CODE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc\u00b7\u200b-\u200d\u2060\ufeff]+")


def normalize_code(value) -> str:
    """A one-time code (SMS code, authenticator code) as typed, in ASCII: full-width characters as
    their ASCII forms (``７４０１７４`` → ``740174``), every other decimal digit (Unicode Nd) as its
    ASCII digit, spaces, dashes and invisible marks removed. ``²`` or ``①`` are not decimal digits and
    stay, so the caller's check of the form (6 ASCII digits) refuses them."""
    text = str(value or "").translate(_FULL_WIDTH)
    return _decimal_digits(_CODE_SEPARATORS.sub("", text))


def mask_email(address: str) -> str:
    """An e-mail address with its local part hidden but the first character: ``eve@example.com`` →
    ``e***@example.com`` (a one-character local part is ``*``-only: ``a@x.cn`` → ``***@x.cn``).
    Anything without ``@`` gives ``***``."""
    local, at, domain = (address or "").rpartition("@")
    if not at or not local:
        return "***"
    shown = local[0] if len(local) > 1 else ""
    return f"{shown}***@{domain}"


# --- writers downstream --------------------------------------------------------------------------


def safe_header(value, *, max_length: int = 200) -> str:
    """``value`` as one line for an e-mail subject (or any header): controls and line breaks
    removed, runs of white space made one space, at most ``max_length`` characters (cut with ``…``;
    a subject is a label, its full text is in the body)."""
    text = " ".join(clean_text(value).split())
    if len(text) > max_length:
        text = text[: max_length - 1] + "…"
    return text


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# openpyxl refuses these (openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE); PostgreSQL refuses NUL too.
_SPREADSHEET_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def neutralise_formula(value):
    """Text starting with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading ``'`` so that a
    spreadsheet shows it and never evaluates it (CSV/formula injection); other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def cell_safe(value):
    """A value for an ``.xlsx`` or ``.csv`` cell: text without the control characters openpyxl
    refuses (a title with ``\\x1b`` used to fail the whole export), formulas neutralised
    (:func:`neutralise_formula`). Numbers, dates and ``None`` are returned unchanged."""
    if isinstance(value, str):
        return neutralise_formula(_SPREADSHEET_ILLEGAL.sub("", value))
    return value


xlsx_safe = cell_safe


# Quotation pairs a title may already be wrapped in (Chinese, Japanese-style corner brackets, book
# titles, and ASCII): ``quote_title`` never wraps such a title a second time.
QUOTE_PAIRS = {"“": "”", "「": "」", "『": "』", "《": "》", "〈": "〉", '"': '"', "‘": "’", "【": "】"}


def quote_title(title: str) -> str:
    """A title (an activity's, an entry's …) set in running Chinese text: ``“title”``, unless it
    already carries its own quotation marks — wholly enclosed in a pair of :data:`QUOTE_PAIRS`
    (``「低碳生活」``, ``《科普法》宣讲`` is *not* enclosed and gets ``“”``), or starting with an
    opening ``“`` / ending with a closing ``”`` (``“光影科学梦”科学电影巡映``), where another pair would
    double the marks. The one place that formats titles in messages (inbox, e-mail, SMS)."""
    text = (title or "").strip()
    if not text:
        return "“”"
    closing = QUOTE_PAIRS.get(text[0])
    if closing is not None and len(text) > 1 and text.endswith(closing):
        return text
    if text.startswith("“") or text.endswith("”"):
        return text
    return f"“{text}”"


# --- Django forms -----------------------------------------------------------------------------------


class CleanCharField(forms.CharField):
    """A ``CharField`` that cleans with :func:`clean_text` (``multiline`` for a text area) and
    refuses a value over ``max_length`` with the message naming the field (its label)."""

    def __init__(self, *args, multiline: bool | None = None, **kwargs):
        self.multiline = multiline
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return self.empty_value
        multiline = self.multiline
        if multiline is None:
            multiline = isinstance(self.widget, forms.Textarea)
        text = clean_text(value, multiline=multiline, strip=self.strip)
        if self.max_length is not None and len(text) > self.max_length:
            raise ValidationError(
                too_long_message(str(self.label or ""), self.max_length, len(text)), code="max_length"
            )
        return text if text else self.empty_value


class PhoneField(CleanCharField):
    """A phone number in :func:`normalize_phone`'s canonical form (``mobile_only``/``several`` as there)."""

    def __init__(self, *args, mobile_only: bool = False, several: bool = False, **kwargs):
        self.mobile_only = mobile_only
        self.several = several
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return text
        return normalize_phone(
            text, label=str(self.label or ""), mobile_only=self.mobile_only, several=self.several
        )


class CleanEmailField(forms.EmailField):
    """An ``EmailField`` whose value is :func:`normalize_email`'s canonical address."""

    def to_python(self, value):
        text = clean_text(value)
        if not text:
            return ""
        return normalize_email(text, label=str(self.label or ""))


class CleanDateField(forms.DateField):
    """A ``DateField`` limited to 1900–2100."""

    def to_python(self, value):
        day = super().to_python(value)
        return check_date(day, label=str(self.label or "")) if day is not None else day


class CleanDateTimeField(forms.DateTimeField):
    """A ``DateTimeField`` limited to 1900–2100 (time-zone shifts of far dates overflow)."""

    def to_python(self, value):
        moment = super().to_python(value)
        return check_date(moment, label=str(self.label or "")) if moment is not None else moment


class CleanedFormMixin:
    """Cleans every plain text field of a form (``forms.CharField`` and subclasses other than
    e-mail, URL, slug and password-like fields keep their own cleaning but lose NUL and controls):
    NFC, control characters removed, line breaks only in text areas, and a length refusal naming
    the field. Date fields refuse years outside 1900–2100. Mix it in first:
    ``class MyForm(CleanedFormMixin, forms.ModelForm)``. The admin gets it through
    ``kepuyue.common.admin`` (every model admin's form)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            harden_field(field)


def harden_field(field) -> None:
    """Give one form field the cleaning of :class:`CleanedFormMixin` (in place; idempotent)."""
    if getattr(field, "_kepuyue_hardened", False):
        return
    field._kepuyue_hardened = True
    if isinstance(field, CleanCharField | CleanEmailField | forms.EmailField):
        return
    original = field.to_python
    if isinstance(field, forms.CharField) and not isinstance(
        field, forms.URLField | forms.SlugField | forms.RegexField
    ):
        multiline = isinstance(field.widget, forms.Textarea)
        password = isinstance(field.widget, forms.PasswordInput)

        def to_python(value, original=original, field=field):
            if isinstance(value, str) and not password:
                value = clean_text(value, multiline=multiline, strip=field.strip)
                if field.max_length is not None and len(value) > field.max_length:
                    raise ValidationError(
                        too_long_message(str(field.label or ""), field.max_length, len(value)),
                        code="max_length",
                    )
            elif isinstance(value, str):
                value = strip_controls(value, multiline=False)
            return original(value)

        field.to_python = to_python
    elif isinstance(field, forms.DateField | forms.DateTimeField):

        def to_python(value, original=original, field=field):
            result = original(value)
            return check_date(result, label=str(field.label or "")) if result is not None else result

        field.to_python = to_python
    elif isinstance(field, forms.URLField):

        def to_python(value, original=original):
            if isinstance(value, str):
                value = clean_text(value)
            return original(value)

        field.to_python = to_python


# --- the model-level hook ------------------------------------------------------------------------


def _clean_json(value):
    if isinstance(value, str):
        return strip_controls(value)
    if isinstance(value, dict):
        return {strip_controls(str(k)): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_json(v) for v in value]
    return value


def clean_instance(instance) -> None:
    """Clean every text value of a model instance before it is saved (``pre_save``, wired in
    ``common.apps`` for the platform's models and ``auth.User``): NUL and control characters removed
    (line breaks kept in ``TextField``, made spaces in ``CharField``), NFC; strings inside JSON
    fields lose NUL and controls. Never raises and never shortens: length rules belong to the
    services and forms, which give the message. Paths that skip ``save()`` (``update()``, bulk
    writes) must clean themselves."""
    for attname, kind in _text_fields(type(instance)):
        value = getattr(instance, attname, None)
        if value is None:
            continue
        if kind is _JSON:
            setattr(instance, attname, _clean_json(value))
        elif isinstance(value, str):
            cleaned = clean_text(value, multiline=kind is _TEXT, strip=False)
            if cleaned != value:
                setattr(instance, attname, cleaned)


_JSON, _TEXT, _CHAR = "json", "text", "char"


@cache
def _text_fields(model) -> tuple[tuple[str, str], ...]:
    """The fields :func:`clean_instance` cleans, per model class, worked out once per process (decision
    0036; it was done again for every row saved): ``(attname, kind)`` in the model's field order."""
    from django.db import models

    found = []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.JSONField):
            found.append((field.attname, _JSON))
        elif isinstance(field, models.TextField):
            found.append((field.attname, _TEXT))
        elif isinstance(field, models.CharField):
            found.append((field.attname, _CHAR))
    return tuple(found)
