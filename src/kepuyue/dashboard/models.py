"""Roll-ups 汇总计数 of published activities, kept in step with the workflow in the same transaction
(``docs/decisions/0017-dashboard-rollups.md``).

:class:`Fact` is the ledger: one row per activity that is counted now (published), with the key it
is counted under. :class:`Tally` and :class:`UnitTally` are the fine counters; :class:`DayTally`,
:class:`AreaTally` and :class:`OrgTally` the coarse ones the pages read (a few thousand rows per
campaign at 500,000 activities, ``BENCHMARKS.md``). All are written by one function: a move
subtracts the ledger's old key and adds the new one, so the counters are always the sum of the
ledger, and the ledger always what the activities say (``manage.py check_rollups``). Ids of joint
actions and brands are plain integers (0 = none) so that the unique keys have no NULLs.
"""

from django.db import models


class Fact(models.Model):
    """An activity as counted (已计入): its key and the participants its summary reported."""

    activity_id = models.BigIntegerField("活动", primary_key=True)
    campaign_id = models.BigIntegerField("科普月", db_index=True)
    day = models.DateField("发布日期")
    joint_action_id = models.BigIntegerField("联合行动", default=0)
    brand_id = models.BigIntegerField("品牌活动", default=0)
    province_code = models.CharField("省级代码", max_length=6, blank=True)
    prefecture_code = models.CharField("地级代码", max_length=6, blank=True)
    county_code = models.CharField("县级代码", max_length=6, blank=True)
    unit_type = models.CharField("单位类型", max_length=64, blank=True)
    special_areas = models.PositiveIntegerField("特殊地区", default=0)
    organizer_id = models.BigIntegerField("主办单位")
    participants = models.PositiveIntegerField("参与人数", default=0)

    class Meta:
        verbose_name = "已计入活动"
        verbose_name_plural = "已计入活动"

    def __str__(self) -> str:
        return f"活动 {self.activity_id}"


class Tally(models.Model):
    """Published activities and reported participants per (campaign, day, joint action, brand,
    region, unit type, special areas)."""

    campaign_id = models.BigIntegerField("科普月")
    day = models.DateField("发布日期")
    joint_action_id = models.BigIntegerField("联合行动", default=0)
    brand_id = models.BigIntegerField("品牌活动", default=0)
    province_code = models.CharField("省级代码", max_length=6, blank=True)
    prefecture_code = models.CharField("地级代码", max_length=6, blank=True)
    county_code = models.CharField("县级代码", max_length=6, blank=True)
    unit_type = models.CharField("单位类型", max_length=64, blank=True)
    special_areas = models.PositiveIntegerField("特殊地区", default=0)
    activities = models.IntegerField("活动数", default=0)
    participants = models.BigIntegerField("参与人数", default=0)

    class Meta:
        verbose_name = "活动汇总"
        verbose_name_plural = "活动汇总"
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "campaign_id",
                    "day",
                    "joint_action_id",
                    "brand_id",
                    "county_code",
                    "prefecture_code",
                    "province_code",
                    "unit_type",
                    "special_areas",
                ],
                name="dashboard_tally_key",
            )
        ]
        indexes = [
            models.Index(fields=["campaign_id", "province_code"], name="dash_tally_province_idx"),
            models.Index(fields=["campaign_id", "prefecture_code"], name="dash_tally_prefecture_idx"),
            models.Index(fields=["campaign_id", "brand_id"], name="dash_tally_brand_idx"),
            models.Index(fields=["campaign_id", "joint_action_id"], name="dash_tally_ja_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.day} {self.county_code or self.prefecture_code or self.province_code}: {self.activities}"
        )


class UnitTally(models.Model):
    """Published activities per (campaign, organizer, joint action, brand, unit type): distinct units."""

    campaign_id = models.BigIntegerField("科普月")
    organizer_id = models.BigIntegerField("主办单位")
    joint_action_id = models.BigIntegerField("联合行动", default=0)
    brand_id = models.BigIntegerField("品牌活动", default=0)
    unit_type = models.CharField("单位类型", max_length=64, blank=True)
    activities = models.IntegerField("活动数", default=0)

    class Meta:
        verbose_name = "单位汇总"
        verbose_name_plural = "单位汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign_id", "organizer_id", "joint_action_id", "brand_id", "unit_type"],
                name="dashboard_unittally_key",
            )
        ]
        indexes = [models.Index(fields=["campaign_id", "brand_id"], name="dash_unit_brand_idx")]

    def __str__(self) -> str:
        return f"单位 {self.organizer_id}: {self.activities}"


class DayTally(models.Model):
    """Published activities and participants per (campaign, day, joint action, brand, special areas):
    totals, joint actions, brands, the daily curve and count measures without a region or unit type
    (按日汇总)."""

    campaign_id = models.BigIntegerField("科普月")
    day = models.DateField("发布日期")
    joint_action_id = models.BigIntegerField("联合行动", default=0)
    brand_id = models.BigIntegerField("品牌活动", default=0)
    special_areas = models.PositiveIntegerField("特殊地区", default=0)
    activities = models.IntegerField("活动数", default=0)
    participants = models.BigIntegerField("参与人数", default=0)

    class Meta:
        verbose_name = "按日汇总"
        verbose_name_plural = "按日汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign_id", "day", "joint_action_id", "brand_id", "special_areas"],
                name="dashboard_daytally_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.activities}"


class AreaTally(models.Model):
    """Published activities per (campaign, division): one row per province, prefecture and county
    reached, with its parent's code — the map, regions reached, coverage gaps (按区划汇总)."""

    campaign_id = models.BigIntegerField("科普月")
    level = models.PositiveSmallIntegerField("级别")  # regions.models.Level
    code = models.CharField("区划代码", max_length=6)
    parent_code = models.CharField("上级代码", max_length=6, blank=True)
    activities = models.IntegerField("活动数", default=0)

    class Meta:
        verbose_name = "按区划汇总"
        verbose_name_plural = "按区划汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign_id", "level", "code", "parent_code"], name="dashboard_areatally_key"
            )
        ]
        indexes = [
            models.Index(fields=["campaign_id", "parent_code", "level"], name="dash_area_parent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.activities}"


class OrgTally(models.Model):
    """Published activities per (campaign, organizer, unit type): units taking part (按单位汇总)."""

    campaign_id = models.BigIntegerField("科普月")
    organizer_id = models.BigIntegerField("主办单位")
    unit_type = models.CharField("单位类型", max_length=64, blank=True)
    activities = models.IntegerField("活动数", default=0)

    class Meta:
        verbose_name = "按单位汇总"
        verbose_name_plural = "按单位汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign_id", "organizer_id", "unit_type"], name="dashboard_orgtally_key"
            )
        ]

    def __str__(self) -> str:
        return f"单位 {self.organizer_id}: {self.activities}"
