"""Keeping the roll-ups (:mod:`.models`) in step with the activities, rebuilding and checking them.

:func:`sync` is the one writer: for each activity it reads what the activity is now (published or
not, its key, its summary's participants), compares with the ledger (:class:`Fact`) and applies the
difference to the counters. It is idempotent, so every receiver (a workflow move, a save outside the
workflow, an import, a summary) calls it the same way, inside the caller's transaction.
:func:`rebuild` recounts from scratch; :func:`check` compares the counters with a recount (drift).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from kepuyue.activities.models import Activity, Status, Summary
from kepuyue.common.bulk import insert_rows
from kepuyue.regions.models import Level

from .models import AreaTally, DayTally, Fact, OrgTally, Tally, UnitTally

BEIJING = ZoneInfo("Asia/Shanghai")
TALLY_KEY = (
    "campaign_id",
    "day",
    "joint_action_id",
    "brand_id",
    "province_code",
    "prefecture_code",
    "county_code",
    "unit_type",
    "special_areas",
)
UNIT_KEY = ("campaign_id", "organizer_id", "joint_action_id", "brand_id", "unit_type")
DAY_KEY = ("campaign_id", "day", "joint_action_id", "brand_id", "special_areas")
AREA_KEY = ("campaign_id", "level", "code", "parent_code")
ORG_KEY = ("campaign_id", "organizer_id", "unit_type")
FACT_FIELDS = (*TALLY_KEY, "organizer_id", "participants")
_BATCH = 2000
#: (province, prefecture, county) columns of a fact → the level and parent of its AreaTally rows.
_AREA_LEVELS = (
    (Level.PROVINCE, "province_code", None),
    (Level.PREFECTURE, "prefecture_code", "province_code"),
    (Level.COUNTY, "county_code", "prefecture_code"),
)


def _area_keys(fact: dict) -> list[tuple]:
    return [
        (fact["campaign_id"], int(level), fact[column], fact[parent] if parent else "")
        for level, column, parent in _AREA_LEVELS
        if fact[column]
    ]


def _keys(names: tuple[str, ...]):
    return lambda fact: [tuple(fact[name] for name in names)]


#: Every counter table: (model, its key, the keys one fact is counted under, counts participants).
#: The fine tables (Tally, UnitTally) answer measures with any filter; the coarse ones (DayTally,
#: AreaTally, OrgTally) the pages' figures in a few thousand rows (decision 0017).
COUNTERS = (
    (Tally, TALLY_KEY, _keys(TALLY_KEY), True),
    (UnitTally, UNIT_KEY, _keys(UNIT_KEY), False),
    (DayTally, DAY_KEY, _keys(DAY_KEY), True),
    (AreaTally, AREA_KEY, _area_keys, False),
    (OrgTally, ORG_KEY, _keys(ORG_KEY), False),
)


def _count(fact: dict, sign: int, activities: dict, participants: dict) -> None:
    """Add one fact (``sign`` ±1) to the per-table counters ``activities`` / ``participants``."""
    for model, _names, keys, with_participants in COUNTERS:
        for key in keys(fact):
            activities[model][key] += sign
            if with_participants:
                participants[model][key] += sign * fact["participants"]


def _counters() -> tuple[dict, dict]:
    return {m[0]: Counter() for m in COUNTERS}, {m[0]: Counter() for m in COUNTERS}


def _facts_now(ids: Iterable[int]) -> dict[int, dict]:
    """What each of ``ids`` should be counted as now (only published activities are)."""
    ids = list(ids)
    rows = (
        Activity.objects.filter(pk__in=ids, status=Status.PUBLISHED)
        .order_by()
        .values_list(
            "id",
            "campaign_id",
            "published_at",
            "created",
            "joint_action_id",
            "brand_id",
            "province_code",
            "prefecture_code",
            "county_code",
            "organizer__type_id",
            "special_areas",
            "organizer_id",
        )
    )
    facts = {}
    for pk, campaign, published, created, ja, brand, prov, pref, county, utype, areas, org in rows:
        moment = published or created
        facts[pk] = {
            "campaign_id": campaign,
            "day": moment.astimezone(BEIJING).date() if moment else date(1970, 1, 1),
            "joint_action_id": ja or 0,
            "brand_id": brand or 0,
            "province_code": prov or "",
            "prefecture_code": pref or "",
            "county_code": county or "",
            "unit_type": utype or "",
            "special_areas": areas or 0,
            "organizer_id": org,
            "participants": 0,
        }
    if facts:
        for activity_id, participants in Summary.objects.filter(activity_id__in=list(facts)).values_list(
            "activity_id", "participants"
        ):
            facts[activity_id]["participants"] = participants or 0
    return facts


def _add_many(model, names: tuple, rows: list[tuple[tuple, dict]]) -> None:
    """Add each row's deltas to the counter row of its key, creating the missing ones: one
    ``INSERT … ON CONFLICT (key) DO UPDATE SET n = n + excluded.n`` per few hundred keys (PostgreSQL
    and SQLite 3.24+; race-safe as :func:`_add`, in the order given — sorted, so that two
    transactions lock shared keys in the same order)."""
    if not rows:
        return
    from django.db import connection

    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    deltas = list(rows[0][1])
    columns = [*names, *deltas]
    per_statement = max(1, 900 // len(columns))  # SQLite's oldest parameter limit is 999
    head = f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) VALUES "  # noqa: S608 - model names
    tail = f" ON CONFLICT ({', '.join(quote(n) for n in names)}) DO UPDATE SET " + ", ".join(
        f"{quote(d)} = {table}.{quote(d)} + excluded.{quote(d)}" for d in deltas
    )
    marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params = [v for key, d in chunk for v in (*key, *(d[name] for name in deltas))]
            cursor.execute(head + ", ".join([marks] * len(chunk)) + tail, params)


def sync(ids: Iterable[int]) -> int:
    """Bring the roll-ups of ``ids`` in step with the activities; returns how many facts changed.

    Must run inside the transaction of the change (the receivers do); the ledger rows are locked
    (``SELECT … FOR UPDATE`` on PostgreSQL) so two transactions cannot count one activity twice.
    """
    ids = list(dict.fromkeys(ids))
    changed = 0
    with transaction.atomic():
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            have = {
                row["activity_id"]: row
                for row in Fact.objects.select_for_update()
                .filter(activity_id__in=chunk)
                .values("activity_id", *FACT_FIELDS)
            }
            want = _facts_now(chunk)
            activities, participants = _counters()
            created, deleted = [], []
            for pk in chunk:
                old, new = have.get(pk), want.get(pk)
                if old is not None:
                    old = {name: old[name] for name in FACT_FIELDS}
                if old == new:
                    continue
                changed += 1
                for fact, sign in ((old, -1), (new, 1)):
                    if fact is not None:
                        _count(fact, sign, activities, participants)
                if new is None:
                    deleted.append(pk)
                elif old is None:
                    created.append({"activity_id": pk, **new})
                else:
                    Fact.objects.filter(activity_id=pk).update(**new)
            # A whole import's chunk in a few statements, not one per activity and counter key
            # (issue 17 point 4: 10,000 imported rows were ~200,000 single-row statements).
            if deleted:
                Fact.objects.filter(activity_id__in=deleted).delete()
            # Multi-row INSERTs of plain values: bulk_create's per-field preparation of 10,000 facts
            # was a third of an import's roll-up time at 500,000 activities (issue 17 point 4).
            insert_rows(Fact, created, now=timezone.now())
            for model, names, _keys_of, with_participants in COUNTERS:
                counted, people = activities[model], participants[model]
                rows = []
                for key in sorted(set(counted) | set(people), key=repr):
                    if counted[key] or people[key]:
                        deltas = {"activities": counted[key]}
                        if with_participants:
                            deltas["participants"] = people[key]
                        rows.append((key, deltas))
                _add_many(model, names, rows)
    return changed


def recount(campaign_id: int | None = None) -> tuple[dict, dict]:
    """The counters as a from-scratch count of the activities would make them: per counter model,
    activities and participants per key, without touching the tables."""
    activities, participants = _counters()
    qs = Activity.objects.filter(status=Status.PUBLISHED).order_by("pk")
    if campaign_id is not None:
        qs = qs.filter(campaign_id=campaign_id)
    last = 0
    while True:
        ids = list(qs.filter(pk__gt=last).values_list("pk", flat=True)[:_BATCH])
        if not ids:
            break
        last = ids[-1]
        for fact in _facts_now(ids).values():
            _count(fact, 1, activities, participants)
    return activities, participants


def rebuild(campaign_id: int | None = None) -> int:
    """Recount the roll-ups from scratch (one transaction); returns the published activities counted."""
    activities, participants = recount(campaign_id)
    scope = {} if campaign_id is None else {"campaign_id": campaign_id}
    with transaction.atomic():
        Fact.objects.filter(**scope).delete()
        for model, names, _keys_of, with_participants in COUNTERS:
            model.objects.filter(**scope).delete()
            model.objects.bulk_create(
                (
                    model(
                        **dict(zip(names, key, strict=True)),
                        activities=n,
                        **({"participants": participants[model][key]} if with_participants else {}),
                    )
                    for key, n in activities[model].items()
                ),
                batch_size=500,
            )
        qs = Activity.objects.filter(status=Status.PUBLISHED).order_by("pk")
        if campaign_id is not None:
            qs = qs.filter(campaign_id=campaign_id)
        last = 0
        while True:
            ids = list(qs.filter(pk__gt=last).values_list("pk", flat=True)[:_BATCH])
            if not ids:
                break
            last = ids[-1]
            Fact.objects.bulk_create(
                (Fact(activity_id=pk, **fact) for pk, fact in _facts_now(ids).items()), batch_size=500
            )
    return sum(activities[Tally].values())


def check(campaign_id: int | None = None) -> list[str]:
    """Differences between the counters (every table of :data:`COUNTERS`) and a recount, one line
    each (empty: no drift)."""
    activities, participants = recount(campaign_id)
    scope = {} if campaign_id is None else {"campaign_id": campaign_id}
    problems = []
    for model, names, _keys_of, with_participants in COUNTERS:
        stored_a: Counter = Counter()
        stored_p: Counter = Counter()
        values = ("activities", "participants") if with_participants else ("activities",)
        for row in model.objects.filter(**scope).values(*names, *values):
            key = tuple(row[name] for name in names)
            stored_a[key] += row["activities"]
            stored_p[key] += row.get("participants", 0)
        label = model._meta.verbose_name
        pairs = [("活动数", activities[model], stored_a)]
        if with_participants:
            pairs.append(("参与人数", participants[model], stored_p))
        for what, want, have in pairs:
            for key in sorted(set(want) | set(have), key=repr):
                if want[key] != have[key]:
                    problems.append(f"{label} {what} {key}: 汇总为 {have[key]}，重新计数为 {want[key]}")
    return problems
