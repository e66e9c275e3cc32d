"""Works submitted to a call (征集作品), their files and the judges' scores.

An ``Entry`` belongs to one ``campaigns.Call`` and one organization (the unit that submitted it). Its
files live in private storage (``kepuyue.common.storage.private_storage``) until the joint-action
manager publishes it (择优发布); publishing copies the public files (video, poster, route images) to the
default storage, which ``/media/`` or the bucket serves. Rows are written only by
``kepuyue.calls.services``.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kepuyue.common.models import TimestampedModel
from kepuyue.common.storage import private_storage


class EntryStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    WITHDRAWN = "withdrawn", _("已撤回")
    SHORTLISTED = "shortlisted", _("入围")
    PUBLISHED = "published", _("已发布")
    REJECTED = "rejected", _("未入选")


# Entries judges see and score (never drafts or withdrawn ones).
JUDGEABLE_STATUSES = (EntryStatus.SUBMITTED, EntryStatus.SHORTLISTED, EntryStatus.PUBLISHED)

# An anonymous code shows an entry to judges without naming its unit: letters and digits that cannot be
# mistaken for one another (no 0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_code() -> str:
    """A random 8-character entry code, e.g. ``K7Q3-MX9A`` (31^8 ≈ 8.5 × 10^11 codes)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


class EntrantRole(models.TextChoices):
    """An individual entrant's role (身份), plan 六(三)4: 面向各级农技协带头人、会员，工作人员和农村科普工作者."""

    LEADER = "leader", _("带头人")
    MEMBER = "member", _("会员")
    STAFF = "staff", _("工作人员")
    RURAL_WORKER = "rural_worker", _("农村科普工作者")


def mask_person_name(name: str) -> str:
    """A person's name as the public sees it: the first character kept, e.g. 张三丰 → 张**."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


class Entry(TimestampedModel):
    """One work submitted to a call.

    Common: ``title``, ``theme`` (a slug of ``call.themes``), ``description``, ``status``.
    Kind-specific fields (empty when they do not apply):

    - CityWalk route: ``city`` (a prefecture-level region), ``stops`` (``CityWalkStop``), ``images``.
    - Short video: ``file`` (MP4), ``poster`` (JPEG first frame), ``duration`` seconds, ``width`` ×
      ``height`` displayed pixels, ``codec``.
    - Essay: ``author``, ``author_unit``, ``body`` (text) or ``file`` (.docx/.pdf), ``char_count``.
    - Work plan: ``file`` (.docx/.pdf).
    - Book: ``author``, ``publisher``, ``year``, ``isbn`` (ISBN-13, digits only), ``audience``, ``reason``.
    - Link (AR/VR products, 星火馆 videos): ``link``, ``product_kind``.

    ``sha256`` and ``size`` (bytes) describe the main file; ``duplicate_of`` points at an earlier entry
    with the same file (flagged, not refused: the same video may honestly be entered by two units that
    made it together). ``warnings`` is a list of Chinese messages shown with the entry (e.g. a video
    longer than advised). ``code`` is the anonymous code judges see.
    """

    call = models.ForeignKey(
        "campaigns.Call", verbose_name="征集", on_delete=models.CASCADE, related_name="entries"
    )
    # Either a unit (提交单位) or, in a call open to individuals, a person (个人投稿): never both, never
    # neither (the constraint ``calls_entry_unit_or_person``).
    organization = models.ForeignKey(
        "orgs.Organization",
        verbose_name="提交单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="call_entries",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="个人投稿人",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="personal_entries",
    )
    # An individual's identity as the call asks for it (the name is ``author``, the unit ``author_unit``).
    entrant_role = models.CharField("投稿人身份", max_length=16, choices=EntrantRole.choices, blank=True)
    entrant_province = models.ForeignKey(
        "regions.Region",
        verbose_name="投稿人所在省份",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="call_entries",
    )
    code = models.CharField("作品编号", max_length=9, unique=True, default=new_code, editable=False)
    status = models.CharField(
        "状态", max_length=16, choices=EntryStatus.choices, default=EntryStatus.DRAFT, db_index=True
    )
    title = models.CharField("作品名称", max_length=200)
    theme = models.SlugField("主题", max_length=64, blank=True)
    description = models.TextField("简介", blank=True)

    # CityWalk
    city = models.ForeignKey(
        "regions.Region",
        verbose_name="城市",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="call_entries",
    )
    # Video / essay / work plan: the main file (private until published).
    file = models.FileField("文件", storage=private_storage, max_length=255, blank=True)
    poster = models.FileField("封面", storage=private_storage, max_length=255, blank=True)
    public_file = models.FileField("公开文件", max_length=255, blank=True)
    public_poster = models.FileField("公开封面", max_length=255, blank=True)
    file_format = models.CharField("文件格式", max_length=16, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True, db_index=True)
    size = models.PositiveBigIntegerField("文件大小（字节）", null=True, blank=True)
    duration = models.FloatField("时长（秒）", null=True, blank=True)
    width = models.PositiveIntegerField("宽（像素）", null=True, blank=True)
    height = models.PositiveIntegerField("高（像素）", null=True, blank=True)
    codec = models.CharField("视频编码", max_length=16, blank=True)
    warnings = models.JSONField("提示", default=list, blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name="重复文件",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
    )
    # Essay / book
    author = models.CharField("作者", max_length=200, blank=True)
    author_unit = models.CharField("作者单位", max_length=200, blank=True)
    body = models.TextField("正文", blank=True)
    char_count = models.PositiveIntegerField("字数", null=True, blank=True)
    publisher = models.CharField("出版社", max_length=200, blank=True)
    year = models.PositiveSmallIntegerField("出版年", null=True, blank=True)
    isbn = models.CharField("ISBN-13", max_length=13, blank=True, db_index=True)
    audience = models.CharField("适读人群", max_length=100, blank=True)
    reason = models.TextField("推荐理由", blank=True)
    # Link
    link = models.URLField("作品链接", max_length=500, blank=True)
    product_kind = models.CharField("作品类型", max_length=50, blank=True)

    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)

    class Meta:
        verbose_name = "征集作品"
        verbose_name_plural = "征集作品"
        ordering = ["call", "-created", "-id"]
        indexes = [
            models.Index(fields=["call", "status"], name="calls_entry_call_status_idx"),
            models.Index(fields=["organization", "call"], name="calls_entry_org_call_idx"),
            models.Index(fields=["person", "call"], name="calls_entry_person_call_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(organization__isnull=False, person__isnull=True)
                    | models.Q(organization__isnull=True, person__isnull=False)
                ),
                name="calls_entry_unit_or_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def is_individual(self) -> bool:
        return self.person_id is not None

    @property
    def public_byline(self) -> str:
        """Who the public sees as the entrant: the unit's name, or a person's masked name (张**), the unit
        they gave and their province — never the full name of a private person."""
        if self.person_id is None:
            return self.organization.name if self.organization_id else ""
        parts = [mask_person_name(self.author), self.author_unit]
        if self.entrant_province_id:
            parts.append(self.entrant_province.name)
        return " · ".join(p for p in parts if p)

    @property
    def theme_name(self) -> str:
        """The theme's name from the call (e.g. 基地探馆), or the slug if the plan no longer has it."""
        return next((t["name"] for t in self.call.themes or [] if t.get("slug") == self.theme), self.theme)


