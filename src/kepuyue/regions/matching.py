"""The in-memory index behind ``services.match_region``: name variants of every division.

Internal to the regions app; call the functions in ``kepuyue.regions.services``.

How a text is read:

1. It is normalised (NFKC: full-width letters, digits, brackets and spaces become half-width; all
   whitespace is removed).
2. It is split into list items at 、 , ; / and | ("西昌市、金阳县、昭觉县").
3. In each item every substring that is a known variant is a *node*: a full name (西湖区), a short
   name (西湖, 凉山, 凉山州, 内蒙古), an alias from ``data/regions/aliases.yaml`` (第八师, 雄安新区) or a
   context-only word (城关, 和平) that counts only after one of its ancestors.
4. The best *chain* is found: non-overlapping nodes, left to right, each inside the one before
   ("浙江 杭州 西湖区"). A chain is worth the characters it explains, a little more for full names and
   for higher levels. Its last node is the answer; earlier list items serve as context for later ones.
5. Two chains of equal worth that end in unrelated divisions (鼓楼区 alone: five cities have one) are a
   tie: the answer is their lowest common division that is a real place (not a 市辖区-style grouping)
   with a low score, or nothing when there is none (朝阳区 alone: 北京 or 长春).
6. The list items' answers are combined: when they lie on one line of descent the deepest wins
   ("福州科技馆、福建省气象局" → 福州市); when they are siblings the common division is the answer
   ("西昌市、金阳县、昭觉县" → 凉山彝族自治州), with a lower score. Items naming unrelated places with no
   common division give nothing.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.exceptions import ImproperlyConfigured

from .models import Level, Region

logger = logging.getLogger(__name__)

# Prefecture-level rows of the statistics data that group counties but are no place of their own.
PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})

FULL, SHORT, ALIAS, WEAK = "full", "short", "alias", "weak"

LIST_SEPARATORS = re.compile(r"[、,;/|]+")
# After a short name these make it the name of a street, village or community instead (南京路, 城关镇).
STREET_AFTER = ("路", "街", "道", "巷", "村", "镇", "乡", "社区", "小区", "里", "桥", "大道", "胡同")
# An unmatched tail like this after a prefecture means a more precise place was named but not known.
DIVISION_LIKE = re.compile(r"(区|县|旗|乡|镇)")

LEVEL_BONUS = {Level.PROVINCE: 0.3, Level.PREFECTURE: 0.2, Level.COUNTY: 0.0}
FULL_BONUS = 0.5
CONTEXT_WEIGHT = 1.0
REPEAT_WEIGHT = 0.1
TIE = 1e-6
# A winner ahead of an unrelated rival by less than one character was chosen by preference only.
CLOSE_CALL = 0.75


def normalise(text: str) -> str:
    """NFKC-normalise ``text`` and drop all whitespace (U+3000 included)."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


@dataclass(frozen=True, slots=True)
class Place:
    """A division as the index sees it; ``lineage`` lists its ancestors, province first."""

    code: str
    name: str
    level: int
    lineage: tuple[str, ...]
    placeholder: bool

    def is_within(self, other: str) -> bool:
        """True when this place is ``other`` or lies inside it."""
        return self.code == other or other in self.lineage


@dataclass(frozen=True, slots=True)
class Node:
    start: int
    end: int
    code: str
    kind: str
    weight: float


@dataclass(slots=True)
class SegmentResult:
    code: str
    chain: tuple[str, ...]  # codes of the winning chain's nodes and context, outermost first
    score: float
    matched: str
    end: int  # where the chain ends in the segment


