"""Uploads through the HTTP endpoints: multipart form and tus, accepted and refused, and nothing left behind
when a file is refused, an upload is dropped, or an exception happens mid-save."""

import base64
import re
import shutil
import time

import pytest
from django.core.management import call_command

from kepuyue.calls import uploads
from kepuyue.calls.models import Entry, EntryStatus
from tests.calls.conftest import files_in
from tests.calls.mediafiles import make_jpeg, make_mp4, make_png

NEW_VIDEO = "/calls/org/kepuyue-2025/science-treasure-videos/new/"
NEW_ROUTE = "/calls/org/kepuyue-2025/citywalk-routes/new/"
TUS_CREATE = "/calls/tus/kepuyue-2025/science-treasure-videos/"


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("http-samples")
    return {
        "hd": make_mp4(folder / "hd.mp4", 1920, 1080, seconds=1.0),
        "portrait": make_mp4(folder / "portrait.mp4", 1080, 1920, seconds=1.0),
        "small": make_mp4(folder / "small.mp4", 1280, 720, seconds=1.0),
        "route": make_png(folder / "route.png", 600, 900),
        "jpeg": make_jpeg(folder / "photo.jpg", 300, 200),
    }


@pytest.fixture
def unit_client(client, staff):
    client.force_login(staff)
    return client


def post_video(client, path, **fields):
    with open(path, "rb") as fh:
        return client.post(NEW_VIDEO, {"title": "走进植物园", "theme": "base-tour", "video": fh, **fields})


def test_form_page_offers_file_input_and_tus(unit_client, plan):
    page = unit_client.get(NEW_VIDEO)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'type="file" id="video" name="video" accept="video/mp4"' in html
    assert 'data-tus-endpoint="/calls/tus/kepuyue-2025/science-treasure-videos/"' in html
    assert "uppy-6.0.1/uppy.min.js" in html


@pytest.mark.parametrize("sample", ["hd", "portrait"])
def test_multipart_video_accepted(unit_client, samples, storages, sample, base):
    response = post_video(unit_client, samples[sample])
    entry = Entry.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/calls/entries/{entry.code}/"
    assert entry.organization == base and entry.status == EntryStatus.SUBMITTED
    assert len(files_in(storages["private"])) == 2  # the video and its poster
    assert files_in(storages["temp"]) == []


def test_multipart_720p_refused_with_reason_nothing_left(unit_client, samples, storages):
    response = post_video(unit_client, samples["small"])
    assert response.status_code == 400
    assert "分辨率不小于1920×1080" in response.content.decode()
    assert Entry.objects.count() == 0
    assert files_in(storages["private"]) == [] and files_in(storages["temp"]) == []


def test_multipart_jpeg_renamed_mp4_refused(unit_client, samples, storages, tmp_path):
    fake = tmp_path / "video.mp4"
    shutil.copyfile(samples["jpeg"], fake)
    response = post_video(unit_client, fake)
    assert response.status_code == 400 and Entry.objects.count() == 0
    assert files_in(storages["temp"]) == []


def test_multipart_over_the_size_limit_stops_streaming(unit_client, samples, storages, plan):
    call = plan.calls.get(slug="science-treasure-videos")
    call.spec = {**call.spec, "max_bytes": 2_000}
    call.save()
    response = post_video(unit_client, samples["hd"])
    assert response.status_code == 400
    assert "平台要求：文件不超过" in response.content.decode()
    assert Entry.objects.count() == 0 and files_in(storages["temp"]) == []


def test_extra_posted_fields_are_ignored(unit_client, samples, other_base):
    post_video(unit_client, samples["hd"], organization=other_base.pk, status="published", code="AAAA-AAAA")
    entry = Entry.objects.get()
    assert (
        entry.organization != other_base
        and entry.status == EntryStatus.SUBMITTED
        and entry.code != "AAAA-AAAA"
    )


def test_exception_mid_save_through_http_leaves_nothing(unit_client, samples, storages, monkeypatch):
    from kepuyue.calls import services

    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services.submitting, "record", boom)
    with pytest.raises(RuntimeError):
        post_video(unit_client, samples["hd"])
    assert Entry.objects.count() == 0
    assert files_in(storages["private"]) == [] and files_in(storages["temp"]) == []


