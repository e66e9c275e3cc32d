"""Uploads hardened (issue 9 classes 2 and 8, issue 11 point 3; ADR 0014): tus caps per account, a full disk,
EXIF stripped from stored images, duplicates that name no other unit, the pre-check, uploads kept across a
refused form, and the light CityWalk form."""

from __future__ import annotations

import errno
import json
import re
import time

import pytest
from django.core.management import call_command
from PIL import Image

from kepuyue.calls import uploads
from kepuyue.calls.models import Entry
from kepuyue.common import storage as storage_module
from tests.calls.conftest import files_in, login
from tests.calls.mediafiles import make_mp4, make_png
from tests.calls.test_uploads import NEW_ROUTE, NEW_VIDEO, TUS_CREATE, tus_create, tus_headers, tus_patch

CHECK_VIDEO = "/calls/org/kepuyue-2025/science-treasure-videos/check/"
STOPS = {
    "city": "330100",
    "own_stop": "0",
    "stop-0-name": "杭州植物园",
    "stop-0-address": "桃源岭1号",
    "stop-0-region": "330106",
    "stop-1-name": "浙江自然博物院",
    "stop-1-address": "文三路",
    "stop-1-region": "330106",
    "stop-2-name": "中国丝绸博物馆",
    "stop-2-address": "玉皇山路73号",
    "stop-2-region": "330106",
}


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hardening-samples")
    return {
        "hd": make_mp4(folder / "hd.mp4", 1920, 1080, seconds=1.0),
        "route": make_png(folder / "route.png", 300, 200),
    }


@pytest.fixture
def unit_client(client, staff):
    client.force_login(staff)
    return client


# --- tus caps ------------------------------------------------------------------------------------


def test_tus_count_in_flight_capped_with_chinese_429(unit_client, settings, storages):
    settings.CALLS_TUS_MAX_IN_FLIGHT = 2
    tus_create(unit_client, 100)
    tus_create(unit_client, 100)
    third = unit_client.post(TUS_CREATE, **tus_headers(upload_length="100"))
    assert third.status_code == 429
    assert "已有2个上传未完成或待提交（上限2个）" in third.content.decode()
    assert len(files_in(storages["temp"] / "tus")) == 4  # two uploads, nothing for the third


def test_tus_bytes_in_flight_capped_before_any_byte(unit_client, settings, storages):
    settings.CALLS_TUS_MAX_BYTES_IN_FLIGHT = 1000
    tus_create(unit_client, 600)
    refused = unit_client.post(TUS_CREATE, **tus_headers(upload_length="500"))
    assert refused.status_code == 413 and "合计不能超过" in refused.content.decode()
    tus_create(unit_client, 400)  # exactly at the cap


def test_tus_caps_are_per_account(unit_client, client, other_staff, settings, plan):
    settings.CALLS_TUS_MAX_IN_FLIGHT = 1
    tus_create(unit_client, 100)
    from django.test import Client

    other = Client()
    other.force_login(other_staff)
    # other_base is in the same unit type: it may upload too, and the first account's upload does not count.
    assert other.post(TUS_CREATE, **tus_headers(upload_length="100")).status_code == 201


def _expire_all(storages):
    for info in (storages["temp"] / "tus").glob("*.json"):
        state = json.loads(info.read_text())
        state["expires"] = time.time() - 1
        info.write_text(json.dumps(state))


def test_tus_expired_upload_frees_the_cap(unit_client, settings, storages):
    settings.CALLS_TUS_MAX_IN_FLIGHT = 1
    tus_create(unit_client, 100)
    _expire_all(storages)
    assert unit_client.post(TUS_CREATE, **tus_headers(upload_length="100")).status_code == 201
    call_command("calls_cleanup_uploads")
    assert len(files_in(storages["temp"] / "tus")) == 2  # only the new one


# --- a full disk ---------------------------------------------------------------------------------


def test_tus_patch_on_a_full_disk_is_507_and_keeps_no_half_chunk(unit_client, storages, monkeypatch):
    url = tus_create(unit_client, 1000)
    assert tus_patch(unit_client, url, 0, b"a" * 300).status_code == 204

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(uploads.os, "fsync", full)
    response = tus_patch(unit_client, url, 300, b"b" * 400)
    assert response.status_code == 507 and "存储空间不足" in response.content.decode()
    monkeypatch.undo()
    part = storages["temp"] / "tus" / (url.rsplit("/", 1)[1] + ".part")
    assert part.read_bytes() == b"a" * 300  # back to where the refused PATCH started
    head = unit_client.head(url, **tus_headers())
    assert head["Upload-Offset"] == "300"
    assert tus_patch(unit_client, url, 300, b"b" * 700).status_code == 204  # resumes once there is room