@dataclass
class RegionIndex:
    """Variant → candidate divisions, plus each division's lineage and its model row."""

    places: dict[str, Place] = field(default_factory=dict)
    rows: dict[str, Region] = field(default_factory=dict)
    variants: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    # first character of a variant → the lengths of the variants starting with it, longest first
    starts: dict[str, tuple[int, ...]] = field(default_factory=dict)
    fingerprint: int | None = None  # of the rows it was built from; see services.load_regions

    def __len__(self) -> int:
        return len(self.places)

    # --- building -------------------------------------------------------------------------------
    @classmethod
    def build(cls, rows: list[Region], aliases_file: Path) -> RegionIndex:
        config = _read_aliases(aliases_file)
        ethnic = sorted(config["ethnic_groups"], key=len, reverse=True)
        context_only = set(config["context_only"])
        index = cls()
        by_code = {row.code: row for row in rows}
        for row in rows:
            lineage = []
            parent = by_code.get(row.parent_id) if row.parent_id else None
            while parent is not None:
                lineage.append(parent.code)
                parent = by_code.get(parent.parent_id) if parent.parent_id else None
            index.places[row.code] = Place(
                code=row.code,
                name=row.name,
                level=row.level,
                lineage=tuple(reversed(lineage)),
                placeholder=row.level == Level.PREFECTURE and row.name in PLACEHOLDER_NAMES,
            )
            index.rows[row.code] = row

        raw: dict[str, dict[str, str]] = defaultdict(dict)  # variant → code → kind
        province_variants: set[str] = set()
        for place in index.places.values():
            if place.placeholder:
                continue
            # The districts of 香港, 澳门 and 台湾 carry everyday words (大社区, 中和, 东区); they count
            # only after their city or area (香港湾仔区, 台北市大安区).
            unofficial_district = place.level == Level.COUNTY and not index.rows[place.code].is_official
            for variant, kind in name_variants(place.name, place.level, ethnic):
                if unofficial_district:
                    kind = WEAK
                if raw[variant].get(place.code) not in (FULL, WEAK):
                    raw[variant][place.code] = kind
                if place.level == Level.PROVINCE:
                    province_variants.add(variant)
        # A county or prefecture whose short name is a province's (河南蒙古族自治县 → 河南, 吉林市 → 吉林)
        # answers to it only after an ancestor (青海黄南河南, 吉林吉林): the bare word means the province.
        for variant in province_variants:
            for code, kind in raw[variant].items():
                if kind == SHORT and index.places[code].level != Level.PROVINCE:
                    raw[variant][code] = WEAK

        alias_entries = dict(config["aliases"])
        for division, code in config["bingtuan_divisions"].items():
            alias_entries[division] = code
            if division.startswith("第"):
                alias_entries[division[1:]] = code  # 八师
        for variant, code in alias_entries.items():
            variant = normalise(variant)
            if code not in index.places:
                # A partial load (a test's small directory) lacks some targets; say so, go on.
                logger.warning("%s: 别名“%s”指向的区划代码 %s 不存在，已忽略", aliases_file, variant, code)
                continue
            raw[variant][code] = ALIAS

        for variant, candidates in raw.items():
            for code, kind in candidates.items():
                if variant in context_only:
                    kind = WEAK
                index.variants[variant].append((code, kind))
        index.variants = dict(index.variants)
        starts: dict[str, set[int]] = defaultdict(set)
        for variant in index.variants:
            starts[variant[0]].add(len(variant))
        index.starts = {char: tuple(sorted(lengths, reverse=True)) for char, lengths in starts.items()}
        return index

    # --- matching -------------------------------------------------------------------------------
    def match(self, text: str, within: str | None = None) -> tuple[str, float, str] | None:
        """Best ``(code, score, matched)`` for normalised ``text``, or ``None``; see module doc."""
        if within is not None and within not in self.places:
            return None
        results: list[SegmentResult] = []
        unresolved_division = False
        context: tuple[str, ...] = (within,) if within else ()
        for segment in LIST_SEPARATORS.split(text):
            if not segment:
                continue
            found = self._match_segment(segment, within, context)
            if found is None:
                unresolved_division = unresolved_division or bool(DIVISION_LIKE.search(segment))
                continue
            if DIVISION_LIKE.search(segment[found.end : found.end + 8]):
                unresolved_division = True
            results.append(found)
            context = tuple(dict.fromkeys(context + found.chain))
        if not results:
            return None

        codes = list(dict.fromkeys(r.code for r in results))
        deepest = max(codes, key=lambda c: len(self.places[c].lineage))
        if all(self.places[deepest].is_within(c) for c in codes):
            best = next(r for r in results if r.code == deepest)
            code, score = deepest, best.score
            matched = "、".join(dict.fromkeys(r.matched for r in results))
        else:
            code = self.common_place(codes)
            if code is None:
                return None
            score = min(r.score for r in results) * 0.85
            matched = "、".join(dict.fromkeys(r.matched for r in results))
        if unresolved_division and self.places[code].level < Level.COUNTY:
            score *= 0.75
        return code, round(min(score, 1.0), 3), matched

    def common_place(self, codes: list[str]) -> str | None:
        """The deepest division, not a grouping row, that contains every code; ``None`` if none."""
        shared = None
        for code in codes:
            place = self.places[code]
            line = place.lineage + (code,)
            shared = (
                line if shared is None else tuple(a for a, b in zip(shared, line, strict=False) if a == b)
            )
        for code in reversed(shared or ()):
            if not self.places[code].placeholder:
                return code
        return None

    def _nodes(self, segment: str, within: str | None) -> list[Node]:
        nodes: dict[tuple[int, int, str], Node] = {}
        n = len(segment)
        for start in range(n):
            for length in self.starts.get(segment[start], ()):
                end = start + length
                if end > n:
                    continue
                candidates = self.variants.get(segment[start:end])
                if not candidates:
                    continue
                for code, kind in candidates:
                    place = self.places[code]
                    if within is not None and not place.is_within(within):
                        continue
                    if kind == SHORT and segment.startswith(STREET_AFTER, end):
                        kind = WEAK
                    weight = length + LEVEL_BONUS[place.level] + (FULL_BONUS if kind in (FULL, ALIAS) else 0)
                    key = (start, end, code)
                    if key not in nodes or nodes[key].weight < weight:
                        nodes[key] = Node(start, end, code, kind, weight)
        return sorted(nodes.values(), key=lambda node: (node.start, node.end))

    def _match_segment(
        self, segment: str, within: str | None, context: tuple[str, ...]
    ) -> SegmentResult | None:
        nodes = self._nodes(segment, within)
        if not nodes:
            return None
        best: list[float] = []
        back: list[int | str | None] = []  # index of the previous node, a context code, or None
        for j, node in enumerate(nodes):
            place = self.places[node.code]
            value, link = (0.0, None) if node.kind != WEAK else (float("-inf"), None)
            for code in context:
                if place.is_within(code) and CONTEXT_WEIGHT > value:
                    value, link = CONTEXT_WEIGHT, code
            gain = node.weight
            for i in range(j):
                prev = nodes[i]
                if prev.end > node.start or not place.is_within(prev.code):
                    continue
                # Naming the same division again (第八师石河子市) explains the text but adds no detail.
                step = REPEAT_WEIGHT if prev.code == node.code else node.weight
                if best[i] + step > value + gain:
                    value, gain, link = best[i], step, i
            best.append(value + gain)
            back.append(link)

        by_code: dict[str, int] = {}
        for j, node in enumerate(nodes):
            if best[j] == float("-inf"):
                continue
            if node.code not in by_code or best[j] > best[by_code[node.code]]:
                by_code[node.code] = j
        if not by_code:
            return None
        winner = max(by_code.values(), key=lambda j: (best[j], -nodes[j].start))
        win_code = nodes[winner].code
        win_place = self.places[win_code]

        def related(code: str) -> bool:
            return win_place.is_within(code) or self.places[code].is_within(win_code)

        rivals = {code: best[j] for code, j in by_code.items() if not related(code)}
        tied = [code for code, value in rivals.items() if value >= best[winner] - TIE]

        chain_nodes: list[Node] = []
        context_codes: list[str] = []
        link: int | str | None = winner
        while link is not None:
            if isinstance(link, str):
                context_codes.append(link)
                break
            chain_nodes.append(nodes[link])
            link = back[link]
        chain_nodes.reverse()
        matched = segment[chain_nodes[0].start : chain_nodes[-1].end]
        chain = tuple(context_codes) + tuple(dict.fromkeys(n.code for n in chain_nodes))

        if tied:
            common = self.common_place([win_code, *tied])
            if common is None or (within is not None and not self.places[common].is_within(within)):
                return None
            return SegmentResult(common, (common,), 0.5, matched, chain_nodes[-1].end)

        last = chain_nodes[-1]
        if len(chain_nodes) + len(context_codes) >= 2:
            score = 0.95 if all(n.kind in (FULL, ALIAS) for n in chain_nodes) else 0.9
        elif last.kind == ALIAS:
            score = 0.85
        elif last.kind == FULL:
            score = 0.85 if win_place.level == Level.COUNTY else 0.9
        else:
            score = {Level.PROVINCE: 0.85, Level.PREFECTURE: 0.8, Level.COUNTY: 0.65}[win_place.level]
        if rivals and best[winner] - max(rivals.values()) < CLOSE_CALL:
            score *= 0.7
        return SegmentResult(win_code, chain, score, matched, last.end)


