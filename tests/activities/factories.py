"""Minimal rows for activities tests (shared by the activities helpers: only add to this file).

Each factory makes the smallest valid row; pass what a test cares about. ``ActivityFactory``
fills ``search_text`` with :func:`kepuyue.search.segment.index_text` as the services do.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import factory

from kepuyue.activities.models import Activity, Status
from kepuyue.campaigns.models import Brand, Campaign, JointAction
from kepuyue.orgs.models import Organization, OrganizationType
from kepuyue.regions.models import Level, Region
from kepuyue.search.segment import index_text

BJ = ZoneInfo("Asia/Shanghai")


def bj(text: str) -> datetime:
    """An aware Beijing-time datetime from ``"2025-09-15 14:00"``."""
    return datetime.fromisoformat(text).replace(tzinfo=BJ)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign
        django_get_or_create = ("slug",)

    year = 2025
    slug = factory.LazyAttribute(lambda o: f"kepuyue-{o.year}")
    name = factory.LazyAttribute(lambda o: f"{o.year}年全国科普月")
    theme = "提升全民科学素质 夯实科技强国基础"
    starts = factory.LazyAttribute(lambda o: date(o.year, 9, 1))
    ends = factory.LazyAttribute(lambda o: date(o.year, 9, 30))


class OrganizationTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganizationType
        django_get_or_create = ("code",)

    code = "science-museum"
    name = "科技馆"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"测试科技馆{n}")
    type = factory.SubFactory(OrganizationTypeFactory)


class JointActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JointAction
        django_get_or_create = ("campaign", "slug")

    campaign = factory.SubFactory(CampaignFactory)
    number = factory.Sequence(lambda n: n + 1)
    slug = factory.Sequence(lambda n: f"action-{n + 1}")
    name = factory.Sequence(lambda n: f"第{n + 1}联合行动")
    participants = "各级各类科普教育基地"
    window_start = factory.SelfAttribute("campaign.starts")
    window_end = factory.SelfAttribute("campaign.ends")


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("joint_action", "slug")

    joint_action = factory.SubFactory(JointActionFactory)
    slug = factory.Sequence(lambda n: f"brand-{n + 1}")
    order = factory.Sequence(lambda n: n)
    name = factory.Sequence(lambda n: f"品牌活动{n + 1}")


class RegionFactory(factory.django.DjangoModelFactory):
    """A region row; give ``code``, ``name`` and ``parent`` (levels follow from the code)."""

    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "110000"
    name = "北京市"
    level = factory.LazyAttribute(
        lambda o: (
            Level.PROVINCE
            if o.code.endswith("0000")
            else Level.PREFECTURE
            if o.code.endswith("00")
            else Level.COUNTY
        )
    )
    parent = None
    province_code = factory.LazyAttribute(lambda o: o.code[:2] + "0000")
    full_name = factory.LazyAttribute(lambda o: f"{o.parent.full_name}{o.name}" if o.parent else o.name)


def region_chain(
    province: tuple[str, str], prefecture: tuple[str, str], county: tuple[str, str] | None = None
) -> Region:
    """The most precise region of a ``(code, name)`` chain, creating the rows as needed."""
    region = RegionFactory(code=province[0], name=province[1])
    region = RegionFactory(code=prefecture[0], name=prefecture[1], parent=region)
    if county:
        region = RegionFactory(code=county[0], name=county[1], parent=region)
    return region


def _codes(region: Region | None) -> dict[str, str]:
    codes = {"province_code": "", "prefecture_code": "", "county_code": ""}
    while region is not None:
        key = {
            Level.PROVINCE: "province_code",
            Level.PREFECTURE: "prefecture_code",
            Level.COUNTY: "county_code",
        }
        codes[key[region.level]] = region.code
        region = region.parent
    return codes


class ActivityFactory(factory.django.DjangoModelFactory):
    """An activity of ``joint_action``'s campaign; the region's chain codes and ``search_text``
    are derived as the services derive them. ``status`` defaults to draft, as the model does."""

    class Meta:
        model = Activity

    joint_action = factory.SubFactory(JointActionFactory)
    campaign = factory.SelfAttribute("joint_action.campaign")
    # Plan 八(一): an activity of a joint action with brands carries one (the first, unless given).
    brand = factory.LazyAttribute(
        lambda o: o.joint_action.brands.order_by("order", "pk").first()
        if o.joint_action is not None
        else None
    )
    title = factory.Sequence(lambda n: f"科普活动{n}")
    summary = ""
    venue = ""
    organizer = factory.SubFactory(OrganizationFactory)
    starts_at = factory.LazyFunction(lambda: bj("2025-09-15 09:00"))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at)
    status = Status.DRAFT
    region = None
    province_code = factory.LazyAttribute(lambda o: _codes(o.region)["province_code"])
    prefecture_code = factory.LazyAttribute(lambda o: _codes(o.region)["prefecture_code"])
    county_code = factory.LazyAttribute(lambda o: _codes(o.region)["county_code"])
    search_text = factory.LazyAttribute(lambda o: index_text(o.title, o.summary, o.organizer.name, o.venue))
