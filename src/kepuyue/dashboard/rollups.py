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

from django.db import IntegrityError, transaction
from django.db.models import F

from kepuyue.activities.models import Activity, Status, Summary

from .models import Fact, Tally, UnitTally

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
FACT_FIELDS = (*TALLY_KEY, "organizer_id", "participants")
_BATCH = 2000


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


def _add(model, key: dict, deltas: dict) -> None:
    """Add ``deltas`` to the counter row of ``key``, creating it when missing (race-safe)."""
    expressions = {name: F(name) + value for name, value in deltas.items()}
    if model.objects.filter(**key).update(**expressions):
        return
    try:
        with transaction.atomic():
            model.objects.create(**key, **deltas)
    except IntegrityError:  # another transaction created it first
        model.objects.filter(**key).update(**expressions)


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
            tallies: Counter = Counter()
            participants: Counter = Counter()
            units: Counter = Counter()
            for pk in chunk:
                old, new = have.get(pk), want.get(pk)
                if old is not None:
                    old = {name: old[name] for name in FACT_FIELDS}
                if old == new:
                    continue
                changed += 1
                for fact, sign in ((old, -1), (new, 1)):
                    if fact is None:
                        continue
                    tkey = tuple(fact[name] for name in TALLY_KEY)
                    tallies[tkey] += sign
                    participants[tkey] += sign * fact["participants"]
                    units[tuple(fact[name] for name in UNIT_KEY)] += sign
                if new is None:
                    Fact.objects.filter(activity_id=pk).delete()
                elif old is None:
                    Fact.objects.create(activity_id=pk, **new)
                else:
                    Fact.objects.filter(activity_id=pk).update(**new)
            for tkey in set(tallies) | set(participants):
                if tallies[tkey] or participants[tkey]:
                    _add(
                        Tally,
                        dict(zip(TALLY_KEY, tkey, strict=True)),
                        {"activities": tallies[tkey], "participants": participants[tkey]},
                    )
            for ukey, delta in units.items():
                if delta:
                    _add(UnitTally, dict(zip(UNIT_KEY, ukey, strict=True)), {"activities": delta})
    return changed


def recount(campaign_id: int | None = None) -> tuple[Counter, Counter, Counter]:
    """The counters as a from-scratch count of the activities would make them (activities,
    participants per tally key; activities per unit key), without touching the tables."""
    activities: Counter = Counter()
    participants: Counter = Counter()
    units: Counter = Counter()
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
            tkey = tuple(fact[name] for name in TALLY_KEY)
            activities[tkey] += 1
            participants[tkey] += fact["participants"]
            units[tuple(fact[name] for name in UNIT_KEY)] += 1
    return activities, participants, units


def rebuild(campaign_id: int | None = None) -> int:
    """Recount the roll-ups from scratch (one transaction); returns the published activities counted."""
    activities, participants, units = recount(campaign_id)
    scope = {} if campaign_id is None else {"campaign_id": campaign_id}
    with transaction.atomic():
        Tally.objects.filter(**scope).delete()
        UnitTally.objects.filter(**scope).delete()
        Fact.objects.filter(**scope).delete()
        Tally.objects.bulk_create(
            (
                Tally(**dict(zip(TALLY_KEY, key, strict=True)), activities=n, participants=participants[key])
                for key, n in activities.items()
            ),
            batch_size=500,
        )
        UnitTally.objects.bulk_create(
            (UnitTally(**dict(zip(UNIT_KEY, key, strict=True)), activities=n) for key, n in units.items()),
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
    return sum(activities.values())


def check(campaign_id: int | None = None) -> list[str]:
    """Differences between the counters and a recount, one line each (empty: no drift)."""
    activities, participants, units = recount(campaign_id)
    scope = {} if campaign_id is None else {"campaign_id": campaign_id}
    problems = []
    stored_a: Counter = Counter()
    stored_p: Counter = Counter()
    for row in Tally.objects.filter(**scope).values(*TALLY_KEY, "activities", "participants"):
        key = tuple(row[name] for name in TALLY_KEY)
        stored_a[key] += row["activities"]
        stored_p[key] += row["participants"]
    stored_u: Counter = Counter()
    for row in UnitTally.objects.filter(**scope).values(*UNIT_KEY, "activities"):
        stored_u[tuple(row[name] for name in UNIT_KEY)] += row["activities"]
    for label, want, have in (
        ("活动数", activities, stored_a),
        ("参与人数", participants, stored_p),
        ("单位活动数", units, stored_u),
    ):
        for key in sorted(set(want) | set(have), key=repr):
            if want[key] != have[key]:
                problems.append(f"{label} {key}: 汇总为 {have[key]}，重新计数为 {want[key]}")
    return problems
