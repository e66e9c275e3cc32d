"""The 科普法·我知道·比比看 quiz (plan 六(三)1): a question bank, rounds, attempts, certificates and the
roll-ups the leaderboards read.

The bank and the rounds are data (``data/quiz/*.yaml``, or an organizer's Excel template) loaded by
:mod:`kepuyue.quiz.services.bank`; people take a round online (:class:`Attempt`) and units enter paper
results (:class:`OfflineResult`, step 2). Every submission updates the person's :class:`Best` and the
round's :class:`Tally` rows in its own transaction, so a leaderboard reads a few dozen rows whatever
the number of attempts (``docs/decisions/0019-quiz-leaderboard-rollups.md``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from kepuyue.common.models import TimestampedModel


class Kind(models.TextChoices):
    """题型."""

    SINGLE = "single", "单选题"
    MULTIPLE = "multiple", "多选题"
    TRUE_FALSE = "truefalse", "判断题"


TRUE_FALSE_OPTIONS = ["正确", "错误"]


class Question(TimestampedModel):
    """One question of the bank (题库).

    ``options``: the choices' texts in their written order (a true/false question has
    :data:`TRUE_FALSE_OPTIONS`); ``answer``: the indexes of the correct ones (one for single choice
    and true/false, two or more for multiple choice). ``article``: the number of the article of the
    2024 revised 科普法 it is written from (第 N 条); ``evidence``: the article's own words that
    support the answer (checked against the law's text by the tests). ``origin``: the real 2002-law
    question it revises, if any. ``key`` is the stable identifier of the YAML or Excel row.
    """

    key = models.SlugField("题目标识", max_length=64, unique=True)
    kind = models.CharField("题型", max_length=16, choices=Kind.choices)
    category = models.CharField("分类", max_length=32, db_index=True)
    text = models.TextField("题干")
    options = models.JSONField("选项", default=list)
    answer = models.JSONField("正确答案（选项序号）", default=list)
    explanation = models.TextField("解析", blank=True)
    article = models.PositiveSmallIntegerField("出处（第几条）")
    evidence = models.CharField("条文依据", max_length=300, blank=True)
    origin = models.CharField("改编自", max_length=64, blank=True)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "题目"
        verbose_name_plural = "题库"
        ordering = ["article", "key"]

    def __str__(self) -> str:
        return f"{self.key} · {self.text[:30]}"


class Round(TimestampedModel):
    """A quiz round (一轮答题) with its window and rules, from the campaign's quiz data.

    ``draw``: how many questions each attempt draws from each category (``{"总则": 3, …}``); empty
    means ``question_count`` from the whole bank. ``time_limit_seconds`` is enforced by the server
    (``grace_seconds`` more for the network). ``attempts_per_day``: per person per Beijing day.
    ``pass_mark``: the percentage needed for a certificate.
    """

    slug = models.SlugField("标识", max_length=64, unique=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign", verbose_name="活动年度", on_delete=models.CASCADE, related_name="quiz_rounds"
    )
    joint_action = models.ForeignKey(
        "campaigns.JointAction",
        verbose_name="联合行动",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quiz_rounds",
    )
    title = models.CharField("名称", max_length=100)
    description = models.TextField("说明", blank=True)
    opens_at = models.DateTimeField("开始时间")
    closes_at = models.DateTimeField("结束时间")
    question_count = models.PositiveSmallIntegerField("每次题数", default=20)
    draw = models.JSONField("按分类抽题", default=dict, blank=True)
    time_limit_seconds = models.PositiveIntegerField("答题时限（秒）", default=900)
    grace_seconds = models.PositiveSmallIntegerField("网络宽限（秒）", default=30)
    attempts_per_day = models.PositiveSmallIntegerField("每人每日次数", default=3)
    pass_mark = models.PositiveSmallIntegerField("合格分（百分制）", default=80)
    certificate_title = models.CharField("证书名称", max_length=100, default="科普法知识测验合格证书")
    issuer = models.CharField("颁发单位", max_length=100, blank=True)

    class Meta:
        verbose_name = "答题轮次"
        verbose_name_plural = "答题轮次"
        ordering = ["-opens_at", "slug"]

    def __str__(self) -> str:
        return self.title

    @property
    def time_limit_minutes(self) -> int:
        return max(1, round(self.time_limit_seconds / 60))


class Profile(TimestampedModel):
    """What a quiz taker tells before the first attempt (答题信息): the name on the certificate, age,
    province and (optionally) unit. Under 14 a guardian's consent is recorded (PIPL art. 31); no phone
    number is ever asked."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="quiz_profile"
    )
    name = models.CharField("姓名", max_length=32)
    age = models.PositiveSmallIntegerField("年龄")
    province = models.ForeignKey(
        "regions.Region", verbose_name="所在省份", on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        "orgs.Organization",
        verbose_name="所在单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    guardian_name = models.CharField("监护人姓名", max_length=32, blank=True)
    guardian_consent_at = models.DateTimeField("监护人同意时间", null=True, blank=True)

    class Meta:
        verbose_name = "答题者信息"
        verbose_name_plural = "答题者信息"

    def __str__(self) -> str:
        return self.name


class AttemptStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "答题中"
    SUBMITTED = "submitted", "已交卷"
    EXPIRED = "expired", "已超时"


class Attempt(models.Model):
    """One attempt (一次答题) by one account. ``paper``: the questions drawn and each one's option
    order, ``[{"q": question id, "o": [written index of displayed option 0, 1, …]}, …]``; ``answers``:
    what was chosen, in written indexes. ``deadline`` is the server's. At most one attempt per account
    is in progress (the partial unique constraint). ``token`` names it in URLs; ``certificate_code``
    is set when it passed."""

    token = models.CharField("标识", max_length=32, unique=True)
    round = models.ForeignKey(Round, verbose_name="轮次", on_delete=models.CASCADE, related_name="attempts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    status = models.CharField(
        "状态", max_length=16, choices=AttemptStatus.choices, default=AttemptStatus.IN_PROGRESS
    )
    day = models.DateField("答题日期（北京时间）")
    started_at = models.DateTimeField("开始时间")
    deadline = models.DateTimeField("截止时间")
    submitted_at = models.DateTimeField("交卷时间", null=True, blank=True)
    paper = models.JSONField("试卷", default=list)
    answers = models.JSONField("作答", default=list, blank=True)
    correct = models.PositiveSmallIntegerField("答对题数", default=0)
    total = models.PositiveSmallIntegerField("题数", default=0)
    score = models.PositiveSmallIntegerField("得分（百分制）", default=0)
    seconds = models.PositiveIntegerField("用时（秒）", default=0)
    passed = models.BooleanField("合格", default=False)
    name = models.CharField("姓名", max_length=32)
    province = models.ForeignKey(
        "regions.Region", verbose_name="省份", on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        "orgs.Organization",
        verbose_name="单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    certificate_code = models.CharField("证书编号", max_length=20, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = "答题记录"
        verbose_name_plural = "答题记录"
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "round", "day"], name="quiz_attempt_user_day")]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(status="in_progress"), name="quiz_one_attempt_in_flight"
            )
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.name} · {self.get_status_display()}"


