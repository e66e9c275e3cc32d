"""流动科普百县千车万里行 (plan 五(三)2): the vehicles and exhibition sets that tour, and their tours.

A :class:`Vehicle` is a 科普大篷车 (a vehicle with a plate) or a 流动科技馆 set (exhibits on one theme),
kept by its operating unit (运行单位, an ``orgs.Organization``). A :class:`Tour` (巡展) is one
vehicle's itinerary: :class:`Stop` rows, each a day in a county at one of the six kinds of venue the
plan names (进学校、进机关、进企业、进乡村、进社区、进军营), optionally a published activity of the
campaign. The tour keeps what its stops add up to — distance (great-circle legs between county
centroids), counties reached, special areas reached, first and last day — recomputed by
``tours.services.recompute`` whenever its stops change, so lists and the dashboard read one row.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_noop

from kepuyue.common.models import TimestampedModel


class VehicleKind(models.TextChoices):
    """科普大篷车 (五(三)2(1)) or a 流动科技馆 exhibition set (五(三)2(2))."""

    CARAVAN = "caravan", gettext_noop("科普大篷车")
    MUSEUM = "museum", gettext_noop("流动科技馆")


class VenueKind(models.TextChoices):
    """The six “进” of plan 五(三)2(1): where a stop takes place."""

    SCHOOL = "school", gettext_noop("进学校")
    GOVERNMENT = "government", gettext_noop("进机关")
    ENTERPRISE = "enterprise", gettext_noop("进企业")
    VILLAGE = "village", gettext_noop("进乡村")
    COMMUNITY = "community", gettext_noop("进社区")
    BARRACKS = "barracks", gettext_noop("进军营")


class TourStatus(models.TextChoices):
    DRAFT = "draft", gettext_noop("草稿")
    PUBLISHED = "published", gettext_noop("已发布")


class Vehicle(TimestampedModel):
    """A 科普大篷车 or a 流动科技馆 set (巡展车辆/展品) of one operating unit.

    ``plate`` (车牌号) is kept in one form (upper case, no spaces or dots, ``浙A12345``) and is unique
    when given; a 流动科技馆 set has none and carries its ``theme`` (主题) instead. ``model`` is the
    caravan type (车型, e.g. Ⅱ型). ``province`` is where the vehicle is based.
    """

    kind = models.CharField("类别", max_length=16, choices=VehicleKind.choices)
    name = models.CharField("名称", max_length=100)
    plate = models.CharField("车牌号", max_length=16, blank=True)
    model = models.CharField("车型", max_length=32, blank=True)
    theme = models.CharField("展览主题", max_length=64, blank=True)
    operator = models.ForeignKey(
        "orgs.Organization", verbose_name="运行单位", on_delete=models.PROTECT, related_name="tour_vehicles"
    )
    province = models.ForeignKey(
        "regions.Region",
        verbose_name="所在省份",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": 1},
    )

    class Meta:
        verbose_name = "巡展车辆/展品"
        verbose_name_plural = "巡展车辆/展品"
        ordering = ["operator_id", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["plate"], condition=~models.Q(plate=""), name="tours_vehicle_plate_unique"
            ),
            models.UniqueConstraint(fields=["operator", "name"], name="tours_vehicle_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.plate}）" if self.plate else self.name


class Tour(TimestampedModel):
    """A tour (巡展) of one vehicle or set in one campaign, published once it has stops.

    The summary fields after ``published_at`` are derived (``services.recompute``): ``distance_km``
    the great-circle kilometres between consecutive stops' county centroids, ``county_count`` the
    distinct counties, ``special_areas`` the bits of ``activities.models.SpecialArea`` reached.
    """

    campaign = models.ForeignKey(
        "campaigns.Campaign", verbose_name="科普月", on_delete=models.PROTECT, related_name="tours"
    )
    brand = models.ForeignKey(
        "campaigns.Brand",
        verbose_name="品牌活动",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tours",
    )
    operator = models.ForeignKey(
        "orgs.Organization", verbose_name="运行单位", on_delete=models.PROTECT, related_name="tours"
    )
    vehicle = models.ForeignKey(
        Vehicle, verbose_name="车辆/展品", on_delete=models.PROTECT, related_name="tours"
    )
    title = models.CharField("巡展名称", max_length=100)
    summary = models.CharField("简介", max_length=500, blank=True)
    status = models.CharField("状态", max_length=16, choices=TourStatus.choices, default=TourStatus.DRAFT)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    distance_km = models.DecimalField("里程（公里）", max_digits=9, decimal_places=1, default=0)
    county_count = models.PositiveIntegerField("到达县数", default=0)
    stop_count = models.PositiveIntegerField("站点数", default=0)
    special_areas = models.PositiveIntegerField("到达特殊地区", default=0)
    starts_on = models.DateField("首站日期", null=True, blank=True)
    ends_on = models.DateField("末站日期", null=True, blank=True)

    class Meta:
        verbose_name = "巡展"
        verbose_name_plural = "巡展"
        ordering = ["-starts_on", "-id"]
        indexes = [
            models.Index(fields=["campaign", "status", "starts_on", "id"], name="tours_public_idx"),
            models.Index(fields=["operator", "campaign"], name="tours_operator_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Stop(models.Model):
    """One stop (站点) of a tour: a day, a county-level division, the kind of venue (六进) and its
    name, optionally a published activity (then the stop is that activity's day and place).

    ``special_areas`` are the bits the operator declares (农村地区 / 革命老区 / 民族地区 / 边疆地区 /
    欠发达地区); ``services.stop_special_areas`` adds what the platform can tell itself.
    """

    tour = models.ForeignKey(Tour, verbose_name="巡展", on_delete=models.CASCADE, related_name="stops")
    position = models.PositiveIntegerField("顺序")
    date = models.DateField("日期")
    region = models.ForeignKey(
        "regions.Region", verbose_name="所在区县", on_delete=models.PROTECT, related_name="+"
    )
    venue_kind = models.CharField("场所类型", max_length=16, choices=VenueKind.choices)
    venue = models.CharField("场所名称", max_length=100, blank=True)
    activity = models.ForeignKey(
        "activities.Activity",
        verbose_name="关联活动",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tour_stops",
    )
    special_areas = models.PositiveIntegerField("特殊地区", default=0)
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "巡展站点"
        verbose_name_plural = "巡展站点"
        ordering = ["tour_id", "date", "position"]
        constraints = [
            models.UniqueConstraint(fields=["tour", "position"], name="tours_stop_position_unique")
        ]
        indexes = [models.Index(fields=["region", "tour"], name="tours_stop_region_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.region_id} {self.get_venue_kind_display()}"
