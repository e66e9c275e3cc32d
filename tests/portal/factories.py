"""Minimal campaign rows for portal tests that do not need the whole 2025 plan."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import factory

from kepuyue.campaigns.models import Brand, Call, Campaign, Contact, Deadline, JointAction, KeyTask, Target
from kepuyue.orgs.models import OrganizationType

BJ = ZoneInfo("Asia/Shanghai")


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
    general_requirements = factory.LazyFunction(
        lambda: [{"title": "广泛动员", "text": "发布活动时请突出标记活动品牌。", "plan_ref": "八(一)"}]
    )


class OrganizationTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganizationType
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"type-{n}")
    name = factory.Sequence(lambda n: f"单位类型{n}")


class JointActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JointAction

    campaign = factory.SubFactory(CampaignFactory)
    number = factory.Sequence(lambda n: n + 1)
    slug = factory.Sequence(lambda n: f"action-{n + 1}")
    name = factory.Sequence(lambda n: f"第{n + 1}联合行动")
    participants = "各级各类科普教育基地"
    window_start = factory.SelfAttribute("campaign.starts")
    window_end = factory.SelfAttribute("campaign.ends")


class KeyTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeyTask

    joint_action = factory.SubFactory(JointActionFactory)
    number = factory.Sequence(lambda n: n + 1)
    slug = factory.Sequence(lambda n: f"task-{n + 1}")
    name = "千家基地展创新"
    description = "科普教育基地依托自身特色科普资源组织开展科普活动。"


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    joint_action = factory.SubFactory(JointActionFactory)
    slug = factory.Sequence(lambda n: f"brand-{n + 1}")
    order = factory.Sequence(lambda n: n)
    name = factory.Sequence(lambda n: f"品牌活动{n + 1}")


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    joint_action = factory.SubFactory(JointActionFactory)
    slug = factory.Sequence(lambda n: f"target-{n + 1}")
    order = factory.Sequence(lambda n: n)
    label = "科普大篷车"
    value = 1000
    unit = "辆"
    approx = True


class DeadlineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deadline

    campaign = factory.SubFactory(CampaignFactory)
    slug = factory.Sequence(lambda n: f"deadline-{n + 1}")
    kind = "due"
    title = "推荐联合行动重点活动"
    at = datetime(2025, 8, 20, 23, 59, 59, 999999, tzinfo=BJ)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    joint_action = factory.SubFactory(JointActionFactory)
    order = factory.Sequence(lambda n: n)
    unit = "中国科协科普部"
    person = "联系人A"
    phone = "000-00000000"
    email = "someone@example.org"


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    joint_action = factory.SubFactory(JointActionFactory)
    campaign = factory.SelfAttribute("joint_action.campaign")
    slug = factory.Sequence(lambda n: f"call-{n + 1}")
    kind = "video"
    title = "“探寻科学宝藏”短视频"
    opens_at = datetime(2025, 8, 10, tzinfo=BJ)
    spec = factory.LazyFunction(
        lambda: {"container": "mp4", "min_width": 1920, "min_height": 1080, "max_seconds_advised": 180}
    )
