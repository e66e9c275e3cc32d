"""Activity 活动: an event an organization publishes for the campaign, marked with its joint action and
brand activity when it belongs to one."""

from django.db import models
from django.utils.translation import gettext_noop

from kepuyue.common.models import TimestampedModel
from kepuyue.common.storage import private_storage

from .spans import SpanClass


class Status(models.TextChoices):
    """Where an activity stands in its workflow. The allowed moves are one table in services.py
    (``TRANSITIONS``); the review issue adds its steps there, not here.
    """

    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待审核"
    RETURNED = "returned", "已退回"
    PUBLISHED = "published", "已发布"
    WITHDRAWN = "withdrawn", "已撤回"


class Form(models.TextChoices):
    """活动形式 (offline / online / hybrid)."""

    OFFLINE = "offline", "线下"
    ONLINE = "online", "线上"
    HYBRID = "hybrid", "线上线下结合"


class Audience(models.IntegerChoices):
    """面向对象. Stored as bits of ``Activity.audiences`` so one indexed integer column filters
    500,000 rows without a join; the value is the bit (1 << n).
    """

    YOUTH = 1 << 0, gettext_noop("青少年")
    COLLEGE = 1 << 1, gettext_noop("大学生")
    YOUNG_SCIENTISTS = 1 << 2, gettext_noop("青年科技工作者")
    SCIENTISTS = 1 << 3, gettext_noop("科技工作者")
    WORKERS = 1 << 4, gettext_noop("产业工人")
    FARMERS = 1 << 5, gettext_noop("农民")
    SENIORS = 1 << 6, gettext_noop("老年人")
    COMMUNITY = 1 << 7, gettext_noop("社区居民")
    FAMILIES = 1 << 8, gettext_noop("家庭亲子")
    TEACHERS = 1 << 9, gettext_noop("教师")
    OFFICIALS = 1 << 10, gettext_noop("领导干部和公务员")
    PUBLIC = 1 << 11, gettext_noop("公众")


class Topic(models.IntegerChoices):
    """活动主题 (bits of ``Activity.topics``)."""

    AI = 1 << 0, gettext_noop("人工智能")
    MANUFACTURING = 1 << 1, gettext_noop("先进制造")
    MATERIALS = 1 << 2, gettext_noop("新材料")
    HEALTH = 1 << 3, gettext_noop("卫生健康")
    AGRICULTURE = 1 << 4, gettext_noop("农业")
    SAFETY = 1 << 5, gettext_noop("应急安全")
    AEROSPACE = 1 << 6, gettext_noop("航空航天")
    ENERGY = 1 << 7, gettext_noop("能源环境")
    ECOLOGY = 1 << 8, gettext_noop("生态环保")
    INFORMATION = 1 << 9, gettext_noop("信息科技")
    LIFE_SCIENCE = 1 << 10, gettext_noop("生命科学")
    EARTH_SPACE = 1 << 11, gettext_noop("地球与空间")
    SCIENTIST_SPIRIT = 1 << 12, gettext_noop("科学家精神")
    LAW = 1 << 13, gettext_noop("科普法治")
    CULTURE = 1 << 14, gettext_noop("科学文化")
    OTHER = 1 << 15, gettext_noop("其他")


class SpecialArea(models.IntegerChoices):
    """Special areas the plan asks the mobile museums to reach (plan §五(三)2(2)); bits of
    ``Activity.special_areas``."""

    RURAL = 1 << 0, gettext_noop("农村地区")
    REVOLUTIONARY = 1 << 1, gettext_noop("革命老区")
    ETHNIC = 1 << 2, gettext_noop("民族地区")
    BORDER = 1 << 3, gettext_noop("边疆地区")
    UNDERDEVELOPED = 1 << 4, gettext_noop("欠发达地区")


