"""Publicity resources (宣传资源, plan 八(一) “8月10日起，各方可通过全国科普月平台……获取宣传资源”).

A resource belongs to a campaign and, optionally, to one joint action (and one of its brands): logos,
posters, templates, videos, documents and shared activity packs (e.g. the 沉浸式展厅剧本杀 and 科学运动会
resources that 中国科技馆 shares with every science museum, 五(三)3(1)). It may carry a file (checked like
every upload: ``kepuyue.resources.services``) or, while the file is not here yet, only its description.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kepuyue.common.models import TimestampedModel


class Kind(models.TextChoices):
    """类型 of a resource; decides which files it accepts (``services.ACCEPTED``)."""

    LOGO = "logo", _("标识")
    POSTER = "poster", _("海报")
    TEMPLATE = "template", _("模板")
    VIDEO = "video", _("视频")
    DOCUMENT = "document", _("文档")
    PACK = "pack", _("活动资源包")


def _upload_to(resource, filename: str) -> str:
    # The service names the file (random, sniffed extension); the campaign keeps folders apart.
    return f"resources/{resource.campaign.slug}/{filename}"


class Resource(TimestampedModel):
    """宣传资源: ``file`` (public storage, optional), ``file_format`` (sniffed: ``jpg``, ``png``, ``pdf``,
    ``docx``, ``mp4``), ``file_size`` (bytes), ``sha256`` (hex, of what was uploaded), ``downloads``
    (times downloaded, counted with one ``UPDATE … SET downloads = downloads + 1``), ``slug`` (for
    entries loaded from ``data/resources/*.yaml``; empty for uploads)."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", verbose_name="科普月", on_delete=models.CASCADE, related_name="resources"
    )
    joint_action = models.ForeignKey(
        "campaigns.JointAction",
        verbose_name="联合行动",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="resources",
    )
    brand = models.ForeignKey(
        "campaigns.Brand",
        verbose_name="品牌活动",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resources",
    )
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    title = models.CharField("名称", max_length=200)
    description = models.TextField("说明", max_length=2000, blank=True)
    slug = models.SlugField("标识", max_length=64, blank=True)
    plan_ref = models.CharField("方案章节", max_length=32, blank=True)
    file = models.FileField("文件", upload_to=_upload_to, max_length=255, blank=True)
    file_name = models.CharField("原文件名", max_length=200, blank=True)
    file_format = models.CharField("文件格式", max_length=8, blank=True)
    file_size = models.PositiveBigIntegerField("文件大小", default=0)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    downloads = models.PositiveIntegerField("下载次数", default=0)
    hidden = models.BooleanField("已下架", default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "宣传资源"
        verbose_name_plural = "宣传资源"
        ordering = ["joint_action__number", "kind", "-created", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "slug"],
                condition=~models.Q(slug=""),
                name="resources_resource_slug_unique",
            )
        ]
        indexes = [models.Index(fields=["campaign", "hidden", "kind"], name="resources_list_idx")]

    def __str__(self) -> str:
        return self.title
