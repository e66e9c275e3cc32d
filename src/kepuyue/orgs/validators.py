"""统一社会信用代码 (USCC) check of GB 32100-2015, shared by the model field and the services."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The 31 characters the standard uses: digits and capital letters without I, O, Z, S, V.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_LENGTH = 18


def uscc_check_character(body: str) -> str:
    """The 18th character for the first 17 (already upper-case and legal): 31 − (Σ value × weight
    mod 31), where 31 becomes 0."""
    total = sum(USCC_CHARSET.index(char) * weight for char, weight in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str:
    """Check a 统一社会信用代码 and return it normalised (full-width → half-width, spaces dropped,
    upper-case), e.g. ``"91350100m000100y43"`` → ``"91350100M000100Y43"``.

    Raises ``django.core.exceptions.ValidationError`` (Chinese message) naming what is wrong: the length,
    the first illegal character and its position, or the check character with the one expected.
    """
    normalised = "".join(unicodedata.normalize("NFKC", str(code or "")).split()).upper()
    if len(normalised) != USCC_LENGTH:
        raise ValidationError(
            _("统一社会信用代码应为18位，“%(code)s”是%(length)d位"),
            code="uscc_length",
            params={"code": normalised, "length": len(normalised)},
        )
    for position, char in enumerate(normalised, start=1):
        if char not in USCC_CHARSET:
            raise ValidationError(
                _(
                    "统一社会信用代码第%(position)d位“%(char)s”不是合法字符（只用数字和大写字母，不用I、O、Z、S、V）"
                ),
                code="uscc_character",
                params={"position": position, "char": char},
            )
    expected = uscc_check_character(normalised[:17])
    if normalised[17] != expected:
        raise ValidationError(
            _("统一社会信用代码校验位错误：第18位应为“%(expected)s”，实际为“%(actual)s”"),
            code="uscc_check",
            params={"expected": expected, "actual": normalised[17]},
        )
    return normalised
