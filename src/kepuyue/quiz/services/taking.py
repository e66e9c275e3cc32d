"""Taking a round (答题): the profile, starting an attempt, submitting it (plan 六(三)1).

Anti-cheating rules enforced here, not in the page: the questions are drawn and their options
shuffled on the server; the page gets texts only (:func:`paper_of` never carries answers); the
deadline is the server's (``Round.time_limit_seconds`` + ``grace_seconds`` from ``started_at``);
at most one attempt per account is in progress (a partial unique constraint, so two taps or two
tabs get the same attempt); ``attempts_per_day`` per Beijing day. Scoring, the person's best result
and the leaderboards' roll-ups are written in the submission's transaction (:mod:`.boards`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils.translation import gettext as _

from kepuyue.audit.services import record
from kepuyue.common import clock
from kepuyue.common.writers import serialized_write

from ..models import Attempt, AttemptStatus, Kind, Profile, Question, Round
from . import boards

GUARDIAN_AGE = 14  # PIPL art. 31: under 14 a guardian consents
_random = secrets.SystemRandom()


class QuizError(ValidationError):
    """A refusal a person can read (Chinese)."""


def window_state(round: Round, at=None) -> str:
    """``"upcoming"``, ``"open"`` or ``"closed"`` by the campaign clock."""
    at = at or clock.now()
    if at < round.opens_at:
        return "upcoming"
    if at > round.closes_at:
        return "closed"
    return "open"


def save_profile(
    user, *, name: str, age: int, province, unit=None, guardian_name: str = "", guardian_consent: bool = False
) -> Profile:
    """Record who takes the quiz. ``age`` in years; under :data:`GUARDIAN_AGE` a guardian's name and
    consent are required (PIPL art. 31). No phone number is asked of anyone."""
    if age < GUARDIAN_AGE and not (guardian_name and guardian_consent):
        raise QuizError(_("未满14周岁须由监护人填写姓名并勾选同意。"))
    values = {
        "name": name,
        "age": age,
        "province": province,
        "unit": unit,
        "guardian_name": "",
        "guardian_consent_at": None,
    }
    if age < GUARDIAN_AGE:
        values |= {"guardian_name": guardian_name, "guardian_consent_at": clock.now()}
    profile, created = Profile.objects.update_or_create(user=user, defaults=values)
    record(
        "quiz.profile_saved", actor=user, obj=profile, data={"minor": age < GUARDIAN_AGE, "created": created}
    )
    return profile


def profile_of(user) -> Profile | None:
    return Profile.objects.select_related("province", "unit").filter(user=user).first()


def attempts_today(round: Round, user) -> int:
    return Attempt.objects.filter(round=round, user=user, day=clock.today()).count()


def in_flight(user) -> Attempt | None:
    """The account's attempt in progress, if any (an expired one is closed first)."""
    attempt = (
        Attempt.objects.select_related("round").filter(user=user, status=AttemptStatus.IN_PROGRESS).first()
    )
    if attempt is not None and clock.now() > hard_deadline(attempt):
        expire(attempt)
        return None
    return attempt


def hard_deadline(attempt: Attempt):
    return attempt.deadline + timedelta(seconds=attempt.round.grace_seconds)


def draw(round: Round) -> list[Question]:
    """The questions of one attempt: ``round.draw`` per category (or ``question_count`` from the
    whole active bank), at random, then in random order."""
    questions: list[Question] = []
    if round.draw:
        for category, n in round.draw.items():
            ids = list(Question.objects.filter(active=True, category=category).values_list("id", flat=True))
            questions_ids = _random.sample(ids, min(n, len(ids)))
            questions += list(Question.objects.filter(id__in=questions_ids))
    else:
        ids = list(Question.objects.filter(active=True).values_list("id", flat=True))
        questions = list(
            Question.objects.filter(id__in=_random.sample(ids, min(round.question_count, len(ids))))
        )
    _random.shuffle(questions)
    return questions


def _order(question: Question) -> list[int]:
    order = list(range(len(question.options)))
    if question.kind != Kind.TRUE_FALSE:  # 正确 / 错误 keep their places
        _random.shuffle(order)
    return order


def start(round: Round, user) -> Attempt:
    """Start (or resume) an attempt. Raises :class:`QuizError` outside the window, without a profile,
    over the day's attempts, or while another round's attempt is in progress."""
    state = window_state(round)
    if state != "open":
        raise QuizError(_("本轮答题尚未开始。") if state == "upcoming" else _("本轮答题已结束。"))
    profile = profile_of(user)
    if profile is None:
        raise QuizError(_("请先填写答题信息。"))
    current = in_flight(user)
    if current is not None:
        if current.round_id != round.pk:
            raise QuizError(
                _("您还有一场未交卷的答题（%(title)s），请先完成。") % {"title": current.round.title}
            )
        return current
    if attempts_today(round, user) >= round.attempts_per_day:
        raise QuizError(
            _("今天的答题次数已用完（每天 %(n)d 次），明天再来。") % {"n": round.attempts_per_day}
        )
    questions = draw(round)
    if not questions:
        raise QuizError(_("题库暂无题目。"))
    now = clock.now()
    attempt = Attempt(
        token=secrets.token_urlsafe(16),
        round=round,
        user=user,
        day=clock.today(),
        started_at=now,
        deadline=now + timedelta(seconds=round.time_limit_seconds),
        paper=[{"q": q.pk, "o": _order(q)} for q in questions],
        total=len(questions),
        name=profile.name,
        province_id=profile.province_id,
        unit_id=profile.unit_id,
    )
    try:
        with serialized_write():
            attempt.save()
    except IntegrityError:
        # A second tap or tab won the race: resume its attempt.
        current = in_flight(user)
        if current is not None and current.round_id == round.pk:
            return current
        raise QuizError(_("您还有一场未交卷的答题，请先完成。")) from None
    return attempt


