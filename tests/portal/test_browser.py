"""The portal in headless Chromium on a 375 px phone: no sideways scrolling, every joint action
visible, large-text and English modes reachable without JavaScript. Screenshots land in
``test-artifacts/portal-*.png`` for a person to look at.
"""

import pytest

pytestmark = pytest.mark.browser

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def assert_fits_phone(page, what: str) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), (
        f"{what}: page is {widths[0]} px wide in a {widths[1]} px viewport"
    )


HEADING_LEVELS = "[...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => Number(h.tagName[1]))"


def assert_headings_in_order(page, what: str) -> None:
    levels = page.evaluate(HEADING_LEVELS)
    assert levels[0] == 1 and levels.count(1) == 1, (what, levels)
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, f"{what}: heading h{before} is followed by h{after}"


def test_portal_fits_a_375px_phone(
    transactional_db, campaign_2025, live_server, phone_page, artifacts_dir, clock
):
    clock("2025-08-15T10:00+08:00")
    page = phone_page
    joint_actions = list(campaign_2025.joint_actions.order_by("number"))
    zone = max(joint_actions, key=lambda ja: ja.brands.count() + ja.contacts.count())

    page.goto(f"{live_server.url}/")
    assert_fits_phone(page, "home")
    assert_headings_in_order(page, "home")
    for ja in joint_actions:
        card = page.locator(f'[data-joint-action="{ja.slug}"]')
        assert card.is_visible(), ja.slug
        box = card.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, (ja.slug, box)
    page.screenshot(path=str(artifacts_dir / "portal-home.png"), full_page=True)

    # The card is one big link to the zone.
    page.locator(f'[data-joint-action="{zone.slug}"] a').click()
    page.wait_for_url(f"**/zones/{zone.slug}/")
    assert_fits_phone(page, "zone")
    assert_headings_in_order(page, "zone")
    # The plan's long text folds (issue 11.6): the zone's activities come first; open it to read.
    assert page.evaluate("!document.querySelector('#plan-text').open")
    page.locator("#plan-text > summary").click()
    for brand in zone.brands.all():
        assert page.locator(f'[data-brand="{brand.slug}"]').first.is_visible(), brand.slug
    page.screenshot(path=str(artifacts_dir / "portal-zone.png"), full_page=True)

    # The zone with the most calls for works (their specs, themes and unit types).
    calls_zone = max(joint_actions, key=lambda ja: ja.calls.count())
    page.goto(f"{live_server.url}/zones/{calls_zone.slug}/")
    page.wait_for_url(f"**/campaigns/{campaign_2025.slug}/zones/{calls_zone.slug}/")
    assert_fits_phone(page, "zone with calls")
    assert_headings_in_order(page, "zone with calls")
    for call in calls_zone.calls.all():
        assert page.locator(f'[data-call="{call.slug}"]').is_visible(), call.slug
    page.screenshot(path=str(artifacts_dir / "portal-zone-calls.png"), full_page=True)
    page.goto(f"{live_server.url}/campaigns/{campaign_2025.slug}/zones/{zone.slug}/")

    # 大字模式: a plain form post, then the same page again in large type.
    page.get_by_role("button", name="大字模式").click()
    page.wait_for_url(f"**/zones/{zone.slug}/")
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "20px"
    for button in page.locator(".site-header button").all():
        assert button.bounding_box()["height"] >= 44
    assert_fits_phone(page, "zone in large text")
    page.screenshot(path=str(artifacts_dir / "portal-large-text.png"), full_page=True)
    page.get_by_role("button", name="标准字号").click()
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "16px"

    # English: Django's set_language through the header form.
    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="English").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.get_by_role("heading", name="Joint actions").is_visible()
    assert_fits_phone(page, "home in English")
    page.screenshot(path=str(artifacts_dir / "portal-english.png"), full_page=True)
    page.goto(f"{live_server.url}/campaigns/{campaign_2025.slug}/zones/{zone.slug}/")
    assert_fits_phone(page, "zone in English")
    page.screenshot(path=str(artifacts_dir / "portal-zone-english.png"), full_page=True)


def test_skip_link_appears_on_keyboard_focus(transactional_db, campaign_2025, live_server, phone_page, clock):
    clock("2025-08-15T10:00+08:00")
    page = phone_page
    page.goto(f"{live_server.url}/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.bounding_box()["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
