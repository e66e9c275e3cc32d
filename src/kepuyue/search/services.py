"""Search activities (活动检索): one service, two backends, the same matches.

The public finds activities by typing Chinese (plan §八(一): units publish key activities on the
platform "供公众了解参与"). ``Activity.search_text`` holds the segmented words of title, summary,
organizer and venue (:func:`kepuyue.search.segment.index_text`); a query is segmented by the same
:func:`~kepuyue.search.segment.words`, and an activity matches when its ``search_text`` contains
**every** query word as a whole word (AND). No prefix matching: the index already holds the
dictionary sub-words of long words (``航空航天`` is also indexed as ``航空``, ``航天``), so
``航天`` finds ``航空航天``; a prefix rule would make one-character words match nearly everything
and is not needed for Chinese. See ``docs/decisions/0002-search-backends.md``.

Backends: SQLite uses the FTS5 table ``search_activity_fts`` (``id IN (SELECT rowid … MATCH …)``),
PostgreSQL the GIN index on ``to_tsvector('simple', search_text)``. Any other database falls back
to a whole-word ``LIKE`` scan with the same meaning (slow, but correct). Relevance is the same
expression on both (:class:`WordGaps`), so the two give the same matches in the same order.

User text never reaches a query language unescaped: FTS5 gets each word as a quoted string,
PostgreSQL gets the words through ``plainto_tsquery``, which has no operators.
"""

import json
from collections.abc import Iterable

