"""The public activity pages: list filters, phases on the campaign clock, pagination, search,
the activity page (masked phone, sanitised description, map link, QR code, calendar file), brand,
region and zone pages, the sitemap, English chrome, and bounded query counts."""

import re
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from django.core.cache import cache
from django.utils import translation
from icalendar import Calendar

from kepuyue.activities.models import Activity, Audience, Form, SpecialArea, Status, Topic
from kepuyue.common import pagecache
from kepuyue.portal import activity_display
from kepuyue.regions.services import get_index, invalidate_index
from tests.activities.factories import (
    ActivityFactory,
    BrandFactory,
    CampaignFactory,
    JointActionFactory,
    OrganizationFactory,
    bj,
    region_chain,
)

pytestmark = pytest.mark.django_db

XIHU = (("330000", "浙江省"), ("330100", "杭州市"), ("330106", "西湖区"))
SHANGCHENG = (("330000", "浙江省"), ("330100", "杭州市"), ("330102", "上城区"))
NINGBO = (("330000", "浙江省"), ("330200", "宁波市"), ("330203", "海曙区"))
FENGZHEN = (("150000", "内蒙古自治区"), ("150900", "乌兰察布市"), ("150981", "丰镇市"))


@pytest.fixture(autouse=True)
def fresh_caches():
    """Choices, counts and the region index are cached per process: start every test clean."""
    cache.clear()
    invalidate_index()
    yield
    cache.clear()
    invalidate_index()


def titles(response) -> list[str]:
    """The card titles of a list page, in order."""
    html = response.content.decode()
    return re.findall(r'class="card__link" href="/activities/\d+/" lang="zh-Hans">([^<]+)</a>', html)


@pytest.fixture
def world(clock):
    """Two joint actions with brands, five published activities in three provinces, one draft."""
    clock("2025-09-10T10:00+08:00")
    campaign = CampaignFactory()
    bases = JointActionFactory(campaign=campaign, slug="bases", number=1, name="科普教育基地联合行动")
    museums = JointActionFactory(campaign=campaign, slug="museums", number=2, name="科技馆体系联合行动")
    innovation = BrandFactory(joint_action=bases, slug="innovation", name="千家基地展创新")
    night = BrandFactory(joint_action=museums, slug="night", name="科学之夜", description="科技馆夜间开放。")
    published = {"status": Status.PUBLISHED}
    rows = {
        "ai": ActivityFactory(
            joint_action=bases,
            brand=innovation,
            title="人工智能科普讲座",
            region=region_chain(*XIHU),
            venue="文三路1号",
            starts_at=bj("2025-09-05 09:00"),
            ends_at=bj("2025-09-05 11:00"),
            form=Form.OFFLINE,
            audiences=Audience.YOUTH,
            topics=Topic.AI,
            **published,
        ),
        "space": ActivityFactory(
            joint_action=museums,
            brand=night,
            title="航天之夜",
            region=region_chain(*SHANGCHENG),
            starts_at=bj("2025-09-10 19:00"),
            ends_at=bj("2025-09-10 21:00"),
            form=Form.HYBRID,
            online_url="https://live.example.org/night",
            audiences=Audience.FAMILIES,
            topics=Topic.AEROSPACE,
            **published,
        ),
        "farm": ActivityFactory(
            joint_action=bases,
            title="智慧农业开放日",
            brand=None,  # rows as stored before brand marking (plan 八(一)): the filters must cope
            region=region_chain(*NINGBO),
            starts_at=bj("2025-09-20 09:00"),
            ends_at=bj("2025-09-22 17:00"),
            form=Form.OFFLINE,
            audiences=Audience.FARMERS,
            topics=Topic.AGRICULTURE,
            **published,
        ),
        "online": ActivityFactory(
            joint_action=museums,
            title="线上科学课",
            brand=None,  # rows as stored before brand marking (plan 八(一)): the filters must cope
            starts_at=bj("2025-09-25 14:00"),
            ends_at=bj("2025-09-25 15:00"),
            form=Form.ONLINE,
            online_url="https://live.example.org/class",
            **published,
        ),
        "grass": ActivityFactory(
            joint_action=bases,
            title="草原科普大篷车",
            brand=None,  # rows as stored before brand marking (plan 八(一)): the filters must cope
            region=region_chain(*FENGZHEN),
            starts_at=bj("2025-09-12 09:00"),
            ends_at=bj("2025-09-12 17:00"),
            special_areas=SpecialArea.ETHNIC | SpecialArea.BORDER,
            **published,
        ),
        "draft": ActivityFactory(joint_action=bases, brand=None, title="草稿活动", status=Status.DRAFT),
    }
    return {
        "campaign": campaign,
        "bases": bases,
        "museums": museums,
        "innovation": innovation,
        "night": night,
        **rows,
    }


