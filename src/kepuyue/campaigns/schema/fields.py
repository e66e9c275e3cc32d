"""Field types of the campaign file (slugs, plan dates, moments, e-mails, URLs, plan sections) and
the error raised for a bad file."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from kepuyue.common.clock import parse_instant

SLUG_PATTERN = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
# Plan sections as the plan numbers them, half-width brackets: 八, 四(二), 四(二)3, 五(三)2(1).
PLAN_REF_RE = re.compile(r"^[一二三四五六七八九十]+(?:\([一二三四五六七八九十]+\)(?:\d+(?:\(\d+\))?)?)?$")
ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class CampaignFileError(Exception):
    """A campaign file that cannot be loaded; ``errors`` lists every problem, one line each."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


# --- Field types -----------------------------------------------------------------------------


def _text(max_length: int | None = None, *, required: bool = True) -> Any:
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1 if required else 0, max_length=max_length)
    ]


def _plan_date(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and ISO_DATE_RE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"“{value}”不是有效日期，应写作 YYYY-MM-DD (not a valid date)")


def _moment(value: Any) -> Any:
    """A date (``2025-08-20``) or an ISO 8601 instant; an instant without offset is Beijing time."""
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if ISO_DATE_RE.match(text):
            return _plan_date(text)
        try:
            return parse_instant(text)
        except ValueError:
            pass
    raise ValueError(
        f"“{value}”不是有效日期或时间，应写作 YYYY-MM-DD 或 ISO 8601 (not a valid date or date-time)"
    )


def _email(value: str) -> str:
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError(f"“{value}”不是有效的电子邮箱地址 (not an e-mail address)") from None
    return value


_url_validator = URLValidator(schemes=["http", "https"])


def _url(value: str) -> str:
    if value:
        try:
            _url_validator(value)
        except DjangoValidationError:
            raise ValueError(f"“{value}”不是有效网址，应以 http:// 或 https:// 开头 (not a URL)") from None
    return value


def _plan_ref(value: str) -> str:
    if value and not PLAN_REF_RE.match(value):
        raise ValueError(
            f"“{value}”不是方案章节编号，应写作 四(二)3 这样的形式、用半角括号 (not a plan section)"
        )
    return value


Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=64)]
PlanDate = Annotated[date, BeforeValidator(_plan_date)]
Moment = Annotated[datetime | date, BeforeValidator(_moment)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(_email)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_url)]
PlanRef = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), AfterValidator(_plan_ref)]
Count = Annotated[int, Field(ge=0, le=2_147_483_647)]
Number = Annotated[int, Field(ge=1, le=999)]


def _problems(items: Sequence[tuple[tuple, str]]) -> PydanticCustomError:
    """Several findings of one validator, each at its own path relative to the model."""
    return PydanticCustomError(
        "plan_problems", "{summary}", {"summary": "；".join(m for _, m in items), "problems": list(items)}
    )


class _Spec(BaseModel):
    # strict: "1000" (text) is not a number and yes/no are not text; dates come through PlanDate.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
