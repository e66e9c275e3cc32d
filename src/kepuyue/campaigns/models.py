"""The campaign plan as rows: Campaign, JointAction 联合行动, KeyTask 重点任务, Brand 品牌活动,
Target 数量目标, Deadline 时间节点, Contact 联系人, Call 征集.

Rows are written only by ``kepuyue.campaigns.services.load_campaign`` from a YAML file in
``campaigns/``; every ``slug`` is the YAML's key, so a reload updates rows in place. ``plan_ref``
fields cite the section of the plan a row comes from, e.g. ``四(三)3``.
"""

from django.db import models

from kepuyue.common.models import TimestampedModel


class Campaign(TimestampedModel):
    """One year's campaign (全国科普月), e.g. ``kepuyue-2025``.

    ``starts``/``ends`` are dates of the campaign month (Beijing time, both inclusive).
    ``general_requirements`` is a list of ``{"title", "text", "plan_ref"}`` (总体要求).
    ``review`` holds the review and recommendation rules of the YAML's ``review`` section
    (``kepuyue.campaigns.schema.ReviewSpec``).
    ``subtitle`` is a short qualifier shown with the name (首个全国科普月); ``platforms`` is a list
    of ``{"name", "url"}``: the sites where units publish (全国科普月平台, 科普中国, plan §八(一)).
    """

    slug = models.SlugField("标识", max_length=64, unique=True)
    year = models.PositiveSmallIntegerField("年度", db_index=True)
    name = models.CharField("名称", max_length=100)
    subtitle = models.CharField("副标题", max_length=100, blank=True)
    theme = models.CharField("主题", max_length=200)
    starts = models.DateField("开始日期")
    ends = models.DateField("结束日期")
    platform_url = models.URLField("平台网址", blank=True)
    platforms = models.JSONField("发布平台", default=list, blank=True)
    plan_title = models.CharField("方案名称", max_length=200, blank=True)
    summary = models.TextField("简介", blank=True)
    general_requirements = models.JSONField("总体要求", default=list, blank=True)
    review = models.JSONField(
        "审核与推荐规则",
        default=dict,
        blank=True,
        help_text="recommendations_due, quotas, joint_action_quotas, return_reasons, reminder_days, summary_due_days",
    )
    recommendations_reopened_until = models.DateTimeField(
        "推荐重新开放至", null=True, blank=True, help_text="中国科协重新开放推荐时设置；过期后推荐再次关闭"
    )
    source_file = models.CharField("来源文件", max_length=255, blank=True)
    source_sha256 = models.CharField("来源文件 SHA-256", max_length=64, blank=True)

    class Meta:
        verbose_name = "科普月"
        verbose_name_plural = "科普月"
        ordering = ["-starts"]

    def __str__(self) -> str:
        return self.name


