"""Hot-path SQL compiled once (decision 0034): a read of a fixed shape (:class:`PreparedRead`), a
conditional ``UPDATE`` (:class:`PreparedUpdate`) and the insert of one new row (:func:`insert`).

Django compiles every query anew on every request: building the ``SELECT`` list of a three-join read,
quoting names, resolving lookups. On the booking request that was ~22 % of its CPU (decision 0031's
profile), for statements whose SQL never changes — only their values do. Here the ORM still writes
the SQL, once per database alias, from an ordinary queryset built with *placeholder* values; each
call executes that SQL with the real values and builds the model instances the way the ORM's own
iterator does (the backend's converters, ``Model.from_db``, ``select_related`` objects). Same SQL,
same instances, same errors — without the compilation.

:func:`insert` writes one instance as ``save()`` would on a first save — ``pre_save`` (so the text
cleaning of :mod:`kepuyue.common.text` runs) and ``post_save`` (``created=True``) are sent, every
field's ``pre_save`` (``auto_now_add``) and ``get_db_prep_save`` apply, the automatic key comes back
with ``RETURNING`` — but through one ``INSERT`` whose text is built once per model.

**Prepared on PostgreSQL.** Django sends every statement with its values written into the text
(psycopg's client-side binding), so PostgreSQL parses and plans each one anew: 2.3 ms of the
server's CPU a booking, on the same cores as the workers. These statements run through a
server-binding cursor on the same connection instead, and psycopg prepares each one the first time
a connection runs it (``prepare_threshold``, set in ``settings.DATABASES``; ``KEPUYUE_PG_PREPARE=0``
turns it off, e.g. behind a PgBouncer older than 1.21 in transaction mode): the server plans a
statement once per connection and only binds the values after. Everything else keeps Django's
client-side binding. The statements still go through Django's cursor wrapper, so query counts,
``execute_wrapper`` hooks and error translation are unchanged.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from typing import Any

from django.db import connections, router, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import UpdateQuery


def _cursor(connection) -> CursorWrapper:
    """Django's cursor for ``connection``; on PostgreSQL with prepared statements on, made from a
    server-binding psycopg cursor (see the module's docstring) — by Django's own ``create_cursor``,
    so the time zone loader and the wrapper are the usual ones."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    raw = connection.connection
    if getattr(raw, "prepare_threshold", None) is None:
        return connection.cursor()
    usual = raw.cursor_factory  # this thread's own connection: nobody else makes a cursor meanwhile
    raw.cursor_factory = _server_binding_cursor()
    try:
        return connection.cursor()
    finally:
        raw.cursor_factory = usual


@functools.cache
def _server_binding_cursor() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor
    from psycopg import ClientCursor

    class Shown:
        """What Django's query log reads of a statement (``last_executed_query`` reads
        ``cursor._query.query``; psycopg keeps none for a server-bound one): the statement with its
        values written in, as client-side binding would send it — composed only when read (``DEBUG``,
        ``CaptureQueriesContext``)."""

        __slots__ = ("_connection", "_sql", "_params")

        def __init__(self, connection, sql, params):
            self._connection, self._sql, self._params = connection, sql, params

        @property
        def query(self) -> bytes:
            return ClientCursor(self._connection).mogrify(self._sql, self._params).encode()

    class PreparingCursor(ServerBindingCursor):
        """Django's server-binding cursor whose statements the query log can still show."""

        def execute(self, query, params=None, **kwargs):
            try:
                return super().execute(query, params, **kwargs)
            finally:
                self._query = Shown(self.connection, query, params)

    return PreparingCursor


class _Plan:
    """A compiled statement: its SQL, its parameters with the placeholders' positions."""

    def __init__(self, compiler, sql: str, params, placeholders: dict[str, Any]):
        self.compiler = compiler
        self.sql = sql
        self.params = list(params)
        # name -> [(position, the type the backend gave the value)]: PostgreSQL's backend passes an
        # integer inside an expression as psycopg's ``Int4``, and so must every later value.
        self.slots: dict[str, list[tuple[int, type]]] = {}
        for name, marker in placeholders.items():
            found = [
                (i, type(p)) for i, p in enumerate(self.params) if isinstance(p, type(marker)) and p == marker
            ]
            if not found:  # a value the ORM folded into the SQL text cannot be swapped later
                raise ValueError(f"placeholder {name!r} is not a parameter of {sql!r}")
            self.slots[name] = found

    def bind(self, values: dict[str, Any]) -> list:
        params = self.params.copy()
        for name, positions in self.slots.items():
            value = values[name]
            for i, kind in positions:
                params[i] = value if value is None or type(value) is kind else kind(value)
        return params


class _Prepared:
    def __init__(self, build: Callable[..., Any], **placeholders: Any):
        # ``build(**values)`` returns the queryset; ``placeholders``: a value for each name that
        # occurs nowhere else in the statement (e.g. -7_000_000_001 for a primary key).
        self._build = build
        self._placeholders = placeholders
        self._plans: dict[str, _Plan] = {}
        self._lock = threading.Lock()

    def _plan(self, alias: str) -> _Plan:
        plan = self._plans.get(alias)
        if plan is None:
            with self._lock:
                plan = self._plans.get(alias)
                if plan is None:
                    plan = self._plans[alias] = self._compile(alias)
        return plan

    def _compile(self, alias: str) -> _Plan:  # pragma: no cover - defined by the subclasses
        raise NotImplementedError


class PreparedRead(_Prepared):
    """A ``SELECT`` whose SQL is compiled once per database: ``PreparedRead(lambda pk: Session.objects
    .select_related(...).filter(pk=pk), pk=-7_000_000_001)``, then ``.first(pk=12)`` → the instance (with
    its ``select_related`` objects) or ``None``; ``.all(pk=12)`` → the list."""

    def _compile(self, alias: str) -> _Plan:
        queryset: QuerySet = self._build(**self._placeholders)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        plan = _Plan(compiler, sql, params, self._placeholders)
        select, klass_info = compiler.select, compiler.klass_info
        if compiler.annotation_col_map or queryset._fields is not None or queryset._prefetch_related_lookups:
            raise ValueError("only plain model reads (no annotations, values() or prefetches)")
        fields = klass_info["select_fields"]
        plan.model = klass_info["model"]
        plan.start, plan.end = fields[0], fields[-1] + 1
        plan.init_list = [f[0].target.attname for f in select[plan.start : plan.end]]
        plan.related = get_related_populators(klass_info, select, alias)
        plan.alias = alias
        return plan

    def all(self, **values: Any) -> list:
        alias = self._alias()
        plan = self._plan(alias)
        connection = connections[alias]
        with _cursor(connection) as cursor:
            cursor.execute(plan.sql, plan.bind(values))
            rows = cursor.fetchall()
        # The backend's converters (SQLite's datetimes, JSON…), as the ORM applies them, for this
        # thread's connection.
        compiler = copy.copy(plan.compiler)
        compiler.connection = connection
        out = []
        for row in compiler.results_iter(results=[rows]):
            obj = plan.model.from_db(alias, plan.init_list, row[plan.start : plan.end])
            for populator in plan.related:
                populator.populate(row, obj)
            out.append(obj)
        return out

    def first(self, **values: Any):
        found = self.all(**values)
        return found[0] if found else None

    def _alias(self) -> str:
        model = getattr(self, "_model", None)
        if model is None:
            model = self._model = self._build(**self._placeholders).model
        return router.db_for_read(model)


class PreparedUpdate(_Prepared):
    """A conditional ``UPDATE`` compiled once per database: ``PreparedUpdate(lambda pk, n:
    (Session.objects.filter(pk=pk, booked__lte=F("capacity") - n), {"booked": F("booked") + n}),
    pk=-7_000_000_001, n=-7_000_000_002)``, then ``.run(pk=12, n=2)`` → the rows changed, as
    ``QuerySet.update`` returns them. No signals (``update()`` sends none either)."""

    def _compile(self, alias: str) -> _Plan:
        queryset, changes = self._build(**self._placeholders)
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(changes)
        query.annotations = {}
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        if query.related_updates:
            raise ValueError("only updates of the model's own table")
        plan = _Plan(compiler, sql, params, self._placeholders)
        plan.alias = alias
        return plan

    def run(self, **values: Any) -> int:
        model = getattr(self, "_model", None)
        if model is None:
            model = self._model = self._build(**self._placeholders)[0].model
        alias = router.db_for_write(model)
        plan = self._plan(alias)
        with transaction.mark_for_rollback_on_error(using=alias), _cursor(connections[alias]) as cursor:
            cursor.execute(plan.sql, plan.bind(values))
            return cursor.rowcount


_inserts: dict[tuple[type, str], tuple] = {}


def insert(instance: Model) -> Model:
    """Insert ``instance`` (a new row, automatic primary key) as its first ``save()`` would — the same
    signals, field preparation and values — with one ``INSERT`` built once per model and database.
    A model with its own ``save()``, a parent model or columns the database fills in is saved
    through ``save()`` instead, so nothing a model adds is ever skipped. Returns ``instance``."""
    model = type(instance)
    meta = model._meta
    alias = router.db_for_write(model, instance=instance)
    if (
        model.save is not Model.save
        or meta.parents
        or meta.proxy
        or meta.auto_field is None
        or instance.pk is not None
        or list(meta.db_returning_fields) != [meta.pk]
    ):
        instance.save(force_insert=True, using=alias)
        return instance
    connection = connections[alias]
    plan = _inserts.get((model, alias))
    if plan is None:
        ops = connection.ops
        fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
        columns = ", ".join(ops.quote_name(f.column) for f in fields)
        sql = f"INSERT INTO {ops.quote_name(meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608 - names from the model
        returning = connection.features.can_return_columns_from_insert
        if returning:
            tail, _ = ops.return_insert_columns([meta.pk])
            sql = f"{sql} {tail}"
        plan = _inserts[(model, alias)] = (fields, sql, returning)
    fields, sql, returning = plan
    instance._prepare_related_fields_for_save(operation_name="save")
    pre_save.send(sender=model, instance=instance, raw=False, using=alias, update_fields=None)
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection=connection) for f in fields]
    with transaction.mark_for_rollback_on_error(using=alias), _cursor(connection) as cursor:
        cursor.execute(sql, params)
        if returning:
            pk = cursor.fetchone()[0]
        else:
            pk = connection.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
    setattr(instance, meta.pk.attname, pk)
    instance._state.adding = False
    instance._state.db = alias
    post_save.send(sender=model, instance=instance, created=True, update_fields=None, raw=False, using=alias)
    return instance