def test_route_entry_on_a_full_disk_is_a_form_error_and_leaves_nothing(
    unit_client, samples, storages, monkeypatch
):
    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage_module, "_write", full)
    with open(samples["route"], "rb") as fh:
        response = unit_client.post(NEW_ROUTE, {"title": "植物之旅", "images": fh, **STOPS})
    assert response.status_code == 507
    html = response.content.decode()
    assert (
        "服务器存储空间不足，文件未保存" in html and 'id="stop-0-name"' in html
    )  # the form, with the message
    assert not Entry.objects.exists()
    assert files_in(storages["private"]) == [] and files_in(storages["temp"]) == []


def test_storage_full_not_caught_by_a_view_is_the_chinese_507_page(rf):
    from kepuyue.common.storage import StorageFull
    from kepuyue.common.uploads import UploadHygieneMiddleware

    middleware = UploadHygieneMiddleware(lambda request: None)
    response = middleware.process_exception(rf.get("/org/activities/new/"), StorageFull())
    assert response.status_code == 507 and "存储空间不足" in response.content.decode()
    api = middleware.process_exception(
        rf.get("/x", HTTP_TUS_RESUMABLE="1.0.0"), OSError(errno.EDQUOT, "quota")
    )
    assert api.status_code == 507 and api["Content-Type"].startswith("text/plain")


# --- EXIF ----------------------------------------------------------------------------------------


def _jpeg_with_gps(path, orientation=6):
    exif = Image.Exif()
    exif[0x0112] = orientation  # rotated a quarter turn: stored 300×200, displayed 200×300
    exif[0x010F] = "PhoneMaker"
    exif[0x0132] = "2025:08:15 10:00:00"
    exif.get_ifd(0x8825).update({1: "N", 2: (30.0, 15.0, 7.5), 3: "E", 4: (120.0, 8.0, 1.0)})
    Image.new("RGB", (300, 200), (180, 60, 20)).save(path, format="JPEG", exif=exif.tobytes())
    with Image.open(path) as check:  # the sample really carries GPS
        assert check.getexif().get_ifd(0x8825)[2]
    return path


def test_route_image_stored_upright_without_exif(unit_client, storages, tmp_path):
    photo = _jpeg_with_gps(tmp_path / "gps.jpg")
    with open(photo, "rb") as fh:
        response = unit_client.post(NEW_ROUTE, {"title": "植物之旅", "images": fh, **STOPS})
    assert response.status_code == 302
    image = Entry.objects.get().images.get()
    assert (image.width, image.height, image.format) == (200, 300, "jpeg")
    with Image.open(storages["private"] / image.file.name) as stored:
        assert stored.size == (200, 300)
        assert not stored.getexif() and not stored.getexif().get_ifd(0x8825)
        assert b"PhoneMaker" not in (storages["private"] / image.file.name).read_bytes()


def test_common_without_metadata_strips_png_and_webp_metadata(tmp_path):
    from PIL import PngImagePlugin

    from kepuyue.common.images import without_metadata

    exif = Image.Exif()
    exif.get_ifd(0x8825).update({2: (30.0, 15.0, 7.5)})
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "家庭住址：某路1号")
    png = tmp_path / "a.png"
    Image.new("RGB", (20, 10)).save(png, format="PNG", exif=exif.tobytes(), pnginfo=info)
    clean = without_metadata(png)
    assert clean.format == "png" and b"eXIf" not in clean.content and "某路".encode() not in clean.content
    webp = tmp_path / "a.webp"
    Image.new("RGBA", (20, 10), (0, 0, 0, 0)).save(webp, format="WEBP", exif=exif.tobytes())
    clean = without_metadata(webp)
    assert clean.format == "png" and b"Exif" not in clean.content  # transparent WebP → PNG


# --- duplicates ----------------------------------------------------------------------------------


