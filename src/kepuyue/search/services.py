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
expression on both (:func:`_density`), so the two give the same matches in the same order.

User text never reaches a query language unescaped: FTS5 gets each word as a quoted string,
PostgreSQL gets the words through ``plainto_tsquery``, which has no operators.
"""

from collections.abc import Iterable

from django.db import connections, transaction
from django.db.models import BigIntegerField, F, Func, IntegerField, QuerySet, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat, Length, Replace

from kepuyue.search.schema import GIN_INDEX, SQLITE_REBUILD, ensure_index
from kepuyue.search.segment import index_text, words

# A query longer than this is cut: a search box is not a document, and every word is one more
# index lookup.
MAX_QUERY_CHARS = 100
MAX_QUERY_WORDS = 12

RANK = "search_rank"
# Above this many matches a list sorted by start walks its index on SQLite (see search_activities).
WALK_FROM = 2000


def query_words(query: str) -> list[str]:
    """The words an activity must all contain to match ``query`` (each once, in order).

    Full-width input and case do not matter (NFKC, lower-case); punctuation and operators are
    dropped. At most :data:`MAX_QUERY_WORDS` words from the first :data:`MAX_QUERY_CHARS`
    characters. An empty list means "no search": callers do not filter.
    """
    unique = dict.fromkeys(words((query or "")[:MAX_QUERY_CHARS]))
    return list(unique)[:MAX_QUERY_WORDS]


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
    ``search_rank`` (higher is better) for :func:`order_by_relevance`; the ordering is left as
    it was.

    ``in_index_order=True`` says the caller reads the first rows in the order of one of the
    ``(…, starts_at, id)`` list indexes (a list sorted by start). For a common word SQLite then
    walks that index and tests each row against the set of matches, stopping after one page,
    instead of fetching every match and sorting (20 ms instead of 100 ms for 30,000 matches at
    500,000 rows); it costs one FTS5 count query to decide. PostgreSQL's planner makes that choice
    itself from the index statistics.
    """
    terms = query_words(query)
    if not terms:
        return queryset.alias(**{RANK: Value(0, output_field=IntegerField())})
    vendor = connections[queryset.db].vendor
    if vendor == "sqlite":
        match = fts5_query(terms)
        # The MATCH text is a parameter built by fts5_query, never user text as such.
        matches = RawSQL("SELECT rowid FROM search_activity_fts WHERE search_activity_fts MATCH %s", [match])  # noqa: S611
        if in_index_order and _sqlite_match_count(queryset.db, match) > WALK_FROM:
            # Unary plus keeps SQLite from driving the query by the match list (one primary-key
            # lookup per match); the IN list becomes a lookup table for the index walk instead.
            queryset = queryset.alias(_search_id=_UnaryPlus("id")).filter(_search_id__in=matches)
        else:
            queryset = queryset.filter(id__in=matches)
    elif vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        # The same expression as the GIN index (schema.GIN_INDEX), or PostgreSQL cannot use it.
        vector = SearchVector("search_text", config="simple")
        tsquery = SearchQuery(" ".join(terms), config="simple", search_type="plain")
        queryset = queryset.alias(search_vector=vector).filter(search_vector=tsquery)
    else:
        queryset = _search_by_scan(queryset, terms)
    return queryset.alias(**{RANK: _density()})


def _density():
    """Minus the number of word separators in ``search_text``: higher means the query words are
    a larger share of the activity's words.

    Every match contains each query word exactly once (``index_text`` keeps words once), so BM25
    (SQLite's ``bm25()``) orders the matches by this alone — its term part is the same for all
    of them. Computing it from the text gives that order on both databases, where
    ``ts_rank_cd`` would re-parse every match (``to_tsvector`` ≈ 50 µs each: seconds for a
    common word at 500,000 activities). See docs/decisions/0002-search-backends.md.
    """
    text = F("search_text")
    return Length(Replace(text, Value(" "), Value(""))) - Length(text)


class _UnaryPlus(Func):
    template = "+%(expressions)s"
    output_field = BigIntegerField()


def _sqlite_match_count(using: str, match: str) -> int:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM search_activity_fts WHERE search_activity_fts MATCH %s", [match])
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
    for this index, see :func:`_density`). Ties — and an empty query — fall back to start time,
    then id, so the order is total and pages never overlap. Raises ``ValueError`` for a queryset that was not
    searched.
    """
    if RANK not in queryset.query.annotations:
        raise ValueError("order_by_relevance() needs a queryset from search_activities()")
    if isinstance(queryset.query.annotations[RANK], Value):
        # No query: every rank is the same constant, which PostgreSQL refuses in ORDER BY.
        return queryset.order_by("starts_at", "id")
    return queryset.order_by(F(RANK).desc(), "starts_at", "id")


def search_text_for(activity) -> str:
    """The ``search_text`` of an activity: the words of its title, summary, organizer name and
    venue (the organizer is read, so select it with the activity)."""
    return index_text(activity.title, activity.summary, activity.organizer.name, activity.venue)


def refresh_search_text(ids: Iterable[int] | None = None, *, batch_size: int = 2000) -> int:
    """Recompute ``Activity.search_text`` for the activities ``ids`` (all when ``None``).

    Use it after a change the activity rows do not see, e.g. an organization renamed or the
    segmentation dictionary extended. Rows whose text is unchanged are not written; the index
    follows the written rows by itself (triggers on SQLite, the expression index on
    PostgreSQL). Returns the number of activities updated.
    """
    from kepuyue.activities.models import Activity

    queryset = Activity.objects.select_related("organizer").only(
        "id", "title", "summary", "venue", "search_text", "organizer__name"
    )
    if ids is not None:
        ids = sorted(set(ids))
    updated = 0
    last_id = 0
    while True:
        if ids is None:
            batch = list(queryset.filter(id__gt=last_id).order_by("id")[:batch_size])
        else:
            chunk, ids = ids[:batch_size], ids[batch_size:]
            batch = list(queryset.filter(id__in=chunk).order_by("id")) if chunk else []
        if not batch:
            return updated
        last_id = batch[-1].id
        changed = []
        for activity in batch:
            text = search_text_for(activity)
            if text != activity.search_text:
                activity.search_text = text
                changed.append(activity)
        if changed:
            with transaction.atomic():
                Activity.objects.bulk_update(changed, ["search_text"])
            updated += len(changed)


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
            if not ensure_index(connection):  # a repair already rebuilt it
                cursor.execute(SQLITE_REBUILD)
            return "SQLite FTS5 索引已重建"
        if connection.vendor == "postgresql":
            concurrently = "" if connection.in_atomic_block else "CONCURRENTLY "
            cursor.execute(f"REINDEX INDEX {concurrently}{GIN_INDEX}")
            return "PostgreSQL GIN 索引已重建"
    return f"{connection.vendor} 没有检索索引，无需重建"
