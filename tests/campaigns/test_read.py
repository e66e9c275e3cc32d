"""Read side on the campaign clock: deadline states, phases, the current campaign, a zone."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kepuyue.campaigns.models import Brand, Call, Campaign, Contact, Deadline, JointAction, KeyTask, Target
from kepuyue.campaigns.services import (
    DeadlineState,
    call_phase,
    campaign_phase,
    current_campaign,
    deadline_state,
    joint_action_window_phase,
    key_deadlines,
    zone,
)
from kepuyue.common.clock import Phase
from kepuyue.orgs.models import OrganizationType

BJ = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def test_deadline_state_recommendations_open_in_mid_august(campaign_2025, clock):
    clock("2025-08-15T10:00+08:00")
    states = {d.slug: state for d, state in key_deadlines(campaign_2025)}
    assert states == {
        "reading-work-plans-due": DeadlineState.PASSED,
        "platform-opens": DeadlineState.OPEN,
        "operation-guide-opens": DeadlineState.OPEN,
        "bases-zone-opens": DeadlineState.OPEN,
        "recommendations-due": DeadlineState.OPEN,
    }
    assert campaign_phase(campaign_2025) == Phase.UPCOMING


def test_deadline_state_everything_passed_a_year_later(campaign_2025, clock):
    clock("2026-11-29T12:00+08:00")
    recommend = Deadline.objects.get(slug="recommendations-due")
    assert deadline_state(recommend) == DeadlineState.PASSED
    assert campaign_phase(campaign_2025) == Phase.ENDED
    # What opened on Aug 10 closed with the campaign: nothing stays "进行中" in the archive.
    assert {state for _, state in key_deadlines(campaign_2025)} == {
        DeadlineState.PASSED,
        DeadlineState.CLOSED,
    }


def test_deadline_state_due_runs_to_the_end_of_the_day(campaign_2025):
    recommend = Deadline.objects.get(slug="recommendations-due")
    assert deadline_state(recommend, datetime(2025, 8, 20, 23, 59, 59, tzinfo=BJ)) == DeadlineState.OPEN
    assert deadline_state(recommend, datetime(2025, 8, 21, 0, 0, tzinfo=BJ)) == DeadlineState.PASSED
    # 2025-08-20 16:30 UTC is already 8月21日 in Beijing.
    assert (
        deadline_state(recommend, datetime(2025, 8, 20, 16, 30, tzinfo=ZoneInfo("UTC")))
        == DeadlineState.PASSED
    )


def test_deadline_state_opens_at_the_start_of_the_day(campaign_2025, clock):
    opens = Deadline.objects.get(slug="bases-zone-opens")
    clock("2025-08-09T23:59:59+08:00")
    assert deadline_state(opens) == DeadlineState.UPCOMING
    clock("2025-08-10T00:00+08:00")
    assert deadline_state(opens) == DeadlineState.OPEN


def test_deadline_state_opens_closes_with_the_campaign(campaign_2025, clock):
    opens = Deadline.objects.get(slug="bases-zone-opens")
    clock("2025-09-30T23:59:59+08:00")
    assert deadline_state(opens) == DeadlineState.OPEN
    clock("2025-10-01T00:00+08:00")
    assert deadline_state(opens) == DeadlineState.CLOSED


def test_call_phase_runs_to_closes_at_or_the_campaign_end(campaign_2025, clock):
    plans = Call.objects.select_related("campaign").get(slug="reading-work-plans")
    video = Call.objects.select_related("campaign").get(slug="science-treasure-videos")
    assert video.closes_at is None
    clock("2025-08-01T23:59+08:00")
    assert (call_phase(plans), call_phase(video)) == (Phase.ONGOING, Phase.UPCOMING)
    clock("2025-08-10T00:00+08:00")
    assert (call_phase(plans), call_phase(video)) == (Phase.ENDED, Phase.ONGOING)
    clock("2025-10-01T00:00+08:00")
    assert call_phase(video) == Phase.ENDED


def test_deadline_state_labels_are_chinese():
    assert [str(s.label) for s in DeadlineState] == ["未开始", "进行中", "已截止", "已结束"]


def test_key_deadlines_in_time_order_campaign_wide_first(campaign_2025, clock):
    clock("2025-08-15T10:00+08:00")
    assert [d.slug for d, _ in key_deadlines(campaign_2025)] == [
        "reading-work-plans-due",
        "operation-guide-opens",
        "platform-opens",
        "bases-zone-opens",
        "recommendations-due",
    ]


def test_joint_action_window_phase_for_museums_from_july(campaign_2025, clock):
    museums = JointAction.objects.get(slug="science-museums")
    rural = JointAction.objects.get(slug="rural-associations")
    clock("2025-07-15T10:00+08:00")
    assert joint_action_window_phase(museums) == Phase.ONGOING
    assert joint_action_window_phase(rural) == Phase.UPCOMING
    clock("2025-09-26T00:00+08:00")
    assert joint_action_window_phase(rural) == Phase.ENDED
    assert joint_action_window_phase(museums) == Phase.ONGOING


def make_campaign(slug: str, year: int) -> Campaign:
    return Campaign.objects.create(
        slug=slug,
        year=year,
        name=f"{year}年全国科普月",
        theme="主题",
        starts=date(year, 9, 1),
        ends=date(year, 9, 30),
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2025-03-01T10:00+08:00", "kepuyue-2025"),  # none started: the nearest upcoming
        ("2025-09-10T10:00+08:00", "kepuyue-2025"),  # running
        ("2026-03-01T10:00+08:00", "kepuyue-2025"),  # between: the most recent that started
        ("2026-09-01T00:00+08:00", "kepuyue-2026"),  # the new one's first day, Beijing time
        ("2027-01-01T10:00+08:00", "kepuyue-2026"),
    ],
)
def test_current_campaign_with_two_campaigns(clock, now, expected):
    make_campaign("kepuyue-2026", 2026)
    make_campaign("kepuyue-2025", 2025)
    clock(now)
    assert current_campaign().slug == expected


def test_current_campaign_none_loaded():
    assert current_campaign(datetime(2025, 9, 1, tzinfo=BJ)) is None


def test_current_campaign_explicit_instant_overrides_clock(clock):
    make_campaign("kepuyue-2025", 2025)
    make_campaign("kepuyue-2026", 2026)
    clock("2025-09-10T10:00+08:00")
    assert current_campaign(datetime(2026, 9, 2, tzinfo=BJ)).slug == "kepuyue-2026"


def test_zone_prefetches_the_whole_joint_action(campaign_2025, django_assert_num_queries):
    with django_assert_num_queries(ZONE_QUERIES):
        ja = zone(campaign_2025, "science-education-bases")
        touch(ja)
    assert ja.name == "科普教育基地联合行动"
    assert [b.name for b in ja.brands.all()] == ["千家基地展创新", "科普CityWalk", "探寻科学宝藏"]
    assert [c.slug for c in ja.calls.all()] == ["citywalk-routes", "science-treasure-videos"]


def test_zone_unknown_slug_raises(campaign_2025):
    with pytest.raises(JointAction.DoesNotExist):
        zone(campaign_2025, "nope")


# One query each: the joint action (with its campaign), participant types, key tasks, brands,
# brand targets, brand children, targets, contacts, deadlines, calls, call eligible types.
ZONE_QUERIES = 11


def touch(ja: JointAction) -> None:
    """Read everything a zone page shows."""
    str(ja.campaign)
    list(ja.participant_types.all())
    list(ja.key_tasks.all())
    for brand in ja.brands.all():
        list(brand.targets.all())
        list(brand.children.all())
        str(brand.key_task)
        str(brand.parent)
    list(ja.targets.all())
    list(ja.contacts.all())
    list(ja.deadlines.all())
    for call in ja.calls.all():
        str(call.brand)
        list(call.eligible_types.all())


def build_zone(brand_count: int) -> Campaign:
    campaign = make_campaign("kepuyue-2030", 2030)
    kind = OrganizationType.objects.create(code="science_museum", name="科技馆")
    ja = JointAction.objects.create(
        campaign=campaign,
        slug="museums",
        number=1,
        name="联合行动",
        participants="科技馆",
        window_start=campaign.starts,
        window_end=campaign.ends,
    )
    ja.participant_types.add(kind)
    task = KeyTask.objects.create(joint_action=ja, slug="task", number=1, name="任务", description="内容")
    parent = None
    for order in range(brand_count):
        brand = Brand.objects.create(
            joint_action=ja,
            key_task=task,
            parent=parent,
            slug=f"brand-{order}",
            order=order,
            name=f"品牌{order}",
        )
        Target.objects.create(
            joint_action=ja,
            brand=brand,
            slug=f"target-{order}",
            order=order,
            label="数量",
            value=order,
            unit="个",
        )
        parent = parent or brand
    Contact.objects.create(joint_action=ja, order=1, unit="单位")
    Deadline.objects.create(
        campaign=campaign,
        joint_action=ja,
        slug="due",
        kind="due",
        title="截止",
        at=datetime(2030, 8, 1, tzinfo=BJ),
    )
    call = Call.objects.create(
        campaign=campaign,
        joint_action=ja,
        brand=brand,
        slug="call",
        kind="video",
        title="征集",
        opens_at=datetime(2030, 8, 1, tzinfo=BJ),
    )
    call.eligible_types.add(kind)
    return campaign


@pytest.mark.parametrize("brand_count", [1, 3])
def test_zone_query_count_does_not_grow_with_brands(django_assert_num_queries, brand_count):
    campaign = build_zone(brand_count)
    with django_assert_num_queries(ZONE_QUERIES):
        ja = zone(campaign, "museums")
        touch(ja)
    assert len(ja.brands.all()) == brand_count


def test_zone_same_query_count_for_one_and_three_brands():
    counts = []
    for brand_count in (1, 3):
        Campaign.objects.all().delete()
        OrganizationType.objects.all().delete()
        campaign = build_zone(brand_count)
        with CaptureQueriesContext(connection) as queries:
            touch(zone(campaign, "museums"))
        counts.append(len(queries))
    assert counts[0] == counts[1]
