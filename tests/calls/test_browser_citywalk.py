"""Headless Chromium at 390 px (issue 11 point 3): a science-education base fills the CityWalk form with the
cascading 省 → 市 → 县 selects, adds a stop block, chooses a route image and submits with one place too few.
The refused form keeps the five stop blocks as they were, the chosen counties, and the uploaded image
(“已上传：route.png … 可直接重新提交”); after the missing stop is filled in, it is submitted without choosing
the image again. Screenshots: ``test-artifacts/citywalk-*.png``."""

from __future__ import annotations

import pytest
from django.test import Client

from kepuyue.calls.models import Entry
from tests.calls.conftest import files_in, login
from tests.calls.mediafiles import make_png

pytestmark = pytest.mark.browser


def pick_region(page, prefix: str, province: str, city: str, county: str | None = None) -> None:
    """Choose through the cascade; each step waits for the options the JSON endpoint brings."""
    page.locator(f"#{prefix}-province").select_option(province)
    page.wait_for_selector(f"#{prefix}-city option[value='{city}']", state="attached")
    page.locator(f"#{prefix}-city").select_option(city)
    if county:
        page.wait_for_selector(f"#{prefix}-region option[value='{county}']", state="attached")
        page.locator(f"#{prefix}-region").select_option(county)


def test_citywalk_form_keeps_stops_and_upload_after_an_error(
    transactional_db,
    regions,
    campaign_2025,
    live_server,
    chromium,
    artifacts_dir,
    settings,
    storages,
    tmp_path,
    staff,
):
    settings.KEPUYUE_NOW = "2025-08-15T10:00+08:00"
    url = live_server.url
    image = make_png(tmp_path / "route.png", 750, 1334)
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-CN"
    )
    client = login(Client(), staff)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": url}])
    page = context.new_page()
    try:
        page.goto(f"{url}/calls/org/kepuyue-2025/citywalk-routes/new/")
        page.get_by_label("作品名称").fill("西湖植物科普线")
        page.locator("#city-province").select_option("330000")
        page.wait_for_selector("#city option[value='330100']", state="attached")
        page.locator("#city").select_option("330100")
        stops = [("杭州植物园", "西湖区桃源岭1号", "330106"), ("浙江自然博物院", "西湖区文三路", "330106")]
        for i, (name, address, county) in enumerate(stops):
            page.locator(f"#stop-{i}-name").fill(name)
            page.locator(f"#stop-{i}-address").fill(address)
            pick_region(page, f"stop-{i}", "330000", "330100", county)
        page.get_by_role("button", name="添加一站").click()
        assert page.locator("#stops .stop").count() == 5
        page.get_by_label("路线图片", exact=False).set_input_files(str(image))
        page.screenshot(path=str(artifacts_dir / "citywalk-1-filled.png"), full_page=True)
        with page.expect_navigation():
            page.get_by_role("button", name="提交作品").click()

        # Refused (one other place, two are needed): the stops stay as the user left them — five blocks, the
        # names, the chosen counties — and the image is kept on the server.
        assert "本馆以外至少2家其他场所" in page.content()
        assert page.locator("#stops .stop").count() == 5
        assert page.locator("#stop-1-name").input_value() == "浙江自然博物院"
        assert page.locator("#stop-1-region").input_value() == "330106"
        assert page.locator("#city").input_value() == "330100"
        kept = page.get_by_label("已上传：route.png", exact=False)
        assert kept.is_checked()
        assert "可直接重新提交" in page.content()
        assert not Entry.objects.exists()
        page.screenshot(path=str(artifacts_dir / "citywalk-2-error-kept.png"), full_page=True)

        # The missing place goes into the fifth block; the image is not chosen again.
        page.locator("#stop-4-name").fill("西溪国家湿地公园")
        page.locator("#stop-4-address").fill("天目山路518号")
        pick_region(page, "stop-4", "330000", "330100", "330106")
        with page.expect_navigation():
            page.get_by_role("button", name="提交作品").click()
        assert "作品已提交" in page.content()
        page.screenshot(path=str(artifacts_dir / "citywalk-3-submitted.png"), full_page=True)
        entry = Entry.objects.get()
        assert [s.name for s in entry.stops.all()] == ["杭州植物园", "浙江自然博物院", "西溪国家湿地公园"]
        assert entry.images.count() == 1
        assert files_in(storages["temp"]) == []
    finally:
        context.close()


def test_video_form_checks_fields_before_uploading(
    transactional_db,
    regions,
    campaign_2025,
    live_server,
    chromium,
    artifacts_dir,
    settings,
    storages,
    tmp_path,
    staff,
):
    """The pre-check: a missing title is said beside the field before a byte of the video is sent."""
    from tests.calls.mediafiles import make_mp4

    settings.KEPUYUE_NOW = "2025-08-15T10:00+08:00"
    url = live_server.url
    video = make_mp4(tmp_path / "v.mp4", 1920, 1080, seconds=1.0)
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-CN"
    )
    client = login(Client(), staff)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": url}])
    page = context.new_page()
    try:
        page.goto(f"{url}/calls/org/kepuyue-2025/science-treasure-videos/new/")
        page.get_by_label("视频文件（MP4）").set_input_files(str(video))
        page.get_by_role("button", name="提交作品").click()
        page.wait_for_selector("ul.errorlist[data-precheck]")
        assert "请填写作品名称" in page.locator("#title").locator("xpath=..").inner_text()
        assert page.locator("#title").get_attribute("aria-invalid") == "true"
        assert page.evaluate("document.querySelector('#video').files.length") == 1  # the file stays chosen
        assert files_in(storages["temp"]) == []  # no upload was started
        page.screenshot(path=str(artifacts_dir / "citywalk-4-video-precheck.png"), full_page=True)
        page.get_by_label("作品名称").fill("走进植物园")
        page.get_by_label("主题").select_option("base-tour")
        with page.expect_navigation(timeout=30_000):
            page.get_by_role("button", name="提交作品").click()
        page.wait_for_url(f"{url}/calls/entries/**", timeout=30_000)
        assert Entry.objects.get().title == "走进植物园"
    finally:
        context.close()
