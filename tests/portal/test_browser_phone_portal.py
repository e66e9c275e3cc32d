"""The portal on a 390 px phone with activities (issue 11.6): the home lists upcoming ones with their
poster thumbnails before anything is featured, the zone shows its activities before the folded plan
text, the header links the calls, the timeline counts down, an office line is a ``tel:`` link.
Screenshots in a temporary directory (printed)."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile

from kepuyue.activities.models import Activity, Status

pytestmark = pytest.mark.browser


def poster(color) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (900, 1200), color).save(out, "JPEG", quality=90)
    return out.getvalue()


def test_home_and_zone_on_a_390px_phone(
    transactional_db, regions, campaign_2025, live_server, chromium, settings, tmp_path
):
    from kepuyue.activities import services
    from kepuyue.orgs.models import Organization
    from tests.activities.factories import bj

    settings.KEPUYUE_NOW = "2025-09-10T10:00+08:00"
    settings.MEDIA_ROOT = tmp_path / "media"
    shots = tmp_path / "shots"
    shots.mkdir()
    print(f"screenshots: {shots}")
    unit = Organization.objects.create(
        name="杭州低碳科技馆",
        type_id="science_museum",
        region_id="330106",
        contact_phone="0571-88881234",
        phone_public=True,
    )
    ja = campaign_2025.joint_actions.get(slug="science-museums")
    for n, (title, color) in enumerate(
        [("低碳生活科普体验日", "navy"), ("科学之夜开放", "darkgreen"), ("机器人工作坊", "maroon")]
    ):
        item = services.create_activity(
            unit,
            {
                "campaign": campaign_2025,
                "joint_action": ja,
                "brand": ja.brands.get(slug="science-nights"),
                "title": title,
                "starts_at": bj(f"2025-09-{12 + n} 09:00"),
                "ends_at": bj(f"2025-09-{12 + n} 16:00"),
                "region": unit.region,
                "venue": "一楼大厅",
                "contact_name": "王老师",
                "contact_phone": "0571-88881234",
            },
            actor=None,
        )
        item.poster.save(f"p{n}.jpg", ContentFile(poster(color)), save=True)
        Activity.objects.filter(pk=item.pk).update(
            status=Status.PUBLISHED, published_at=bj("2025-09-01 10:00")
        )

    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-CN"
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.get_by_role("heading", name="近期活动").is_visible()
        # The phone menu is folded: one tap on 菜单 shows every link.
        assert not page.locator(".site-menu .site-nav a", has_text="作品征集").is_visible()
        page.locator(".site-menu__toggle").click()
        assert page.locator(".site-menu .site-nav a", has_text="作品征集").is_visible()
        first = page.locator(".home-activities .activity-card").first
        first.scroll_into_view_if_needed()
        page.wait_for_function(
            "[...document.querySelectorAll('.home-activities img.activity-card__poster')].every(i => i.complete && i.naturalWidth > 0)",
            timeout=10_000,
        )
        assert page.evaluate("document.querySelector('.home-activities img').naturalWidth") == 384
        assert (
            "还剩" in page.locator(".timeline").inner_text()
            or "已截止" in page.locator(".timeline").inner_text()
        )
        assert "进行中" not in page.locator(".timeline").inner_text()
        page.screenshot(path=str(shots / "home.png"), full_page=True)

        page.goto(f"{live_server.url}/campaigns/{campaign_2025.slug}/zones/{ja.slug}/")
        activities_y = page.locator("#zone-activities-title").bounding_box()["y"]
        assert activities_y < page.locator("#plan-text").bounding_box()["y"]
        assert page.evaluate("!document.querySelector('#plan-text').open")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(shots / "zone.png"), full_page=True)

        page.locator(".zone-activities .card__link, #zone-activities-title ~ ul .card__link").first.click()
        page.wait_for_load_state()
        assert page.locator('a[href="tel:057188881234"]').first.is_visible()
        page.screenshot(path=str(shots / "activity.png"), full_page=True)
    finally:
        context.close()