# --- the list -----------------------------------------------------------------------------------


def test_activity_list_shows_published_cards_in_start_order(client, world):
    response = client.get("/activities/")
    assert response.status_code == 200
    assert titles(response) == [
        "人工智能科普讲座",
        "航天之夜",
        "草原科普大篷车",
        "智慧农业开放日",
        "线上科学课",
    ]
    html = response.content.decode()
    assert "草稿活动" not in html
    assert "共 5 项活动" in html
    # A card: brand badge, joint action, Beijing time, phase on the pinned clock, organizer, place, form.
    card = html.split(f'data-activity="{world["ai"].pk}"')[1].split("</li>")[0]
    assert "千家基地展创新" in card
    assert "科普教育基地联合行动" in card
    assert "2025年9月5日 09:00至11:00" in card
    assert "已结束" in card
    assert world["ai"].organizer.name in card
    assert "浙江省杭州市西湖区" in card
    assert "线下" in card


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("joint_action=museums", ["航天之夜", "线上科学课"]),
        ("brand=innovation", ["人工智能科普讲座"]),
        ("province=330000", ["人工智能科普讲座", "航天之夜", "智慧农业开放日"]),
        ("province=330000&city=330100", ["人工智能科普讲座", "航天之夜"]),
        ("province=330000&city=330100&county=330102", ["航天之夜"]),
        ("from=2025-09-11&to=2025-09-21", ["草原科普大篷车", "智慧农业开放日"]),
        ("form=online", ["线上科学课"]),
        ("audience=farmers", ["智慧农业开放日"]),
        (
            f"audience={Audience.YOUTH.value}&audience={Audience.FAMILIES.value}",
            ["人工智能科普讲座", "航天之夜"],
        ),
        ("topic=航空航天", ["航天之夜"]),
        ("q=人工智能", ["人工智能科普讲座"]),
        ("q=大篷车&sort=relevance", ["草原科普大篷车"]),
    ],
)
def test_activity_list_filter_each_works(client, world, query, expected):
    response = client.get(f"/activities/?{query}")
    assert response.status_code == 200
    assert titles(response) == expected


@pytest.mark.parametrize(
    ("instant", "phase", "expected"),
    [
        ("2025-09-10T10:00+08:00", "ended", ["人工智能科普讲座"]),
        ("2025-09-10T20:00+08:00", "ongoing", ["航天之夜"]),
        ("2025-09-21T12:00+08:00", "ongoing", ["智慧农业开放日"]),
        ("2025-09-21T12:00+08:00", "upcoming", ["线上科学课"]),
        ("2025-08-01T12:00+08:00", "ended", []),
    ],
)
def test_activity_list_phase_filter_on_pinned_clock(client, world, clock, instant, phase, expected):
    clock(instant)
    response = client.get(f"/activities/?phase={phase}")
    assert titles(response) == expected


def test_activity_list_phase_badges_follow_the_clock(client, world, clock):
    clock("2025-09-10T20:00+08:00")
    html = client.get("/activities/").content.decode()
    card = html.split(f'data-activity="{world["space"].pk}"')[1].split("</li>")[0]
    assert "badge--ongoing" in card and "进行中" in card
    card = html.split(f'data-activity="{world["online"].pk}"')[1].split("</li>")[0]
    assert "badge--upcoming" in card and "未开始" in card


