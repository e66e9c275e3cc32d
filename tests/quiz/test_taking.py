"""Taking a round: the draw and the shuffle, the server's time limit, one attempt in flight, the
day's attempts, the window, scoring, minors' consent."""

from __future__ import annotations

from collections import Counter

import pytest

from kepuyue.quiz.models import Attempt, AttemptStatus, Profile, Question
from kepuyue.quiz.services import taking

from .conftest import answers_scoring, make_taker, right_answers


@pytest.fixture
def taker(quiz_round, provinces):
    return make_taker("张小明", provinces["330000"])


def test_draw_takes_the_rounds_count_per_category(quiz_round, taker):
    attempt = taking.start(quiz_round, taker)
    assert attempt.total == 20 == len(attempt.paper)
    questions = Question.objects.in_bulk([item["q"] for item in attempt.paper])
    assert len(questions) == 20  # no question twice
    assert Counter(q.category for q in questions.values()) == Counter(quiz_round.draw)


def test_draw_and_option_order_are_random(quiz_round, provinces):
    papers, orders = set(), Counter()
    for n in range(8):
        user = make_taker(f"答题者{n}", provinces["440000"])
        attempt = taking.start(quiz_round, user)
        papers.add(tuple(sorted(item["q"] for item in attempt.paper)))
        for item in attempt.paper:
            if len(item["o"]) > 2:
                orders[item["o"] == sorted(item["o"])] += 1
    assert len(papers) > 1
    assert orders[False] > orders[True]  # most choice questions' options are not in written order


def test_true_false_options_keep_their_order(quiz_round, taker):
    attempt = taking.start(quiz_round, taker)
    questions = Question.objects.in_bulk([item["q"] for item in attempt.paper])
    for item in attempt.paper:
        if questions[item["q"]].kind == "truefalse":
            assert item["o"] == [0, 1]


def test_perfect_answers_pass_with_a_certificate_code(quiz_round, taker):
    attempt = taking.start(quiz_round, taker)
    done = taking.submit(attempt, right_answers(attempt), actor=taker)
    assert (done.correct, done.score, done.passed, done.status) == (20, 100, True, AttemptStatus.SUBMITTED)
    assert done.certificate_code.startswith("KPF-") and len(done.certificate_code) == 18


def test_scores_and_pass_mark(quiz_round, taker):
    attempt = taking.start(quiz_round, taker)
    done = taking.submit(attempt, answers_scoring(attempt, 15), actor=taker)
    assert (done.correct, done.score, done.passed, done.certificate_code) == (15, 75, False, None)


def test_multiple_choice_counts_only_the_exact_set(quiz_round, taker):
    attempt = taking.start(quiz_round, taker)
    right = right_answers(attempt)
    questions = Question.objects.in_bulk([item["q"] for item in attempt.paper])
    number = next(n for n, item in enumerate(attempt.paper, 1) if questions[item["q"]].kind == "multiple")
    right[number] = right[number][:-1]  # one correct option missing
    done = taking.submit(attempt, right, actor=taker)
    assert done.correct == 19


def test_time_limit_is_the_servers(quiz_round, taker, clock):
    attempt = taking.start(quiz_round, taker)
    assert (attempt.deadline - attempt.started_at).total_seconds() == 900
    clock("2025-09-16T10:15:29+08:00")  # within the 30 s grace
    assert taking.submit(attempt, right_answers(attempt), actor=taker).score == 100

    clock("2025-09-16T11:00+08:00")
    second = taking.start(quiz_round, taker)
    clock("2025-09-16T11:15:31+08:00")
    with pytest.raises(taking.QuizError, match="已超过答题时限"):
        taking.submit(second, right_answers(second), actor=taker)
    second.refresh_from_db()
    assert second.status == AttemptStatus.EXPIRED and second.score == 0
    assert quiz_round.bests.get(user=taker).attempt_id == attempt.pk


def test_one_attempt_in_flight_per_account(quiz_round, taker, campaign_2025):
    from kepuyue.quiz.models import Round

    first = taking.start(quiz_round, taker)
    assert taking.start(quiz_round, taker).pk == first.pk  # a second tap resumes
    other = Round.objects.create(
        slug="other",
        campaign=campaign_2025,
        title="另一轮",
        opens_at=quiz_round.opens_at,
        closes_at=quiz_round.closes_at,
        question_count=5,
    )
    with pytest.raises(taking.QuizError, match="未交卷"):
        taking.start(other, taker)
    assert Attempt.objects.filter(user=taker).count() == 1


