"""Markdown that people type (an activity's 活动详情) as safe HTML, rendered once when it is saved.

The renderer is cmark-gfm (``cmarkgfm``, GitHub's C implementation of CommonMark with the table
extension): its time grows linearly with the input on the pathological texts that made the former
renderer (Python-Markdown) take ~30 s for a few hundred kilobytes of nested ``[``/``](``
(``bench/markdown_render.py``, ``BENCHMARKS.md``; decision
``docs/decisions/0010-markdown-rendering-and-text-layer.md``). Raw HTML in the source is passed on
(``CMARK_OPT_UNSAFE``, so pasted ``<p>…</p>`` keeps its text, as before) and the result is cleaned by
nh3 (ammonia), which keeps only the allowed tags: no scripts, styles, event handlers, images or
``id``; links only to ``http``, ``https`` and ``mailto``, marked ``nofollow``. Headings are
renumbered from ``<h3>`` (the page has its own ``<h1>``/``<h2>``); a single line break is a ``<br>``
(as people type in Chinese).

Callers store the result with :func:`source_digest` of the text it came from
(``Activity.description_html``/``description_digest``), so pages serve it without rendering and can
tell a stale copy (a row written by a path that skipped ``save()``) from a current one.
"""

from __future__ import annotations

import hashlib
import re

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options
from django.utils.html import escape, linebreaks

TAGS = {
    "p", "br", "hr", "strong", "b", "em", "i", "u", "s", "del", "sub", "sup", "code", "pre",
    "blockquote", "ul", "ol", "li", "h3", "h4", "h5", "h6", "a",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
# Above this many characters the text is shown as plain paragraphs, not parsed as Markdown: a bound
# on the work a save can cause even where no length rule applies (the services allow far less).
HARD_LIMIT = 200_000
# Hard line breaks (nl2br), smart punctuation off; raw HTML passed on to nh3 (decision 0010).
_OPTIONS = Options.CMARK_OPT_HARDBREAKS | Options.CMARK_OPT_VALIDATE_UTF8 | Options.CMARK_OPT_UNSAFE

_HEADING_TAG = re.compile(r"<(/?)h([1-6])(?=[\s>])", re.IGNORECASE)


# Trusted texts in the repository (the operation guide, kepuyue.guide) may also show images, by relative
# or http(s) address; people's texts never do.
IMAGE_ATTRIBUTES = {"img": {"src", "alt", "title", "width", "height"}}


def render_markdown(text: str, *, images: bool = False) -> str:
    """``text`` (Markdown, CommonMark + GFM tables) as cleaned HTML; empty or blank gives ``""``.
    ``images``: keep ``<img>`` (only for texts of the repository, e.g. the operation guide).

    Linear time in ``len(text)`` (cmark-gfm); above :data:`HARD_LIMIT` characters the text is shown
    as escaped plain paragraphs instead. Never raises on any ``str``.
    """
    if not (text or "").strip():
        return ""
    text = text.replace("\x00", "\ufffd")
    if len(text) > HARD_LIMIT:
        html = linebreaks(escape(text))
    else:
        html = cmarkgfm.markdown_to_html_with_extensions(
            text, options=_OPTIONS, extensions=["table", "strikethrough"]
        )
    return nh3.clean(
        _headings_from_h3(html),
        tags=TAGS | {"img"} if images else TAGS,
        attributes={**ATTRIBUTES, **IMAGE_ATTRIBUTES} if images else ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    ).strip()


def _headings_from_h3(html: str) -> str:
    """Heading levels renumbered from 3 in the order they occur in (``#`` and ``###`` become
    ``<h3>`` and ``<h4>``), so the page's outline has no gaps."""
    levels = sorted({int(level) for _slash, level in _HEADING_TAG.findall(html)})
    new_level = {level: min(3 + rank, 6) for rank, level in enumerate(levels)}
    return _HEADING_TAG.sub(lambda m: f"<{m.group(1)}h{new_level[int(m.group(2))]}", html)


def source_digest(text: str) -> str:
    """A short fingerprint (32 hex digits of SHA-256) of the text some stored HTML was rendered from."""
    return hashlib.sha256((text or "").encode("utf-8", "surrogatepass")).hexdigest()[:32]
