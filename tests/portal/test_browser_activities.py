"""The activity pages in headless Chromium on a 375 px phone (issue 3 acceptance): open the list,
filter by province and brand, search, open an activity and download its ``.ics``. No sideways
scrolling anywhere. Screenshots land in ``test-artifacts/activities-*.png`` and
``test-artifacts/activity-detail.png`` for a person to look at.
"""

import pytest
from icalendar import Calendar

from kepuyue.activities.models import Audience, Form, Status, Topic
from kepuyue.orgs.models import OrganizationType
from kepuyue.regions.models import Region
from tests.activities.factories import ActivityFactory, OrganizationFactory, bj

from .test_browser import assert_fits_phone, assert_headings_in_order

pytestmark = pytest.mark.browser


def card_titles(page) -> list[str]:
    return page.locator(".activity-card .card__link").all_inner_texts()


@pytest.fixture
def activities(transactional_db, regions, campaign_2025):
    """Seven published activities of the 2025 plan in three provinces, and one draft."""
    bases = campaign_2025.joint_actions.get(slug="science-education-bases")
    museums = campaign_2025.joint_actions.get(slug="science-museums")
    innovation = bases.brands.get(slug="bases-show-innovation")
    night = museums.brands.get(slug="science-night-local")
    museum_type = OrganizationType.objects.get(code="science_museum")
    museum = OrganizationFactory(name="浙江省科技馆", type=museum_type)
    base = OrganizationFactory(name="中国科学院国家天文台", type=museum_type)
    region = Region.objects.get
    common = {"status": Status.PUBLISHED, "contact_name": "李老师", "contact_phone": "13912345678"}
    rows = [
        ActivityFactory(
            joint_action=bases,
            brand=innovation,
            organizer=museum,
            title="人工智能科普体验日",
            summary="动手训练一个识别植物的小模型，了解人工智能如何学习。",
            description="## 活动安排\n\n1. 人工智能是什么\n2. 动手体验\n\n请携带身份证件入馆。",
            region=region(code="330106"),
            venue="杭州市西湖区西湖文化广场2号浙江省科技馆",
            starts_at=bj("2025-09-13 09:30"),
            ends_at=bj("2025-09-13 16:30"),
            audiences=Audience.YOUTH | Audience.FAMILIES,
            topics=Topic.AI | Topic.INFORMATION,
            expected_participants=300,
            co_organizers="杭州市科学技术协会",
            **common,
        ),
        ActivityFactory(
            joint_action=museums,
            brand=night,
            organizer=museum,
            title="科学之夜：星空下的物理实验",
            region=region(code="330106"),
            venue="浙江省科技馆一楼大厅",
            starts_at=bj("2025-09-20 18:30"),
            ends_at=bj("2025-09-20 21:30"),
            form=Form.HYBRID,
            online_url="https://live.example.org/night",
            **common,
        ),
        ActivityFactory(
            joint_action=bases,
            brand=innovation,
            organizer=museum,
            title="宁波海洋科普开放日",
            region=region(code="330203"),
            starts_at=bj("2025-09-06 09:00"),
            ends_at=bj("2025-09-07 17:00"),
            **common,
        ),
        ActivityFactory(
            joint_action=bases,
            brand=innovation,
            organizer=base,
            title="国家天文台公众开放日",
            region=region(code="110108"),
            venue="北京市朝阳区大屯路甲20号",
            starts_at=bj("2025-09-02 09:00"),
            ends_at=bj("2025-09-02 16:00"),
            **common,
        ),
        ActivityFactory(
            joint_action=museums,
            brand=night,
            organizer=base,
            title="北京科学之夜：天文望远镜观测",
            region=region(code="110101"),
            starts_at=bj("2025-09-12 19:00"),
            ends_at=bj("2025-09-12 22:00"),
            **common,
        ),
        ActivityFactory(
            joint_action=bases,
            organizer=base,
            title="草原流动科技馆巡展暨内蒙古自治区乌兰察布市丰镇市中小学人工智能与航空航天主题科普大篷车进校园活动",
            region=region(code="150981"),
            brand=None,  # unbranded (the factory gives a joint action's first brand)
            starts_at=bj("2025-09-08 09:00"),
            ends_at=bj("2025-09-26 17:00"),
            **common,
        ),
        ActivityFactory(
            joint_action=museums,
            organizer=museum,
            title="线上科学课：人工智能与我们的生活",
            starts_at=bj("2025-09-25 19:00"),
            ends_at=bj("2025-09-25 20:00"),
            form=Form.ONLINE,
            online_url="https://live.example.org/class",
            **common,
        ),
        ActivityFactory(joint_action=bases, organizer=museum, title="未发布的草稿", status=Status.DRAFT),
    ]
    return rows


