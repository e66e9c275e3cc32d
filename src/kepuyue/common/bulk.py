"""Writing many rows fast: multi-row ``INSERT`` statements (``COPY`` on PostgreSQL) instead of
``bulk_create`` — for the importer's activities and for what an import writes beside them in the
same transaction (the change feed's rows, the roll-ups' ledger: issue 17 point 4)."""

from __future__ import annotations

import functools
from datetime import datetime

# Many rows per INSERT statement: SQLite's FTS5 index (kepuyue.search) flushes its pending terms at
# every statement, so one row per statement costs ~4× more than 500 rows per statement.
INSERT_ROWS_PER_STATEMENT = 500


def insert_rows(
    model, rows: list[dict], *, now: datetime, ignore_conflicts: bool = False, returning: bool = False
) -> list[int] | None:
    """Insert ``rows`` (dicts of field ``attname`` → value; missing fields take their defaults,
    ``created``/``updated`` and ``auto_now``/``auto_now_add`` fields are ``now``) with multi-row
    ``INSERT`` statements.

    Why not ``bulk_create``: profiling a 100,000-row import on SQLite showed Django's per-field
    preparation and 24-row statements (SQLite's 999-parameter limit) costing more time than the
    database itself; at 500,000 activities the same held for the change feed's and the roll-ups'
    10,000 rows of an import (issue 17 point 4). Values here are adapted once per field type by the
    backend's own adapters (``adapt_datetimefield_value``, ``adapt_datefield_value``,
    ``adapt_decimalfield_value``), which is what ``bulk_create`` ends up doing for these field types.
    No pre_save hooks or signals run. A primary key is written when the model's is not an automatic
    one (the roll-ups' ``Fact`` is keyed by the activity). ``ignore_conflicts`` skips rows that hit a
    unique constraint (``ON CONFLICT DO NOTHING``, SQLite 3.24+ and PostgreSQL).

    ``returning``: return the automatic primary keys of the inserted rows (in no particular order)
    where the database hands them back with the insert (SQLite 3.35+ ``RETURNING``); ``None`` where it
    does not (PostgreSQL's ``COPY``) — the caller then reads them itself.
    """
    if not rows:
        return [] if returning else None
    from django.db import connections, router
    from django.db.models import DateField, DateTimeField, DecimalField, TimeField

    connection = connections[router.db_for_write(model)]
    ops = connection.ops
    auto = model._meta.auto_field
    # A generated column (span_class) is computed by the database, never inserted.
    fields = [f for f in model._meta.concrete_fields if f is not auto and not f.generated]
    plan = []
    for f in fields:
        if (
            f.attname in ("created", "updated")
            or getattr(f, "auto_now", False)
            or getattr(f, "auto_now_add", False)
        ):
            plan.append((f.attname, now, ops.adapt_datetimefield_value, True))
            continue
        if isinstance(f, DateTimeField):
            adapt = ops.adapt_datetimefield_value
        elif isinstance(f, DateField):
            adapt = ops.adapt_datefield_value
        elif isinstance(f, TimeField):
            adapt = ops.adapt_timefield_value
        elif isinstance(f, DecimalField):
            adapt = functools.partial(
                ops.adapt_decimalfield_value, max_digits=f.max_digits, decimal_places=f.decimal_places
            )
        else:
            adapt = None
        plan.append((f.attname, f.get_default(), adapt, False))
    plan = [
        (name, adapt(default) if fixed else default, None if fixed else adapt, fixed)
        for name, default, adapt, fixed in plan
    ]
    adapted: dict = {}  # the same instants recur (start and end days, published_at)
    values = []
    for row in rows:
        record = []
        for name, default, adapt, fixed in plan:
            value = default if fixed else row.get(name, default)
            if adapt is not None and value is not None:
                cached = adapted.get(value)
                if cached is None:
                    cached = adapted[value] = adapt(value)
                value = cached
            record.append(value)
        values.append(record)
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    table = ops.quote_name(model._meta.db_table)
    if connection.vendor == "postgresql" and not ignore_conflicts:
        # COPY: psycopg adapts rows in C, several times faster than 17,500-parameter INSERTs.
        # The raw psycopg cursor's errors are wrapped as Django's (a duplicate key is an IntegrityError
        # to the caller on both databases: the API's bulk upsert retries on it).
        with connection.cursor() as cursor, connection.wrap_database_errors:
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for record in values:
                    copy.write_row(record)
        return None
    marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Identifiers come from the model (quoted by the backend); every value is a parameter.
    head = f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    back = returning and auto is not None and connection.features.can_return_rows_from_bulk_insert
    if back:
        tail += f" RETURNING {ops.quote_name(auto.column)}"
    ids: list[int] = []
    per_statement = max(1, min(INSERT_ROWS_PER_STATEMENT, parameter_limit(connection) // len(fields)))
    with connection.cursor() as cursor:
        for start in range(0, len(values), per_statement):
            chunk = values[start : start + per_statement]
            cursor.execute(
                head + ", ".join([marks] * len(chunk)) + tail, [v for record in chunk for v in record]
            )
            if back:
                ids.extend(pk for (pk,) in cursor.fetchall())
    return ids if back else None


def parameter_limit(connection) -> int:
    """How many ``%s`` parameters one statement may carry on ``connection``."""
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 65535
