"""Password rules of a GB/T 22239-2019 level-3 system (密码复杂度), with Chinese messages.

Django's own validators (length, similarity to the account's name and e-mail, common passwords,
all digits) come with Simplified Chinese messages from Django's translations; the character-class
rule below is ours.
"""

from __future__ import annotations

import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CLASSES = (
    ("upper", lambda c: c.isascii() and c.isupper()),
    ("lower", lambda c: c.isascii() and c.islower()),
    ("digit", lambda c: c.isascii() and c.isdigit()),
    ("symbol", lambda c: c in string.punctuation or c == " "),
)


def character_classes(password: str) -> set[str]:
    """Which of the four classes (``upper``, ``lower``, ``digit``, ``symbol``) ``password`` uses."""
    return {name for name, test in CLASSES if any(test(c) for c in password)}


class CharacterClassesValidator:
    """At least ``min_classes`` (default 3) of: upper-case letters, lower-case letters, digits, symbols."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        if len(character_classes(password)) < self.min_classes:
            raise ValidationError(
                _("密码须至少包含大写字母、小写字母、数字、符号中的 %(n)d 类。"),
                code="password_too_simple",
                params={"n": self.min_classes},
            )

    def get_help_text(self) -> str:
        return _("至少包含大写字母、小写字母、数字、符号中的 %(n)d 类。") % {"n": self.min_classes}


class MinimumLengthValidator:
    """At least ``min_length`` (default 8) characters, with a Chinese message of our own wording."""

    def __init__(self, min_length: int = 8):
        self.min_length = min_length

    def validate(self, password: str, user=None) -> None:
        if len(password) < self.min_length:
            raise ValidationError(
                _("密码太短，至少需要 %(min_length)d 个字符。"),
                code="password_too_short",
                params={"min_length": self.min_length},
            )

    def get_help_text(self) -> str:
        return _("至少 %(min_length)d 个字符。") % {"min_length": self.min_length}