def test_activity_list_after_campaign_still_shows_its_activities(client, world, clock):
    clock("2026-03-01T10:00+08:00")
    response = client.get("/activities/")
    assert len(titles(response)) == 5
    assert "2025年全国科普月" in response.content.decode()


def test_activity_list_campaign_parameter_selects_an_archived_campaign(client, world, clock):
    older = CampaignFactory(year=2024)
    action = JointActionFactory(campaign=older, slug="bases", number=1)
    ActivityFactory(
        joint_action=action, title="往届活动", starts_at=bj("2024-09-03 09:00"), status=Status.PUBLISHED
    )
    assert "往届活动" not in titles(client.get("/activities/"))
    response = client.get("/activities/?campaign=kepuyue-2024")
    assert titles(response) == ["往届活动"]
    # Links keep the campaign.
    assert "campaign=kepuyue-2024" in response.content.decode()
    html = client.get("/activities/?campaign=nope").content.decode()
    assert "没有找到科普月“nope”" in html


def test_activity_list_bad_parameters_are_explained(client, world):
    html = client.get("/activities/?province=33&form=boat&phase=soon&page=0").content.decode()
    assert "不是该级别的 6 位行政区划代码" in html
    assert "“活动形式”参数“boat”无效" in html
    assert "“活动阶段”参数“soon”无效" in html
    assert "页码“0”无效" in html


def test_activity_list_city_outside_province_is_dropped(client, world):
    response = client.get("/activities/?province=150000&city=330100")
    assert titles(response) == ["草原科普大篷车"]
    assert "所选城市不在所选省份内" in response.content.decode()


def test_activity_list_brand_of_another_joint_action_is_dropped_and_said(client, world):
    """A brand kept from before the joint action changed (no JavaScript): the joint action wins, the
    page names the brand's own joint action (it said "没有找到品牌活动" of a brand that exists) and
    shows no chip for the brand it ignored."""
    response = client.get("/activities/?joint_action=museums&brand=innovation")
    html = response.content.decode()
    assert sorted(titles(response)) == sorted(
        a.title for a in Activity.objects.filter(joint_action__slug="museums", status=Status.PUBLISHED)
    )
    assert "品牌活动“千家基地展创新”属于“科普教育基地联合行动”，不在所选联合行动内" in html
    assert "没有找到品牌活动" not in html
    assert '<span lang="zh-Hans">千家基地展创新</span>' not in html  # no chip for it
    # an unknown slug is ignored, said, and not shown or counted as a condition in force
    unknown = client.get("/activities/?joint_action=nope&brand=xx").content.decode()
    assert "没有找到联合行动“nope”" in unknown and "没有找到品牌活动“xx”" in unknown
    assert (
        '<span lang="zh-Hans">nope</span>' not in unknown and '<span lang="zh-Hans">xx</span>' not in unknown
    )
    assert "已选" not in unknown
    # the brand and its own joint action together stay as they are
    both = client.get("/activities/?joint_action=bases&brand=innovation")
    assert titles(both) == ["人工智能科普讲座"] and "不在所选联合行动内" not in both.content.decode()


def test_activity_list_region_selects_show_the_chosen_parents_children(client, world):
    html = client.get("/activities/").content.decode()
    assert '<option value="330000">浙江省</option>' in html
    assert 'value="330100"' not in html  # no city list before a province is chosen
    html = client.get("/activities/?province=330000").content.decode()
    assert '<option value="330100">杭州市</option>' in html
    assert '<option value="330200">宁波市</option>' in html
    assert 'value="330106"' not in html
    html = client.get("/activities/?province=330000&city=330100").content.decode()
    assert '<option value="330106">西湖区</option>' in html
    # A county alone (as region pages link) selects its city and province too.
    html = client.get("/activities/?county=330106").content.decode()
    assert '<option value="330000" selected>' in html
    assert '<option value="330100" selected>' in html
    assert '<option value="330106" selected>' in html


def test_activity_list_active_filters_can_be_removed_one_by_one(client, world):
    html = client.get("/activities/?province=330000&brand=innovation").content.decode()
    assert "当前条件" in html
    assert 'href="/activities/?brand=innovation"' in html  # drop the province
    assert 'href="/activities/?province=330000"' in html  # drop the brand