def test_database_refuses_two_attempts_in_flight(quiz_round, taker):
    from django.db import IntegrityError, transaction

    first = taking.start(quiz_round, taker)
    with pytest.raises(IntegrityError), transaction.atomic():
        Attempt.objects.create(
            token="x",
            round=quiz_round,
            user=taker,
            day=first.day,
            started_at=first.started_at,
            deadline=first.deadline,
            name="x",
            province_id="330000",
        )


def test_an_expired_attempt_in_flight_is_closed_when_starting_again(quiz_round, taker, clock):
    first = taking.start(quiz_round, taker)
    clock("2025-09-16T12:00+08:00")
    second = taking.start(quiz_round, taker)
    first.refresh_from_db()
    assert first.status == AttemptStatus.EXPIRED and second.pk != first.pk


def test_attempts_per_day(quiz_round, taker, clock):
    for hour in (10, 11, 12):
        clock(f"2025-09-16T{hour}:00+08:00")
        attempt = taking.start(quiz_round, taker)
        taking.submit(attempt, {}, actor=taker)
    clock("2025-09-16T23:00+08:00")
    with pytest.raises(taking.QuizError, match="次数已用完"):
        taking.start(quiz_round, taker)
    clock("2025-09-17T00:01+08:00")  # a new Beijing day
    assert taking.start(quiz_round, taker).day.isoformat() == "2025-09-17"


def test_submitting_twice_is_refused(quiz_round, taker):
    attempt = taking.start(quiz_round, taker)
    taking.submit(attempt, right_answers(attempt), actor=taker)
    with pytest.raises(taking.QuizError, match="已经交卷"):
        taking.submit(attempt, {}, actor=taker)


@pytest.mark.parametrize(
    ("now", "message"), [("2025-09-14T23:59+08:00", "尚未开始"), ("2025-09-26T00:00+08:00", "已结束")]
)
def test_window(quiz_round, taker, clock, now, message):
    clock(now)
    with pytest.raises(taking.QuizError, match=message):
        taking.start(quiz_round, taker)


def test_profile_needed_first(quiz_round):
    from tests.fixtures_registrations import make_member

    with pytest.raises(taking.QuizError, match="答题信息"):
        taking.start(quiz_round, make_member())


def test_minor_under_14_needs_a_guardians_consent(quiz_round, provinces):
    from tests.fixtures_registrations import make_member

    child = make_member()
    with pytest.raises(taking.QuizError, match="监护人"):
        taking.save_profile(child, name="李小朋", age=12, province=provinces["330000"])
    with pytest.raises(taking.QuizError):
        taking.save_profile(
            child,
            name="李小朋",
            age=12,
            province=provinces["330000"],
            guardian_name="李大",
            guardian_consent=False,
        )
    profile = taking.save_profile(
        child,
        name="李小朋",
        age=12,
        province=provinces["330000"],
        guardian_name="李大",
        guardian_consent=True,
    )
    assert profile.guardian_consent_at is not None
    adult = taking.save_profile(make_member(), name="王五", age=14, province=provinces["330000"])
    assert adult.guardian_name == "" and adult.guardian_consent_at is None
    assert "phone" not in {f.name for f in Profile._meta.get_fields()}


def test_out_of_range_answers_are_ignored(quiz_round, taker):
    attempt = taking.start(quiz_round, taker)
    done = taking.submit(attempt, {1: [99, -1], 999: [0]}, actor=taker)
    assert done.answers[0] == [] and done.correct == 0


def test_any_answers_score_between_0_and_100(quiz_round, provinces):
    """Whatever a client sends as answers (numbers out of range, repeats, missing questions), the
    submission scores 0–100 and never fails otherwise."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    answers = st.dictionaries(
        st.integers(min_value=-5, max_value=30),
        st.lists(st.integers(min_value=-3, max_value=12), max_size=10),
        max_size=25,
    )

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(chosen=answers)
    def check(chosen):
        user = make_taker("随机", provinces["440000"])
        done = taking.submit(taking.start(quiz_round, user), chosen, actor=user)
        assert 0 <= done.score <= 100 and done.correct <= done.total
        assert all(0 <= i < 8 for written in done.answers for i in written)

    check()