class JointAction(TimestampedModel):
    """A joint action (联合行动) of the campaign, e.g. 科普教育基地联合行动 (plan §四).

    ``window_start``/``window_end`` bound the dates of its activities (Beijing time, inclusive);
    when the plan gives no window they equal the campaign month. ``window_label`` is the plan's
    own wording, e.g. ``2025年7—10月``.
    """

    campaign = models.ForeignKey(
        Campaign, verbose_name="科普月", on_delete=models.CASCADE, related_name="joint_actions"
    )
    slug = models.SlugField("标识", max_length=64)
    number = models.PositiveSmallIntegerField("序号")
    name = models.CharField("名称", max_length=100)
    name_en = models.CharField("英文名称", max_length=200, blank=True)
    theme = models.CharField("主题", max_length=200, blank=True)
    summary = models.TextField("简介", blank=True)
    participants = models.TextField("参与对象", help_text="方案原文")
    participant_types = models.ManyToManyField(
        "orgs.OrganizationType", verbose_name="参与单位类型", related_name="joint_actions", blank=True
    )
    managing_unit = models.CharField("牵头单位", max_length=200, blank=True)
    window_start = models.DateField("活动开始日期")
    window_end = models.DateField("活动结束日期")
    window_label = models.CharField("时间（方案原文）", max_length=200, blank=True)
    plan_ref = models.CharField("方案章节", max_length=32, blank=True)
    # 重点城市的数量与选定单位 (``{"min", "max", "selected_by"}`` from the YAML ``key_cities``); empty: the
    # joint action has no key cities. The cities themselves are :class:`KeyCity` rows.
    key_cities_rule = models.JSONField("重点城市规则", default=dict, blank=True)

    class Meta:
        verbose_name = "联合行动"
        verbose_name_plural = "联合行动"
        ordering = ["campaign", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "slug"], name="campaigns_jointaction_slug_unique"),
            models.UniqueConstraint(
                fields=["campaign", "number"], name="campaigns_jointaction_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class KeyTask(models.Model):
    """A key task (重点任务) of a joint action, in the plan's order."""

    joint_action = models.ForeignKey(
        JointAction, verbose_name="联合行动", on_delete=models.CASCADE, related_name="key_tasks"
    )
    slug = models.SlugField("标识", max_length=64)
    number = models.PositiveSmallIntegerField("序号")
    name = models.CharField("名称", max_length=200)
    description = models.TextField("内容")
    plan_ref = models.CharField("方案章节", max_length=32, blank=True)

    class Meta:
        verbose_name = "重点任务"
        verbose_name_plural = "重点任务"
        ordering = ["joint_action", "number"]
        constraints = [
            models.UniqueConstraint(fields=["joint_action", "slug"], name="campaigns_keytask_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Brand(models.Model):
    """A brand activity (品牌活动) that activities are marked with, e.g. 千家基地展创新 (plan §四(二)1).

    ``aliases`` are other labels units use for it (e.g. ``科学之夜`` for 科学一千零一夜); ``parent``
    nests a sub-brand (科普大篷车 under 流动科普百县千车万里行). ``themes`` is a list of
    ``{"slug", "name", "description"}`` when the plan enumerates themes (the 13 流动科普 themes, §五(三)1).
    """

    joint_action = models.ForeignKey(
        JointAction, verbose_name="联合行动", on_delete=models.CASCADE, related_name="brands"
    )
    key_task = models.ForeignKey(
        KeyTask,
        verbose_name="重点任务",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="brands",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="所属品牌",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    slug = models.SlugField("标识", max_length=64)
    order = models.PositiveSmallIntegerField("排序", default=0)
    name = models.CharField("名称", max_length=100)
    aliases = models.JSONField("别名", default=list, blank=True)
    # Words of a title or summary that suggest the brand (with the name and aliases; never applied
    # without the unit's decision): kepuyue.activities.services.brands.
    keywords = models.JSONField("建议关键词", default=list, blank=True)
    description = models.TextField("说明", blank=True)
    themes = models.JSONField("主题", default=list, blank=True)
    plan_ref = models.CharField("方案章节", max_length=32, blank=True)

    class Meta:
        verbose_name = "品牌活动"
        verbose_name_plural = "品牌活动"
        ordering = ["joint_action", "order"]
        constraints = [
            models.UniqueConstraint(fields=["joint_action", "slug"], name="campaigns_brand_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Target(models.Model):
    """A numeric target the plan states (数量目标), e.g. 千家 → 1000 家, 10~15 个重点城市.

    ``value`` is the number, ``value_max`` the upper end of a range (10~15), ``approx`` marks
    "余/多" (1000余辆). ``brand`` is set when the figure belongs to a brand activity.
    ``measure`` is how the platform counts it (统计口径, ``campaigns.schema.measures``), the YAML's
    mapping as loaded; ``None`` when the platform cannot measure it yet (暂无数据来源).
    """

    joint_action = models.ForeignKey(
        JointAction, verbose_name="联合行动", on_delete=models.CASCADE, related_name="targets"
    )
    brand = models.ForeignKey(
        Brand,
        verbose_name="品牌活动",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="targets",
    )
    slug = models.SlugField("标识", max_length=64)
    order = models.PositiveSmallIntegerField("排序", default=0)
    label = models.CharField("内容", max_length=200)
    value = models.PositiveIntegerField("数量")
    value_max = models.PositiveIntegerField("数量上限", null=True, blank=True)
    unit = models.CharField("单位", max_length=16)
    approx = models.BooleanField("约数（余）", default=False)
    plan_text = models.CharField("方案原文", max_length=100, blank=True)
    measure = models.JSONField("统计口径", null=True, blank=True, default=None)

    class Meta:
        verbose_name = "数量目标"
        verbose_name_plural = "数量目标"
        ordering = ["joint_action", "order"]
        constraints = [
            models.UniqueConstraint(fields=["joint_action", "slug"], name="campaigns_target_slug_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.label}：{self.display_value}"

    @property
    def display_value(self) -> str:
        """The figure as the plan writes it: ``1000余辆``, ``10~15个``, ``39部``."""
        number = f"{self.value}~{self.value_max}" if self.value_max else str(self.value)
        return f"{number}{'余' if self.approx else ''}{self.unit}"


class DeadlineKind(models.TextChoices):
    OPENS = "opens", "开始"
    DUE = "due", "截止"


class Deadline(models.Model):
    """A dated milestone (时间节点): something opens (``opens``) or is due (``due``) at ``at``.

    ``at`` is an aware datetime; a plan date "8月20日前" is due at 23:59:59.999999 Beijing time.
    ``joint_action`` is empty for campaign-wide milestones (plan §八).
    """

    campaign = models.ForeignKey(
        Campaign, verbose_name="科普月", on_delete=models.CASCADE, related_name="deadlines"
    )
    joint_action = models.ForeignKey(
        JointAction,
        verbose_name="联合行动",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deadlines",
    )
    slug = models.SlugField("标识", max_length=64)
    kind = models.CharField("类型", max_length=8, choices=DeadlineKind.choices)
    title = models.CharField("事项", max_length=200)
    at = models.DateTimeField("时间")
    description = models.TextField("说明", blank=True)
    plan_ref = models.CharField("方案章节", max_length=32, blank=True)

    class Meta:
        verbose_name = "时间节点"
        verbose_name_plural = "时间节点"
        ordering = ["campaign", "at"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "slug"], name="campaigns_deadline_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class Contact(models.Model):
    """A contact (联系人) the plan gives for a joint action: unit, person, phone, e-mail.

    ``topic`` narrows it to one activity when the plan does (“共探高校星火馆”活动). Phones are
    public office numbers from the plan and are shown as the plan prints them.
    """

    joint_action = models.ForeignKey(
        JointAction, verbose_name="联合行动", on_delete=models.CASCADE, related_name="contacts"
    )
    order = models.PositiveSmallIntegerField("排序", default=0)
    unit = models.CharField("单位", max_length=200)
    topic = models.CharField("负责事项", max_length=200, blank=True)
    person = models.CharField("联系人", max_length=100, blank=True)
    phone = models.CharField("联系电话", max_length=100, blank=True)
    email = models.EmailField("电子邮箱", blank=True)

    class Meta:
        verbose_name = "联系人"
        verbose_name_plural = "联系人"
        ordering = ["joint_action", "order"]
        constraints = [
            models.UniqueConstraint(fields=["joint_action", "order"], name="campaigns_contact_order_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.person}".strip()


class CallKind(models.TextChoices):
    CITYWALK = "citywalk", "CityWalk 路线"
    VIDEO = "video", "短视频"
    ESSAY = "essay", "征文"
    WORK_PLAN = "work_plan", "工作方案"
    BOOK_LIST = "book_list", "书单"
    LINK = "link", "作品链接"


class Call(TimestampedModel):
    """A call for works (征集) and its submission specification, e.g. “探寻科学宝藏”短视频.

    ``spec`` holds the kind's rules as data (for ``video``: ``{"container": "mp4",
    "min_width": 1920, "min_height": 1080, "max_seconds_advised": 180}``, pixels and seconds);
    ``themes`` is a list of ``{"slug", "name", "description"}``; ``criteria`` a list of
    ``{"slug", "name", "weight"}`` for judging. ``closes_at`` may be empty (open until the
    campaign's end).
    """

    campaign = models.ForeignKey(
        Campaign, verbose_name="科普月", on_delete=models.CASCADE, related_name="calls"
    )
    joint_action = models.ForeignKey(
        JointAction, verbose_name="联合行动", on_delete=models.CASCADE, related_name="calls"
    )
    brand = models.ForeignKey(
        Brand, verbose_name="品牌活动", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    slug = models.SlugField("标识", max_length=64)
    kind = models.CharField("类型", max_length=16, choices=CallKind.choices)
    title = models.CharField("名称", max_length=200)
    description = models.TextField("说明", blank=True)
    opens_at = models.DateTimeField("开始时间")
    closes_at = models.DateTimeField("截止时间", null=True, blank=True)
    eligible_types = models.ManyToManyField(
        "orgs.OrganizationType", verbose_name="可参与单位类型", related_name="calls", blank=True
    )
    themes = models.JSONField("主题", default=list, blank=True)
    spec = models.JSONField("作品要求", default=dict, blank=True)
    criteria = models.JSONField("评审标准", default=list, blank=True)
    publication = models.CharField("发布方式", max_length=200, blank=True, help_text="例如：中国科协择优发布")
    plan_ref = models.CharField("方案章节", max_length=32, blank=True)

    class Meta:
        verbose_name = "征集"
        verbose_name_plural = "征集"
        ordering = ["campaign", "opens_at", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "slug"], name="campaigns_call_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class KeyCity(TimestampedModel):
    """A key city (重点城市, plan 七(四)1) of a joint action: a prefecture-level region chosen by CAST or the
    joint action's managing unit (中国科普作家协会) on the staff page, or listed in the YAML. Written by
    :func:`kepuyue.campaigns.services.add_key_city` / ``remove_key_city``."""

    joint_action = models.ForeignKey(
        JointAction, verbose_name="联合行动", on_delete=models.CASCADE, related_name="key_cities"
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name="城市", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "重点城市"
        verbose_name_plural = "重点城市"
        ordering = ["joint_action", "region"]
        constraints = [
            models.UniqueConstraint(fields=["joint_action", "region"], name="campaigns_keycity_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.joint_action.name} · {self.region_id}"