class EntryImage(models.Model):
    """One image of an entry (a CityWalk route image), in ``order``; private until published.

    ``width`` × ``height``: displayed pixels; ``size``: bytes; ``format``: ``jpeg``/``png``/``webp``.
    """

    entry = models.ForeignKey(Entry, verbose_name="作品", on_delete=models.CASCADE, related_name="images")
    order = models.PositiveSmallIntegerField("顺序", default=0)
    file = models.FileField("图片", storage=private_storage, max_length=255)
    public_file = models.FileField("公开图片", max_length=255, blank=True)
    format = models.CharField("格式", max_length=8)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    size = models.PositiveBigIntegerField("大小（字节）")
    width = models.PositiveIntegerField("宽（像素）")
    height = models.PositiveIntegerField("高（像素）")

    class Meta:
        verbose_name = "作品图片"
        verbose_name_plural = "作品图片"
        ordering = ["entry", "order"]

    def __str__(self) -> str:
        return f"{self.entry.code} #{self.order + 1}"


class CityWalkStop(models.Model):
    """A stop of a CityWalk route, in ``order`` (0 first): the base itself (``is_own_venue``) or another
    science or science-culture venue nearby (plan 四(二)2: 不少于2家其他相关科普、科学文化场所)."""

    entry = models.ForeignKey(Entry, verbose_name="作品", on_delete=models.CASCADE, related_name="stops")
    order = models.PositiveSmallIntegerField("顺序")
    name = models.CharField("场所名称", max_length=200)
    address = models.CharField("地址", max_length=255)
    region = models.ForeignKey(
        "regions.Region", verbose_name="所在地区", on_delete=models.PROTECT, related_name="+"
    )
    is_own_venue = models.BooleanField("本馆", default=False)

    class Meta:
        verbose_name = "路线站点"
        verbose_name_plural = "路线站点"
        ordering = ["entry", "order"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "order"], name="calls_stop_order_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Score(TimestampedModel):
    """One judge's score of one entry.

    ``scores``: ``{criterion slug: points}``, points 0–100 per criterion of ``entry.call.criteria``.
    ``total``: the weighted mean Σ points × weight / Σ weights (0–100), kept so rankings are one query.
    """

    entry = models.ForeignKey(Entry, verbose_name="作品", on_delete=models.CASCADE, related_name="scores")
    judge = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="评审专家",
        on_delete=models.CASCADE,
        related_name="call_scores",
    )
    scores = models.JSONField("各项得分", default=dict)
    total = models.FloatField("加权得分")
    comment = models.TextField("评语", blank=True)

    class Meta:
        verbose_name = "评分"
        verbose_name_plural = "评分"
        ordering = ["entry", "judge"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "judge"], name="calls_score_entry_judge_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.entry.code} · {self.judge} · {self.total:.1f}"
