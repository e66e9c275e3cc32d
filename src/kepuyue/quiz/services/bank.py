"""The question bank and the rounds as data (plan 六(三)1 “科普法·我知道·比比看”).

``data/quiz/bank-*.yaml`` (or an organizer's ``.xlsx`` made from :func:`bank_template`) → :class:`QuestionSpec`
(pydantic: every error names the question) → :func:`save_questions` (one transaction, upsert by
``key``). ``data/quiz/rounds-*.yaml`` → :func:`load_rounds`. Nothing is written when any question or
round is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kepuyue.campaigns.models import Campaign, JointAction
from kepuyue.common import clock
from kepuyue.common.text import clean_text

from ..models import TRUE_FALSE_OPTIONS, Kind, Question, Round
from . import sheets

LETTERS = "ABCDEFGH"
MAX_QUESTIONS = 5000


class QuestionSpec(BaseModel):
    """One question as written in YAML or a template row."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    kind: Literal["single", "multiple", "truefalse"]
    category: str = Field(min_length=1, max_length=32)
    article: int = Field(ge=1, le=60)
    text: str = Field(min_length=4, max_length=500)
    options: list[str] = Field(default_factory=list, max_length=8)
    answer: str | bool
    explanation: str = Field(default="", max_length=2000)
    evidence: str = Field(default="", max_length=300)
    origin: str = Field(default="", max_length=64)

    @field_validator("options")
    @classmethod
    def _options(cls, value: list[str]) -> list[str]:
        value = [clean_text(str(v), max_length=200, label="选项") for v in value]
        if any(not v for v in value):
            raise ValueError("选项不能为空")
        if len(set(value)) != len(value):
            raise ValueError("选项不能重复")
        return value

    @model_validator(mode="after")
    def _answer(self):
        if self.kind == "truefalse":
            if not isinstance(self.answer, bool):
                raise ValueError("判断题的答案须为 true（正确）或 false（错误）")
            if self.options and self.options != TRUE_FALSE_OPTIONS:
                raise ValueError("判断题不需要填写选项")
            return self
        if isinstance(self.answer, bool):
            raise ValueError("选择题的答案须为选项字母，如 A 或 AC")
        if len(self.options) < 2:
            raise ValueError("选择题至少要有 2 个选项")
        letters = str(self.answer).upper().replace(",", "").replace("，", "").replace(" ", "")
        if (
            not letters
            or any(c not in LETTERS[: len(self.options)] for c in letters)
            or len(set(letters)) != len(letters)
        ):
            raise ValueError(f"答案“{self.answer}”须为 A–{LETTERS[len(self.options) - 1]} 中的字母")
        if self.kind == "single" and len(letters) != 1:
            raise ValueError("单选题只能有一个正确答案")
        if self.kind == "multiple" and len(letters) < 2:
            raise ValueError("多选题至少要有两个正确答案")
        self.answer = "".join(sorted(letters))
        return self

    def answer_indexes(self) -> list[int]:
        if self.kind == "truefalse":
            return [0] if self.answer else [1]
        return sorted(LETTERS.index(c) for c in str(self.answer))

    def option_texts(self) -> list[str]:
        return list(TRUE_FALSE_OPTIONS) if self.kind == "truefalse" else list(self.options)


class BankFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    source: str = ""
    questions: list[QuestionSpec] = Field(max_length=MAX_QUESTIONS)

    @model_validator(mode="after")
    def _unique(self):
        seen = set()
        for q in self.questions:
            if q.key in seen:
                raise ValueError(f"题目标识 {q.key} 重复")
            seen.add(q.key)
        return self


def _errors(exc) -> list[str]:
    """pydantic errors as Chinese lines naming where."""
    lines = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{where}：{message}" if where else message)
    return lines


def parse_bank(text: str) -> BankFile:
    """Parse a bank YAML; raises ``ValidationError`` listing every problem (with its place)."""
    from pydantic import ValidationError as PydanticError

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(_("YAML 格式错误：%(e)s") % {"e": exc}) from exc
    try:
        return BankFile.model_validate(data)
    except PydanticError as exc:
        raise ValidationError(_errors(exc)) from exc


