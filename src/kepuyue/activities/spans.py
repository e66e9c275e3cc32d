"""How long an activity lasts, in classes 时长档 — what makes the "ongoing" filter cheap (issue 17 §2).

"Ongoing at *now*" (``starts_at ≤ now ≤ ends_at``) is an interval query: neither bound alone is
selective (during the campaign a third of the rows have started, two thirds end later), so an index
on either walks every started row (9 s on SQLite, 4 s on PostgreSQL at 500,000 rows). Activities are
therefore sorted into duration classes by a database-computed column ``span_class``: class *k*
holds the activities lasting at most :data:`SPAN_HOURS` [k] hours (and more than the class below).
An activity of class *k* that is ongoing started within the last ``SPAN_HOURS[k]`` hours, so the
filter becomes one short range per class on the index ``(span_class, starts_at, ends_at, …)``::

    (span_class = 0 AND starts_at BETWEEN now − 1 h AND now) OR (span_class = 1 AND … now − 2 h …) …

and since a class's activities last at least half its bound, the rows read are at most about twice
the rows that are ongoing — whatever the size of the table. The last class (more than
``SPAN_HOURS[-1]`` hours) is read by ``starts_at ≤ now`` alone; a campaign has few such rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import models
from django.db.models import Q

#: Upper bound in hours of each duration class; the class after the last is "longer".
SPAN_HOURS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)
LONGEST_CLASS = len(SPAN_HOURS)
# The query's ranges are this much wider than the classes: SQLite computes hours in floating point
# (julianday), so a 1-hour activity may land in class 0 at 0.9999999 h or class 1 at 1.0000001 h.
_SLACK = timedelta(minutes=1)


class SpanClass(models.Func):
    """``span_class`` of ``(starts_at, ends_at)`` as SQL, for the generated column (immutable on
    PostgreSQL, deterministic on SQLite: no ``now``)."""

    output_field = models.SmallIntegerField()
    arity = 2

    def _case(self, hours_sql: str) -> str:
        whens = " ".join(f"WHEN {hours_sql} <= {h} THEN {k}" for k, h in enumerate(SPAN_HOURS))
        return f"(CASE {whens} ELSE {LONGEST_CLASS} END)"

    def as_sql(self, compiler, connection, **extra_context):
        start, start_params = compiler.compile(self.source_expressions[0])
        end, end_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            hours = f"(EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0)"
        else:
            hours = f"((julianday({end}) - julianday({start})) * 24.0)"
        # Each column appears once per class; the parameters (none for columns) follow suit.
        sql = self._case(hours)
        params = (tuple(start_params) + tuple(end_params)) * len(SPAN_HOURS)
        return sql, params


def span_class_of(starts_at: datetime, ends_at: datetime) -> int:
    """The class the database computes, in Python (tests, explanations)."""
    hours = (ends_at - starts_at).total_seconds() / 3600
    for k, bound in enumerate(SPAN_HOURS):
        if hours <= bound:
            return k
    return LONGEST_CLASS


def ongoing_q(now: datetime) -> Q:
    """Rows ongoing at ``now``: one start range per duration class, and ``ends_at ≥ now``."""
    started = Q(span_class=LONGEST_CLASS, starts_at__lte=now)
    for k, bound in enumerate(SPAN_HOURS):
        started |= Q(span_class=k, starts_at__gte=now - timedelta(hours=bound) - _SLACK, starts_at__lte=now)
    return started & Q(ends_at__gte=now)


def class_ranges(now: datetime) -> list[tuple[int, datetime]]:
    """``(class, earliest start)`` of each duration class for "ongoing at ``now``" — the ranges of
    :func:`ongoing_q`, one per class (the last class: any start since :data:`_EPOCH`)."""
    ranges = [(k, now - timedelta(hours=bound) - _SLACK) for k, bound in enumerate(SPAN_HOURS)]
    ranges.append((LONGEST_CLASS, _EPOCH))
    return ranges


# Earlier than any activity; and two stand-ins that mark where a class's values go in the SQL.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CLASS_MARK = -7_919
_START_MARK = datetime(1901, 2, 3, 4, 5, 6, 789_012, tzinfo=UTC)


def ongoing_keys(
    queryset,
    now: datetime,
    *,
    limit: int,
    descending: bool = False,
    after: tuple[datetime, int] | None = None,
    before: tuple[datetime, int] | None = None,
) -> list[int]:
    """The ids of the first ``limit`` rows of ``queryset`` ongoing at ``now``, in ``(starts_at, id)``
    order (``descending``: the last ones, latest first) — in **one** query that reads at most
    ``limit`` matching index entries per duration class, not every ongoing row (issue 17 §2).

    ``queryset`` holds the other filters (campaign, status, place…) and no ordering. Each class is
    one ``ORDER BY starts_at, id LIMIT limit`` range on ``act_ongoing_list_idx`` ``(campaign, status,
    span_class, starts_at, id, ends_at)``, which hands its rows over in list order with ``ends_at``
    tested in the index; a ``UNION ALL`` merges the classes' few rows and sorts them. (``ORDER BY …
    LIMIT`` over the ``OR`` of :func:`ongoing_q` fetches and sorts every ongoing row: 11,646 at
    500,000 activities during the campaign, 161 ms on PostgreSQL under load.)

    ``after`` / ``before`` are a keyset position ``(starts_at, id)``: only the rows after (before)
    it, with the bound folded into each class's own range — SQLite takes one lower bound per index
    range, and a separate ``starts_at ≥ t`` left it reading each class from its earliest start
    (page 2: 159 ms). The ORM compiles one class's query; the others reuse its SQL with their values.
    """
    from django.db import connections

    connection = connections[queryset.db]
    order = ("-starts_at", "-id") if descending else ("starts_at", "id")
    upper = min(now, before[0]) if before else now
    rows = queryset.filter(ends_at__gte=now)
    if after:
        rows = rows.filter(Q(starts_at__gt=after[0]) | Q(id__gt=after[1]))
    if before:
        rows = rows.filter(Q(starts_at__lt=before[0]) | Q(id__lt=before[1]))
    one = (
        rows.filter(span_class=_CLASS_MARK, starts_at__gte=_START_MARK, starts_at__lte=upper)
        .order_by(*order)
        .values_list("starts_at", "id")[:limit]
    )
    sql, template = one.query.sql_with_params()
    start_mark = connection.ops.adapt_datetimefield_value(_START_MARK)
    class_at = [i for i, value in enumerate(template) if value == _CLASS_MARK]
    start_at = [i for i, value in enumerate(template) if value == start_mark]
    if len(class_at) != 1 or len(start_at) != 1:  # never expected: the plain filter, same rows
        lowest = after[0] if after else _EPOCH
        plain = rows.filter(ongoing_q(now), starts_at__gte=lowest, starts_at__lte=upper)
        return list(plain.order_by(*order).values_list("id", flat=True)[:limit])
    parts, params = [], []
    for n, (k, earliest) in enumerate(class_ranges(now)):
        values = list(template)
        values[class_at[0]] = k
        lowest = max(earliest, after[0]) if after else earliest
        values[start_at[0]] = connection.ops.adapt_datetimefield_value(lowest)
        # The ORM's own SQL with its parameters kept apart; nothing here comes from user text.
        parts.append(f"SELECT * FROM ({sql}) AS c{n}")  # noqa: S608
        params.extend(values)
    direction = "DESC" if descending else "ASC"
    union = " UNION ALL ".join(parts)
    merged = f"SELECT id FROM ({union}) AS ongoing ORDER BY starts_at {direction}, id {direction} LIMIT {int(limit)}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(merged, params)
        return [row[0] for row in cursor.fetchall()]
