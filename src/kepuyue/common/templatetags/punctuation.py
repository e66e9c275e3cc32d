"""Punctuation that follows the page's language: a label translated into English is followed by
``": "``, not the full-width ``"："`` of the Chinese text around it ("Book：" read as a typo).

    {% load punctuation %}
    {% translate "报名" %}{% colon %}{{ activity.title }}
"""

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag
def colon() -> str:
    """``"："`` on a Chinese page, ``": "`` in any other language."""
    return "：" if (get_language() or "zh-hans").startswith("zh") else ": "


@register.simple_tag
def lparen() -> str:
    """``"（"`` on a Chinese page, ``" ("`` in any other language: ``{{ name }}{% lparen %}{{ note }}{% rparen %}``."""
    return "（" if (get_language() or "zh-hans").startswith("zh") else " ("


@register.simple_tag
def rparen() -> str:
    """``"）"`` on a Chinese page, ``")"`` in any other language."""
    return "）" if (get_language() or "zh-hans").startswith("zh") else ")"