@dataclass
class PaperItem:
    """One question as the page shows it: no answer, no explanation."""

    number: int
    kind: str
    kind_label: str
    text: str
    options: list[tuple[int, str]]  # (displayed index, text)


def paper_of(attempt: Attempt) -> list[PaperItem]:
    """The attempt's questions in its order, options in its shuffled order (1 query)."""
    questions = Question.objects.in_bulk([item["q"] for item in attempt.paper])
    items = []
    for number, item in enumerate(attempt.paper, start=1):
        question = questions[item["q"]]
        items.append(
            PaperItem(
                number=number,
                kind=question.kind,
                kind_label=Kind(question.kind).label,
                text=question.text,
                options=[(shown, question.options[written]) for shown, written in enumerate(item["o"])],
            )
        )
    return items


def expire(attempt: Attempt) -> None:
    """Close an attempt whose time ran out without a submission (it scores nothing)."""
    with serialized_write():
        updated = Attempt.objects.filter(pk=attempt.pk, status=AttemptStatus.IN_PROGRESS).update(
            status=AttemptStatus.EXPIRED
        )
    if updated:
        attempt.status = AttemptStatus.EXPIRED


def submit(attempt: Attempt, chosen: dict[int, list[int]], *, actor) -> Attempt:
    """Score an attempt. ``chosen``: question number (1-based, as shown) → displayed option indexes.

    Refused (:class:`QuizError`) once submitted or after the server's deadline plus grace (the
    attempt is then closed as expired). A question counts when the chosen set equals the answer set.
    The score is ``round(100 × correct / total)``; ``passed`` when ≥ ``pass_mark`` (then a
    certificate code). The person's best and the leaderboards are updated in this transaction.
    """
    now = clock.now()
    with serialized_write():
        locked = Attempt.objects.select_for_update().select_related("round").get(pk=attempt.pk)
        if locked.status != AttemptStatus.IN_PROGRESS:
            raise QuizError(
                _("这次答题已经交卷。") if locked.status == AttemptStatus.SUBMITTED else _("这次答题已超时。")
            )
        if now > hard_deadline(locked):
            locked.status = AttemptStatus.EXPIRED
            locked.save(update_fields=["status"])
            expired = True
        else:
            expired = False
            _score(locked, chosen, now)
            locked.save()
            boards.count_online(locked)
            record(
                "quiz.submitted",
                actor=actor,
                obj=locked,
                data={"round": locked.round.slug, "score": locked.score, "passed": locked.passed},
            )
    if expired:
        raise QuizError(_("已超过答题时限，本次答题未计成绩。"))
    return locked


def _score(attempt: Attempt, chosen: dict[int, list[int]], now) -> None:
    questions = Question.objects.in_bulk([item["q"] for item in attempt.paper])
    answers, correct = [], 0
    for number, item in enumerate(attempt.paper, start=1):
        order = item["o"]
        shown = sorted({i for i in chosen.get(number, []) if 0 <= i < len(order)})
        written = sorted(order[i] for i in shown)
        answers.append(written)
        if written and written == sorted(questions[item["q"]].answer):
            correct += 1
    attempt.answers = answers
    attempt.correct = correct
    attempt.score = round(100 * correct / attempt.total) if attempt.total else 0
    attempt.passed = attempt.score >= attempt.round.pass_mark
    attempt.status = AttemptStatus.SUBMITTED
    attempt.submitted_at = now
    attempt.seconds = max(0, int((now - attempt.started_at).total_seconds()))
    if attempt.passed:
        attempt.certificate_code = new_certificate_code()


CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I


def new_certificate_code() -> str:
    """``KPF-XXXX-XXXX-XXXX``: 60 random bits, read aloud or typed without ambiguity."""
    body = "".join(_random.choice(CODE_ALPHABET) for _ in range(12))
    return f"KPF-{body[:4]}-{body[4:8]}-{body[8:]}"


@dataclass
class Review:
    """A submitted question with its answer, for the result page (after submission only)."""

    number: int
    text: str
    options: list[tuple[str, bool, bool]]  # (text, chosen, correct)
    right: bool
    explanation: str
    article: int


def review(attempt: Attempt) -> list[Review]:
    """The submitted attempt question by question (answers and explanations). Empty before submission."""
    if attempt.status != AttemptStatus.SUBMITTED:
        return []
    questions = Question.objects.in_bulk([item["q"] for item in attempt.paper])
    result = []
    for number, (item, written) in enumerate(zip(attempt.paper, attempt.answers, strict=False), start=1):
        q = questions[item["q"]]
        result.append(
            Review(
                number=number,
                text=q.text,
                options=[(q.options[w], w in written, w in q.answer) for w in item["o"]],
                right=bool(written) and sorted(written) == sorted(q.answer),
                explanation=q.explanation,
                article=q.article,
            )
        )
    return result