class Activity(TimestampedModel):
    """An activity (活动) of the campaign, marked with its joint action and brand activity when it
    belongs to one (plan §八(一) “发布活动时请突出标记活动品牌”).

    An activity without a joint action is a campaign-wide activity (全国科普月活动), e.g. a provincial
    science association's main-venue activity (主场活动): it has no brand and no key task, and its
    dates lie within the campaign month (``Campaign.starts``..``ends``, Beijing days) — plan §八(一)
    “8月10日起，各方可……发布重点活动信息”. With a joint action, ``campaign`` is the joint action's.

    Times are aware datetimes (Asia/Shanghai when entered). ``region`` is the most precise division
    known (county-level when given); ``province_code``/``prefecture_code``/``county_code`` copy its
    chain so that place filters are single-column index lookups at 500,000 rows. ``audiences``,
    ``topics`` and ``special_areas`` are bit sets of :class:`Audience`, :class:`Topic` and
    :class:`SpecialArea`. ``contact_phone`` is never shown unmasked on public pages.
    ``search_text`` holds the jieba-segmented words of title, summary, organizer and venue for the
    search index.
    """

    campaign = models.ForeignKey(
        "campaigns.Campaign", verbose_name="科普月", on_delete=models.PROTECT, related_name="activities"
    )
    joint_action = models.ForeignKey(
        "campaigns.JointAction",
        verbose_name="联合行动",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    key_task = models.ForeignKey(
        "campaigns.KeyTask",
        verbose_name="重点任务",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    brand = models.ForeignKey(
        "campaigns.Brand",
        verbose_name="品牌活动",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    title = models.CharField("活动名称", max_length=200)
    summary = models.CharField("活动简介", max_length=500, blank=True)
    description = models.TextField(
        "活动详情",
        blank=True,
        max_length=20000,
        help_text="Markdown，不超过 20000 个字符；保存时生成清理后的 HTML",
    )
    # The description rendered once when it is saved (kepuyue.common.markup), and the fingerprint
    # of the text it was rendered from: pages serve it as is, and re-render only a row whose
    # description was written by a path that skipped save() (description_digest then differs).
    description_html = models.TextField("活动详情 HTML", blank=True, default="", editable=False)
    description_digest = models.CharField(
        "活动详情指纹", max_length=32, blank=True, default="", editable=False
    )
    organizer = models.ForeignKey(
        "orgs.Organization", verbose_name="主办单位", on_delete=models.PROTECT, related_name="activities"
    )
    co_organizers = models.CharField("协办/承办单位", max_length=500, blank=True)
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    # 时长档: the duration class the database computes (kepuyue.activities.spans), for "ongoing".
    span_class = models.GeneratedField(
        expression=SpanClass("starts_at", "ends_at"),
        output_field=models.SmallIntegerField(),
        db_persist=True,
        verbose_name="时长档",
    )
    form = models.CharField("活动形式", max_length=8, choices=Form.choices, default=Form.OFFLINE)
    online_url = models.URLField("线上地址", max_length=500, blank=True)
    venue = models.CharField("活动地点", max_length=255, blank=True)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name="所在地区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    province_code = models.CharField("省级代码", max_length=6, blank=True)
    prefecture_code = models.CharField("地级代码", max_length=6, blank=True)
    county_code = models.CharField("县级代码", max_length=6, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    audiences = models.PositiveIntegerField("面向对象", default=0)
    topics = models.PositiveIntegerField("活动主题", default=0)
    special_areas = models.PositiveIntegerField("特殊地区", default=0)
    expected_participants = models.PositiveIntegerField("预计参与人数", null=True, blank=True)
    science_workers = models.PositiveIntegerField("参与科技工作者人数", null=True, blank=True)
    # 图书签售 (plan 七(四)1: 依据作家意愿及图书情况可增设图书签售), mostly for 阅见科普 reading events.
    book_signing = models.BooleanField("图书签售", default=False)
    poster = models.ImageField("海报", upload_to="posters/%Y/%m/", blank=True)
    contact_name = models.CharField("联系人", max_length=64, blank=True)
    contact_phone = models.CharField("联系电话", max_length=32, blank=True)
    external_id = models.CharField("外部编号", max_length=64, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    # Set by kepuyue.review.services: recommended by a platform administrator (推荐), featured by the
    # joint action's managing unit (重点呈现). Featured activities lead the portal's home and zones.
    recommended_at = models.DateTimeField("推荐时间", null=True, blank=True, editable=False)
    featured_at = models.DateTimeField("重点呈现时间", null=True, blank=True, editable=False)
    search_text = models.TextField("检索词", blank=True, editable=False)
    # The import that last created or changed the activity (导入批次): "提交全部草稿" submits the
    # drafts of one import (issue 11 point 5). Kept when the import job is deleted (set to null).
    import_job = models.ForeignKey(
        "ImportJob",
        verbose_name="导入批次",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="activities",
    )

    class Meta:
        verbose_name = "活动"
        verbose_name_plural = "活动"
        ordering = ["starts_at", "id"]
        indexes = [
            # Public lists: published activities of a campaign in start order (keyset pagination).
            models.Index(fields=["campaign", "status", "starts_at", "id"], name="act_list_idx"),
            models.Index(fields=["status", "province_code", "starts_at", "id"], name="act_province_idx"),
            models.Index(fields=["status", "prefecture_code", "starts_at", "id"], name="act_prefecture_idx"),
            models.Index(fields=["status", "county_code", "starts_at", "id"], name="act_county_idx"),
            models.Index(fields=["status", "brand", "starts_at", "id"], name="act_brand_idx"),
            models.Index(fields=["status", "joint_action", "starts_at", "id"], name="act_ja_idx"),
            # A unit's activities, and the staff lists of a review scope (organizer_id IN (the scope's
            # units)): campaign, publication time and joint action in the index, so the capped count and
            # the page's ids of the published list read no table row (ADR 0015).
            models.Index(
                fields=["organizer", "status", "campaign", "published_at", "joint_action"],
                name="act_scope_idx",
            ),
            # The importer's look-up of existing rows (same unit, same title) at 500,000 activities.
            models.Index(fields=["organizer", "title"], name="act_organizer_title_idx"),
            # "Ongoing" (ends_at ≥ now ≥ starts_at) starts from the end side: after a campaign no row
            # qualifies and the index says so at once instead of a walk over every started row.
            models.Index(fields=["campaign", "status", "ends_at"], name="act_ends_idx"),
            # "Ongoing" during the campaign: one short start range per duration class (spans.py),
            # the rest of the row's filter read from the index (issue 17 §2).
            models.Index(
                fields=["span_class", "starts_at", "ends_at", "campaign", "status"], name="act_ongoing_idx"
            ),
            # A page of "ongoing" in list order (and the home page's not-ended rows): each duration
            # class's first rows by (starts_at, id), ends_at tested in the index (spans.ongoing_keys).
            models.Index(
                fields=["campaign", "status", "span_class", "starts_at", "id", "ends_at"],
                name="act_ongoing_list_idx",
            ),
            # Featured activities first on the home and zone pages (a handful of rows).
            models.Index(
                fields=["campaign", "featured_at"],
                condition=models.Q(featured_at__isnull=False),
                name="act_featured_idx",
            ),
            # The review desk: submitted activities oldest first.
            models.Index(fields=["status", "submitted_at", "id"], name="act_queue_idx"),
            # Staff lists at 500,000 rows (issue 9 class 7, ADR 0015): the published list for
            # recommending, newest published first, walks this index and stops after a page.
            models.Index(fields=["campaign", "status", "published_at", "id"], name="act_published_idx"),
            # Featuring (重点呈现) reads the recommended activities only: a few thousand rows.
            models.Index(
                fields=["campaign", "recommended_at"],
                condition=models.Q(recommended_at__isnull=False),
                name="act_recommended_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organizer", "external_id"],
                condition=~models.Q(external_id=""),
                name="act_external_id_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gte=models.F("starts_at")), name="act_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        """Clean the texts (``common.text.clean_instance``) and render the description when it
        changed, so every path that saves — services, admin, fixtures — stores current HTML."""
        from kepuyue.common.text import clean_instance

        clean_instance(self)
        if self.refresh_description_html():
            update_fields = kwargs.get("update_fields")
            if update_fields is not None and "description" in update_fields:
                kwargs["update_fields"] = {*update_fields, "description_html", "description_digest"}
        super().save(*args, **kwargs)

    def refresh_description_html(self) -> bool:
        """Render ``description`` into ``description_html`` unless the stored HTML is already of
        this text; returns whether it rendered."""
        from kepuyue.common.markup import render_markdown, source_digest

        digest = source_digest(self.description)
        if digest == self.description_digest:
            return False
        self.description_html = render_markdown(self.description)
        self.description_digest = digest
        return True


class ImportJob(TimestampedModel):
    """One upload of a 重点科普活动信息表 (``.xlsx``/``.csv``) and its two steps: validate, then commit.

    ``report`` is a list of ``{"row", "column", "value", "reason"}`` (row numbers as the file shows
    them, header = 1). ``processed``/``total`` drive the progress bar while a background task runs.

    Never stuck (issue 9 class 6, ADR 0013): a running step writes ``heartbeat`` as it reads; the
    commit writes every row and the state ``done`` in one transaction, so a killed worker or a dropped
    database connection leaves either the whole import or nothing. A job whose heartbeat is older
    than ``KEPUYUE_IMPORT_STALE_SECONDS`` is stale: ``importing.recover_stale`` marks it failed with
    ``retryable`` set and ``interrupted`` naming the step, and ``importing.retry_import`` runs that
    step again (``attempts`` counts the runs of a step; at most ``MAX_ATTEMPTS``).
    ``default_organizer``: an administrator's import names the organizer of rows without one.
    """

    class State(models.TextChoices):
        PENDING = "pending", "排队中"
        VALIDATING = "validating", "校验中"
        VALIDATED = "validated", "已校验"
        COMMITTING = "committing", "导入中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    organization = models.ForeignKey(
        "orgs.Organization",
        verbose_name="导入单位",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="import_jobs",
    )
    created_by = models.ForeignKey(
        "auth.User", verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField("文件", upload_to="imports/%Y/%m/", storage=private_storage)
    original_name = models.CharField("原文件名", max_length=255)
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.PENDING)
    total = models.PositiveIntegerField("总行数", default=0)
    processed = models.PositiveIntegerField("已处理行数", default=0)
    valid_rows = models.PositiveIntegerField("有效行数", default=0)
    created_count = models.PositiveIntegerField("新增", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    unchanged_count = models.PositiveIntegerField("未变", default=0)
    report = models.JSONField("问题报告", default=list, blank=True)
    error = models.TextField("错误", blank=True)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    heartbeat = models.DateTimeField("最近心跳", null=True, blank=True)
    retryable = models.BooleanField("可重试", default=False)
    interrupted = models.CharField("中断的步骤", max_length=16, blank=True)
    default_organizer = models.ForeignKey(
        "orgs.Organization",
        verbose_name="默认主办单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "活动导入"
        verbose_name_plural = "活动导入"
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.original_name


class Summary(TimestampedModel):
    """The unit's report after an activity (活动总结, issue 4 item 5): what happened, how many took
    part, where to watch or read about it, and up to nine photos (:class:`SummaryPhoto`).

    One per activity; the unit may correct it later (``updated``). ``submitted_at`` is the first
    submission (campaign clock); ``due_at`` the deadline it was judged against (end of the Beijing
    day ``review.summary_due_days`` after the activity's last day); ``late`` whether the first
    submission came after it. ``video_links``/``news_links`` are lists of http(s) URLs.
    Rules: ``kepuyue.activities.summaries``.
    """

    activity = models.OneToOneField(
        Activity, verbose_name="活动", on_delete=models.CASCADE, related_name="summary_report"
    )
    text = models.TextField("总结", max_length=5000)
    participants = models.PositiveIntegerField("实际参与人数")
    video_links = models.JSONField("视频链接", default=list, blank=True)
    news_links = models.JSONField("新闻报道链接", default=list, blank=True)
    submitted_at = models.DateTimeField("提交时间")
    submitted_by = models.ForeignKey(
        "auth.User", verbose_name="提交人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField("截止时间")
    late = models.BooleanField("逾期提交", default=False)

    class Meta:
        verbose_name = "活动总结"
        verbose_name_plural = "活动总结"

    def __str__(self) -> str:
        return f"{self.activity} · 总结"


class SummaryPhoto(models.Model):
    """One photo of a summary: re-encoded (JPEG, or WebP when it has transparency), at most
    1600 px on its longer edge, without EXIF, under a random name. ``width``/``height`` in pixels."""

    summary = models.ForeignKey(Summary, verbose_name="总结", on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField("照片", upload_to="summaries/%Y/%m/")
    width = models.PositiveIntegerField("宽", default=0)
    height = models.PositiveIntegerField("高", default=0)
    position = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "总结照片"
        verbose_name_plural = "总结照片"
        ordering = ["summary", "position", "id"]

    def __str__(self) -> str:
        return self.image.name


class ExportJob(TimestampedModel):
    """A large export of a staff list (导出任务), written in the background to private storage.

    ``kind`` says which list (``scope``: the review desk's activities in the owner's scope; ``mine``:
    the unit's own activities), ``params`` the filters it was asked with; the rows are read again from
    the owner's scope when the job runs. ``processed``/``total`` drive the progress page. The file is
    downloadable by ``owner`` only (anyone else gets a 404) until ``expires_at``, when
    ``manage.py purge_exports`` deletes it. A job left ``running`` by a killed worker is stale after
    :data:`kepuyue.activities.export_jobs.STALE_AFTER` and can be started again.
    Rules: ``kepuyue.activities.export_jobs``; decision: ``docs/decisions/0015-bounded-staff-lists-and-export-jobs.md``.
    """

    class State(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "生成中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    class Kind(models.TextChoices):
        SCOPE = "scope", "管辖范围活动"
        MINE = "mine", "本单位活动"

    owner = models.ForeignKey(
        "auth.User", verbose_name="发起人", on_delete=models.CASCADE, related_name="activity_exports"
    )
    organization = models.ForeignKey(
        "orgs.Organization",
        verbose_name="单位",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activity_exports",
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        verbose_name="科普月",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField("导出内容", max_length=8, choices=Kind.choices)
    fmt = models.CharField("格式", max_length=4, choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV")])
    params = models.JSONField("筛选条件", default=dict, blank=True)
    state = models.CharField("状态", max_length=8, choices=State.choices, default=State.PENDING)
    total = models.PositiveIntegerField("总行数", default=0)
    processed = models.PositiveIntegerField("已写行数", default=0)
    file = models.FileField(
        "文件", upload_to="exports/%Y/%m/", storage=private_storage, blank=True, max_length=200
    )
    filename = models.CharField("下载文件名", max_length=200)
    error = models.TextField("错误", blank=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    expires_at = models.DateTimeField("过期时间", null=True, blank=True)

    class Meta:
        verbose_name = "导出任务"
        verbose_name_plural = "导出任务"
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["owner", "-created"], name="export_owner_idx")]

    def __str__(self) -> str:
        return self.filename
