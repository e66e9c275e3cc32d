"""Campaign-wide activities (全国科普月活动, no joint action) on the public pages: card, filter,
activity page, calendar file, zone page and sitemap."""

import re

import pytest
from django.core.cache import cache
from icalendar import Calendar

from kepuyue.activities.models import Form, Status
from kepuyue.regions.services import invalidate_index
from tests.activities.factories import (
    ActivityFactory,
    CampaignFactory,
    JointActionFactory,
    OrganizationFactory,
    bj,
    region_chain,
)

pytestmark = pytest.mark.django_db

ZHEJIANG = (("330000", "浙江省"), ("330100", "杭州市"), ("330106", "西湖区"))


@pytest.fixture(autouse=True)
def fresh_caches():
    cache.clear()
    invalidate_index()
    yield
    cache.clear()
    invalidate_index()


@pytest.fixture
def world(clock):
    """One joint action with one activity, and one 科协 main-venue activity of no joint action."""
    clock("2025-09-10T10:00+08:00")
    campaign = CampaignFactory()
    bases = JointActionFactory(campaign=campaign, slug="bases", number=1, name="科普教育基地联合行动")
    marked = ActivityFactory(
        joint_action=bases,
        title="基地开放日",
        starts_at=bj("2025-09-05 09:00"),
        ends_at=bj("2025-09-05 17:00"),
        status=Status.PUBLISHED,
    )
    main = ActivityFactory(
        joint_action=None,
        campaign=campaign,
        organizer=OrganizationFactory(name="浙江省科学技术协会"),
        title="全国科普月浙江主场活动",
        summary="开幕式与科普展",
        venue="杭州市民中心",
        region=region_chain(*ZHEJIANG),
        starts_at=bj("2025-09-06 09:00"),
        ends_at=bj("2025-09-06 12:00"),
        form=Form.OFFLINE,
        status=Status.PUBLISHED,
    )
    return {"campaign": campaign, "bases": bases, "marked": marked, "main": main}


def titles(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'class="card__link" href="/activities/\d+/" lang="zh-Hans">([^<]+)</a>', html)


def test_activity_list_card_shows_campaign_wide_label(client, world):
    response = client.get("/activities/")
    assert response.status_code == 200
    assert titles(response) == ["基地开放日", "全国科普月浙江主场活动"]
    html = response.content.decode()
    card = html.split(f'data-activity="{world["main"].pk}"')[1].split("</li>")[0]
    assert '<dt>联合行动</dt><dd lang="zh-Hans">全国科普月活动</dd>' in card


def test_activity_list_filter_none_shows_only_campaign_wide(client, world):
    assert titles(client.get("/activities/?joint_action=none")) == ["全国科普月浙江主场活动"]
    assert titles(client.get("/activities/?joint_action=bases")) == ["基地开放日"]
    html = client.get("/activities/?joint_action=none").content.decode()
    assert '<option value="none" selected>全国科普月活动（不属于联合行动）</option>' in html


def test_activity_detail_without_joint_action_links_the_campaign(client, world):
    main = world["main"]
    response = client.get(f"/activities/{main.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<dt>联合行动</dt><dd><a href="/campaigns/kepuyue-2025/">全国科普月活动</a></dd>' in html
    assert "/zones/" not in html.split('class="breadcrumbs"')[1].split("</nav>")[0]


def test_activity_ics_without_joint_action(client, world):
    main = world["main"]
    response = client.get(f"/activities/{main.pk}.ics")
    assert response.status_code == 200
    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "全国科普月浙江主场活动"
    assert event.decoded("DTSTART") == bj("2025-09-06 09:00")
    assert "主办单位：浙江省科学技术协会" in str(event["DESCRIPTION"])


def test_zone_page_leaves_campaign_wide_activities_out(client, world):
    html = client.get("/campaigns/kepuyue-2025/zones/bases/").content.decode()
    assert "基地开放日" in html and "全国科普月浙江主场活动" not in html


def test_sitemap_lists_campaign_wide_activity(client, world):
    paths = []
    index = client.get("/sitemap.xml").content.decode()
    for url in re.findall(r"<loc>https?://[^/]+(/[^<]+)</loc>", index):
        paths.append(client.get(url).content.decode())
    assert any(f"/activities/{world['main'].pk}/" in body for body in paths)