def name_variants(name: str, level: int, ethnic: list[str]) -> list[tuple[str, str]]:
    """The full name and the short forms people write for a division name.

    ``浙江省`` → 浙江; ``广西壮族自治区`` → 广西; ``凉山彝族自治州`` → 凉山, 凉山州; ``城步苗族自治县`` → 城步,
    城步县; ``神农架林区`` → 神农架; ``西湖区`` → 西湖. Short forms shorter than two characters are dropped
    (丰县 keeps only 丰县).
    """
    name = normalise(name)
    variants = [(name, FULL)]
    if "(" in name and name.endswith(")"):  # 嘉模堂区(氹仔)
        outer, inner = name[:-1].split("(", 1)
        variants += [(outer, FULL), (inner, SHORT)]
        name = outer
    shorts: list[str] = []
    for suffix, respelled in (("自治州", "州"), ("自治县", "县"), ("自治旗", "旗"), ("自治区", "")):
        if name.endswith(suffix):
            base = _strip_ethnic(name[: -len(suffix)], ethnic)
            shorts.append(base)
            if respelled:
                shorts.append(base + respelled)
            break
    else:
        if level == Level.PROVINCE:
            suffixes = ("特别行政区", "省", "市")
        elif level == Level.PREFECTURE:
            suffixes = ("地区", "盟", "市")
        else:
            suffixes = ("林区", "特区", "新区", "区", "县", "市", "旗")
        for suffix in suffixes:
            if name.endswith(suffix):
                shorts.append(name[: -len(suffix)])
                break
    variants += [(short, SHORT) for short in shorts if len(short) >= 2 and short != name]
    return list(dict.fromkeys(variants))