def test_route_upload_refused_then_accepted(unit_client, samples, storages):
    stops = {
        "stop-0-name": "杭州植物园",
        "stop-0-address": "桃源岭1号",
        "stop-0-region": "330106",
        "own_stop": "0",
        "stop-1-name": "浙江自然博物院",
        "stop-1-address": "文三路",
        "stop-1-region": "330106",
    }
    with open(samples["route"], "rb") as fh:
        refused = unit_client.post(NEW_ROUTE, {"title": "植物之旅", "city": "330100", "images": fh, **stops})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "本馆以外至少2家其他场所（方案 四(二)2），现有1家" in html
    assert files_in(storages["private"]) == []
    # The valid image is kept for the next try (issue 11 point 3): a signed token in the form, nothing else.
    assert "已上传：route.png" in html and "可直接重新提交" in html
    token = re.search(r'name="kept" value="([^"]+)"', html).group(1)
    assert [p.rsplit(".", 1)[1] for p in files_in(storages["temp"] / "tus")] == ["json", "part"]
    # The stop blocks stay as the user left them: two, not the four of a new form.
    assert 'id="stop-1-name"' in html and 'id="stop-2-name"' not in html
    stops.update(
        {"stop-2-name": "中国丝绸博物馆", "stop-2-address": "玉皇山路73号", "stop-2-region": "330106"}
    )
    with open(samples["jpeg"], "rb") as b:
        accepted = unit_client.post(
            NEW_ROUTE, {"title": "植物之旅", "city": "330100", "images": [b], "kept": token, **stops}
        )
    assert accepted.status_code == 302
    assert files_in(storages["temp"]) == []
    entry = Entry.objects.get()
    assert [s.name for s in entry.stops.all()] == ["杭州植物园", "浙江自然博物院", "中国丝绸博物馆"]
    assert entry.images.count() == 2


def test_ineligible_unit_gets_403(client, plan, django_user_model, samples):
    from kepuyue.orgs.models import Membership, Organization

    museum = Organization.objects.create(name="某科技馆", type_id="science_museum")
    user = django_user_model.objects.create_user("museum")
    Membership.objects.create(user=user, organization=museum)
    client.force_login(user)
    assert client.get(NEW_VIDEO).status_code == 403
    assert client.post(TUS_CREATE, HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="10").status_code == 403


# --- tus ----------------------------------------------------------------------------------------


def tus_headers(**extra):
    return {"HTTP_TUS_RESUMABLE": "1.0.0", **{f"HTTP_{k.upper()}": str(v) for k, v in extra.items()}}


def tus_create(client, size, name="hd.mp4"):
    meta = (
        "filename "
        + base64.b64encode(name.encode()).decode()
        + ",filetype "
        + base64.b64encode(b"video/mp4").decode()
    )
    response = client.post(TUS_CREATE, **tus_headers(upload_length=size, upload_metadata=meta))
    assert response.status_code == 201, response.content
    assert response["Tus-Resumable"] == "1.0.0"
    return response["Location"]


def tus_patch(client, url, offset, data):
    return client.generic(
        "PATCH",
        url,
        data,
        content_type="application/offset+octet-stream",
        **tus_headers(upload_offset=offset),
    )


def test_tus_options_advertises_version_and_extensions(unit_client, plan):
    response = unit_client.options(TUS_CREATE)
    assert response.status_code == 204
    assert response["Tus-Version"] == "1.0.0"
    assert response["Tus-Extension"] == "creation,termination,expiration"
    assert int(response["Tus-Max-Size"]) == 2 * 1024**3


def test_tus_upload_resumes_after_interruption_then_entry_submitted(unit_client, samples, storages):
    data = samples["hd"].read_bytes()
    url = tus_create(unit_client, len(data))
    first = tus_patch(unit_client, url, 0, data[:5000])
    assert first.status_code == 204 and first["Upload-Offset"] == "5000"

    # The connection drops in the middle of the second PATCH: the bytes that arrived are kept.
    class Dropping:
        def __init__(self, payload):
            self.payload, self.sent = payload, False

        def read(self, size):
            if self.sent:
                raise OSError("connection reset by peer")
            self.sent = True
            return self.payload[:size]

    upload = uploads.get(url.rsplit("/", 1)[1])
    offset = uploads.append(upload, 5000, Dropping(data[5000:7000]), len(data) - 5000)
    assert offset == 7000

    head = unit_client.head(url, **tus_headers())
    assert (
        head.status_code == 200
        and head["Upload-Offset"] == "7000"
        and head["Upload-Length"] == str(len(data))
    )
    stale = tus_patch(unit_client, url, 5000, data[5000:])
    assert stale.status_code == 409
    rest = tus_patch(unit_client, url, 7000, data[7000:])
    assert rest.status_code == 204 and rest["Upload-Offset"] == str(len(data))

    response = unit_client.post(
        NEW_VIDEO, {"title": "断点续传", "theme": "landmark-exhibits", "upload_id": url.rsplit("/", 1)[1]}
    )
    assert response.status_code == 302
    entry = Entry.objects.get()
    import hashlib

    assert entry.sha256 == hashlib.sha256(data).hexdigest() and entry.size == len(data)
    assert files_in(storages["temp"] / "tus") == []


