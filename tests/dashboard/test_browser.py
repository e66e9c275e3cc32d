"""Headless Chromium at 390 px and 1280 px (issue 13 acceptance): open the dashboard, read a target's
progress, drill the map from China to 浙江省 to 杭州市 by clicking on the map, click 淳安县 and land on
its filtered activity list. Screenshots: ``test-artifacts/dashboard-*.png``."""

from __future__ import annotations

import pytest

from kepuyue.campaigns.models import Brand
from kepuyue.regions.models import Region

pytestmark = pytest.mark.browser

# Points inside 浙江省 (杭州市), and inside 淳安县 (a large county west of Hangzhou).
HANGZHOU = (119.7, 29.95)
CHUN_AN = (118.95, 29.6)


def click_map(page, level: str, lng_lat) -> None:
    """Click the map of ``level`` (a region code; China is 100000) where ``lng_lat`` is drawn, once
    that map is drawn (ECharts converts the coordinates to pixels)."""
    page.wait_for_function(f"() => document.getElementById('chart-regions').dataset.drawn === '{level}'")
    x, y = page.evaluate(
        """([lng, lat]) => {
            const el = document.getElementById('chart-regions');
            const chart = echarts.getInstanceByDom(el);
            const [px, py] = chart.convertToPixel({seriesIndex: 0}, [lng, lat]);
            const box = el.getBoundingClientRect();
            return [box.left + px, box.top + py];
        }""",
        list(lng_lat),
    )
    page.mouse.click(x, y)


def drill(page, level: str, lng_lat, arrived: str) -> None:
    """Click the map of ``level`` at ``lng_lat`` until ``arrived`` (a JS condition) holds: on a loaded
    machine the chart may still be settling (a resize after scrolling) when the first click lands."""
    for attempt in range(3):
        click_map(page, level, lng_lat)
        try:
            page.wait_for_function(arrived, timeout=15_000)
            return
        except Exception:
            if attempt == 2:
                raise


@pytest.mark.parametrize("width", [390, 1280])
def test_dashboard_target_and_map_drill(
    width, transactional_db, regions, campaign_2025, live_server, chromium, artifacts_dir, settings
):
    from kepuyue.activities.models import Status
    from kepuyue.activities.services import transition
    from kepuyue.orgs.models import Organization
    from tests.activities.factories import ActivityFactory

    settings.KEPUYUE_NOW = "2025-09-20T10:00+08:00"
    plays = Brand.objects.get(joint_action__campaign=campaign_2025, slug="scientist-plays")
    museum = Organization.objects.create(name="淳安县科技馆", type_id="science_museum")
    county = Region.objects.get(pk="330127")
    for n in range(3):
        activity = ActivityFactory(
            joint_action=plays.joint_action,
            brand=plays,
            organizer=museum,
            region=county,
            title=f"淳安科学大师剧{n}",
        )
        transition(activity, Status.SUBMITTED)
        transition(activity, Status.PUBLISHED)

    context = chromium.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/dashboard/")
    target = page.locator('[data-target="universities/plays"]')
    assert "3 / 100场（3%）" in target.inner_text()
    assert target.locator("progress").get_attribute("value") == "3"
    page.screenshot(path=str(artifacts_dir / f"dashboard-{width}-top.png"))

    page.locator("#map-h").scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('#map-list button[data-region=\"330000\"]')")
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts_dir / f"dashboard-{width}-china.png"))
    # China → 浙江省
    drill(
        page, "100000", HANGZHOU, "() => document.querySelector('#map-list button[data-region=\"330100\"]')"
    )
    assert "浙江省" in page.locator("#map-crumbs").inner_text()
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts_dir / f"dashboard-{width}-zhejiang.png"))
    # 浙江省 → 杭州市
    drill(page, "330000", HANGZHOU, "() => document.querySelector('#map-list a[href*=\"county=330127\"]')")
    assert "淳安县：3" in page.locator("#map-list").inner_text()
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts_dir / f"dashboard-{width}-hangzhou.png"))
    # 淳安县 → its list (clicked again while the page is still the dashboard, as drill() does)
    for attempt in range(3):
        click_map(page, "330100", CHUN_AN)
        try:
            page.wait_for_url("**/activities/?county=330127", timeout=20_000)
            break
        except Exception:
            if attempt == 2 or "/dashboard/" not in page.url:
                raise
    assert "淳安科学大师剧0" in page.content()
    page.screenshot(path=str(artifacts_dir / f"dashboard-{width}-list.png"))
    assert errors == []
    context.close()
