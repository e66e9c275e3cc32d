"""Chinese word segmentation for the search index, with rjieba (the Rust port of jieba).

Both backends index and query the same space-separated words, so SQLite FTS5 and PostgreSQL's
``simple`` configuration return the same matches for the same text.
"""

import re
import unicodedata
from functools import cache

import rjieba

# Words of the campaign that the general dictionary splits apart; kept whole so that a search for
# the brand finds it as one term (its parts are still indexed by cut_for_search).
PLATFORM_WORDS = (
    "科学之夜",
    "星火馆",
    "大篷车",
    "科普大篷车",
    "流动科技馆",
    "科技小院",
    "农技协",
    "科普月",
    "科普日",
    "科学大师剧",
    "光影科学梦",
    "新疆生产建设兵团",
)

# Invisible format characters: zero-width space/joiners, word joiner, BOM, soft hyphen, bidirectional
# marks, embeddings and isolates. Text pasted from WeChat or a web page carries them inside words
# ("科\u200b普"); they would split a word in two before segmentation, so they go first.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


def visible(text: str) -> str:
    """``text`` without invisible format characters (see :data:`_INVISIBLE`); nothing else changes."""
    return _INVISIBLE.sub("", text or "")


# Everything but letters and digits. The underscore goes too: both index tokenizers (FTS5
# unicode61 and PostgreSQL's parser) split on it, so a word that kept one would not be one token.
_NOISE = re.compile(r"[\W_]+")


@cache
def _ready() -> bool:
    for word in PLATFORM_WORDS:
        rjieba.add_word(word, None, None)
    return True


def words(text: str) -> list[str]:
    """The search words of ``text``: NFKC-normalised (full-width → half-width), lower-cased,
    segmented for search (long words and their parts), punctuation dropped.
    """
    _ready()
    text = unicodedata.normalize("NFKC", visible(text)).lower()
    return [w for w in (_NOISE.sub("", token) for token in rjieba.cut_for_search(text)) if w]


def index_text(*parts: str) -> str:
    """The ``Activity.search_text`` value for the given fields (title, summary, organizer, venue …):
    their words joined by single spaces, duplicates kept once in first-seen order.
    """
    seen: dict[str, None] = {}
    for part in parts:
        for word in words(part):
            seen.setdefault(word, None)
    return " ".join(seen)


def tokens(text: str) -> list[str]:
    """The words of ``text`` in order, as the search index cuts them (accurate mode, the platform's
    words kept whole), normalised like :func:`words` (NFKC, lower case, punctuation dropped): every
    character of the normalised text is in exactly one token, so token edges are word boundaries.
    Used by the brand suggestion (``kepuyue.activities.services.brands``) to match a term only on
    word boundaries."""
    _ready()
    text = _NOISE.sub("", unicodedata.normalize("NFKC", visible(text)).lower())
    return [t for t in rjieba.cut(text) if t]


def normalize(text: str) -> str:
    """``text`` as :func:`tokens` sees it: NFKC, lower case, without punctuation or spaces."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", visible(text)).lower())
