"""What registrants and units type, cleaned and checked: names, phones, counts, name lists, ID numbers.

Every function returns the stored form or raises ``ValidationError`` with a Chinese message naming the
field. Text goes through one cleaning (Unicode NFC, control characters removed, line breaks only where
a list is typed, a length refused rather than cut). Chinese resident ID numbers (居民身份证号码) are
checked with python-stdnum (``stdnum.cn.ric``: the birth date and the ISO 7064 check character).
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x85]")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_NOISE = re.compile(r"[\s\-－–—()（）.·]+")
# Digits typed by a Chinese input method in full width are digits; ``²``, ``①``, ``١`` are not.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋", "0123456789+")


def text(value, *, label: str, max_length: int, multiline: bool = False, required: bool = False) -> str:
    """Clean text: NFC, no control characters; one line unless ``multiline``; at most ``max_length``
    characters (refused, never cut); ``required`` refuses an empty value."""
    raw = "" if value is None else str(value)
    raw = _BREAKS.sub("\n", raw)
    if not multiline:
        raw = raw.replace("\n", " ").replace("\t", " ")
    raw = _CONTROLS.sub("", raw)
    raw = unicodedata.normalize("NFC", raw).strip()
    if multiline:
        raw = "\n".join(line.strip() for line in raw.split("\n"))
    if required and not raw:
        raise ValidationError(_("请填写%(label)s") % {"label": label}, code="required")
    if len(raw) > max_length:
        raise ValidationError(
            _("%(label)s不能超过 %(limit)d 个字符（现有 %(length)d 个）")
            % {"label": label, "limit": max_length, "length": len(raw)},
            code="max_length",
        )
    return raw


def mobile(value, *, label: str, required: bool = True) -> str:
    """A mainland mobile number as 11 digits (full-width digits, ``+86``, spaces and dashes accepted)."""
    raw = ("" if value is None else str(value)).translate(_FULL_WIDTH)
    raw = _PHONE_NOISE.sub("", _CONTROLS.sub("", raw))
    if raw.startswith("+86"):
        raw = raw[3:]
    elif raw.startswith("0086"):
        raw = raw[4:]
    elif len(raw) == 13 and raw.startswith("86"):
        raw = raw[2:]
    if not raw:
        if required:
            raise ValidationError(_("请填写%(label)s") % {"label": label}, code="required")
        return ""
    if not (raw.isascii() and _MOBILE.fullmatch(raw)):
        raise ValidationError(
            _("%(label)s“%(value)s”不是有效的手机号码（11 位，如 13812345678）")
            % {"label": label, "value": raw[:20]},
            code="phone",
        )
    return raw


def count(value, *, label: str, minimum: int, maximum: int) -> int:
    """A whole number typed by a person (ASCII or full-width digits only), within the bounds."""
    raw = ("" if value is None else str(value)).translate(_FULL_WIDTH).strip()
    if raw == "":
        raw = "0"
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        raise ValidationError(_("%(label)s：请填写整数") % {"label": label}, code="invalid")
    number = int(raw)
    if not minimum <= number <= maximum:
        raise ValidationError(
            _("%(label)s应在 %(min)d 到 %(max)d 之间") % {"label": label, "min": minimum, "max": maximum},
            code="range",
        )
    return number


def id_number(value, *, label: str) -> str:
    """A Chinese resident ID number (18 characters, the last may be ``X``), checked by python-stdnum."""
    from stdnum.cn import ric
    from stdnum.exceptions import ValidationError as NumberError

    raw = ("" if value is None else str(value)).translate(_FULL_WIDTH).replace("ｘ", "x").replace("Ｘ", "X")
    raw = re.sub(r"\s+", "", _CONTROLS.sub("", raw)).upper()
    if not raw:
        raise ValidationError(_("请填写%(label)s") % {"label": label}, code="required")
    try:
        return ric.validate(raw)
    except NumberError:
        raise ValidationError(
            _("%(label)s不正确（18 位，出生日期和校验位须有效）") % {"label": label}, code="id_number"
        ) from None
    except Exception:  # noqa: BLE001 — stdnum may raise on odd input; it is still just a bad number
        raise ValidationError(_("%(label)s不正确") % {"label": label}, code="id_number") from None


def name_list(value, *, label: str, max_names: int) -> list[str]:
    """A list of names, one per line (or separated by ``、`` ``,`` ``;``), each at most 64 characters,
    at most ``max_names``; blank entries dropped."""
    raw = text(value, label=label, max_length=max_names * 66 + 10, multiline=True)
    names = [n.strip() for n in re.split(r"[\n、,，;；]+", raw) if n.strip()]
    too_long = [n for n in names if len(n) > 64]
    if too_long:
        raise ValidationError(
            _("%(label)s中的姓名过长：%(name)s") % {"label": label, "name": too_long[0][:20]}
        )
    if len(names) > max_names:
        raise ValidationError(
            _("%(label)s最多 %(n)d 人（现有 %(m)d 人）") % {"label": label, "n": max_names, "m": len(names)}
        )
    return names


def mask_id_number(value: str) -> str:
    """``110105194912310021`` → ``110***********0021`` (the region's first digits and the last four)."""
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}" if len(value) > 7 else value


def mask_name(value: str) -> str:
    """``张小明`` → ``张**``; ``Li`` → ``L*`` (lists on screens show names masked by default)."""
    value = value or ""
    return value[:1] + "*" * (len(value) - 1) if len(value) > 1 else value
