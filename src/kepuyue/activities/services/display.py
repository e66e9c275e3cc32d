"""Bit sets (audiences, topics, special areas), masked phone numbers and the public querysets."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db.models import QuerySet

from ..models import Activity, Status


def bits(value) -> int:
    """A bit set from an int or an iterable of ints/strings (form check boxes)."""
    if value is None or value == "":
        return 0
    if isinstance(value, int):
        return value
    total = 0
    for item in value:
        total |= int(item)
    return total


def choices_of(value: int, enum) -> list:
    """The members of ``enum`` (Audience, Topic, SpecialArea) whose bits are set in ``value``."""
    return [member for member in enum if value & member.value]


def labels_of(value: int, enum) -> list[str]:
    """The Chinese labels of the members set in a bit set, in the enum's order."""
    return [member.label for member in enum if value & member.value]


# --- display and querysets --------------------------------------------------------------------------

_DIGITS = re.compile(r"\d")
_PHONE_LIST = re.compile(r"([、,，;；/]+)")
_LOCAL_NUMBER = re.compile(r"(?<=\D)(\d{7,8})(?=\D*$)")


def mask_phone(phone: str) -> str:
    """A phone number for public pages and exports, its private digits replaced by ``*``.

    Mobile numbers (11 digits starting with 1, optionally after +86) keep the first 3 and last 4
    digits (``13812345678`` → ``138****5678``); landlines keep the area code and the first 4 digits
    of the local number (``010-68571988`` → ``010-6857****``, ``01068571988`` → ``0106857****``);
    anything else keeps the first half of its digits. Several numbers (``、`` ``,`` ``;`` ``/``) are
    masked one by one; separators are kept. Empty gives empty.
    """
    parts = _PHONE_LIST.split((phone or "").strip())
    return "".join(part if _PHONE_LIST.fullmatch(part) else _mask_one(part) for part in parts)


def _mask_one(text: str) -> str:
    positions = [m.start() for m in _DIGITS.finditer(text)]
    if not positions:
        return text
    digits = "".join(text[i] for i in positions)
    national = digits[2:] if digits.startswith("86") and len(digits) == 13 else digits
    offset = len(digits) - len(national)
    if len(national) == 11 and national.startswith("1"):
        keep = set(positions[: offset + 3]) | set(positions[-4:])
    elif match := _LOCAL_NUMBER.search(text):
        keep = {i for i in positions if i < match.start(1) + 4}
    elif national.startswith("0") and len(national) in (10, 11, 12):
        area = 3 if national[1] in "12" else 4
        keep = set(positions[: offset + area + 4])
    else:
        keep = set(positions[: max(1, len(positions) // 2)])
    return "".join("*" if (i in positions and i not in keep) else ch for i, ch in enumerate(text))


def public_activities() -> QuerySet[Activity]:
    """Activities the public may see: published ones only (drafts, submitted, returned and
    withdrawn activities never appear on public pages)."""
    return Activity.objects.filter(status=Status.PUBLISHED)


def activities_of(organization) -> QuerySet[Activity]:
    """All activities of ``organization`` (every status), for its own staff pages."""
    return Activity.objects.filter(organizer=organization)


def bit_choices(enum) -> list[tuple[int, str]]:
    """``(bit, label)`` pairs of an IntegerChoices bit enum, for check boxes."""
    return [(member.value, member.label) for member in enum]


def members(enum, names: Iterable[str]) -> int:
    """The bit set of the enum members whose labels are in ``names``."""
    wanted = set(names)
    return bits(member.value for member in enum if member.label in wanted)
