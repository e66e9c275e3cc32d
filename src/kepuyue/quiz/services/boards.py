"""比比看: the leaderboards by province and by unit and the top list (plan 六(三)1).

Kept as roll-up rows (:class:`~kepuyue.quiz.models.Tally`) that each submission updates with ``F()``
in its own transaction, so a page reads a few dozen rows at 1,000,000 attempts
(``docs/decisions/0019-quiz-leaderboard-rollups.md``). A person counts once per round, with their best
online result (:class:`~kepuyue.quiz.models.Best`); offline results entered by a unit count beside
them (``offline_participants``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F

from kepuyue.common import pagecache

from ..models import Attempt, Best, Round, Scope, Tally

TOP_SIZE = 20


def bump(
    round_id: int,
    scope: str,
    key: str,
    label: str,
    *,
    participants: int = 0,
    offline: int = 0,
    score_sum: int = 0,
    passed: int = 0,
) -> None:
    """Add to one roll-up row, creating it when it is the first (inside the caller's transaction)."""
    if not (participants or offline or score_sum or passed):
        return
    # The round's page shows the boards (page cache, ADR 0025): stale once this commits.
    transaction.on_commit(lambda: pagecache.bump(f"quiz-board:{round_id}"), robust=True)
    changes = {
        "participants": F("participants") + participants,
        "offline_participants": F("offline_participants") + offline,
        "score_sum": F("score_sum") + score_sum,
        "passed": F("passed") + passed,
    }
    rows = Tally.objects.filter(round_id=round_id, scope=scope, key=key)
    if rows.update(**changes):
        return
    try:
        with transaction.atomic():
            Tally.objects.create(
                round_id=round_id,
                scope=scope,
                key=key,
                label=label,
                participants=participants,
                offline_participants=offline,
                score_sum=score_sum,
                passed=passed,
            )
    except IntegrityError:  # another transaction created it first
        rows.update(**changes)


def _targets(round_id: int, province, unit) -> list[tuple[str, str, str]]:
    targets = [(Scope.ALL, "all", "全部")]
    if province is not None:
        targets.append((Scope.PROVINCE, province.code, province.name))
    if unit is not None:
        targets.append((Scope.UNIT, str(unit.pk), unit.name))
    return targets


def count_online(attempt: Attempt) -> None:
    """Fold a submitted attempt into its person's best and the roll-ups (in the caller's transaction).
    A better score (or the same score in less time) replaces the best; the roll-ups change by the
    difference, so each person is counted once."""
    best = Best.objects.select_for_update().filter(round_id=attempt.round_id, user_id=attempt.user_id).first()
    if best is None:
        best = Best.objects.create(
            round_id=attempt.round_id,
            user_id=attempt.user_id,
            attempt=attempt,
            name=attempt.name,
            score=attempt.score,
            seconds=attempt.seconds,
            passed=attempt.passed,
            province_id=attempt.province_id,
            unit_id=attempt.unit_id,
            achieved_at=attempt.submitted_at,
        )
        deltas = {"participants": 1, "score_sum": attempt.score, "passed": int(attempt.passed)}
    elif (attempt.score, -attempt.seconds) > (best.score, -best.seconds):
        deltas = {"score_sum": attempt.score - best.score, "passed": int(attempt.passed) - int(best.passed)}
        best.attempt, best.score, best.seconds = attempt, attempt.score, attempt.seconds
        best.passed, best.achieved_at, best.name = attempt.passed, attempt.submitted_at, attempt.name
        best.save(update_fields=["attempt", "score", "seconds", "passed", "achieved_at", "name"])
    else:
        return
    # score_sum never goes down: a best only improves (passed likewise).
    for scope, key, label in _targets(attempt.round_id, best.province, best.unit):
        bump(attempt.round_id, scope, key, label, **deltas)


def count_offline(round_id: int, *, province, unit, scores: list[int], pass_mark: int) -> None:
    """Add a unit's paper results (scores out of 100) to the roll-ups, marked offline."""
    deltas = {
        "participants": len(scores),
        "offline": len(scores),
        "score_sum": sum(scores),
        "passed": sum(1 for s in scores if s >= pass_mark),
    }
    for scope, key, label in _targets(round_id, province, unit):
        bump(round_id, scope, key, label, **deltas)


def mask_name(name: str) -> str:
    """``张三`` → ``张*``, ``欧阳小明`` → ``欧**明``, ``Li`` → ``L*`` (a top list never shows a full name)."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@dataclass
class TopRow:
    rank: int
    name: str
    province: str
    score: int
    seconds: int


@dataclass
class Board:
    total: Tally | None
    provinces: list[Tally]
    units: list[Tally]
    top: list[TopRow]


def board(round: Round, *, units_limit: int = 50) -> Board:
    """The round's leaderboards: the total, every province and the first ``units_limit`` units (by
    participants), and the top list (best score, then less time, then earlier) with masked names.
    Four queries whatever the number of attempts."""
    tallies = list(Tally.objects.filter(round=round, scope__in=[Scope.ALL, Scope.PROVINCE]))
    total = next((t for t in tallies if t.scope == Scope.ALL), None)
    provinces = sorted(
        (t for t in tallies if t.scope == Scope.PROVINCE), key=lambda t: (-t.participants, t.key)
    )
    units = list(
        Tally.objects.filter(round=round, scope=Scope.UNIT).order_by("-participants", "key")[:units_limit]
    )
    bests = (
        Best.objects.filter(round=round)
        .select_related("province")
        .order_by("-score", "seconds", "achieved_at")
    )
    top = [
        TopRow(rank=i, name=mask_name(b.name), province=b.province.name, score=b.score, seconds=b.seconds)
        for i, b in enumerate(bests[:TOP_SIZE], start=1)
    ]
    return Board(total=total, provinces=provinces, units=units, top=top)
