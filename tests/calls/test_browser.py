"""Headless Chromium on a phone-size screen (issue 5 acceptance): a science-education base uploads a video
(tus through Uppy) and a CityWalk route, a judge of another unit scores blind, the joint-action manager
shortlists and publishes (择优发布), and both appear in the public galleries. Screenshots:
``test-artifacts/calls-*.png``."""

from __future__ import annotations

import shutil

import pytest
from django.test import Client

from kepuyue.calls import uploads
from kepuyue.calls.models import Entry, EntryStatus, Score
from tests.calls.conftest import login
from tests.calls.mediafiles import make_mp4, make_png
from tests.calls.test_browser_citywalk import pick_region

pytestmark = pytest.mark.browser


def phone(chromium, base_url: str, user=None):
    """A new phone-size browser context, signed in as ``user`` (session cookie from the test client)."""
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-CN"
    )
    if user is not None:
        client = login(Client(), user)
        context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}]
        )
    return context, context.new_page()


def shot(page, artifacts_dir, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"calls-{name}.png"), full_page=True)


def test_upload_judge_publish_gallery(
    transactional_db,
    regions,
    campaign_2025,
    live_server,
    chromium,
    artifacts_dir,
    settings,
    storages,
    tmp_path,
    base,
    other_base,
    staff,
    make_judge,
    manager,
    monkeypatch,
):
    settings.KEPUYUE_NOW = "2025-08-15T10:00+08:00"
    # /media/ is served from settings.MEDIA_ROOT as it is at request time: a folder of this test.
    settings.MEDIA_ROOT = tmp_path / "media"
    url = live_server.url
    video = make_mp4(tmp_path / "jidi-tanguan.mp4", 1920, 1080, seconds=2.0)
    route_image = make_png(tmp_path / "route.png", 750, 1334)
    created = []
    real_create = uploads.create
    monkeypatch.setattr(uploads, "create", lambda **kw: created.append(kw) or real_create(**kw))

    published: list[Entry] = []
    contexts = []
    try:
        # 1. The base uploads a video: Uppy sends it with tus, then the form is posted with the upload id.
        ctx, page = phone(chromium, url, staff)
        contexts.append(ctx)
        page.goto(f"{url}/calls/org/")
        page.get_by_role("link", name="“探寻科学宝藏”短视频").click()
        page.get_by_label("作品名称").fill("走进植物园：一棵古银杏")
        page.get_by_label("主题").select_option("base-tour")
        page.get_by_label("视频文件（MP4）").set_input_files(str(video))
        page.get_by_label("作品简介").fill("带你看基地里的古银杏。")
        shot(page, artifacts_dir, "1-video-form")
        page.get_by_role("button", name="提交作品").click()
        page.wait_for_url(f"{url}/calls/entries/**", timeout=30_000)
        assert "作品已提交" in page.content()
        assert page.locator("video").count() == 1
        shot(page, artifacts_dir, "2-video-submitted")
        assert len(created) == 1, "the video went through tus"
        video_entry = Entry.objects.get(call__slug="science-treasure-videos")
        assert (video_entry.width, video_entry.height, video_entry.status) == (
            1920,
            1080,
            EntryStatus.SUBMITTED,
        )

        # 2. ... and a CityWalk route with three stops and an image.
        page.goto(f"{url}/calls/org/kepuyue-2025/citywalk-routes/new/")
        page.get_by_label("作品名称").fill("西湖植物科普线")
        page.locator("#city-province").select_option("330000")
        page.wait_for_selector("#city option[value='330100']", state="attached")
        page.locator("#city").select_option("330100")
        stops = [
            ("杭州植物园", "西湖区桃源岭1号"),
            ("浙江自然博物院", "西湖区文三路"),
            ("中国丝绸博物馆", "西湖区玉皇山路73号"),
        ]
        for i, (name, address) in enumerate(stops):
            page.locator(f"#stop-{i}-name").fill(name)
            page.locator(f"#stop-{i}-address").fill(address)
            pick_region(page, f"stop-{i}", "330000", "330100", "330106")
        page.get_by_label("路线图片", exact=False).set_input_files(str(route_image))
        page.get_by_role("button", name="提交作品").click()
        page.wait_for_url(f"{url}/calls/entries/**")
        shot(page, artifacts_dir, "3-route-submitted")
        route_entry = Entry.objects.get(call__slug="citywalk-routes")
        assert [s.name for s in route_entry.stops.all()] == [n for n, _ in stops]

        # 3. A judge from another unit scores the video blind.
        judge = make_judge(video_entry.call, organization=other_base, name="expert-1")
        ctx, page = phone(chromium, url, judge)
        contexts.append(ctx)
        page.goto(f"{url}/calls/judge/")
        page.get_by_role("link", name="“探寻科学宝藏”短视频").click()
        page.get_by_role("link", name=video_entry.code).click()
        assert base.name not in page.content()
        for label, points in (
            ("主题明确", "90"),
            ("内容充实", "85"),
            ("亮点突出", "80"),
            ("便于新媒体传播", "75"),
        ):
            page.get_by_label(label, exact=False).fill(points)
        # (No full-page screenshot before the tap: it resizes the viewport, and the late resize moves the
        # button between mousedown and mouseup. The scored page is captured below.)
        with page.expect_navigation():
            page.get_by_role("button", name="保存评分").click()
        assert Score.objects.get().total == pytest.approx(83.0)
        shot(page, artifacts_dir, "5-judge-done")
        page.goto(f"{url}/calls/judge/entries/{video_entry.code}/")
        assert page.get_by_label("主题明确", exact=False).input_value() == "90"
        shot(page, artifacts_dir, "4-judge-scored")

        # 4. The joint-action manager shortlists and publishes both.
        ctx, page = phone(chromium, url, manager)
        contexts.append(ctx)
        for slug, entry in (("science-treasure-videos", video_entry), ("citywalk-routes", route_entry)):
            page.goto(f"{url}/calls/manage/kepuyue-2025/{slug}/")
            with page.expect_navigation():
                page.locator("tr", has_text=entry.code).get_by_role("button", name="入围").click()
            with page.expect_navigation():
                page.locator("tr", has_text=entry.code).get_by_role("button", name="发布").click()
            shot(page, artifacts_dir, f"6-manager-{slug}")
        for entry in (video_entry, route_entry):
            entry.refresh_from_db()
            assert entry.status == EntryStatus.PUBLISHED
            published.append(entry)

        # 5. A visitor sees both in the galleries; the poster and the route image load.
        ctx, page = phone(chromium, url)
        contexts.append(ctx)
        page.goto(f"{url}/calls/kepuyue-2025/science-treasure-videos/")
        player = page.locator("video")
        assert player.count() == 1 and "走进植物园：一棵古银杏" in page.content()
        poster = player.get_attribute("poster")
        assert page.request.get(f"{url}{poster}").status == 200
        assert page.request.get(f"{url}{player.locator('source').get_attribute('src')}").status == 200
        shot(page, artifacts_dir, "7-video-gallery")
        page.get_by_label("主题").select_option("landmark-exhibits")
        with page.expect_navigation():
            page.get_by_role("button", name="筛选").click()
        assert page.locator("video").count() == 0
        page.goto(f"{url}/calls/kepuyue-2025/citywalk-routes/")
        assert page.locator("h2", has_text="杭州市").count() == 1
        assert page.locator("ol.route-stops li").all_inner_texts()[0].startswith("杭州植物园")
        image = page.locator("img.route-img")
        image.scroll_into_view_if_needed()
        page.wait_for_function("document.querySelector('img.route-img').naturalWidth > 0")
        shot(page, artifacts_dir, "8-citywalk-gallery")
    finally:
        for context in contexts:
            context.close()
        for entry in published:
            folder = entry.public_file.name or (
                entry.images.first().public_file.name if entry.images.exists() else ""
            )
            if folder:
                shutil.rmtree(settings.MEDIA_ROOT / folder.rsplit("/", 1)[0], ignore_errors=True)
