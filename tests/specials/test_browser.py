"""A member on a 390 px phone finds where a film is showing (光影科学梦, 五(三)4) and books a screening
through the registrations app. Screenshots in ``test-artifacts/films-*.png``."""

from __future__ import annotations

import pytest

from kepuyue.registrations.models import Booking
from tests.activities.factories import bj, region_chain
from tests.fixtures_registrations import add_session, configure, make_member

pytestmark = pytest.mark.browser

XIHU = (("330000", "浙江省"), ("330100", "杭州市"), ("330106", "西湖区"))


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-CN"
    )
    page = context.new_page()
    yield page
    context.close()


def _shot(page, artifacts_dir, name):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
    page.screenshot(path=str(artifacts_dir / f"films-{name}.png"), full_page=True)


def test_member_finds_a_screening_and_books_it_on_a_phone(
    transactional_db, live_server, phone, artifacts_dir, settings
):
    from kepuyue.campaigns.models import Brand
    from kepuyue.campaigns.services import load_campaign
    from kepuyue.orgs.models import Organization
    from kepuyue.specials import services
    from kepuyue.specials.models import Film, LongMarchVenue
    from tests.activities.factories import ActivityFactory
    from tests.fixtures_campaigns import CAMPAIGN_FILE

    settings.KEPUYUE_NOW = "2025-09-10T10:00+08:00"
    campaign = load_campaign(CAMPAIGN_FILE).campaign
    services.load_films()
    brand = Brand.objects.get(joint_action__campaign=campaign, slug="science-films")
    region = region_chain(*XIHU)
    museum = Organization.objects.create(name="杭州某科技馆", type_id="science_museum", region=region)
    LongMarchVenue.objects.create(organization=museum)
    film = Film.objects.get(title="钱学森")

    def screening(title, day, **kw):
        activity = ActivityFactory(
            joint_action=brand.joint_action, brand=brand, organizer=museum, region=region, title=title,
            starts_at=bj(f"{day} 10:00"), ends_at=bj(f"{day} 12:00"), status="published", venue="科技馆4D影院", **kw,
        )  # fmt: skip
        services.link_screening(activity, film, actor=None)
        return activity

    screening("《钱学森》专场（已结束）", "2025-09-06")
    bookable = screening("《钱学森》4D影院公益放映", "2025-09-13")
    configure(bookable)
    session = add_session(bookable, "2025-09-13 10:00", "2025-09-13 11:00", capacity=30, label="上午场")
    services.link_screening(
        ActivityFactory(joint_action=brand.joint_action, brand=brand, organizer=museum, status="published",
                        starts_at=bj("2025-09-14 10:00"), ends_at=bj("2025-09-14 12:00"), title="《地道战》专场"),
        Film.objects.get(title="地道战"), actor=None,
    )  # fmt: skip
    make_member("viewer")
    base = live_server.url
    page = phone

    # 1. The film tour page: choose the film and the province, look.
    page.goto(f"{base}/films/")
    page.get_by_label("影片").select_option(label="钱学森")
    page.get_by_label("省份").select_option(label="浙江省")
    page.get_by_role("button", name="查找放映").click()
    page.wait_for_url("**/films/?film=*")
    cards = page.locator("article.showing h3")
    assert cards.all_inner_texts() == [
        "《钱学森》4D影院公益放映",
        "《钱学森》专场（已结束）",
    ]  # upcoming first
    assert page.locator("article.showing").first.get_by_text("长征路沿线").is_visible()
    assert page.get_by_role("link", name="可在线预约").count() == 1
    _shot(page, artifacts_dir, "1-where-showing")

    # 2. Open the bookable screening, sign in from its booking block, book the session.
    page.get_by_role("link", name="《钱学森》4D影院公益放映").click()
    page.wait_for_url(f"**/activities/{bookable.pk}/")
    assert page.get_by_role("link", name="《钱学森》").first.is_visible()
    _shot(page, artifacts_dir, "2-screening")
    page.goto(f"{base}/accounts/login/?next=/registrations/activity/{bookable.pk}/")
    page.get_by_label("用户名或电子邮箱").fill("viewer@example.com")
    page.get_by_label("密码").fill("Pw-member-2025")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**/registrations/activity/{bookable.pk}/")
    page.get_by_role("link", name="报名此场").click()
    page.get_by_label("姓名", exact=True).fill("王小明")
    page.get_by_label("手机号码", exact=True).fill("13812345678")
    page.get_by_label("我已阅读并同意上述个人信息使用告知").check()
    page.locator("#submit-booking").click()
    page.wait_for_url("**/registrations/ticket/**")
    _shot(page, artifacts_dir, "3-ticket")
    booking = Booking.objects.get(user__email="viewer@example.com")
    assert booking.session_id == session.pk and booking.status == "confirmed"