def test_activities_on_a_375px_phone(activities, live_server, phone_page, artifacts_dir, clock):
    clock("2025-09-10T10:00+08:00")
    page = phone_page
    ai = activities[0]

    # The list: every published activity as a card, none sideways.
    page.goto(f"{live_server.url}/activities/")
    assert_fits_phone(page, "list")
    assert_headings_in_order(page, "list")
    assert len(card_titles(page)) == 7
    assert "未发布的草稿" not in page.content()
    for card in page.locator(".activity-card").all():
        box = card.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    page.screenshot(path=str(artifacts_dir / "activities-list.png"), full_page=True)

    # Filter by province and brand: open the panel, choose, submit the form.
    page.get_by_text("筛选条件").click()
    page.get_by_label("省份").select_option("330000")
    # The optional script fills the cities at once; without it they appear after the submit.
    page.wait_for_function("document.querySelectorAll('#f-city option').length > 1")
    page.get_by_label("品牌活动").select_option("bases-show-innovation")
    assert_fits_phone(page, "filter panel")
    page.screenshot(path=str(artifacts_dir / "activities-filters-open.png"), full_page=True)
    page.get_by_role("button", name="应用筛选").click()
    page.wait_for_url("**/activities/?*province=330000*")
    assert sorted(card_titles(page)) == sorted(["人工智能科普体验日", "宁波海洋科普开放日"])
    assert page.locator(".active-filters").is_visible()
    assert_fits_phone(page, "filtered list")
    assert_headings_in_order(page, "filtered list")
    page.screenshot(path=str(artifacts_dir / "activities-filtered.png"), full_page=True)

    # The city list now shows the province's cities; narrow to 杭州市 without any script help.
    page.get_by_text("筛选条件").click()
    page.get_by_label("城市").select_option("330100")
    page.get_by_role("button", name="应用筛选").click()
    page.wait_for_url("**city=330100*")
    assert card_titles(page) == ["人工智能科普体验日"]

    # Search from a fresh list.
    page.goto(f"{live_server.url}/activities/")
    page.get_by_label("关键词").fill("人工智能")
    page.get_by_label("关键词").press("Enter")
    page.wait_for_url("**q=*")
    found = card_titles(page)
    assert "人工智能科普体验日" in found and "线上科学课：人工智能与我们的生活" in found
    assert "宁波海洋科普开放日" not in found
    assert_fits_phone(page, "search")
    page.screenshot(path=str(artifacts_dir / "activities-search.png"), full_page=True)

    # Open an activity: the whole card is its link.
    page.locator(f'[data-activity="{ai.pk}"] .card__link').click()
    page.wait_for_url(f"**/activities/{ai.pk}/")
    assert page.get_by_role("heading", level=1).inner_text() == "人工智能科普体验日"
    assert "139****5678" in page.content() and "13912345678" not in page.content()
    assert page.locator(".qr__code").is_visible()
    assert page.locator('a[href^="https://uri.amap.com/search"]').first.is_visible()
    assert_fits_phone(page, "activity")
    assert_headings_in_order(page, "activity")
    page.screenshot(path=str(artifacts_dir / "activity-detail.png"), full_page=True)

    # Download its calendar file.
    with page.expect_download() as info:
        page.get_by_role("link", name="加入日历").click()
    download = info.value
    assert download.suggested_filename == "人工智能科普体验日.ics"
    calendar = Calendar.from_ical(open(download.path(), "rb").read())
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "人工智能科普体验日"
    assert event.decoded("DTSTART") == bj("2025-09-13 09:30")

    # A brand page, a region page and a zone with its activities.
    page.goto(f"{live_server.url}/brands/{ai.campaign.slug}/bases-show-innovation/")
    assert len(card_titles(page)) == 3
    assert_fits_phone(page, "brand")
    assert_headings_in_order(page, "brand")
    page.screenshot(path=str(artifacts_dir / "activities-brand.png"), full_page=True)
    page.goto(f"{live_server.url}/region/330100/")
    assert sorted(card_titles(page)) == sorted(["人工智能科普体验日", "科学之夜：星空下的物理实验"])
    assert_fits_phone(page, "region")
    assert_headings_in_order(page, "region")
    page.screenshot(path=str(artifacts_dir / "activities-region.png"), full_page=True)
    page.goto(f"{live_server.url}/campaigns/{ai.campaign.slug}/zones/science-education-bases/")
    assert page.locator("#zone-activities-title").is_visible()
    assert_fits_phone(page, "zone with activities")
    assert_headings_in_order(page, "zone with activities")

    # The long-titled card and an English page still fit.
    page.goto(f"{live_server.url}/activities/?province=150000")
    assert_fits_phone(page, "long title")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Activities"
    assert_fits_phone(page, "English list")


def test_activity_filters_work_without_javascript(activities, live_server, chromium, artifacts_dir, clock):
    """With scripts off the region lists follow the chosen parent after each submit, and 大字模式
    still fits the phone."""
    clock("2025-09-10T10:00+08:00")
    context = chromium.new_context(
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        locale="zh-CN",
        java_script_enabled=False,
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/activities/")
        page.get_by_text("筛选条件").click()  # <details> opens without scripts
        assert page.locator("#f-city option").count() == 1
        assert page.locator("#f-city-hint").is_visible()
        page.get_by_label("省份").select_option("330000")
        page.get_by_role("button", name="应用筛选").click()
        page.wait_for_url("**province=330000*")
        page.get_by_text("筛选条件").click()
        cities = page.locator("#f-city option").all_inner_texts()
        assert cities[0] == "全部城市" and "杭州市" in cities and "宁波市" in cities and len(cities) == 12
        page.get_by_label("城市").select_option("330100")
        page.get_by_role("button", name="应用筛选").click()
        page.wait_for_url("**city=330100*")
        page.get_by_text("筛选条件").click()
        page.get_by_label("区县").select_option("330106")
        page.get_by_role("button", name="应用筛选").click()
        page.wait_for_url("**county=330106*")
        assert sorted(card_titles(page)) == sorted(["人工智能科普体验日", "科学之夜：星空下的物理实验"])

        page.get_by_role("button", name="大字模式").click()
        page.wait_for_url("**county=330106*")
        assert page.evaluate("getComputedStyle(document.body).fontSize") == "20px"
        assert_fits_phone(page, "large text list")
        page.screenshot(path=str(artifacts_dir / "activities-large-text.png"), full_page=True)
    finally:
        context.close()
