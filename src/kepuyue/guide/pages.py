"""The operation guide (操作指南, plan 八(二) “请于8月10日后，在全国科普月平台上查阅操作指南”): one Markdown file
per role in ``content/``, versioned with the code, rendered by ``kepuyue.common.markup`` (the trusted
variant that keeps images), with screenshots in ``static/guide/img/``.

The screenshots are made by the browser test ``tests/guide/test_screenshots.py`` (390 px wide, the
pinned campaign clock, fixed sample data): every run takes them all (a page that no longer opens fails
the test) into ``test-artifacts/guide/``; ``KEPUYUE_GUIDE_SCREENSHOTS=update`` writes them into
``static/guide/img/`` to be committed and reviewed as an image diff. :data:`SHOTS` is the one list of
screenshots, and ``tests/guide/test_pages.py`` checks that every image a guide shows is in it and in
the repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _

from kepuyue.common.markup import render_markdown

CONTENT = Path(__file__).resolve().parent / "content"
IMAGES = Path(__file__).resolve().parent / "static" / "guide" / "img"


@dataclass(frozen=True)
class Guide:
    """A role's guide: ``slug`` (URL and file name), ``title`` and ``audience`` (who it is for)."""

    slug: str
    title: str
    audience: str

    @property
    def path(self) -> Path:
        return CONTENT / f"{self.slug}.md"


GUIDES = (
    Guide("unit", _("参与单位操作指南"), _("发布活动、批量导入、报名管理、提交征集作品的单位账号")),
    Guide("platform-admin", _("平台管理员操作指南"), _("全国学会、省级科协的平台管理员：审核、推荐重点活动")),
    Guide("manager", _("联合行动牵头单位操作指南"), _("各联合行动的牵头单位：重点呈现、征集管理、宣传资源")),
    Guide("judge", _("评审专家操作指南"), _("征集作品的评审专家：匿名评分")),
    Guide("public", _("公众使用指南"), _("查找活动、报名预约、参与答题、下载宣传资源")),
)
BY_SLUG = {g.slug: g for g in GUIDES}

# Every screenshot the guides may show: (file name, role, URL path or name, what it shows). The browser
# test opens each page as that role at 390 px and writes the PNG; names are stable so that a refresh
# is an image diff of the same files.
SHOTS = (
    ("unit-activities.png", "unit", "/org/activities/", "我的活动"),
    ("unit-create.png", "unit", "/org/activities/new/", "发布活动"),
    ("unit-import.png", "unit", "/org/activities/import/", "批量导入"),
    ("platform-admin-queue.png", "platform-admin", "/org/review/", "审核台"),
    ("manager-featuring.png", "manager", "/org/review/featuring/", "重点呈现"),
    ("manager-resources.png", "manager", "/org/resources/", "宣传资源管理"),
    ("judge-home.png", "judge", "/calls/judge/", "作品评审"),
    ("public-home.png", "public", "/", "首页"),
    ("public-activities.png", "public", "/activities/", "科普活动"),
    ("public-resources.png", "public", "/resources/", "宣传资源"),
)

_IMAGE_SRC = re.compile(r'src="img/([a-z0-9-]+\.png)"')


def source(guide: Guide) -> str:
    """The Markdown of ``guide``."""
    return guide.path.read_text(encoding="utf-8")


def images_in(text: str) -> list[str]:
    """The screenshot file names a guide's Markdown shows (``![…](img/name.png)``)."""
    return re.findall(r"\]\(img/([a-z0-9-]+\.png)\)", text)


@cache
def _rendered(slug: str, mtime: float) -> str:
    html = render_markdown(source(BY_SLUG[slug]), images=True)
    return _IMAGE_SRC.sub(lambda m: f'src="{static("guide/img/" + m.group(1))}"', html)


def render(guide: Guide) -> str:
    """``guide`` as HTML (cached per file version): headings from ``<h3>``, images pointing at the static
    screenshots, links kept."""
    return _rendered(guide.slug, guide.path.stat().st_mtime)
