"""The header on a 390 px phone (fresh tester, issue 17 follow-up): every language and 大字模式 keeps it
short — the links fold behind 菜单 (English + 大字模式 took 502 of 844 px) — nothing scrolls sideways,
and the menu links the programmes' pages (/tours/, /films/, /plays/). Screenshots in test-artifacts/."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize(
    ("language", "large"), [("zh-hans", "0"), ("zh-hans", "1"), ("en", "0"), ("en", "1")]
)
def test_the_phone_header_is_short_and_its_menu_has_every_section(
    transactional_db, regions, campaign_2025, live_server, chromium, artifacts_dir, language, large
):
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    context.add_cookies(
        [
            {"name": "django_language", "value": language, "url": live_server.url},
            {"name": "kepuyue_large_text", "value": large, "url": live_server.url},
        ]
    )
    page = context.new_page()
    try:
        for path in ("/", "/tours/", "/films/", "/activities/calendar/"):
            page.goto(live_server.url + path)
            header = page.locator(".site-header").bounding_box()
            assert header["height"] <= 0.3 * PHONE["height"], (path, header)
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        page.locator(".site-menu__toggle").click()
        for href in ("/tours/", "/films/", "/plays/", "/activities/", "/training/"):
            link = page.locator(f'.site-menu .site-nav a[href="{href}"]')
            assert link.is_visible(), href
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], href
            assert box["height"] >= 44, href  # a touch target
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(artifacts_dir / f"header-390-{language}-{large}.png"))
        page.locator('.site-menu .site-nav a[href="/plays/"]').click()
        page.wait_for_url("**/plays/")
        assert page.locator('.site-menu .site-nav a[aria-current="page"]').get_attribute("href") == "/plays/"
    finally:
        context.close()


def test_the_desktop_header_shows_the_links_without_a_toggle(
    transactional_db, campaign_2025, live_server, chromium
):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        assert not page.locator(".site-menu__toggle").is_visible()
        for href in ("/tours/", "/films/", "/plays/"):
            assert page.locator(f'.site-nav--wide a[href="{href}"]').is_visible(), href
            assert not page.locator(f'.site-menu .site-nav a[href="{href}"]').is_visible(), href
    finally:
        context.close()