def _strip_ethnic(base: str, ethnic: list[str]) -> str:
    """``黔西南布依族苗族`` → 黔西南; ``伊犁哈萨克`` → 伊犁; ``东乡族`` → 东乡; ``鄂伦春`` stays."""
    # One-character groups (回, 苗, 白 …) count only with 族; longer ones also without (哈萨克).
    tokens = sorted(
        {group + "族" for group in ethnic} | {g for g in ethnic if len(g) > 1}, key=len, reverse=True
    )
    stripped = True
    while stripped:
        stripped = False
        for token in tokens:
            if base.endswith(token) and len(base) - len(token) >= 2:
                base = base[: -len(token)]
                stripped = True
                break
    if base.endswith("族") and len(base) > 2:  # 东乡族自治县, 鄂温克族自治旗: the group is the name
        base = base[:-1]
    return base


def _read_aliases(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ImproperlyConfigured(f"区划别名文件不存在：{path}") from exc
    return {
        "aliases": {str(k): str(v) for k, v in (data.get("aliases") or {}).items()},
        "bingtuan_divisions": {str(k): str(v) for k, v in (data.get("bingtuan_divisions") or {}).items()},
        "context_only": [normalise(str(v)) for v in data.get("context_only") or []],
        "ethnic_groups": [str(v) for v in data.get("ethnic_groups") or []],
    }
