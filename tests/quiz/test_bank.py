"""The seed bank against the 2024 law's own text, the 2002-law questions re-checked, loading and the
organizers' Excel template."""

from __future__ import annotations

import io

import pytest
import yaml
from openpyxl import load_workbook

from kepuyue.quiz.models import Question
from kepuyue.quiz.services import bank, law

from .conftest import BANK, ROOT

SPECS = bank.parse_bank(BANK.read_text(encoding="utf-8")).questions
RECHECK = yaml.safe_load((ROOT / "data" / "quiz" / "recheck-2002.yaml").read_text(encoding="utf-8"))["items"]


def test_law_has_sixty_articles_in_eight_chapters():
    articles = law.articles()
    assert sorted(articles) == list(range(1, 61))
    assert articles[7].splitlines()[1] == "每年9月为全国科普月。"
    assert articles[60] == "本法自公布之日起施行。"


def test_chinese_numbers():
    assert [law.chinese_number(t) for t in ("一", "十", "十四", "二十", "四十六", "六十")] == [
        1,
        10,
        14,
        20,
        46,
        60,
    ]


def test_seed_bank_has_at_least_sixty_questions_of_each_kind():
    assert len(SPECS) >= 60
    kinds = {s.kind for s in SPECS}
    assert kinds == {"single", "multiple", "truefalse"}
    assert all(s.explanation for s in SPECS)


@pytest.mark.parametrize("spec", SPECS, ids=[s.key for s in SPECS])
def test_every_answer_is_supported_by_the_article_it_cites(spec):
    problems = law.support_problems(
        kind=spec.kind,
        text=spec.text,
        options=spec.option_texts(),
        answer=spec.answer_indexes(),
        article=spec.article,
        evidence=spec.evidence,
    )
    assert problems == [], problems


def test_support_check_catches_a_wrong_answer():
    spec = next(s for s in SPECS if s.key == "a07-month")
    problems = law.support_problems(
        kind="single", text=spec.text, options=spec.options, answer=[0], article=7, evidence=spec.evidence
    )
    assert problems  # 5月 is not what article 7 says
    # the 2002 wording of 科普是全社会的共同“任务” is no longer the law's
    assert law.support_problems(
        kind="truefalse", text="科普是全社会的共同任务。", options=["正确", "错误"], answer=[0], article=19
    )


def test_2002_questions_rechecked_dropped_ones_never_shipped():
    origins = {s.origin for s in SPECS if s.origin}
    verdicts = {item["origin"]: item["verdict"] for item in RECHECK}
    assert len(verdicts) == 18  # 7 choice + 11 true/false questions of law_quiz.md sections 1–2
    for origin, verdict in verdicts.items():
        if verdict == "dropped":
            assert origin not in origins, origin
        else:
            assert origin in origins, origin
    assert origins <= set(verdicts)
    assert {o for o, v in verdicts.items() if v == "dropped"} >= {
        "2002-选择2",
        "2002-判断3",
        "2002-判断5",
        "2002-判断6",
    }


def test_load_bank_is_idempotent(db):
    first = bank.load_bank(BANK)
    assert first.created == len(SPECS)
    second = bank.load_bank(BANK)
    assert (second.created, second.updated, second.unchanged) == (0, 0, len(SPECS))
    q = Question.objects.get(key="a07-month")
    assert q.options[q.answer[0]] == "9月"
    tf = Question.objects.get(key="a59-civil")
    assert tf.options == ["正确", "错误"] and tf.answer == [1]


def test_bank_yaml_errors_name_the_question():
    bad = "questions:\n  - {key: x1, kind: single, category: 总则, article: 7, text: 哪个月？, options: [a, b], answer: C}\n"
    with pytest.raises(Exception) as info:
        bank.parse_bank(bad)
    assert "questions.0" in str(info.value) and "A–B" in str(info.value)


def _upload(rows: list[list]) -> io.BytesIO:
    book = load_workbook(io.BytesIO(bank.bank_template()))
    sheet = book["题库"]
    sheet.delete_rows(2, sheet.max_row)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def test_excel_template_imports_each_kind(db):
    saved, problems = bank.import_bank_xlsx(io.BytesIO(bank.bank_template()))
    assert problems == []
    assert saved.created == 3
    assert Question.objects.get(key="a12-exchange").answer == [0]
    assert Question.objects.get(key="a10-principles").answer == [0, 1, 2]


def test_excel_bad_rows_reported_in_chinese_and_nothing_written(db):
    upload = _upload(
        [
            [
                "ok-1",
                "单选",
                "总则",
                7,
                "每年哪个月为全国科普月？",
                "5月",
                "9月",
                "",
                "",
                "",
                "",
                "B",
                "",
                "每年9月为全国科普月",
            ],
            ["Bad Key", "单选", "总则", 7, "题干题干", "a", "b", "", "", "", "", "A", "", ""],
            ["ok-2", "问答", "总则", 7, "题干题干", "a", "b", "", "", "", "", "A", "", ""],
            ["ok-3", "多选", "总则", 99, "题干题干", "a", "b", "c", "", "", "", "A", "", ""],
            ["ok-4", "判断", "总则", 3, "题干题干", "", "", "", "", "", "", "也许", "", ""],
            ["ok-1", "单选", "总则", 7, "重复标识", "a", "b", "", "", "", "", "A", "", ""],
        ]
    )
    saved, problems = bank.import_bank_xlsx(upload)
    assert saved is None
    text = "\n".join(problems)
    assert "第3行 题目标识：只能用小写字母、数字和连字符" in text
    assert "第4行 题型：须为 单选、多选 或 判断" in text
    assert "第5行" in text and "1—60" in text
    assert "第6行" in text and "判断题的答案须为" in text
    assert "第7行 题目标识 ok-1 与前面的行重复" in text
    assert not Question.objects.exists()


def test_excel_not_a_workbook_is_refused(db):
    saved, problems = bank.import_bank_xlsx(io.BytesIO(b"not a zip"))
    assert saved is None and "无法读取 Excel 文件" in problems[0]


def test_rounds_load_checks_the_draw_against_the_bank(campaign_2025, tmp_path):
    from kepuyue.quiz.models import Round

    from .conftest import ROUNDS

    with pytest.raises(Exception) as info:
        bank.load_rounds(ROUNDS)  # empty bank
    assert "少于要抽的" in str(info.value)
    assert not Round.objects.exists()
    bank.load_bank(BANK)
    bank.load_rounds(ROUNDS)
    round = Round.objects.get(slug="kepufa-2025")
    assert round.question_count == 20 and round.joint_action.slug == "rural-associations"
    assert bank.load_rounds(ROUNDS).updated == 1


def test_load_quiz_command(campaign_2025, tmp_path):
    from django.core.management import CommandError, call_command

    from kepuyue.quiz.models import Round

    from .conftest import ROUNDS

    out = io.StringIO()
    call_command("load_quiz", str(BANK), str(ROUNDS), stdout=out)
    assert f"新增 {len(SPECS)}" in out.getvalue() and Round.objects.count() == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("questions:\n  - {key: BAD}\n", encoding="utf-8")
    with pytest.raises(CommandError, match="questions.0"):
        call_command("load_quiz", str(bad), stdout=out)
