"""Writing imported rows: unknown organizers first, then multi-row inserts and bulk updates."""

from __future__ import annotations

import functools
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kepuyue.common.events import send_in_transaction
from kepuyue.search.segment import index_text

from .. import services, signals
from ..models import Activity, Status
from .cells import ORGANIZATION_TYPE_NAMES, key, organization_type_for
from .validation import Row


class RowWriter:
    """The batch writing of :class:`~kepuyue.activities.importing.jobs.Importer` (mixed into it)."""

    # -- writing --

    COMPARED = (
        "campaign_id",
        "joint_action_id",
        "key_task_id",
        "brand_id",
        "title",
        "starts_at",
        "ends_at",
        "form",
        "online_url",
        "region_id",
        "province_code",
        "prefecture_code",
        "county_code",
        "audiences",
        "topics",
        "special_areas",
        "external_id",
        "venue",
        "co_organizers",
        "summary",
        "description",
        "expected_participants",
        "science_workers",
        "contact_name",
        "contact_phone",
        "latitude",
        "longitude",
    )
    # Source column(s) of each optional field: a field is updated only if its column is in the file,
    # so a re-import of a sheet without e.g. 活动简介 keeps the summary written in the form.
    SOURCES = {
        "key_task_id": ("key_task", "brand"),
        "brand_id": ("brand",),
        "online_url": ("online_url",),
        "region_id": ("province", "city", "county", "region_code"),
        "province_code": ("province", "city", "county", "region_code"),
        "prefecture_code": ("province", "city", "county", "region_code"),
        "county_code": ("province", "city", "county", "region_code"),
        "audiences": ("audiences",),
        "topics": ("topics",),
        "special_areas": ("special_areas",),
        "external_id": ("external_id",),
        "venue": ("venue",),
        "co_organizers": ("co_organizers", "organizer"),
        "summary": ("summary",),
        "description": ("description",),
        "expected_participants": ("expected_participants",),
        "science_workers": ("science_workers",),
        "contact_name": ("contact_name",),
        "contact_phone": ("contact_phone",),
        "latitude": ("latitude",),
        "longitude": ("longitude",),
    }

    def updatable_fields(self) -> list[str]:
        return [f for f in self.COMPARED if f not in self.SOURCES or set(self.SOURCES[f]) & self.present]

    def ensure_organizers(self, batch: list[Row]) -> None:
        """Create the unknown organizers of an administrator's import (one insert per batch)."""
        from kepuyue.orgs.models import Organization, OrganizationType

        missing = {}
        # A new organizer is placed where its first activity is: the platform administrators' scopes
        # go by the unit's region (kepuyue.roles), and a unit without one would be in nobody's scope.
        places: dict[str, str | None] = {}
        for row in batch:
            if row.organizer_id is None:
                found = self.org_ids.get(key(row.organizer_name))
                if found:
                    row.organizer_id = found
                else:
                    missing.setdefault(key(row.organizer_name), row.organizer_name)
                    if not places.get(row.organizer_name):
                        places[row.organizer_name] = row.values.get("region_id")
        if missing:
            for name in missing.values():
                code = organization_type_for(name)
                if code not in self.type_names:
                    label = ORGANIZATION_TYPE_NAMES[code]
                    if OrganizationType.objects.filter(name=label).exclude(code=code).exists():
                        label = f"{label}（{code}）"
                    OrganizationType.objects.get_or_create(code=code, defaults={"name": label})
                    self.type_names[code] = label
            insert_rows(
                Organization,
                [
                    {"name": name, "type_id": organization_type_for(name), "region_id": places.get(name)}
                    for name in missing.values()
                ],
                now=self.now,
                ignore_conflicts=True,
            )
            for pk, name, kind, created in Organization.objects.filter(
                name__in=list(missing.values())
            ).values_list("pk", "name", "type_id", "created"):
                if created == self.now:  # inserted just now by this import: it has no activities yet
                    self.new_orgs.add(pk)
                self.org_ids[key(name)] = pk
                self.org_types[key(name)] = kind
                self.org_names[pk] = name
            for row in batch:
                if row.organizer_id is None:
                    row.organizer_id = self.org_ids[key(row.organizer_name)]

    def write(self, batch: list[Row], counts: dict) -> None:
        """Create, update or leave each row of ``batch`` (one transaction, a few queries)."""
        if not batch:
            return
        self.ensure_organizers(batch)
        fields = self.updatable_fields()
        external = {r.values["external_id"] for r in batch if r.values["external_id"]}
        titles = {r.values["title"] for r in batch}
        condition = Q(title__in=titles)
        if external:
            condition |= Q(external_id__in=external)
        # Units created by this import have only this import's activities, which the in-file check
        # (``seen``) already keeps unique: no need to look for them.
        known = {r.organizer_id for r in batch} - self.new_orgs
        existing = (
            Activity.objects.filter(organizer_id__in=known).filter(condition).order_by() if known else []
        )
        by_external, by_title = {}, {}
        for current in existing.values("id", "organizer_id", "status", *self.COMPARED) if known else ():
            if current["external_id"]:
                by_external[(current["organizer_id"], current["external_id"])] = current
            by_title.setdefault((current["organizer_id"], current["title"], current["starts_at"]), current)
        new, changed = [], []
        status = Status.DRAFT if self.organization is not None else Status.PUBLISHED
        for row in batch:
            v = row.values
            current = None
            if v["external_id"]:
                current = by_external.get((row.organizer_id, v["external_id"]))
            if current is None:
                candidate = by_title.get((row.organizer_id, v["title"], v["starts_at"]))
                if candidate is not None and (
                    not candidate["external_id"] or not v["external_id"] or "external_id" not in self.present
                ):
                    current = candidate
            name = self.org_names.get(row.organizer_id, row.organizer_name)
            if current is None:
                new.append(
                    {
                        **v,
                        "organizer_id": row.organizer_id,
                        "status": status,
                        "published_at": self.now if status == Status.PUBLISHED else None,
                        "search_text": index_text(v["title"], v["summary"], name, v["venue"]),
                    }
                )
                continue
            differs = [f for f in fields if current[f] != v[f]]
            if not differs:
                counts["unchanged"] += 1
                continue
            if self.organization is not None and current["status"] not in services.EDITABLE_STATUSES:
                self.issue(
                    row.number,
                    self.header_of("title"),
                    v["title"],
                    _("该活动已%(status)s，不能通过导入修改；请在活动管理中撤回或联系审核人员")
                    % {"status": Status(current["status"]).label},
                )
                self.result.valid -= 1
                continue
            merged = {f: (v[f] if f in fields else current[f]) for f in self.COMPARED}
            activity = Activity(pk=current["id"], organizer_id=row.organizer_id, **merged)
            activity.search_text = index_text(merged["title"], merged["summary"], name, merged["venue"])
            activity.updated = self.now
            changed.append(activity)
        with transaction.atomic():
            insert_rows(Activity, new, now=self.now)
            if changed:
                Activity.objects.bulk_update(changed, [*fields, "search_text", "updated"], batch_size=200)
            if new or changed:
                # Bulk writes send no model signals: tell the roll-ups which units' rows changed.
                send_in_transaction(
                    signals.activities_imported,
                    Activity,
                    organizer_ids=sorted({r.organizer_id for r in batch}),
                    since=self.now,
                )
        counts["created"] += len(new)
        counts["updated"] += len(changed)


