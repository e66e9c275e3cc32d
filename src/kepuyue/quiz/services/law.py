"""The 2024 revised 科普法 as data (``data/quiz/law-2024.txt``): its articles by number, and the check
that a question's answer is supported by the article it cites (plan 六(三)1: 深入宣传贯彻新修订的科普法)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from django.conf import settings

BLANK = "（ ）"
_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ARTICLE = re.compile(r"^第([一二三四五六七八九十]+)条\s")
_CHAPTER = re.compile(r"^第[一二三四五六七八九十]+章\s")


def chinese_number(text: str) -> int:
    """``"四十六"`` → 46 (1–99, the article numbers of the law)."""
    if "十" not in text:
        return _NUMERALS[text]
    tens, _, ones = text.partition("十")
    return (_NUMERALS[tens] if tens else 1) * 10 + (_NUMERALS[ones] if ones else 0)


def law_path() -> Path:
    return Path(
        getattr(settings, "KEPUYUE_QUIZ_LAW", settings.PROJECT_DIR / "data" / "quiz" / "law-2024.txt")
    )


@cache
def articles(path: str | None = None) -> dict[int, str]:
    """Article number → its text (paragraphs joined by ``\\n``, the ``第N条`` heading removed)."""
    result: dict[int, list[str]] = {}
    current = None
    for line in Path(path or law_path()).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        match = _ARTICLE.match(line)
        if match:
            current = chinese_number(match.group(1))
            result[current] = [line[match.end() :].strip()]
        elif _CHAPTER.match(line) or not line:
            current = None if _CHAPTER.match(line) else current
        elif current is not None:
            result[current].append(line)
    return {number: "\n".join(parts) for number, parts in result.items()}


def support_problems(
    *, kind: str, text: str, options: list[str], answer: list[int], article: int, evidence: str = ""
) -> list[str]:
    """Why the article does not support the answer (empty list: it does).

    * a stem with a blank ``（ ）`` and no ``evidence``: the stem with the correct option filled in
      (a final 。 or ？ dropped) occurs in the article, and the stem with any wrong option does not;
    * otherwise ``evidence`` occurs in the article, contains every correct option and no wrong one;
    * a true/false statement: true → the statement occurs in the article; false → it does not, and
      its ``evidence`` does.
    """
    law = articles().get(article)
    if law is None:
        return [f"第{article}条不存在"]
    problems = []
    if kind == "truefalse":
        statement = text.rstrip("。？")
        if answer == [0] and statement not in law:
            problems.append("判断为“正确”，但题干不是条文原文")
        if answer == [1]:
            if statement in law:
                problems.append("判断为“错误”，但题干就是条文原文")
            if not evidence or evidence not in law:
                problems.append("判断为“错误”，须给出条文中的依据")
        return problems
    if evidence:
        if evidence not in law:
            problems.append(f"依据“{evidence}”不在第{article}条中")
        for index, option in enumerate(options):
            if index in answer and option not in evidence:
                problems.append(f"正确选项“{option}”不在依据中")
            if index not in answer and option in evidence:
                problems.append(f"错误选项“{option}”出现在依据中")
        return problems
    if BLANK not in text:
        return ["非填空题须给出条文依据（evidence）"]
    for index, option in enumerate(options):
        filled = text.replace(BLANK, option).rstrip("。？")
        if index in answer and filled not in law:
            problems.append(f"填入正确选项“{option}”后的句子不在第{article}条中")
        if index not in answer and filled in law:
            problems.append(f"填入错误选项“{option}”后的句子也在第{article}条中")
    return problems
