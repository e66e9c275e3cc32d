"""Brand marking (品牌标记, plan 八(一) “为便于抓取特色活动、予以重点呈现，发布活动时请突出标记活动品牌”).

An activity of a joint action that has brands must carry one of them (:func:`brand_required_error`);
a campaign-wide activity (全国科普月活动: no joint action) has none. To help the unit choose, the
publishing form, the API's error and the import suggest a brand from the title and the summary
(:func:`suggest_brand`): a brand's name, its aliases and its ``keywords`` (all from the campaign
YAML) are looked for in the text, on word boundaries of the search index's Chinese segmentation
(``kepuyue.search.segment.tokens``, rjieba). The suggestion carries its reason (``标题含『科学之夜』``)
and is only ever shown: nothing here sets a brand.

Ranking, when several terms match: the title before the summary; outside brackets (the main
subject) before inside them (what the programme includes); a brand's name or alias before a keyword;
the earlier match; the longer term; the YAML's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.utils.translation import gettext as _

from kepuyue.search.segment import normalize, tokens

# Brackets whose content is secondary in a title: “（含……）”, “【……】”.
_OPENING = "（([【〔《"
_CLOSING = "）)]】〕》"


@dataclass(frozen=True)
class BrandSuggestion:
    """A suggested brand: ``brand`` (Brand), ``term`` as the YAML writes it, ``field`` (``"title"`` or
    ``"summary"``), ``kind`` (``"name"``, ``"alias"`` or ``"keyword"``) and ``reason`` (Chinese, e.g.
    ``标题含『科学之夜』``)."""

    brand: object
    term: str
    field: str
    kind: str

    @property
    def reason(self) -> str:
        where = _("标题") if self.field == "title" else _("简介")
        return _("%(where)s含『%(term)s』") % {"where": where, "term": self.term}

    def as_dict(self) -> dict:
        return {
            "brand_id": self.brand.pk,
            "brand": self.brand.name,
            "term": self.term,
            "field": self.field,
            "reason": self.reason,
        }


def brands_of(joint_action) -> list:
    """The brands of ``joint_action`` in the YAML's order (one query, kept on the instance; a prefetched
    ``brands`` is used as is)."""
    if joint_action is None:
        return []
    cache = getattr(joint_action, "_prefetched_objects_cache", {}) or {}
    if "brands" in cache:
        return sorted(cache["brands"], key=lambda b: (b.order, b.pk))
    rows = getattr(joint_action, "_kepuyue_brands", None)
    if rows is None:
        rows = list(joint_action.brands.order_by("order", "pk"))
        joint_action._kepuyue_brands = rows
    return rows


def terms_of(brand) -> list[tuple[str, str]]:
    """``[(term, kind), …]`` of a brand: its name, aliases and keywords (YAML), without duplicates."""
    found: dict[str, str] = {}
    for term, kind in (
        [(brand.name, "name")]
        + [(a, "alias") for a in brand.aliases or ()]
        + [(k, "keyword") for k in getattr(brand, "keywords", None) or ()]
    ):
        if _needle(term) and term not in found:
            found[term] = kind
    return list(found.items())


def _bracket_depths(text: str) -> list[int]:
    """For each character of ``normalize(text)``, whether it stands inside brackets of ``text``."""
    depth, depths = 0, []
    for char in text:
        if char in _OPENING:
            depth += 1
        elif char in _CLOSING:
            depth = max(0, depth - 1)
        if normalize(char):
            # One character may normalise to several (NFKC of a ligature); each gets the depth.
            depths.extend([depth] * len(normalize(char)))
    return depths


@dataclass(frozen=True)
class _Text:
    """A text as matching sees it: normalised, its word edges and which characters sit in brackets."""

    normal: str
    edges: frozenset
    depths: tuple

    @classmethod
    def of(cls, text: str) -> _Text:
        edges, at = {0}, 0
        for token in tokens(text):
            at += len(token)
            edges.add(at)
        return cls(normalize(text), frozenset(edges), tuple(_bracket_depths(text)))


@lru_cache(maxsize=4096)
def _needle(term: str) -> str:
    return normalize(term)


def _matches(text: _Text, term: str) -> list[tuple[int, bool]]:
    """Where ``term`` occurs in ``text`` on word boundaries: ``[(position, inside_brackets), …]``."""
    needle = _needle(term)
    if not needle or needle not in text.normal:
        return []
    found, start = [], text.normal.find(needle)
    while start >= 0:
        end = start + len(needle)
        if start in text.edges and end in text.edges:
            inside = bool(text.depths[start]) if start < len(text.depths) else False
            found.append((start, inside))
        start = text.normal.find(needle, start + 1)
    return found


_KIND_RANK = {"name": 0, "alias": 0, "keyword": 1}


def suggestions(title: str, summary: str, brands) -> list[BrandSuggestion]:
    """Every brand of ``brands`` whose name, alias or keyword occurs in ``title`` or ``summary`` (on word
    boundaries), best first (see the module's ranking), one entry per brand."""
    ranked = []
    texts = (("title", _Text.of(title or "")), ("summary", _Text.of(summary or "")))
    for order, brand in enumerate(brands):
        best = None
        for field_rank, (field, text) in enumerate(texts):
            for term, kind in terms_of(brand):
                for position, inside in _matches(text, term):
                    key = (field_rank, inside, _KIND_RANK[kind], position, -len(_needle(term)), order)
                    if best is None or key < best[0]:
                        best = (key, BrandSuggestion(brand, term, field, kind))
        if best is not None:
            ranked.append(best)
    return [suggestion for _key, suggestion in sorted(ranked, key=lambda item: item[0])]


def suggest_brand(title: str, summary: str, brands) -> BrandSuggestion | None:
    """The best suggestion of :func:`suggestions`, or ``None`` when no term occurs."""
    found = suggestions(title, summary, brands)
    return found[0] if found else None


def brand_required_error(
    brand, joint_action, *, title: str = "", summary: str = "", brands=None
) -> str | None:
    """Plan 八(一): an activity of a joint action with brands must carry one; ``None`` if fine (a brand is
    given, no joint action — a campaign-wide activity — or a joint action without brands). The message
    names the joint action and, when the title or summary suggests one, the suggestion and its reason.
    ``brands``: the joint action's brands when already loaded (the importer), else one query."""
    if brand is not None or joint_action is None:
        return None
    rows = brands_of(joint_action) if brands is None else brands
    if not rows:
        return None
    message = _("%(action)s的活动须标记品牌活动（方案八(一)：发布活动时请突出标记活动品牌）") % {
        "action": joint_action.name
    }
    suggestion = suggest_brand(title, summary, rows)
    if suggestion is not None:
        message += _("；建议：“%(brand)s”（%(reason)s），请确认后选择") % {
            "brand": suggestion.brand.name,
            "reason": suggestion.reason,
        }
    return message