def test_duplicate_reported_to_the_submitter_without_the_other_units_code(
    client, staff, other_staff, manager, samples, storages
):
    from django.test import Client

    first_unit = Client()
    first_unit.force_login(staff)
    with open(samples["route"], "rb") as fh:
        assert first_unit.post(NEW_ROUTE, {"title": "第一条", "images": fh, **STOPS}).status_code == 302
    first = Entry.objects.get()
    client.force_login(other_staff)
    with open(samples["route"], "rb") as fh:
        response = client.post(NEW_ROUTE, {"title": "第二条", "images": fh, **STOPS}, follow=True)
    second = Entry.objects.exclude(pk=first.pk).get()
    assert second.duplicate_of == first
    page = client.get(f"/calls/entries/{second.code}/").content.decode()
    assert "该文件已被提交过" in page and first.code not in page and first.organization.name not in page
    assert first.code not in response.content.decode()
    managed = login(client, manager).get(f"/calls/entries/{second.code}/").content.decode()
    assert f"与作品 {first.code}" in managed


# --- pre-check and kept uploads ------------------------------------------------------------------


def test_precheck_says_what_is_missing_before_the_upload(unit_client, storages):
    answer = unit_client.post(CHECK_VIDEO, {"title": "", "theme": "", "pending": "video"}).json()
    assert answer["ok"] is False
    assert set(answer["errors"]) == {"title", "theme"}  # nothing about the video not yet uploaded
    assert answer["errors"]["title"] == ["请填写作品名称"]
    ready = unit_client.post(
        CHECK_VIDEO, {"title": "走进植物园", "theme": "base-tour", "pending": "video"}
    ).json()
    assert ready == {"ok": True, "errors": {}}
    assert files_in(storages["temp"]) == [] and not Entry.objects.exists()


def test_precheck_needs_sign_in_and_post(client, unit_client, plan):
    assert unit_client.get(CHECK_VIDEO).status_code == 405
    client.logout()
    assert client.post(CHECK_VIDEO, {"title": "x"}).status_code == 302


def test_finished_tus_video_kept_across_a_refused_form_then_submitted(unit_client, samples, storages):
    data = samples["hd"].read_bytes()
    url = tus_create(unit_client, len(data), name="古银杏.mp4")
    assert tus_patch(unit_client, url, 0, data).status_code == 204
    refused = unit_client.post(
        NEW_VIDEO, {"title": "", "theme": "base-tour", "upload_id": url.rsplit("/", 1)[1]}
    )
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "已上传：古银杏.mp4" in html and "可直接重新提交" in html and "请填写作品名称" in html
    token = re.search(r'name="kept" value="([^"]+)"', html).group(1)
    assert len(files_in(storages["temp"] / "tus")) == 2  # still there
    accepted = unit_client.post(NEW_VIDEO, {"title": "走进植物园", "theme": "base-tour", "kept": token})
    assert accepted.status_code == 302
    assert Entry.objects.get().size == len(data)
    assert files_in(storages["temp"]) == []


def test_multipart_video_kept_across_a_refused_form(unit_client, samples, storages):
    with open(samples["hd"], "rb") as fh:
        refused = unit_client.post(NEW_VIDEO, {"title": "", "theme": "", "video": fh})
    html = refused.content.decode()
    assert refused.status_code == 400 and "已上传：hd.mp4" in html
    token = re.search(r'name="kept" value="([^"]+)"', html).group(1)
    accepted = unit_client.post(NEW_VIDEO, {"title": "走进植物园", "theme": "base-tour", "kept": token})
    assert accepted.status_code == 302 and files_in(storages["temp"]) == []


def test_refused_video_is_not_kept(unit_client, storages, tmp_path):
    small = make_mp4(tmp_path / "small.mp4", 1280, 720, seconds=0.5)
    with open(small, "rb") as fh:
        refused = unit_client.post(NEW_VIDEO, {"title": "", "theme": "base-tour", "video": fh})
    assert refused.status_code == 400 and 'name="kept"' not in refused.content.decode()
    assert files_in(storages["temp"]) == []


def test_kept_token_of_another_account_or_forged_is_refused(
    unit_client, client, other_staff, samples, storages
):
    with open(samples["hd"], "rb") as fh:
        html = unit_client.post(NEW_VIDEO, {"title": "", "theme": "", "video": fh}).content.decode()
    token = re.search(r'name="kept" value="([^"]+)"', html).group(1)
    from django.test import Client

    other = Client()
    other.force_login(other_staff)
    stolen = other.post(NEW_VIDEO, {"title": "t", "theme": "base-tour", "kept": token})
    assert stolen.status_code == 400 and "已上传的文件无效" in stolen.content.decode()
    forged = unit_client.post(NEW_VIDEO, {"title": "t", "theme": "base-tour", "kept": token[:-2] + "xx"})
    assert forged.status_code == 400 and "已上传的文件无效" in forged.content.decode()
    assert not Entry.objects.exists()


