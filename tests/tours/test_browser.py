"""Headless Chromium at 390 px (issue 15 acceptance): a caravan operator imports an itinerary from
Excel, publishes the tour, and the public tour page shows the route on the map and the counties.
Screenshots: ``test-artifacts/tours-*.png``."""

from __future__ import annotations

import pytest
from django.test import Client

from kepuyue.regions.models import Region

from .conftest import xlsx

pytestmark = pytest.mark.browser


def test_operator_imports_itinerary_and_public_page_shows_route(
    transactional_db, regions, campaign_2025, live_server, chromium, artifacts_dir, settings, tmp_path
):
    from kepuyue.orgs.models import Organization
    from kepuyue.tours import services
    from tests.fixtures_accounts import create_staff, login_staff

    settings.KEPUYUE_NOW = "2025-09-10T10:00+08:00"
    unit = Organization.objects.create(name="浙江省科技馆", type_id="science_museum", region_id="330000")
    user = create_staff("zj-caravan", membership=unit)
    caravan = services.save_vehicle(
        unit,
        actor=user,
        kind="caravan",
        name="浙江科普大篷车1号",
        plate="浙A12345",
        province=Region.objects.get(pk="330000"),
    )
    tour = services.save_tour(
        unit, actor=user, campaign=campaign_2025, vehicle=caravan, title="科普大篷车浙西行"
    )
    sheet = tmp_path / "浙西行程.xlsx"
    sheet.write_bytes(
        xlsx(
            [
                ["日期", "区县", "场所类型", "场所名称"],
                ["2025-09-16", "浙江省杭州市淳安县", "进学校", "千岛湖镇中心小学"],
                ["2025-09-17", "浙江省衢州市开化县", "进乡村", "马金镇"],
                ["2025-09-18", "浙江省杭州市建德市", "进企业", "某化工企业"],
                ["2025-09-20", "浙江省杭州市西湖区", "进社区", "文新街道"],
            ]
        )
    )

    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-CN"
    )
    client = login_staff(Client(), user)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{live_server.url}/org/tours/{tour.pk}/")
    page.set_input_files("#id_file", str(sheet))
    page.get_by_role("button", name="上传并导入").click()
    page.wait_for_url(f"**/org/tours/{tour.pk}/")
    assert "已导入 4 个站点" in page.content()
    page.get_by_role("button", name="发布").click()
    page.wait_for_url(f"**/org/tours/{tour.pk}/")
    page.screenshot(path=str(artifacts_dir / "tours-390-operator.png"), full_page=True)

    page.goto(f"{live_server.url}/tours/{tour.pk}/")
    page.wait_for_function("() => document.getElementById('tour-map').dataset.drawn === '4'", timeout=30_000)
    counties = page.locator("#tour-counties").inner_text()
    for name in ("淳安县", "开化县", "建德市", "西湖区"):
        assert name in counties
    assert page.locator('[data-figure="counties"]').inner_text() == "4"
    # The route is drawn: four stop markers and three legs on the SVG map.
    assert page.locator("#tour-map svg path").count() > 10
    # Stop labels never print over each other (stops in neighbouring counties sit close together).
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('#tour-map svg text')]
            .filter(t => t.textContent.trim() && getComputedStyle(t).opacity !== '0')
            .map(t => { const b = t.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; })"""
    )
    assert boxes, "no stop label drawn"
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390
    page.locator("#route-h").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts_dir / "tours-390-route.png"))
    page.screenshot(path=str(artifacts_dir / "tours-390-public.png"), full_page=True)
    assert errors == []
    context.close()
