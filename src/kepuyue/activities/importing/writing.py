"""Writing imported rows: unknown organizers first, then multi-row inserts and bulk updates."""

from __future__ import annotations

import json

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from kepuyue.common.bulk import (  # noqa: F401 - re-exported by importing
    INSERT_ROWS_PER_STATEMENT,
    insert_rows,
)
from kepuyue.common.events import send_in_transaction
from kepuyue.common.markup import render_markdown, source_digest
from kepuyue.search.segment import index_text

from .. import services, signals
from ..models import Activity, Status
from .cells import INFO, ORGANIZATION_TYPE_NAMES, key, national_organizer, organization_type_for
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
                    if not places.get(row.organizer_name) and not national_organizer(row.organizer_name):
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

    # Labels of the compared fields in the row outcomes (更新（开始时间、活动地点）).
    LABELS = {
        "campaign_id": "科普月",
        "joint_action_id": "联合行动",
        "key_task_id": "重点任务",
        "brand_id": "品牌活动",
        "title": "活动名称",
        "starts_at": "开始时间",
        "ends_at": "结束时间",
        "form": "活动形式",
        "online_url": "线上地址",
        "region_id": "地区",
        "audiences": "面向对象",
        "topics": "活动主题",
        "special_areas": "特殊地区",
        "external_id": "活动编号",
        "venue": "活动地点",
        "co_organizers": "协办/承办单位",
        "summary": "活动简介",
        "description": "活动详情",
        "expected_participants": "预计参与人数",
        "science_workers": "参与科技工作者人数",
        "contact_name": "联系人",
        "contact_phone": "联系电话",
        "latitude": "纬度",
        "longitude": "经度",
    }
    REGION_FIELDS = ("region_id", "province_code", "prefecture_code", "county_code")

    def existing_for(self, batch: list[Row]) -> dict:
        """The activities ``batch`` may match, indexed four ways (one query)."""
        external = {r.values["external_id"] for r in batch if r.values["external_id"]}
        titles = {r.values["title"] for r in batch}
        condition = Q(title__in=titles)
        if external:
            condition |= Q(external_id__in=external)
        # Units created by this import have only this import's activities, which the in-file check
        # (``seen``) already keeps unique: no need to look for them.
        known = {r.organizer_id for r in batch if r.organizer_id} - self.new_orgs
        index = {"external": {}, "exact": {}, "day": {}, "title": {}}
        if not known:
            return index
        if connection.vendor in ("postgresql", "sqlite"):
            rows = Activity.objects.filter(pk__in=self._pairs_sql(batch, known))
        else:
            rows = Activity.objects.filter(organizer_id__in=known).filter(condition)
        rows = rows.order_by("id").values("id", "organizer_id", "status", *self.COMPARED)
        for current in rows:
            org, title = current["organizer_id"], current["title"]
            if current["external_id"]:
                index["external"][(org, current["external_id"])] = current
            index["exact"].setdefault((org, title, current["starts_at"]), current)
            day = services.beijing_day(current["starts_at"])
            index["day"].setdefault((org, title, day), []).append(current)
            index["title"].setdefault((org, title), []).append(current)
        return index

    @staticmethod
    def _pairs_sql(batch: list[Row], known: set) -> RawSQL:
        """The ids of the activities whose (unit, title) or (unit, external id) is one of the batch's
        pairs — a join on the pairs, one probe of ``act_organizer_title_idx`` /
        ``act_external_id_unique`` per pair. :meth:`match` only ever looks rows up by these pairs.

        PostgreSQL joins ``unnest()`` arrays: the ``organizer_id IN (…) AND (title IN (…) OR …)``
        filter made it scan the whole table at 500,000 rows. SQLite joins ``json_each()`` of one JSON
        parameter: on that filter it walked every activity of the batch's units through the organizer
        index (the ``OR`` keeps it off the pair index) — 5,000 units × 100 activities, 1.4 s a batch
        under load (issue 17 point 4)."""
        titles = [(r.organizer_id, r.values["title"]) for r in batch if r.organizer_id in known]
        external = [
            (r.organizer_id, r.values["external_id"])
            for r in batch
            if r.organizer_id in known and r.values["external_id"]
        ]
        table = connection.ops.quote_name(Activity._meta.db_table)
        if connection.vendor == "sqlite":
            org, value = "json_extract(k.value, '$[0]')", "json_extract(k.value, '$[1]')"
            sql = (
                f"SELECT a.id FROM {table} a JOIN json_each(%s) AS k "  # noqa: S608
                f"ON a.organizer_id = {org} AND a.title = {value} "
                f"UNION SELECT a.id FROM {table} a JOIN json_each(%s) AS k "
                f"ON a.organizer_id = {org} AND a.external_id = {value} AND NOT a.external_id = ''"
            )
            params = [json.dumps(titles, ensure_ascii=False), json.dumps(external, ensure_ascii=False)]
            return RawSQL(sql, params)  # noqa: S611 - the table name from the model; values a parameter
        sql = (
            f"SELECT a.id FROM {table} a JOIN unnest(%s::bigint[], %s::text[]) AS k(org, title) "  # noqa: S608
            "ON a.organizer_id = k.org AND a.title = k.title "
            f"UNION SELECT a.id FROM {table} a JOIN unnest(%s::bigint[], %s::text[]) AS k(org, ext) "
            # The condition on '' lets the planner use the partial unique index on (unit, external id).
            "ON a.organizer_id = k.org AND a.external_id = k.ext AND NOT a.external_id = ''"
        )
        params = [
            [o for o, _t in titles],
            [t for _o, t in titles],
            [o for o, _e in external],
            [e for _o, e in external],
        ]
        return RawSQL(sql, params)  # noqa: S611 - the table name from the model; every value a parameter

    def match(self, row: Row, index: dict) -> tuple[dict | None, str]:
        """``(existing activity or None, note)``: same external id; else same title and start; else
        the same title on the same start day when only the time of day changed (one candidate).
        With no match, the note names a same-titled activity of the unit on another day (可能重复)."""
        v, org = row.values, row.organizer_id
        if org is None:
            return None, ""
        if v["external_id"]:
            found = index["external"].get((org, v["external_id"]))
            if found is not None:
                return found, ""
        usable = lambda c: (  # noqa: E731 - a candidate with another external id is another activity
            not c["external_id"] or not v["external_id"] or "external_id" not in self.present
        )
        exact = index["exact"].get((org, v["title"], v["starts_at"]))
        if exact is not None and usable(exact):
            return exact, ""
        same_day = [
            c
            for c in index["day"].get((org, v["title"], services.beijing_day(v["starts_at"])), [])
            if usable(c)
        ]
        if len(same_day) == 1:
            return same_day[0], ""
        others = index["title"].get((org, v["title"]), [])
        if others:
            shown = "、".join(f"#{c['id']}（{services.beijing_day(c['starts_at'])}）" for c in others[:3])
            return None, _("可能重复：本单位已有同名活动 %(list)s") % {"list": shown}
        return None, ""

    def changes(self, row: Row, current: dict, fields: list[str]) -> tuple[dict, list[str]]:
        """What the row changes in ``current``: ``({field: value}, kept)`` — never a blank over a
        value, a coarser region over a finer one of the same place, or a filled-in default time
        over a real one on the same day (``kept`` lists what was kept, for the report)."""
        v = row.values
        new: dict = {}
        kept: list[str] = []
        for f in fields:
            if f in self.REGION_FIELDS:
                continue
            value, old = v[f], current[f]
            if value == old:
                continue
            if value in (None, "", 0) and old not in (None, "", 0):
                continue  # a blank cell never erases what is there
            if f in ("starts_at", "ends_at") and f in row.defaults and old is not None:
                if services.beijing_day(old) == services.beijing_day(value):
                    kept.append(self.LABELS[f])
                    continue
            new[f] = value
        if "region_id" in fields and v["region_id"] != current["region_id"]:
            if v["region_id"] is None:
                pass
            elif current["region_id"] and self._coarser(v, current):
                kept.append(self.LABELS["region_id"])
            else:
                new.update({f: v[f] for f in self.REGION_FIELDS})
        return new, kept

    @staticmethod
    def _coarser(v: dict, current: dict) -> bool:
        """Whether the row's region is an ancestor of the current one (a province for its county)."""
        level = lambda d: 3 if d["county_code"] else 2 if d["prefecture_code"] else 1  # noqa: E731
        if level(v) >= level(current) or v["province_code"] != current["province_code"]:
            return False
        return level(v) == 1 or v["prefecture_code"] == current["prefecture_code"]

    def outcome(self, row: Row, text: str) -> None:
        self.issue(row.number, "", "", text, INFO)

    def plan_all(self, rows) -> None:
        """Validation's dry pass over the rows: report each row's outcome (新增 / 更新（字段）/ 无变化
        / 可能重复) as the commit would decide it, writing nothing."""
        batch: list[Row] = []
        for row in rows:
            if row is not None:
                batch.append(row)
            if len(batch) >= 5000:
                self.decide(batch, write=False)
                batch = []
        self.decide(batch, write=False)

    def write(self, batch: list[Row], counts: dict) -> None:
        """Create, update or leave each row of ``batch`` (inside the commit's transaction)."""
        self.decide(batch, write=True, counts=counts)

    def decide(self, batch: list[Row], *, write: bool, counts: dict | None = None) -> None:
        if not batch:
            return
        if write:
            self.ensure_organizers(batch)
        else:
            for row in batch:
                if row.organizer_id is None:
                    row.organizer_id = self.org_ids.get(key(row.organizer_name))
        fields = self.updatable_fields()
        index = self.existing_for(batch)
        new, changed = [], []
        status = Status.DRAFT if self.organization is not None else Status.PUBLISHED
        for row in batch:
            v = row.values
            current, note = self.match(row, index)
            name = self.org_names.get(row.organizer_id, row.organizer_name)
            if current is None:
                self.outcome(row, _("新增") + (f"；{note}" if note else ""))
                if not write:
                    continue  # validation reports the outcome only: no search text, no rendering
                new.append(
                    {
                        **v,
                        "organizer_id": row.organizer_id,
                        "status": status,
                        "published_at": self.now if status == Status.PUBLISHED else None,
                        "search_text": index_text(v["title"], v["summary"], name, v["venue"]),
                        # Rendered here as save() would (bulk inserts skip it): pages never render.
                        "description_html": render_markdown(v["description"]),
                        "description_digest": source_digest(v["description"]),
                        "import_job_id": self.job.pk,
                    }
                )
                continue
            updates, kept = self.changes(row, current, fields)
            keep_note = _("；保留原有更完整的%(fields)s") % {"fields": "、".join(kept)} if kept else ""
            if not updates:
                self.outcome(row, _("无变化（活动 #%(id)d）") % {"id": current["id"]} + keep_note)
                if counts is not None:
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
            labels = "、".join(dict.fromkeys(self.LABELS.get(f, f) for f in updates if f in self.LABELS))
            self.outcome(
                row,
                _("更新活动 #%(id)d（%(fields)s）") % {"id": current["id"], "fields": labels or "地区"}
                + keep_note,
            )
            if not write:
                continue
            merged = {f: updates.get(f, current[f]) for f in self.COMPARED}
            activity = Activity(pk=current["id"], organizer_id=row.organizer_id, **merged)
            activity.search_text = index_text(merged["title"], merged["summary"], name, merged["venue"])
            activity.updated = self.now
            activity.import_job_id = self.job.pk
            activity.refresh_description_html()
            changed.append(activity)
        if not write:
            return
        inserted = insert_rows(Activity, new, now=self.now, returning=True)
        if changed:
            columns = list(
                dict.fromkeys(
                    [
                        *fields,
                        *self.REGION_FIELDS,
                        "search_text",
                        "updated",
                        "import_job_id",
                        "description_html",
                        "description_digest",
                    ]
                )
            )
            Activity.objects.bulk_update(changed, columns, batch_size=200)
        if new or changed:
            # Bulk writes send no model signals: tell the roll-ups which rows changed — by id, so
            # that a subscriber never walks every activity of the batch's units (5,000 units of
            # 100 activities each, at 500,000 rows: issue 17 point 4).
            send_in_transaction(
                signals.activities_imported,
                Activity,
                organizer_ids=sorted({r.organizer_id for r in batch}),
                since=self.now,
                activity_ids=[a.pk for a in changed]
                + (sorted(inserted) if inserted is not None else self.inserted_ids(bool(new))),
            )
        counts["created"] += len(new)
        counts["updated"] += len(changed)

    def inserted_ids(self, any_new: bool) -> list[int]:
        """The ids of the rows this batch inserted, where the insert did not return them (PostgreSQL's
        COPY): this import's rows written now above the highest id it has inserted before (ids only
        grow — a PostgreSQL identity). SQLite's ``INSERT … RETURNING`` hands them back instead: there
        this query walked the whole table by rowid (the planner finds ``import_job_id`` unselective —
        every seeded row has none), 0.4 s a batch at 500,000 activities (issue 17 point 4)."""
        if not any_new:
            return []
        after = getattr(self, "_inserted_up_to", 0)
        ids = list(
            Activity.objects.filter(import_job_id=self.job.pk, updated=self.now, pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if ids:
            self._inserted_up_to = ids[-1]
        return ids


def bulk_load_settings() -> None:
    """On SQLite, give this connection a 64 MB page cache for the import: the table's dozen indexes
    and the search index outgrow the 2 MB default, and re-reading their pages showed as system time."""
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -65536")