def test_kept_upload_expires_and_is_removed(unit_client, samples, storages, settings):
    with open(samples["hd"], "rb") as fh:
        html = unit_client.post(NEW_VIDEO, {"title": "", "theme": "", "video": fh}).content.decode()
    token = re.search(r'name="kept" value="([^"]+)"', html).group(1)
    _expire_all(storages)
    settings.CALLS_UPLOAD_EXPIRY_SECONDS = -1  # the signed token is past its age too
    call_command("calls_cleanup_uploads")
    assert files_in(storages["temp"]) == []
    late = unit_client.post(NEW_VIDEO, {"title": "t", "theme": "base-tour", "kept": token})
    assert late.status_code == 400 and "过期" in late.content.decode()


# --- the CityWalk form on a phone ---------------------------------------------------------------


def test_citywalk_form_is_light_without_county_lists(unit_client, plan):
    page = unit_client.get(NEW_ROUTE)
    html = page.content.decode()
    assert page.status_code == 200
    assert len(page.content) < 60_000  # 0.97 MB before (bench/citywalk_form_bytes.py)
    longest = max(s.count("<option") for s in re.findall(r"<select.*?</select>", html, re.S))
    assert longest <= 40  # the provinces, never the 3,700 counties
    assert 'data-regions-url="/regions/children.json"' in html
    assert html.count('class="card stop"') == 4 + 1  # four blocks and the template for more


def test_citywalk_form_after_an_error_keeps_stops_as_left(unit_client, plan):
    post = {"title": "", **STOPS}
    for i in range(3, 7):
        post.update({f"stop-{i}-name": "", f"stop-{i}-address": "", f"stop-{i}-region": ""})
    page = unit_client.post(NEW_ROUTE, post)
    html = page.content.decode()
    assert page.status_code == 400
    assert 'id="stop-6-name"' in html and 'id="stop-7-name"' not in html  # seven blocks, as on the page
    # The chosen branch is listed (杭州市's districts), and selected; no other province's counties.
    assert re.search(r'<option value="330106" selected>西湖区</option>', html)
    assert re.search(r'<option value="330100" selected>杭州市</option>', html)
    assert re.search(r'<option value="330000" selected>浙江省</option>', html)
    assert "海淀区" not in html
    assert len(page.content) < 80_000


def test_regions_json_cascade_is_small_and_cacheable(client, regions, django_assert_max_num_queries):
    provinces = client.get("/regions/children.json")
    assert provinces.status_code == 200 and "public" in provinces["Cache-Control"]
    names = dict(provinces.json())
    assert names["330000"] == "浙江省" and len(names) == 34
    with django_assert_max_num_queries(2):
        cities = client.get("/regions/330000/children.json").json()
    assert ["330100", "杭州市"] in cities
    assert ["330106", "西湖区"] in client.get("/regions/330100/children.json").json()
    assert client.get("/regions/999999/children.json").status_code == 404
    assert client.get("/regions/33%2F/children.json").status_code == 404
    assert json.loads(client.get("/regions/330106/children.json").content) == []


def test_refused_forms_cannot_fill_the_disk_with_kept_files(unit_client, samples, storages, settings):
    settings.CALLS_TUS_MAX_BYTES_IN_FLIGHT = 1000  # smaller than the sample video
    with open(samples["hd"], "rb") as fh:
        refused = unit_client.post(NEW_VIDEO, {"title": "", "theme": "base-tour", "video": fh})
    html = refused.content.decode()
    assert refused.status_code == 400 and "文件未保留，请重新选择" in html and 'name="kept"' not in html
    assert files_in(storages["temp"]) == []


def test_kept_route_images_do_not_count_against_the_resumable_cap(unit_client, samples, storages, settings):
    settings.CALLS_TUS_MAX_IN_FLIGHT = 1
    images = [open(samples["route"], "rb") for _i in range(3)]  # noqa: SIM115 - closed below
    try:
        refused = unit_client.post(NEW_ROUTE, {"title": "", "images": images, **STOPS})
    finally:
        for fh in images:
            fh.close()
    assert refused.content.decode().count('name="kept"') == 3
    assert unit_client.post(TUS_CREATE, **tus_headers(upload_length="100")).status_code == 201