from django.db import connections
from django.db.models import (
    BigIntegerField,
    BooleanField,
    DateTimeField,
    F,
    Func,
    IntegerField,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat

from kepuyue.search.schema import GIN_INDEX, SQLITE_REBUILD, TSV_COLUMN, ensure_index
from kepuyue.search.segment import index_text, words

# A query longer than this is cut: a search box is not a document, and every word is one more
# index lookup.
MAX_QUERY_CHARS = 100
MAX_QUERY_WORDS = 12

RANK = "search_rank"
# Above this many matches a list read in index order walks the index (see search_activities):
# SQLite counts the matches, PostgreSQL estimates them; its walk costs more per row.
WALK_FROM = 2000
PROBE_FROM = 50_000
PG_WALK_FROM = 10_000
SORT_MATCHES = "search_sort_matches"


def query_words(query: str) -> list[str]:
    """The words an activity must all contain to match ``query`` (each once, in order).

    Full-width input and case do not matter (NFKC, lower-case); punctuation and operators are
    dropped. A word inside a longer query word is dropped too: ``人工智能`` segments to ``人工``,
    ``智能``, ``人工智能``, and an activity indexed with ``人工智能`` always has its parts as well
    (``cut_for_search`` emits them together), so only ``人工智能`` is looked up — one posting
    list instead of three, and PostgreSQL estimates the match count right (it multiplies the
    parts' frequencies otherwise, and picks a slow plan). At most :data:`MAX_QUERY_WORDS` words
    from the first :data:`MAX_QUERY_CHARS` characters. An empty list means "no search".
    """
    unique = list(dict.fromkeys(words((query or "")[:MAX_QUERY_CHARS])))
    kept = [word for word in unique if not any(word != other and word in other for other in unique)]
    return kept[:MAX_QUERY_WORDS]


def fts5_query(terms: Iterable[str]) -> str:
    """An FTS5 MATCH expression requiring every term: ``"人工智能" "科普"``.

    Each term is a double-quoted FTS5 string (embedded ``"`` doubled), so ``AND``, ``OR``,
    ``NOT``, ``NEAR``, ``*``, ``-``, ``^``, ``:`` and parentheses in user text are plain characters.
    """
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def search_activities(queryset: QuerySet, query: str, *, in_index_order: bool = False) -> QuerySet:
    """Restrict ``queryset`` (of ``Activity``) to the activities matching ``query``.

    Every word of :func:`query_words` must match (AND). An empty query, or one with no words
    (only punctuation), returns ``queryset`` unfiltered. The result carries an alias
    ``search_rank`` (lower is better) for :func:`order_by_relevance`; the ordering is left as
    it was.

    ``in_index_order=True`` says the caller reads only the first rows of a list, ordered with
    :func:`order_by_start` or :func:`order_by_relevance`; the service then picks how to read
    them, by the number of matches (one more query: an FTS5 count on SQLite, the planner's
    estimate on PostgreSQL):

    - many matches (a common word): walk the list's index in order — ``act_list_idx`` or a
      place/brand index for start order, ``act_search_density_idx`` for relevance — and test
      each row, stopping after one page (30,000 matches at 500,000 rows: ~20 ms instead of
      100–300 ms for fetching every match);
    - few matches: fetch the matches from the full-text index and sort them (a walk would test
      most of the index before it found a page).

    On SQLite the test is a lookup in the set of FTS5 matches (unary plus stops SQLite from
    driving the query by that set instead); above :data:`PROBE_FROM` matches (a word in one
    activity out of ten, such as 青少年) building that set costs more than the page, and each row
    read is probed in the FTS5 index instead. On PostgreSQL the walk re-parses each row's text
    (``to_tsvector``, ~50–100 µs), which the planner underestimates: it would walk for words of
    a few thousand matches too (0.2–2 s), so for those the service marks the queryset and the
    two ``order_by_*`` functions order by an expression no index provides, which leaves the
    planner the GIN index and a sort. See docs/decisions/0002-search-backends.md.
    """
    terms = query_words(query)
    if not terms:
        return queryset.alias(**{RANK: Value(0, output_field=IntegerField())})
    vendor = connections[queryset.db].vendor
    if vendor == "sqlite":
        match = fts5_query(terms)
        # The MATCH text is a parameter built by fts5_query, never user text as such.
        matches = RawSQL("SELECT rowid FROM search_activity_fts WHERE search_activity_fts MATCH %s", [match])  # noqa: S611
        count = _sqlite_match_count(queryset.db, match) if in_index_order else 0
        if count > PROBE_FROM:
            queryset = queryset.filter(_FTSProbe(Value(match), "id"))
        elif count > WALK_FROM:
            queryset = queryset.alias(_search_id=_UnaryPlus("id")).filter(_search_id__in=matches)
        else:
            queryset = queryset.filter(id__in=matches)
    elif vendor == "postgresql":
        # The stored, GIN-indexed tsvector column (schema.TSV_COLUMN, search migration 0003): a row a
        # walk reads is tested without re-parsing its text.
        matched = _TsvMatch(Value(" ".join(terms)))
        queryset = queryset.filter(matched)
        if in_index_order and _postgresql_match_estimate(queryset, matched) < PG_WALK_FROM:
            queryset = queryset.alias(**{SORT_MATCHES: Value(True)})
    else:
        queryset = _search_by_scan(queryset, terms)
    return queryset.alias(**{RANK: WordGaps("search_text")})


class _TsvMatch(Func):
    """``search_tsv @@ plainto_tsquery('simple', <words>)`` on the activity table (PostgreSQL)."""

    template = f"{TSV_COLUMN} @@ plainto_tsquery('simple'::regconfig, %(expressions)s)"
    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        sql, params = super().as_sql(compiler, connection, **extra_context)
        return f"{table}.{sql}", params


def _postgresql_match_estimate(queryset: QuerySet, matched) -> float:
    """The planner's estimate of the activities matching (from the GIN index's statistics; no
    rows are read)."""
    probe = queryset.model._default_manager.using(queryset.db)
    sql, params = probe.filter(matched).values("id").query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"])


def order_by_start(queryset: QuerySet) -> QuerySet:
    """Order activities by start time, then id — the list order and its keyset.

    After :func:`search_activities` found few matches on PostgreSQL (see there), the same order
    is written ``starts_at + interval '0'`` so that no index seems to provide it.
    """
    if SORT_MATCHES in queryset.query.annotations:
        shifted = Func(
            F("starts_at"), template="(%(expressions)s + INTERVAL '0 seconds')", output_field=DateTimeField()
        )
        return queryset.order_by(shifted.asc(), "id")
    return queryset.order_by("starts_at", "id")


class WordGaps(Func):
    """The number of spaces in a text: its word count less one, for ``search_text``.

    The relevance of a match (lower is better). Every match contains each query word exactly
    once (``index_text`` keeps words once), so BM25 — SQLite's ``bm25()`` — orders matches by
    their length alone: its term part is the same for all of them. Counting words gives that
    order on both databases, and ``act_search_density_idx`` is built on this very expression
    (a literal ``' '``, not a parameter, so the query's expression matches the index's), where
    ``ts_rank_cd`` would re-parse every match (``to_tsvector`` ≈ 50 µs each: 1.4 s for a common
    word at 500,000 activities). See docs/decisions/0002-search-backends.md.
    """

    template = "(LENGTH(%(expressions)s) - LENGTH(REPLACE(%(expressions)s, ' ', '')))"
    output_field = IntegerField()


class _UnaryPlus(Func):
    template = "+%(expressions)s"
    output_field = BigIntegerField()


class _FTSProbe(Func):
    """``EXISTS (… MATCH <match> AND rowid = <id>)``: one FTS5 look-up per row the walk reads."""

    template = "EXISTS (SELECT 1 FROM search_activity_fts WHERE search_activity_fts MATCH %(expressions)s)"
    arg_joiner = " AND rowid = "
    output_field = BooleanField()


def _sqlite_match_count(using: str, match: str) -> int:
    """The number of FTS5 matches, counted up to ``PROBE_FROM + 1`` (a common word's count would
    cost more than the page it decides)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM search_activity_fts WHERE search_activity_fts MATCH %s LIMIT %s)",
            [match, PROBE_FROM + 1],
        )
        return cursor.fetchone()[0]


def _search_by_scan(queryset: QuerySet, terms: list[str]) -> QuerySet:
    """Whole-word containment without an index: `` word `` inside `` search_text ``."""
    queryset = queryset.alias(
        _padded_search_text=Concat(Value(" "), "search_text", Value(" "), output_field=TextField())
    )
    for term in terms:
        queryset = queryset.filter(_padded_search_text__contains=f" {term} ")
    return queryset


def order_by_relevance(queryset: QuerySet) -> QuerySet:
    """Order a queryset returned by :func:`search_activities` best match first.

    Best means the query words make up the largest share of the activity's words (BM25's order
    for this index, see :class:`WordGaps`). Ties — and an empty query — fall back to start time,
    then id, so the order is total and pages never overlap. Raises ``ValueError`` for a queryset
    that was not searched.
    """
    if RANK not in queryset.query.annotations:
        raise ValueError("order_by_relevance() needs a queryset from search_activities()")
    if isinstance(queryset.query.annotations[RANK], Value):
        # No query: every rank is the same constant, which PostgreSQL refuses in ORDER BY.
        return order_by_start(queryset)
    if SORT_MATCHES in queryset.query.annotations:
        shifted = Func(F(RANK), template="(%(expressions)s + 0)", output_field=IntegerField())
        return queryset.order_by(shifted.asc(), "starts_at", "id")
    return queryset.order_by(RANK, "starts_at", "id")


def search_text_for(activity) -> str:
    """The ``search_text`` of an activity: the words of its title, summary, organizer name and
    venue (the organizer is read, so select it with the activity)."""
    return index_text(activity.title, activity.summary, activity.organizer.name, activity.venue)


def rebuild_index(using: str = "default") -> str:
    """Rebuild the search index from ``Activity.search_text``; returns what was done.

    SQLite: restore any missing sync trigger, then FTS5 ``'rebuild'`` (seconds at 500,000
    rows; the table is locked meanwhile). PostgreSQL: ``REINDEX`` the GIN index (``CONCURRENTLY``
    outside a transaction, so reads and writes go on). The index never needs this in normal
    operation; it is for repairs and after restoring a database file.
    """
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            ensure_index(connection)
            cursor.execute(SQLITE_REBUILD)
            return "SQLite FTS5 索引已重建"
        if connection.vendor == "postgresql":
            concurrently = "" if connection.in_atomic_block else "CONCURRENTLY "
            cursor.execute(f"REINDEX INDEX {concurrently}{GIN_INDEX}")
            return "PostgreSQL GIN 索引已重建"
    return f"{connection.vendor} 没有检索索引，无需重建"
