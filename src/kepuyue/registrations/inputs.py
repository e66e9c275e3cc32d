"""What registrants and units type, cleaned and checked: names, phones, counts, name lists, ID numbers.

Every function returns the stored form or raises ``ValidationError`` with a Chinese message naming the
field. The cleaning is the platform's one text layer (``kepuyue.common.text``: Unicode NFC, control
characters and lone surrogates removed, line breaks only where a list is typed, a length refused rather
than cut, strict integers — full-width digits yes, ``²`` or ``①`` no — and canonical mobile numbers).
Chinese resident ID numbers (居民身份证号码) are checked with python-stdnum (``stdnum.cn.ric``: the
birth date and the ISO 7064 check character).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kepuyue.common.text import clean_text, normalize_phone, parse_int


def text(value, *, label: str, max_length: int, multiline: bool = False, required: bool = False) -> str:
    """Clean text (see the module docstring); ``required`` refuses an empty value."""
    cleaned = clean_text(value, multiline=multiline, max_length=max_length, label=label)
    if multiline:
        cleaned = "\n".join(line.strip() for line in cleaned.split("\n"))
    if required and not cleaned:
        raise ValidationError(_("请填写%(label)s") % {"label": label}, code="required")
    return cleaned


def mobile(value, *, label: str, required: bool = True) -> str:
    """A mainland mobile number as 11 digits (full-width digits, ``+86``, spaces and dashes accepted)."""
    number = normalize_phone(value, label=label, mobile_only=True)
    if not number and required:
        raise ValidationError(_("请填写%(label)s") % {"label": label}, code="required")
    return number


def phone(value, *, label: str, max_length: int) -> str:
    """Phone numbers to call (报名电话): mobiles, landlines with an extension, 400/800 numbers, several
    separated by ``、`` — each checked and in canonical form, as the activity's contact phone
    (``normalize_phone(several=True)``); ``""`` when empty. Markup, letters or emoji are refused."""
    number = normalize_phone(value, label=label, several=True)
    if len(number) > max_length:
        raise ValidationError(
            _("%(label)s最多 %(n)d 个字符") % {"label": label, "n": max_length}, code="max_length"
        )
    return number


def count(value, *, label: str, minimum: int, maximum: int) -> int:
    """A whole number typed by a person (empty counts as 0), within the bounds."""
    if value is None or (isinstance(value, str) and not value.strip()):
        value = "0"
    return parse_int(value, label=label, min_value=minimum, max_value=maximum)


def id_number(value, *, label: str) -> str:
    """A Chinese resident ID number (18 characters, the last may be ``X``), checked by python-stdnum."""
    from stdnum.cn import ric
    from stdnum.exceptions import ValidationError as NumberError

    raw = re.sub(r"\s+", "", clean_text(value, max_length=40, label=label)).upper().replace("Ｘ", "X")
    raw = "".join(chr(ord(ch) - 0xFEE0) if "０" <= ch <= "９" else ch for ch in raw)
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