def test_tus_refused_video_leaves_nothing(unit_client, samples, storages):
    data = samples["small"].read_bytes()
    url = tus_create(unit_client, len(data))
    assert tus_patch(unit_client, url, 0, data).status_code == 204
    response = unit_client.post(
        NEW_VIDEO, {"title": "t", "theme": "base-tour", "upload_id": url.rsplit("/", 1)[1]}
    )
    assert response.status_code == 400 and "分辨率不小于1920×1080" in response.content.decode()
    assert Entry.objects.count() == 0
    assert files_in(storages["private"]) == [] and files_in(storages["temp"]) == []


def test_tus_incomplete_upload_cannot_be_submitted(unit_client, samples):
    data = samples["hd"].read_bytes()
    url = tus_create(unit_client, len(data))
    tus_patch(unit_client, url, 0, data[:100])
    response = unit_client.post(
        NEW_VIDEO, {"title": "t", "theme": "base-tour", "upload_id": url.rsplit("/", 1)[1]}
    )
    assert response.status_code == 400 and "尚未上传完成" in response.content.decode()


def test_tus_rules_size_offset_content_type_owner(unit_client, client, other_staff, samples):
    assert unit_client.post(TUS_CREATE, **tus_headers(upload_length=3 * 1024**3)).status_code == 413
    assert unit_client.post(TUS_CREATE, HTTP_UPLOAD_LENGTH="10").status_code == 412  # no Tus-Resumable
    url = tus_create(unit_client, 10)
    assert tus_patch(unit_client, url, 0, b"x" * 11).status_code == 413
    wrong_type = unit_client.generic(
        "PATCH", url, b"x", content_type="text/plain", **tus_headers(upload_offset=0)
    )
    assert wrong_type.status_code == 415
    client.force_login(other_staff)
    assert client.head(url, **tus_headers()).status_code == 404  # another account's upload


def test_tus_termination(unit_client, storages):
    url = tus_create(unit_client, 100)
    assert tus_patch(unit_client, url, 0, b"x" * 50).status_code == 204
    assert unit_client.delete(url, **tus_headers()).status_code == 204
    assert unit_client.head(url, **tus_headers()).status_code == 404
    assert files_in(storages["temp"] / "tus") == []


def test_tus_patch_needs_csrf_token(client, staff, plan):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff)
    url = tus_create(client_logged_in(client, staff), 10)
    response = strict.generic(
        "PATCH", url, b"x", content_type="application/offset+octet-stream", **tus_headers(upload_offset=0)
    )
    assert response.status_code == 403


def client_logged_in(client, user):
    client.force_login(user)
    return client


def test_aborted_tus_upload_removed_by_expiry(unit_client, storages, monkeypatch):
    url = tus_create(unit_client, 1000)
    tus_patch(unit_client, url, 0, b"x" * 400)
    assert len(files_in(storages["temp"] / "tus")) == 2  # .part and .json
    call_command("calls_cleanup_uploads")
    assert len(files_in(storages["temp"] / "tus")) == 2  # not yet expired
    real = time.time
    monkeypatch.setattr(uploads.time, "time", lambda: real() + uploads.expiry_seconds() + 60)
    call_command("calls_cleanup_uploads")
    assert files_in(storages["temp"] / "tus") == [] and Entry.objects.count() == 0
    monkeypatch.undo()
    assert unit_client.head(url, **tus_headers()).status_code == 404


def test_rotated_portrait_judged_by_displayed_size(unit_client, tmp_path, storages):
    # Stored 1920×1080 with rotation 90: displayed 1080×1920, a portrait video at the plan's resolution.
    rotated = make_mp4(tmp_path / "rotated.mp4", 1920, 1080, seconds=1.0, rotate=90)
    assert post_video(unit_client, rotated).status_code == 302
    entry = Entry.objects.get()
    assert (entry.width, entry.height) == (1080, 1920)


def test_playlist_named_mp4_refused_without_opening_its_target(unit_client, tmp_path, storages, samples):
    from tests.calls.mediafiles import make_hls_playlist

    playlist = make_hls_playlist(tmp_path / "clip.mp4", samples["hd"])
    response = post_video(unit_client, playlist)
    assert response.status_code == 400 and Entry.objects.count() == 0
    assert files_in(storages["temp"]) == []