class Best(models.Model):
    """A person's best online result in a round (最好成绩): what the leaderboards count, once per
    person. ``province``/``unit`` are those of their first submitted attempt."""

    round = models.ForeignKey(Round, verbose_name="轮次", on_delete=models.CASCADE, related_name="bests")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="+"
    )
    attempt = models.ForeignKey(Attempt, verbose_name="答题记录", on_delete=models.CASCADE, related_name="+")
    name = models.CharField("姓名", max_length=32)
    score = models.PositiveSmallIntegerField("得分")
    seconds = models.PositiveIntegerField("用时（秒）")
    passed = models.BooleanField("合格", default=False)
    province = models.ForeignKey(
        "regions.Region", verbose_name="省份", on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        "orgs.Organization",
        verbose_name="单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    achieved_at = models.DateTimeField("取得时间")

    class Meta:
        verbose_name = "最好成绩"
        verbose_name_plural = "最好成绩"
        constraints = [models.UniqueConstraint(fields=["round", "user"], name="quiz_best_once")]
        indexes = [
            models.Index(fields=["round", "-score", "seconds", "achieved_at"], name="quiz_best_top"),
        ]

    def __str__(self) -> str:
        return f"{self.round_id} · {self.name} · {self.score}"


class Scope(models.TextChoices):
    ALL = "all", "全部"
    PROVINCE = "province", "省份"
    UNIT = "unit", "单位"


class Tally(models.Model):
    """A roll-up row of a leaderboard (比比看): one per round and province, per round and unit, and
    one for the whole round. Updated with ``F()`` in the transaction of each submission (and of each
    offline import), never recounted on a page view. ``key``: the province code, the unit id or
    ``"all"``. Average score = ``score_sum / participants``; pass rate = ``passed / participants``."""

    round = models.ForeignKey(Round, verbose_name="轮次", on_delete=models.CASCADE, related_name="tallies")
    scope = models.CharField("范围", max_length=16, choices=Scope.choices)
    key = models.CharField("代码", max_length=32)
    label = models.CharField("名称", max_length=200)
    participants = models.PositiveIntegerField("参与人数", default=0)
    offline_participants = models.PositiveIntegerField("其中线下人数", default=0)
    score_sum = models.PositiveBigIntegerField("得分合计", default=0)
    passed = models.PositiveIntegerField("合格人数", default=0)

    class Meta:
        verbose_name = "排行榜汇总"
        verbose_name_plural = "排行榜汇总"
        constraints = [models.UniqueConstraint(fields=["round", "scope", "key"], name="quiz_tally_once")]
        # The unit board reads the first 50 of a round's (up to tens of thousands of) unit rows by
        # participants: an index scan of 50 entries instead of a sort of them all (BENCHMARKS.md).
        indexes = [
            models.Index("round", "scope", models.F("participants").desc(), "key", name="quiz_tally_board")
        ]

    def __str__(self) -> str:
        return f"{self.label} · {self.participants}"

    @property
    def average(self) -> float:
        return round(self.score_sum / self.participants, 1) if self.participants else 0.0

    @property
    def pass_rate(self) -> float:
        return round(100 * self.passed / self.participants, 1) if self.participants else 0.0


class OfflineBatch(models.Model):
    """A unit's upload of paper-quiz results (线下答题成绩) for a round: counted beside the online
    results and marked 线下. ``sha256`` refuses the same file twice for one unit and round."""

    round = models.ForeignKey(
        Round, verbose_name="轮次", on_delete=models.CASCADE, related_name="offline_batches"
    )
    organization = models.ForeignKey(
        "orgs.Organization", verbose_name="单位", on_delete=models.CASCADE, related_name="+"
    )
    province = models.ForeignKey(
        "regions.Region", verbose_name="省份", on_delete=models.PROTECT, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("上传时间")
    file_name = models.CharField("文件名", max_length=200)
    sha256 = models.CharField("文件摘要", max_length=64)
    participants = models.PositiveIntegerField("人数")
    score_sum = models.PositiveIntegerField("得分合计")
    passed = models.PositiveIntegerField("合格人数")

    class Meta:
        verbose_name = "线下成绩批次"
        verbose_name_plural = "线下成绩批次"
        ordering = ["-uploaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["round", "organization", "sha256"], name="quiz_offline_file_once")
        ]

    def __str__(self) -> str:
        return f"{self.organization} · {self.participants} 人"


class OfflineResult(models.Model):
    """One person's paper-quiz score (百分制) in an offline batch."""

    batch = models.ForeignKey(
        OfflineBatch, verbose_name="批次", on_delete=models.CASCADE, related_name="results"
    )
    name = models.CharField("姓名", max_length=32)
    score = models.PositiveSmallIntegerField("得分")
    passed = models.BooleanField("合格")

    class Meta:
        verbose_name = "线下成绩"
        verbose_name_plural = "线下成绩"

    def __str__(self) -> str:
        return f"{self.name} · {self.score}"
