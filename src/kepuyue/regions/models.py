"""Region 行政区划: China's administrative divisions with their GB/T 2260 codes."""

from django.db import models


class Level(models.IntegerChoices):
    """The three levels the platform uses (省级 / 地级 / 县级)."""

    PROVINCE = 1, "省级"
    PREFECTURE = 2, "地级"
    COUNTY = 3, "县级"


class Region(models.Model):
    """A province-, prefecture- or county-level division (行政区划).

    ``code`` is the six-digit GB/T 2260 code: ``110000`` 北京市, ``110100`` 北京市市辖区,
    ``110101`` 东城区. Hong Kong (810000), Macao (820000) and Taiwan (710000) use their
    GB/T 2260 province codes; their sub-areas have no national code and carry codes derived in
    order inside the province (``is_official=False``) — see ``data/regions/SOURCE.md``.
    """

    code = models.CharField("区划代码", max_length=6, primary_key=True)
    name = models.CharField("名称", max_length=64, db_index=True)
    level = models.PositiveSmallIntegerField("级别", choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    province_code = models.CharField("所属省级代码", max_length=6, db_index=True)
    full_name = models.CharField("全称", max_length=200, help_text="例如：浙江省杭州市西湖区")
    is_official = models.BooleanField("国标代码", default=True)
    # The centroid of the division's boundary (中心点, WGS-84-like Amap degrees), from
    # ``data/regions/centroids.csv`` (``scripts/build_region_centroids.py``); the tours' distances
    # (plan 五(三)2 “万里行”) are great-circle legs between them. Empty when the file has no row.
    longitude = models.DecimalField("中心点经度", max_digits=8, decimal_places=5, null=True, blank=True)
    latitude = models.DecimalField("中心点纬度", max_digits=7, decimal_places=5, null=True, blank=True)

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.full_name or self.name
