"""A translated label is followed by the punctuation of the page's language (the fresh try's "Book：")."""

import re
from pathlib import Path

from django.template import Context, Template
from django.utils import translation

SRC = Path(__file__).resolve().parents[2] / "src" / "kepuyue"


def test_colon_follows_the_language():
    template = Template('{% load i18n punctuation %}{% translate "报名" %}{% colon %}科学之夜')
    with translation.override("zh-hans"):
        assert template.render(Context()) == "报名：科学之夜"
    with translation.override("en"):
        assert template.render(Context()) == "Book: 科学之夜"


def test_parentheses_follow_the_language():
    template = Template(
        '{% load i18n punctuation %}{% translate "巡展" %}{% lparen %}{% translate "北京时间" %}{% rparen %}'
    )
    with translation.override("zh-hans"):
        assert template.render(Context()) == "巡展（北京时间）"
    with translation.override("en"):
        rendered = template.render(Context())
        assert rendered.endswith(" (Beijing time)") and "（" not in rendered


def test_no_template_glues_a_full_width_colon_to_a_tag():
    """``{% translate "报名" %}：`` renders "Book：" in English; ``{% colon %}`` is the way."""
    glued = [
        f"{path.relative_to(SRC)}:{n}"
        for path in SRC.rglob("*.html")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"%\}：", line)
    ]
    assert glued == []