# --- writing rows fast -------------------------------------------------------------------------------


def insert_rows(model, rows: list[dict], *, now: datetime, ignore_conflicts: bool = False) -> None:
    """Insert ``rows`` (dicts of field ``attname`` → value; missing fields take their defaults,
    ``created``/``updated`` are ``now``) with multi-row ``INSERT`` statements.

    Why not ``bulk_create``: profiling a 100,000-row import on SQLite showed Django's per-field
    preparation and 24-row statements (SQLite's 999-parameter limit) costing more time than the
    database itself. Values here are adapted once per field type by the backend's own adapters
    (``adapt_datetimefield_value``, ``adapt_decimalfield_value``), which is what ``bulk_create``
    ends up doing for these field types. No pre_save hooks or signals run (the models have none
    beyond the timestamps set here). ``ignore_conflicts`` skips rows that hit a unique constraint
    (``ON CONFLICT DO NOTHING``, SQLite 3.24+ and PostgreSQL).
    """
    if not rows:
        return
    from django.db import connections, router
    from django.db.models import DateTimeField, DecimalField

    connection = connections[router.db_for_write(model)]
    ops = connection.ops
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    plan = []
    for f in fields:
        if f.attname in ("created", "updated"):
            plan.append((f.attname, now, ops.adapt_datetimefield_value, True))
            continue
        if isinstance(f, DateTimeField):
            adapt = ops.adapt_datetimefield_value
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
    if connection.vendor == "postgresql" and not ignore_conflicts:
        # COPY: psycopg adapts rows in C, several times faster than 17,500-parameter INSERTs.
        with connection.cursor() as cursor:
            with cursor.cursor.copy(
                f"COPY {ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
            ) as copy:
                for record in values:
                    copy.write_row(record)
        return
    marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Identifiers come from the model (quoted by the backend); every value is a parameter.
    head = f"INSERT INTO {ops.quote_name(model._meta.db_table)} ({columns}) VALUES "  # noqa: S608
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    per_statement = max(1, min(INSERT_ROWS_PER_STATEMENT, _parameter_limit(connection) // len(fields)))
    with connection.cursor() as cursor:
        for start in range(0, len(values), per_statement):
            chunk = values[start : start + per_statement]
            cursor.execute(
                head + ", ".join([marks] * len(chunk)) + tail, [v for record in chunk for v in record]
            )


# Many rows per INSERT statement: SQLite's FTS5 index (kepuyue.search) flushes its pending terms at
# every statement, so one row per statement costs ~4× more than 500 rows per statement.
INSERT_ROWS_PER_STATEMENT = 500


def _parameter_limit(connection) -> int:
    """How many ``%s`` parameters one statement may carry on ``connection``."""
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 65535


def bulk_load_settings() -> None:
    """On SQLite, give this connection a 64 MB page cache for the import: the table's dozen indexes
    and the search index outgrow the 2 MB default, and re-reading their pages showed as system time."""
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -65536")