@dataclass
class Saved:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def save_questions(specs: list[QuestionSpec], *, deactivate_missing: bool = False) -> Saved:
    """Upsert the questions by ``key`` in one transaction. ``deactivate_missing``: questions of the
    database that ``specs`` no longer names are deactivated (never deleted: attempts point at them)."""
    result = Saved()
    with transaction.atomic():
        existing = {q.key: q for q in Question.objects.filter(key__in=[s.key for s in specs])}
        for spec in specs:
            values = {
                "kind": spec.kind,
                "category": spec.category,
                "article": spec.article,
                "text": spec.text,
                "options": spec.option_texts(),
                "answer": spec.answer_indexes(),
                "explanation": spec.explanation,
                "evidence": spec.evidence,
                "origin": spec.origin,
                "active": True,
            }
            question = existing.get(spec.key)
            if question is None:
                Question.objects.create(key=spec.key, **values)
                result.created += 1
            elif any(getattr(question, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(question, k, v)
                question.save()
                result.updated += 1
            else:
                result.unchanged += 1
        if deactivate_missing:
            Question.objects.exclude(key__in=[s.key for s in specs]).update(active=False)
    return result


def load_bank(path: str | Path) -> Saved:
    """Load a bank YAML file (see ``data/quiz/bank-2024.yaml``); all or nothing."""
    bank = parse_bank(Path(path).read_text(encoding="utf-8"))
    return save_questions(bank.questions)


# --- Excel template for organizers ------------------------------------------------------------------

BANK_HEADERS = {
    "题目标识": "key",
    "题型": "kind",
    "分类": "category",
    "条文（第几条）": "article",
    "题干": "text",
    "选项A": "A",
    "选项B": "B",
    "选项C": "C",
    "选项D": "D",
    "选项E": "E",
    "选项F": "F",
    "答案": "answer",
    "解析": "explanation",
    "条文依据": "evidence",
}
KIND_NAMES = {
    "单选": Kind.SINGLE,
    "单选题": Kind.SINGLE,
    "多选": Kind.MULTIPLE,
    "多选题": Kind.MULTIPLE,
    "判断": Kind.TRUE_FALSE,
    "判断题": Kind.TRUE_FALSE,
}
TRUE_WORDS = {"正确", "对", "是", "√", "true", "TRUE", "T"}
FALSE_WORDS = {"错误", "错", "否", "×", "false", "FALSE", "F"}


def bank_template() -> bytes:
    """The organizers' ``.xlsx`` template for questions (one example of each kind)."""
    return sheets.template(
        list(BANK_HEADERS),
        [
            [
                "a07-month",
                "单选",
                "总则",
                7,
                "每年哪个月为全国科普月？",
                "5月",
                "9月",
                "10月",
                "12月",
                "",
                "",
                "B",
                "第七条第二款。",
                "每年9月为全国科普月",
            ],
            [
                "a10-principles",
                "多选",
                "总则",
                10,
                "科普工作应当坚持哪些原则？",
                "群众性",
                "社会性",
                "经常性",
                "营利性",
                "",
                "",
                "ABC",
                "第十条。",
                "科普工作应当坚持群众性、社会性和经常性",
            ],
            [
                "a12-exchange",
                "判断",
                "总则",
                12,
                "国家支持和促进科普对外合作与交流。",
                "",
                "",
                "",
                "",
                "",
                "",
                "正确",
                "第十二条。",
                "",
            ],
        ],
        title="题库",
        notes=[
            "每行一题。题型：单选、多选、判断。",
            "题目标识：小写字母、数字和连字符，唯一；再次上传同一标识即更新该题。",
            "选择题填选项A—F（至少2个），答案填字母，如 B 或 ACD；判断题不填选项，答案填“正确”或“错误”。",
            "条文：2024年修订的《科普法》第几条（1—60）；条文依据：能证明答案的条文原文（非填空题须填）。",
            "填空处写作全角括号中间一个空格：（ ）。",
        ],
    )


def import_bank_xlsx(upload) -> tuple[Saved | None, list[str]]:
    """Import questions from the organizers' template: every row checked first; problems come back as
    Chinese lines naming the row, and then nothing is written. Returns ``(saved or None, problems)``."""
    from pydantic import ValidationError as PydanticError

    try:
        rows = sheets.read_template(
            upload,
            BANK_HEADERS,
            required=("key", "kind", "text", "answer", "article"),
            max_rows=MAX_QUESTIONS,
        )
    except ValidationError as exc:
        return None, list(exc.messages)
    specs, problems, seen = [], [], set()
    for number, values in rows.rows:
        kind = KIND_NAMES.get(values.get("kind", ""))
        answer: str | bool = values.get("answer", "")
        if kind == Kind.TRUE_FALSE:
            answer = True if answer in TRUE_WORDS else False if answer in FALSE_WORDS else answer
        options = [values[c] for c in "ABCDEF" if values.get(c)]
        try:
            spec = QuestionSpec(
                key=values.get("key", ""),
                kind=kind or values.get("kind", ""),
                category=values.get("category", ""),
                article=values.get("article") or 0,
                text=values.get("text", ""),
                options=options,
                answer=answer,
                explanation=values.get("explanation", ""),
                evidence=values.get("evidence", ""),
            )
        except PydanticError as exc:
            problems += [f"第{number}行 {line}" for line in _row_errors(exc)]
            continue
        if spec.key in seen:
            problems.append(f"第{number}行 题目标识 {spec.key} 与前面的行重复")
            continue
        seen.add(spec.key)
        specs.append(spec)
    if not specs and not problems:
        problems.append("文件中没有题目")
    if problems:
        return None, problems
    return save_questions(specs), []


_FIELD_NAMES = {v: k for k, v in BANK_HEADERS.items()} | {"options": "选项"}


def _row_errors(exc) -> list[str]:
    lines = []
    for error in exc.errors():
        where = _FIELD_NAMES.get(str(error["loc"][0]), "") if error["loc"] else ""
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "literal_error":
            message = "须为 单选、多选 或 判断"
        elif error["type"] in ("string_pattern_mismatch",):
            message = "只能用小写字母、数字和连字符"
        elif error["type"] in ("string_too_short", "missing"):
            message = "不能为空"
        elif error["type"].startswith(("int_", "greater_than", "less_than")):
            message = "须为 1—60 的整数"
        lines.append(f"{where}：{message}" if where else message)
    return lines


# --- rounds -----------------------------------------------------------------------------------------


class RoundSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    joint_action: str = ""
    title: str = Field(min_length=1, max_length=100)
    description: str = ""
    opens_at: str
    closes_at: str
    question_count: int = Field(default=0, ge=0, le=100)
    draw: dict[str, int] = Field(default_factory=dict)
    time_limit_seconds: int = Field(default=900, ge=60, le=7200)
    grace_seconds: int = Field(default=30, ge=0, le=300)
    attempts_per_day: int = Field(default=3, ge=1, le=50)
    pass_mark: int = Field(default=80, ge=1, le=100)
    certificate_title: str = Field(default="科普法知识测验合格证书", max_length=100)
    issuer: str = Field(default="", max_length=100)

    @model_validator(mode="after")
    def _check(self):
        for name in ("opens_at", "closes_at"):
            try:
                clock.parse_instant(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"{name} 不是 ISO 8601 时间") from exc
        if clock.parse_instant(self.closes_at) <= clock.parse_instant(self.opens_at):
            raise ValueError("结束时间须晚于开始时间")
        if any(n < 1 for n in self.draw.values()):
            raise ValueError("draw 中每类题数须至少为 1")
        if self.draw:
            self.question_count = sum(self.draw.values())
        if not 1 <= self.question_count <= 100:
            raise ValueError("每次题数须在 1—100 之间（question_count 或 draw）")
        return self

    def times(self) -> tuple[datetime, datetime]:
        return clock.parse_instant(self.opens_at), clock.parse_instant(self.closes_at)


class RoundsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign: str
    rounds: list[RoundSpec]


def load_rounds(path: str | Path) -> Saved:
    """Load a rounds YAML (``data/quiz/rounds-<campaign>.yaml``): upsert by slug, in one transaction.
    Each round's ``draw`` must be satisfiable by the active bank (checked here, not at the first attempt)."""
    from pydantic import ValidationError as PydanticError

    try:
        data = RoundsFile.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    except PydanticError as exc:
        raise ValidationError(_errors(exc)) from exc
    campaign = Campaign.objects.filter(slug=data.campaign).first()
    if campaign is None:
        raise ValidationError(
            _("活动年度 %(slug)s 尚未载入（先运行 load_campaign）") % {"slug": data.campaign}
        )
    result = Saved()
    with transaction.atomic():
        for spec in data.rounds:
            joint_action = None
            if spec.joint_action:
                joint_action = JointAction.objects.filter(campaign=campaign, slug=spec.joint_action).first()
                if joint_action is None:
                    raise ValidationError(_("联合行动 %(slug)s 不存在") % {"slug": spec.joint_action})
            problems = draw_problems(spec.draw, spec.question_count)
            if problems:
                raise ValidationError([f"{spec.slug}：{p}" for p in problems])
            opens_at, closes_at = spec.times()
            values = spec.model_dump(exclude={"slug", "joint_action", "opens_at", "closes_at"})
            values |= {
                "campaign": campaign,
                "joint_action": joint_action,
                "opens_at": opens_at,
                "closes_at": closes_at,
            }
            _round, created = Round.objects.update_or_create(slug=spec.slug, defaults=values)
            if created:
                result.created += 1
            else:
                result.updated += 1
    return result


def draw_problems(draw: dict[str, int], count: int) -> list[str]:
    """What the active bank lacks for a draw (empty: every attempt can be drawn)."""
    from django.db.models import Count

    available = dict(
        Question.objects.filter(active=True)
        .values_list("category")
        .annotate(n=Count("id"))
        .values_list("category", "n")
    )
    if not draw:
        total = sum(available.values())
        return [] if total >= count else [f"题库只有 {total} 道题，少于每次题数 {count}"]
    return [
        f"分类“{category}”只有 {available.get(category, 0)} 道题，少于要抽的 {n} 道"
        for category, n in draw.items()
        if available.get(category, 0) < n
    ]