def test_region_children_json_lists_children(client, world):
    data = client.get("/region/330000/children.json").json()
    assert data == {"children": [{"code": "330100", "name": "杭州市"}, {"code": "330200", "name": "宁波市"}]}
    assert client.get("/region/000000/children.json").json()["children"][0] == {
        "code": "150000",
        "name": "内蒙古自治区",
    }
    assert client.get("/region/990000/children.json").status_code == 404


@pytest.fixture
def many(clock):
    """45 published activities one hour apart: three pages of 20."""
    clock("2025-09-10T10:00+08:00")
    action = JointActionFactory(slug="bases")
    organizer = OrganizationFactory()
    return [
        ActivityFactory(
            joint_action=action,
            organizer=organizer,
            title=f"活动{n:02d}",
            starts_at=bj(f"2025-09-{1 + n // 10:02d} {8 + n % 10:02d}:00"),
            status=Status.PUBLISHED,
        )
        for n in range(45)
    ]


def _link(html: str, rel: str) -> str:
    match = re.search(rf'<a rel="{rel}" href="([^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else ""


def test_activity_list_pagination_next_prev_and_page_numbers(client, many):
    first = client.get("/activities/")
    assert titles(first) == [f"活动{n:02d}" for n in range(20)]
    html = first.content.decode()
    assert _link(html, "prev") == ""
    assert 'href="/activities/?page=2"' in html and 'href="/activities/?page=3"' in html
    second = client.get(_link(html, "next"))
    assert titles(second) == [f"活动{n:02d}" for n in range(20, 40)]
    html2 = second.content.decode()
    assert 'aria-current="page" aria-label="第 2 页">2<' in html2
    third = client.get(_link(html2, "next"))
    assert titles(third) == [f"活动{n:02d}" for n in range(40, 45)]
    assert _link(third.content.decode(), "next") == ""
    back = client.get(_link(third.content.decode(), "prev"))
    assert titles(back) == titles(second)
    # Deep links.
    assert titles(client.get("/activities/?page=3")) == [f"活动{n:02d}" for n in range(40, 45)]
    deep = client.get("/activities/?page=500")
    assert deep.status_code == 200
    assert "没有第 500 页" in deep.content.decode()
    assert titles(deep) == titles(first)


def test_activity_list_pagination_keeps_filters(client, many):
    html = client.get("/activities/?joint_action=bases&form=offline").content.decode()
    parsed = parse_qs(urlparse(_link(html, "next")).query)
    assert parsed["joint_action"] == ["bases"] and parsed["form"] == ["offline"] and "cursor" in parsed
    assert 'href="/activities/?joint_action=bases&amp;form=offline&amp;page=2"' in html


def test_activity_list_count_says_many_beyond_the_cap(client, many, monkeypatch):
    monkeypatch.setattr(activity_display, "COUNT_CAP", 30)
    html = client.get("/activities/").content.decode()
    assert "找到许多活动（超过 30 项）" in html
    cache.clear()
    monkeypatch.setattr(activity_display, "COUNT_CAP", 100)
    assert "共 45 项活动" in client.get("/activities/").content.decode()


def test_activity_list_without_campaign_says_so(client):
    response = client.get("/activities/")
    assert response.status_code == 200
    assert "还没有载入任何一届科普月" in response.content.decode()


# --- one activity ---------------------------------------------------------------------------------


@pytest.fixture
def detailed(world):
    activity = world["ai"]
    activity.summary = "面向中学生的人工智能入门讲座。"
    activity.description = (
        "# 议程\n\n1. 什么是人工智能\n2. 动手体验\n\n"
        "<script>alert('x')</script><img src=x onerror=alert(1)>\n\n"
        # CommonMark: a line that starts with a raw HTML block tag is an HTML block (its Markdown is
        # not parsed), so the links have their own paragraph.
        "[官网](https://example.org) [坏链接](javascript:alert(1))"
    )
    activity.co_organizers = "西湖区科协"
    activity.contact_name = "王老师"
    activity.contact_phone = "13812345678"
    activity.expected_participants = 200
    activity.science_workers = 5
    activity.save()
    return activity


def test_activity_detail_shows_public_fields_and_masks_phone(client, detailed):
    response = client.get(f"/activities/{detailed.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "人工智能科普讲座",
        "面向中学生的人工智能入门讲座。",
        "千家基地展创新",
        "科普教育基地联合行动",
        "西湖区科协",
        "文三路1号",
        "王老师",
        "138****5678",
        "青少年",
        "人工智能",
        "200",
        detailed.organizer.name,
    ):
        assert text in html, text
    assert "13812345678" not in html
    assert "12345678" not in html
    # Region chain links, brand and joint action links.
    for code in ("330000", "330100", "330106"):
        assert f'href="/region/{code}/"' in html
    assert 'href="/brands/kepuyue-2025/innovation/"' in html
    assert 'href="/campaigns/kepuyue-2025/zones/bases/"' in html
    # Open Graph.
    assert '<meta property="og:title" content="人工智能科普讲座">' in html
    assert f'<meta property="og:url" content="http://testserver/activities/{detailed.pk}/">' in html


def test_activity_detail_description_is_markdown_sanitised(client, detailed):
    html = client.get(f"/activities/{detailed.pk}/").content.decode()
    prose = html.split('class="prose"')[1].split("</section>")[0]
    assert "<h3>议程</h3>" in prose  # headings start below the page's own h1/h2
    assert "<ol>" in prose and "<li>什么是人工智能</li>" in prose
    assert "<script" not in prose and "onerror" not in prose and "<img" not in prose
    assert "javascript:" not in prose
    assert 'href="https://example.org"' in prose and "nofollow" in prose


def test_activity_detail_map_link_searches_venue_or_marks_coordinates(client, detailed):
    html = client.get(f"/activities/{detailed.pk}/").content.decode()
    link = re.search(r'href="(https://uri\.amap\.com/search\?[^"]+)"', html).group(1).replace("&amp;", "&")
    keyword = parse_qs(urlparse(link).query)["keyword"][0]
    assert keyword == "浙江省杭州市西湖区 文三路1号"
    detailed.latitude, detailed.longitude = "30.274100", "120.155100"
    detailed.save()
    html = client.get(f"/activities/{detailed.pk}/").content.decode()
    assert "https://uri.amap.com/marker?position=120.155100%2C30.274100" in html


def test_activity_detail_online_only_has_no_map_but_a_join_link(client, world):
    html = client.get(f"/activities/{world['online'].pk}/").content.decode()
    assert "uri.amap.com" not in html
    assert 'href="https://live.example.org/class"' in html


def test_activity_detail_has_qr_code_svg_of_its_address(client, detailed):
    html = client.get(f"/activities/{detailed.pk}/").content.decode()
    assert re.search(r'<svg viewBox="0 0 \d+ \d+" class="qr__code"><title>本活动页面的二维码</title>', html)
    assert f"http://testserver/activities/{detailed.pk}/" in html


@pytest.mark.parametrize("status", [Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.WITHDRAWN])
def test_activity_detail_unpublished_is_404(client, world, status):
    activity = world["ai"]
    activity.status = status
    activity.save()
    assert client.get(f"/activities/{activity.pk}/").status_code == 404
    assert client.get(f"/activities/{activity.pk}.ics").status_code == 404
    assert "人工智能科普讲座" not in " ".join(titles(client.get("/activities/")))


def test_activity_detail_unknown_id_is_404(client, world):
    assert client.get("/activities/999999/").status_code == 404


def test_activity_ics_parses_with_beijing_times(client, detailed):
    response = client.get(f"/activities/{detailed.pk}.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="activity-{detailed.pk}.ics"' in disposition
    encoded = disposition.split("filename*=UTF-8''")[1]
    assert unquote(encoded) == "人工智能科普讲座.ics"
    calendar = Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "人工智能科普讲座"
    assert str(event["UID"]) == f"kepuyue-activity-{detailed.pk}"
    assert event.decoded("DTSTART") == bj("2025-09-05 09:00")
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert event.decoded("DTEND") == bj("2025-09-05 11:00")
    assert str(event["LOCATION"]) == "浙江省杭州市西湖区文三路1号"
    assert str(event["URL"]) == f"http://testserver/activities/{detailed.pk}/"
    assert "面向中学生的人工智能入门讲座。" in str(event["DESCRIPTION"])
    assert calendar.walk("VTIMEZONE")
    # Stable: a second download is the same event.
    again = Calendar.from_ical(client.get(f"/activities/{detailed.pk}.ics").content)
    assert str(again.walk("VEVENT")[0]["UID"]) == str(event["UID"])


def test_activity_ics_file_name_drops_unsafe_characters(client, world):
    activity = world["ai"]
    activity.title = '科普/讲座:"AI"'
    activity.save()
    disposition = client.get(f"/activities/{activity.pk}.ics")["Content-Disposition"]
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "科普_讲座_AI.ics"


# --- brand, region and zone pages ------------------------------------------------------------------


def test_brand_page_lists_its_activities_with_filters(client, world):
    response = client.get("/brands/kepuyue-2025/night/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 lang="zh-Hans">科学之夜</h1>' in html
    assert "科技馆夜间开放。" in html
    assert titles(response) == ["航天之夜"]
    assert 'name="brand"' not in html  # fixed by the page
    assert titles(client.get("/brands/kepuyue-2025/night/?province=150000")) == []
    assert client.get("/brands/kepuyue-2025/nope/").status_code == 404
    assert client.get("/brands/nope/night/").status_code == 404


def test_zone_page_lists_its_activities(client, world, clock):
    clock("2025-09-11T10:00+08:00")
    html = client.get("/campaigns/kepuyue-2025/zones/bases/").content.decode()
    section = html.split('id="zone-activities-title"')[1].split("</section>")[0]
    # From today on first.
    assert "草原科普大篷车" in section and "智慧农业开放日" in section
    assert "人工智能科普讲座" not in section
    assert "/activities/?campaign=kepuyue-2025&amp;joint_action=bases" in section
    # After the campaign the first ones by start are shown.
    clock("2026-01-01T10:00+08:00")
    html = client.get("/campaigns/kepuyue-2025/zones/bases/").content.decode()
    section = html.split('id="zone-activities-title"')[1].split("</section>")[0]
    assert "人工智能科普讲座" in section
    # The zone's brands link to their pages.
    assert 'href="/brands/kepuyue-2025/innovation/"' in html


def test_region_page_shows_chain_children_and_activities(client, world):
    response = client.get("/region/330100/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "杭州市" in html
    assert 'href="/region/330000/"' in html  # parent
    assert 'href="/region/330106/"' in html and 'href="/region/330102/"' in html  # children
    assert titles(response) == ["人工智能科普讲座", "航天之夜"]
    assert 'href="/activities/?city=330100"' in html


def test_region_page_unknown_code_is_404_and_short_code_redirects(client, world):
    assert client.get("/region/990000/").status_code == 404
    assert client.get("/region/12345/").status_code == 404
    response = client.get("/region/33/")
    assert response.status_code == 301 and response["Location"] == "/region/330000/"


# --- sitemap -------------------------------------------------------------------------------------


def test_sitemap_index_lists_sections_and_sections_list_pages(client, world, monkeypatch):
    from kepuyue.portal import sitemaps

    monkeypatch.setattr(sitemaps.ActivitySitemap, "limit", 2)
    index = client.get("/sitemap.xml")
    assert index.status_code == 200
    xml = index.content.decode()
    for section in ("campaigns", "zones", "brands", "regions"):
        assert f"http://testserver/sitemap-{section}.xml" in xml
    # Five published activities, two to a file: three files.
    assert "sitemap-activities.xml</loc>" in xml
    assert "sitemap-activities.xml?p=2" in xml and "sitemap-activities.xml?p=3" in xml
    page1 = client.get("/sitemap-activities.xml").content.decode()
    page3 = client.get("/sitemap-activities.xml?p=3").content.decode()
    assert page1.count("<url>") == 2 and page3.count("<url>") == 1
    assert f"/activities/{world['draft'].pk}/" not in page1 + page3
    regions = client.get("/sitemap-regions.xml").content.decode()
    for code in ("330000", "330100", "330106", "150981"):
        assert f"http://testserver/region/{code}/" in regions
    brands = client.get("/sitemap-brands.xml").content.decode()
    assert "http://testserver/brands/kepuyue-2025/night/" in brands
    zones = client.get("/sitemap-zones.xml").content.decode()
    assert "http://testserver/campaigns/kepuyue-2025/zones/museums/" in zones


# --- home, English, query counts ---------------------------------------------------------------


def test_home_has_search_box_and_activity_link(client, world):
    html = client.get("/").content.decode()
    assert 'action="/activities/"' in html and 'name="q"' in html
    assert 'href="/activities/"' in html


def test_activity_pages_english_chrome(client, detailed, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    try:
        html = client.get("/activities/").content.decode()
        assert "Activities" in html and "Search" in html and "Filters" in html
        assert "人工智能科普讲座" in html  # data stays as published
        html = client.get(f"/activities/{detailed.pk}/").content.decode()
        assert "Add to calendar" in html and "Phone" in html and "About this activity" in html
        assert "138****5678" in html
    finally:
        translation.activate("zh-hans")


def _count_queries(client, url, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    pagecache.clear_local()  # the plan rows a process keeps (pagecache.remember): count them too
    get_index()  # built once per process (one query), not per request
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/activities/",
        "/activities/?province=330000&brand=innovation",
        "/activities/?q=科普",
        "/activities/?page=2",
        "/brands/kepuyue-2025/innovation/",
        "/region/330000/",
        "/campaigns/kepuyue-2025/zones/bases/",
        "/sitemap-activities.xml",
    ],
)
def test_activity_pages_query_count_does_not_grow_with_rows(
    client, clock, url, django_assert_max_num_queries
):
    clock("2025-09-10T10:00+08:00")
    action = JointActionFactory(slug="bases")
    brand = BrandFactory(joint_action=action, slug="innovation")
    region = region_chain(*XIHU)

    def add(n):
        for _ in range(n):
            ActivityFactory(
                joint_action=action, brand=brand, region=region, title="科普活动", status=Status.PUBLISHED
            )

    add(1)
    with_one = _count_queries(client, url, django_assert_max_num_queries)
    add(2)
    with_three = _count_queries(client, url, django_assert_max_num_queries)
    assert with_three == with_one, (url, with_one, with_three)
    # 12, plus one for the featured activities (重点呈现) that lead the home and zone pages.
    with django_assert_max_num_queries(13):
        cache.clear()
        pagecache.clear_local()
        client.get(url)


def test_activity_detail_query_count_is_bounded(client, detailed, django_assert_max_num_queries):
    client.get(f"/activities/{detailed.pk}/")  # warm the region index and caches
    # The activity with its summary, booking settings, lecture links and play (1), the films it screens (1).
    with django_assert_max_num_queries(2):
        assert client.get(f"/activities/{detailed.pk}/").status_code == 200
    with django_assert_max_num_queries(1):
        assert client.get(f"/activities/{detailed.pk}.ics").status_code == 200


def test_activity_list_warm_query_count(client, world, django_assert_max_num_queries):
    client.get("/activities/")
    # current campaign (1) + the page's ids and cards (2); choices and count come from the cache.
    with django_assert_max_num_queries(3):
        client.get("/activities/")


def test_activity_detail_shows_poster_and_og_image(client, world, settings, tmp_path):
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (60, 90), "navy").save(buffer, format="PNG")
    activity = world["ai"]
    activity.poster.save("poster.png", ContentFile(buffer.getvalue()))
    html = client.get(f"/activities/{activity.pk}/").content.decode()
    assert f'<img src="{activity.poster.url}" alt="活动海报：人工智能科普讲座"' in html
    assert f'<meta property="og:image" content="http://testserver{activity.poster.url}">' in html
