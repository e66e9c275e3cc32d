"""Quiz fixtures: the seed bank and the 2025 round loaded, the clock inside the round's window,
two provinces, and helpers to answer an attempt right or wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
BANK = ROOT / "data" / "quiz" / "bank-2024.yaml"
ROUNDS = ROOT / "data" / "quiz" / "rounds-kepuyue-2025.yaml"
IN_WINDOW = "2025-09-16T10:00+08:00"


@pytest.fixture
def provinces(db):
    from kepuyue.regions.models import Level, Region

    rows = {}
    for code, name in (("330000", "浙江省"), ("440000", "广东省"), ("650000", "新疆维吾尔自治区")):
        rows[code], _ = Region.objects.get_or_create(
            code=code,
            defaults={"name": name, "level": Level.PROVINCE, "province_code": code, "full_name": name},
        )
    return rows


@pytest.fixture
def quiz_round(campaign_2025, clock):
    from kepuyue.quiz.models import Round
    from kepuyue.quiz.services import bank

    bank.load_bank(BANK)
    bank.load_rounds(ROUNDS)
    clock(IN_WINDOW)
    return Round.objects.get(slug="kepufa-2025")


def make_taker(name: str, province, *, age: int = 30, unit=None):
    from kepuyue.quiz.services import taking
    from tests.fixtures_registrations import make_member

    user = make_member()
    taking.save_profile(user, name=name, age=age, province=province, unit=unit)
    return user


def right_answers(attempt) -> dict[int, list[int]]:
    """The displayed indexes of the correct options, question by question (what a perfect taker ticks)."""
    from kepuyue.quiz.models import Question

    questions = Question.objects.in_bulk([item["q"] for item in attempt.paper])
    return {
        number: [shown for shown, written in enumerate(item["o"]) if written in questions[item["q"]].answer]
        for number, item in enumerate(attempt.paper, start=1)
    }


def answers_scoring(attempt, correct: int) -> dict[int, list[int]]:
    """Answers with exactly ``correct`` questions right (the first ones), the others wrong."""
    right = right_answers(attempt)
    chosen = {}
    for number, indexes in right.items():
        if number <= correct:
            chosen[number] = indexes
        else:
            options = len(attempt.paper[number - 1]["o"])
            chosen[number] = [next(i for i in range(options) if i not in indexes)]
    return chosen


@pytest.fixture
def njx(quiz_round, provinces):
    """A rural science association (农技协) of Zhejiang."""
    from kepuyue.orgs.models import Organization, OrganizationType

    kind = (
        OrganizationType.objects.filter(code="rural_association").first() or OrganizationType.objects.first()
    )
    return Organization.objects.create(name="浙江省农村专业技术协会", type=kind, region=provinces["330000"])
