"""The quiz's pages: the taker's form, answers absent before submission, the result, the certificate
and its verification, the leaderboards against a hand count, query counts, rate limits."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from kepuyue.quiz.models import Attempt, Question, Tally
from kepuyue.quiz.services import boards, taking

from .conftest import answers_scoring, make_taker, right_answers


@pytest.fixture
def taker(quiz_round, provinces):
    return make_taker("张小明", provinces["330000"])


def _post_answers(client, attempt, chosen):
    data = {f"q{n}": [str(i) for i in indexes] for n, indexes in chosen.items()}
    return client.post(reverse("quiz:attempt", args=[attempt.token]), data)


def test_profile_form_asks_no_phone_and_requires_consent_under_14(client, quiz_round, provinces):
    from tests.fixtures_registrations import make_member

    client.force_login(make_member())
    url = reverse("quiz:profile", args=[quiz_round.slug])
    page = client.get(url).content.decode()
    assert "手机" not in re.sub(r"<p class=\"meta\">.*?</p>", "", page, flags=re.S)
    response = client.post(url, {"name": "李小朋", "age": "１２", "province": "330000"})
    assert response.status_code == 200
    assert "未满14周岁须填写监护人姓名" in response.content.decode()
    response = client.post(
        url,
        {
            "name": "李小朋",
            "age": "12",
            "province": "330000",
            "guardian_name": "李大",
            "guardian_consent": "on",
        },
    )
    assert response.status_code == 302


def test_profile_unit_must_exist(client, quiz_round, provinces, njx):
    unit = njx
    from tests.fixtures_registrations import make_member

    client.force_login(make_member())
    url = reverse("quiz:profile", args=[quiz_round.slug])
    response = client.post(url, {"name": "王五", "age": "40", "province": "330000", "unit": "不存在的单位"})
    assert "找不到该单位" in response.content.decode()
    assert (
        client.post(url, {"name": "王五", "age": "40", "province": "330000", "unit": unit.name}).status_code
        == 302
    )


def test_answers_never_reach_the_page_before_submission(client, quiz_round, taker):
    client.force_login(taker)
    response = client.post(reverse("quiz:start", args=[quiz_round.slug]))
    attempt = Attempt.objects.get(user=taker)
    assert response["Location"] == reverse("quiz:attempt", args=[attempt.token])
    page = client.get(response["Location"]).content.decode()
    questions = Question.objects.in_bulk([item["q"] for item in attempt.paper])
    # what the page says besides the questions' own texts (one stem may quote the law another cites)
    rest = page
    for question in questions.values():
        assert question.text in page
        rest = rest.replace(question.text, "")
    for number, item in enumerate(attempt.paper, start=1):
        question = questions[item["q"]]
        assert question.explanation not in rest
        if question.evidence:
            assert question.evidence not in rest
        # the options appear in the attempt's shuffled order, valued by displayed index only
        values = re.findall(rf'name="q{number}" value="(\d+)"', page)
        assert values == [str(i) for i in range(len(item["o"]))]
    for word in ("answer", "correct", "正确答案", "解析", "data-key"):
        assert word not in page


def test_submit_shows_result_certificate_and_verification(client, quiz_round, taker):
    client.force_login(taker)
    client.post(reverse("quiz:start", args=[quiz_round.slug]))
    attempt = Attempt.objects.get(user=taker)
    response = _post_answers(client, attempt, right_answers(attempt))
    assert response["Location"] == reverse("quiz:result", args=[attempt.token])
    page = client.get(response["Location"]).content.decode()
    attempt.refresh_from_db()
    assert "100 分" in page and "正确答案" in page and attempt.certificate_code in page
    # each question says whether *the answer* was right — not "✓ 正确" beside a true/false statement,
    # which read as the statement being true
    assert page.count("✓ 您答对了") == attempt.total and "✗" not in page

    pdf = client.get(reverse("quiz:certificate", args=[attempt.token]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 1500
    assert "no-store" in pdf["Cache-Control"]

    client.logout()
    verify = client.get(reverse("quiz:verify", args=[attempt.certificate_code]))
    text = verify.content.decode()
    assert verify.status_code == 200 and "证书有效" in text and "张*明" in text and "张小明" not in text
    assert (
        client.get(reverse("quiz:verify_form") + f"?code={attempt.certificate_code.lower()}").status_code
        == 200
    )
    assert client.get(reverse("quiz:verify", args=["KPF-AAAA-BBBB-CCCC"])).status_code == 404
    # Typed as people type it: no hyphens, spaces, lower case, full-width — the same certificate.
    compact = attempt.certificate_code.replace("-", "")
    spaced = attempt.certificate_code.replace("-", " ").lower()
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in attempt.certificate_code)
    for typed in (compact, spaced, wide):
        assert "证书有效" in client.get(reverse("quiz:verify_form"), {"code": typed}).content.decode(), typed
    assert client.get(reverse("quiz:verify", args=[compact])).status_code == 200


def test_others_cannot_see_an_attempt_or_its_certificate(client, quiz_round, taker, provinces):
    attempt = taking.start(quiz_round, taker)
    taking.submit(attempt, right_answers(attempt), actor=taker)
    client.force_login(make_taker("李四", provinces["440000"]))
    for name in ("quiz:attempt", "quiz:result", "quiz:certificate"):
        assert client.get(reverse(name, args=[attempt.token])).status_code == 404
    client.logout()
    assert client.get(reverse("quiz:certificate", args=[attempt.token])).status_code == 302  # to sign-in


def test_failed_attempt_has_no_certificate(client, quiz_round, taker):
    attempt = taking.start(quiz_round, taker)
    taking.submit(attempt, answers_scoring(attempt, 10), actor=taker)
    client.force_login(taker)
    assert client.get(reverse("quiz:certificate", args=[attempt.token])).status_code == 404


def test_late_submission_through_the_page_is_refused(client, quiz_round, taker, clock):
    client.force_login(taker)
    client.post(reverse("quiz:start", args=[quiz_round.slug]))
    attempt = Attempt.objects.get(user=taker)
    clock("2025-09-16T10:20+08:00")
    response = _post_answers(client, attempt, right_answers(attempt))
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == "expired" and not Tally.objects.exists()


def test_leaderboards_against_a_hand_count(quiz_round, provinces, njx):
    unit = njx
    zj, gd = provinces["330000"], provinces["440000"]
    # (name, province, unit, correct answers of 20 per attempt in order)
    people = [
        ("甲一", zj, unit, [20]),
        ("乙二", zj, unit, [10, 17]),
        ("丙三", zj, None, [12]),
        ("丁四", gd, None, [16, 8]),
        ("戊五", gd, None, [19]),
    ]
    for name, province, org, results in people:
        user = make_taker(name, province, unit=org)
        for correct in results:
            attempt = taking.start(quiz_round, user)
            taking.submit(attempt, answers_scoring(attempt, correct), actor=user)
    # best scores: 甲一 100, 乙二 85, 丙三 60 (浙江); 丁四 80, 戊五 95 (广东); pass mark 80
    board = boards.board(quiz_round)
    by_code = {t.key: t for t in board.provinces}
    assert (by_code["330000"].participants, by_code["330000"].average, by_code["330000"].pass_rate) == (
        3,
        81.7,
        66.7,
    )
    assert (by_code["440000"].participants, by_code["440000"].average, by_code["440000"].pass_rate) == (
        2,
        87.5,
        100.0,
    )
    assert (board.total.participants, board.total.score_sum, board.total.passed) == (5, 420, 4)
    [unit_row] = board.units
    assert (unit_row.label, unit_row.participants, unit_row.average, unit_row.pass_rate) == (
        unit.name,
        2,
        92.5,
        100.0,
    )
    assert [(r.name, r.score) for r in board.top] == [
        ("甲*", 100),
        ("戊*", 95),
        ("乙*", 85),
        ("丁*", 80),
        ("丙*", 60),
    ]


def test_mask_name():
    assert [boards.mask_name(n) for n in ("张", "张三", "欧阳小明", "Li")] == ["*", "张*", "欧**明", "L*"]


@pytest.mark.parametrize("n", [1, 3])
def test_round_page_query_count(client, quiz_round, provinces, django_assert_max_num_queries, n):
    codes = list(provinces)[:n]
    for i, code in enumerate(codes):
        user = make_taker(f"人{i}", provinces[code])
        attempt = taking.start(quiz_round, user)
        taking.submit(attempt, right_answers(attempt), actor=user)
    with django_assert_max_num_queries(4):
        response = client.get(reverse("quiz:round", args=[quiz_round.slug]))
    assert response.status_code == 200
    assert response.content.decode().count("<tr><td>") >= 2 * n


def test_rounds_list_query_count(client, quiz_round, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert client.get(reverse("quiz:rounds")).status_code == 200


def test_start_is_rate_limited(client, quiz_round, taker, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "quiz_start": "2/h"}
    client.force_login(taker)
    url = reverse("quiz:start", args=[quiz_round.slug])
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 429


def test_certificate_text_avoids_characters_the_cid_font_lacks():
    from kepuyue.quiz.services.certificates import gb_text

    assert gb_text("科普法·我知道·比比看") == "科普法・我知道・比比看"
