"""Judging: judges of a call, blind scoring on the call's weighted criteria, results (weighted mean
and per-judge z-scores) and progress."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kepuyue.audit.services import record
from kepuyue.campaigns.models import Call

from ..models import JUDGEABLE_STATUSES, Entry, Score


class ScoreError(ValueError):
    """Points missing or outside 0–100 for a criterion (message in the active language)."""


# --- judging ----------------------------------------------------------------------------------


def judges_of(call: Call) -> QuerySet:
    """Accounts holding the judge role for ``call`` (评审专家), by user name."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(role_grants__role="judge", role_grants__call=call)
        .distinct()
        .order_by("username")
    )


def assign_judge(call: Call, judge, *, actor) -> bool:
    """Give ``judge`` the judge role on ``call`` (the joint-action manager's panel); returns ``False``
    when it already had it. Audit: ``call.judge_assign``."""
    from kepuyue.roles.models import Role, RoleGrant

    _grant, created = RoleGrant.objects.get_or_create(
        user=judge,
        role=Role.JUDGE,
        call=call,
        defaults={"granted_by": actor if actor.is_authenticated else None},
    )
    if created:
        record("call.judge_assign", actor=actor, obj=call, data={"judge": judge.get_username()})
    return created


def remove_judge(call: Call, judge, *, actor) -> bool:
    """Take the judge role on ``call`` away from ``judge`` (scores already given stay). Audit:
    ``call.judge_remove``."""
    from kepuyue.roles.models import Role, RoleGrant

    deleted, _rest = RoleGrant.objects.filter(user=judge, role=Role.JUDGE, call=call).delete()
    if deleted:
        record("call.judge_remove", actor=actor, obj=call, data={"judge": judge.get_username()})
    return bool(deleted)


def judgeable_entries(judge, call: Call) -> QuerySet:
    """Entries of ``call`` that ``judge`` may see and score: submitted, shortlisted or published, and never
    those of the judge's own unit (conflict of interest 回避). Empty when ``judge`` is no judge of it."""
    from kepuyue.roles.services import judged_call_ids, organization_of

    if call.pk not in judged_call_ids(judge):
        return Entry.objects.none()
    entries = Entry.objects.filter(call=call, status__in=JUDGEABLE_STATUSES)
    own = organization_of(judge)
    if own is not None:
        entries = entries.exclude(organization=own)
    return entries.order_by("code")


def weighted_total(call: Call, scores: dict) -> float:
    """Σ points × weight / Σ weights over the call's criteria (points 0–100; result 0–100).

    Raises ``ValueError`` when a criterion is missing or a score is outside 0–100.
    """
    criteria = call.criteria or []
    if not criteria:
        raise ValueError(_("本征集未设置评审标准"))
    total_weight = sum(c.get("weight") or 0 for c in criteria)
    if total_weight <= 0:
        raise ValueError(_("本征集评审标准的权重合计为0"))
    total = 0.0
    for criterion in criteria:
        value = scores.get(criterion["slug"])
        if value is None:
            raise ScoreError(_("请为“%(criterion)s”打分") % {"criterion": criterion["name"]})
        value = float(value)
        if not 0 <= value <= 100 or math.isnan(value):
            raise ScoreError(_("“%(criterion)s”的得分须在0—100之间") % {"criterion": criterion["name"]})
        total += value * (criterion.get("weight") or 0)
    return total / total_weight


def score_entry(entry: Entry, judge, scores: dict, comment: str = "") -> Score:
    """Record (or replace) ``judge``'s score of ``entry``: ``scores`` ``{criterion slug: 0–100}``.

    Raises ``PermissionError`` when the entry is not one ``judge`` may score (not a judge of the call,
    own unit, not judgeable) and ``ValueError`` (Chinese) for bad or missing points. Audit:
    ``call_entry.score``.
    """
    if not judgeable_entries(judge, entry.call).filter(pk=entry.pk).exists():
        raise PermissionError(_("无权评审此作品"))
    clean = {
        c["slug"]: float(scores[c["slug"]]) for c in entry.call.criteria if scores.get(c["slug"]) is not None
    }
    total = weighted_total(entry.call, clean)
    with transaction.atomic():
        score, _created = Score.objects.update_or_create(
            entry=entry, judge=judge, defaults={"scores": clean, "total": total, "comment": comment.strip()}
        )
        record("call_entry.score", actor=judge, obj=entry, data={"total": round(total, 2)}, organization=None)
    return score


@dataclass
class EntryResult:
    """One entry's standing: ``mean`` weighted score over its judges (0–100), ``normalised`` the mean of
    its per-judge z-scores (each judge's totals minus that judge's mean, over that judge's standard
    deviation; 0 for a judge with fewer than two scored entries or no spread), ``count`` judges."""

    entry: Entry
    count: int
    mean: float | None
    normalised: float | None


def results(call: Call) -> list[EntryResult]:
    """Every live entry of ``call`` with its scores, best normalised score first (unscored last)."""
    entries = list(
        Entry.objects.filter(call=call, status__in=JUDGEABLE_STATUSES)
        .select_related("organization")
        .order_by("code")
    )
    scores = list(Score.objects.filter(entry__in=entries).values_list("entry_id", "judge_id", "total"))
    by_judge: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for entry_id, judge_id, total in scores:
        by_judge[judge_id].append((entry_id, total))
    z_by_entry: dict[int, list[float]] = defaultdict(list)
    raw_by_entry: dict[int, list[float]] = defaultdict(list)
    for rows in by_judge.values():
        totals = [t for _, t in rows]
        mean = statistics.fmean(totals)
        spread = statistics.pstdev(totals) if len(totals) > 1 else 0.0
        for entry_id, total in rows:
            raw_by_entry[entry_id].append(total)
            z_by_entry[entry_id].append((total - mean) / spread if spread > 1e-9 else 0.0)
    out = [
        EntryResult(
            entry=e,
            count=len(raw_by_entry[e.pk]),
            mean=statistics.fmean(raw_by_entry[e.pk]) if raw_by_entry[e.pk] else None,
            normalised=statistics.fmean(z_by_entry[e.pk]) if z_by_entry[e.pk] else None,
        )
        for e in entries
    ]
    out.sort(key=lambda r: (r.normalised is None, -(r.normalised or 0), -(r.mean or 0), r.entry.code))
    return out


def judge_progress(call: Call) -> list[dict]:
    """Per judge of ``call``: ``{"judge", "scored", "assigned"}`` — entries scored and entries the judge
    may score (own unit's excluded)."""
    rows = []
    for judge in judges_of(call):
        assigned = judgeable_entries(judge, call)
        rows.append(
            {
                "judge": judge,
                "scored": Score.objects.filter(judge=judge, entry__in=assigned).count(),
                "assigned": assigned.count(),
            }
        )
    return rows
