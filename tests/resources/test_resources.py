"""宣传资源 (plan 八(一)): uploads refused and accepted like the platform's other uploads (content sniffing,
size caps, EXIF stripped, nothing left behind), scopes, counted downloads, the public list and its filters."""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from kepuyue.audit.models import AuditEntry
from kepuyue.resources import services
from kepuyue.resources.models import Kind, Resource
from tests.calls.mediafiles import (
    make_docx,
    make_hls_playlist,
    make_huge_declared_png,
    make_mkv,
    make_mp4,
    make_pdf,
    make_png,
)
from tests.fixtures_accounts import login_staff

from .conftest import files_in

pytestmark = pytest.mark.django_db

NEW = "/org/resources/new/"


def _gps_jpeg() -> bytes:
    """A JPEG carrying EXIF with a GPS position and a camera model."""
    image = Image.new("RGB", (60, 40), (200, 40, 40))
    exif = Image.Exif()
    exif[0x0110] = "PhoneCam 12"  # Model
    exif[0x8825] = {1: "N", 2: (30.0, 15.0, 0.0), 3: "E", 4: (120.0, 10.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _post(client, world, path, name, *, kind="logo", action=None, title="科学之夜标识", **extra):
    upload = SimpleUploadedFile(name or path.name, path.read_bytes())
    data = {
        "kind": kind,
        "title": title,
        "description": "",
        "joint_action": str((action or world.museums).pk),
        "brand": "",
        "file": upload,
        **extra,
    }
    return client.post(NEW, data)


def _nothing_left(world):
    assert files_in(world.folders["temp"]) == []
    assert files_in(world.folders["public"]) == []
    assert not Resource.objects.exists()


# --- accepted --------------------------------------------------------------------------------------


def test_logo_jpeg_is_stored_without_exif_under_a_random_name(as_manager, world, tmp_path):
    source = tmp_path / "我的标识.jpg"
    source.write_bytes(_gps_jpeg())
    response = _post(as_manager, world, source, "")
    assert response.status_code == 302, response.content.decode()[:500]
    resource = Resource.objects.get()
    assert resource.file_format == "jpg" and resource.joint_action == world.museums
    assert resource.file_name == "我的标识.jpg"
    assert resource.file.name.startswith("resources/kepuyue-2025/") and "我的标识" not in resource.file.name
    with resource.file.open("rb") as fh, Image.open(fh) as stored:
        exif = stored.getexif()
        assert 0x8825 not in exif and 0x0110 not in exif
    assert len(resource.sha256) == 64
    assert files_in(world.folders["temp"]) == []
    assert AuditEntry.objects.filter(action="resource.create", object_id=str(resource.pk)).exists()


@pytest.mark.parametrize(
    ("kind", "maker", "suffix", "expected"),
    [
        ("document", make_pdf, "pdf", "pdf"),
        ("document", make_docx, "docx", "docx"),
        ("template", make_docx, "docx", "docx"),
        ("poster", make_pdf, "pdf", "pdf"),
        ("poster", make_png, "png", "png"),
    ],
)
def test_documents_and_images_accepted_by_content(as_manager, world, tmp_path, kind, maker, suffix, expected):
    path = maker(tmp_path / f"file.{suffix}")
    response = _post(as_manager, world, path, "", kind=kind)
    assert response.status_code == 302, response.content.decode()[:500]
    assert Resource.objects.get().file_format == expected


def test_video_mp4_accepted(as_manager, world, tmp_path):
    path = make_mp4(tmp_path / "clip.mp4", width=320, height=240, seconds=1)
    response = _post(as_manager, world, path, "", kind="video")
    assert response.status_code == 302, response.content.decode()[:500]
    resource = Resource.objects.get()
    assert resource.file_format == "mp4" and resource.file_size == path.stat().st_size


def test_description_only_entry_allowed(as_manager, world):
    response = as_manager.post(
        NEW, {"kind": "pack", "title": "科学运动会", "joint_action": str(world.museums.pk), "brand": ""}
    )
    assert response.status_code == 302
    assert not Resource.objects.get().file


# --- refused -------------------------------------------------------------------------------------


def _html(path):
    path.write_bytes(b"<html><script>alert(1)</script></html>")
    return path


def _zip(path):
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a word document")
    return path


@pytest.mark.parametrize(
    ("kind", "make", "name", "message"),
    [
        ("logo", _html, "logo.png", "按文件内容判断"),
        ("logo", lambda p: make_pdf(p), "logo.jpg", "按文件内容判断"),
        ("poster", lambda p: make_huge_declared_png(p), "poster.png", "拒绝解码"),
        ("document", _zip, "plan.docx", "按文件内容判断"),
        ("document", lambda p: make_png(p), "plan.pdf", "按文件内容判断"),
        ("video", lambda p: make_mkv(p, width=320, height=240), "clip.mp4", "MP4"),
        ("video", lambda p: make_hls_playlist(p, "/etc/passwd"), "clip.mp4", "MP4"),
        ("logo", lambda p: p.write_bytes(b"") or p, "empty.png", "空文件"),
    ],
)
def test_hostile_files_refused_and_nothing_left(as_manager, world, tmp_path, kind, make, name, message):
    path = make(tmp_path / "upload.bin")
    response = _post(as_manager, world, path, name, kind=kind)
    assert response.status_code == 400
    assert message in response.content.decode()
    _nothing_left(world)


def test_file_over_the_kind_cap_refused(as_manager, world, tmp_path, monkeypatch):
    monkeypatch.setitem(services.MAX_BYTES, Kind.LOGO, 1000)
    path = tmp_path / "big.png"
    Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3)).save(path, format="PNG")
    response = _post(as_manager, world, path, "")
    assert response.status_code == 400 and "不超过" in response.content.decode()
    _nothing_left(world)


def test_body_over_every_cap_refused_before_reading(as_manager, world):
    response = as_manager.post(
        NEW, data=b"x", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(10 * 1024**3)
    )
    assert response.status_code == 413


def test_streaming_stops_at_the_largest_cap(as_manager, world, tmp_path, monkeypatch):
    monkeypatch.setattr(services, "upload_limit", lambda kind=None: 2000)
    path = tmp_path / "big.png"
    Image.frombytes("RGB", (50, 50), os.urandom(50 * 50 * 3)).save(path, format="PNG")
    response = _post(as_manager, world, path, "")
    assert response.status_code == 400 and "不超过" in response.content.decode()
    _nothing_left(world)


# --- who may ----------------------------------------------------------------------------------------


def test_manager_cannot_upload_for_another_joint_action(as_manager, world, tmp_path):
    path = make_png(tmp_path / "a.png")
    response = _post(as_manager, world, path, "", action=world.bases)
    assert response.status_code == 400
    _nothing_left(world)


def test_another_managers_resource_is_a_404(client, world, tmp_path):
    resource = Resource.objects.create(
        campaign=world.campaign, joint_action=world.museums, kind="pack", title="x"
    )
    login_staff(client, world.other_manager)
    assert client.get(f"/org/resources/{resource.pk}/edit/").status_code == 404
    assert client.post(f"/org/resources/{resource.pk}/hide/", {"hidden": "1"}).status_code == 404
    resource.refresh_from_db()
    assert not resource.hidden


@pytest.mark.parametrize("who", ["anonymous", "publisher"])
def test_staff_pages_closed_to_others(client, world, who):
    if who == "publisher":
        client.force_login(world.publisher)
    response = client.get("/org/resources/")
    assert response.status_code in (302, 403)
    if who == "anonymous":
        assert "/accounts/login/" in response["Location"]


def test_cast_uploads_campaign_wide(client, world, tmp_path):
    login_staff(client, world.cast)
    path = make_png(tmp_path / "a.png")
    with open(path, "rb") as fh:
        response = client.post(
            NEW,
            {"kind": "logo", "title": "全国科普月标识", "joint_action": "campaign", "brand": "", "file": fh},
        )
    assert response.status_code == 302
    assert Resource.objects.get().joint_action is None


# --- downloads and lists --------------------------------------------------------------------------


def _stored(world, tmp_path, **fields):
    path = make_pdf(tmp_path / f"{fields.get('title', 'doc')}.pdf")
    return services.add_resource(
        campaign=world.campaign,
        data={
            "kind": "document",
            "title": "资源",
            "description": "",
            "joint_action": world.museums,
            "brand": None,
        }
        | fields,
        upload=services.Upload(path, name="doc.pdf"),
        actor=world.manager,
    )


def test_downloads_are_counted(client, world, tmp_path):
    resource = _stored(world, tmp_path)
    for _ in range(3):
        response = Client().get(reverse("resources:download", args=[resource.pk]))
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert b"".join(response.streaming_content).startswith(b"%PDF")
    resource.refresh_from_db()
    assert resource.downloads == 3


def test_download_count_is_one_update(client, world, tmp_path, django_assert_num_queries):
    resource = _stored(world, tmp_path)
    with django_assert_num_queries(2):  # the row, then UPDATE … downloads = downloads + 1
        client.get(reverse("resources:download", args=[resource.pk]))


def test_hidden_or_fileless_resources_do_not_download(client, world, tmp_path):
    resource = _stored(world, tmp_path, title="下架的文档")
    services.set_hidden(resource, True, actor=world.manager)
    assert client.get(reverse("resources:download", args=[resource.pk])).status_code == 404
    bare = Resource.objects.create(campaign=world.campaign, kind="pack", title="说明")
    assert client.get(reverse("resources:download", args=[bare.pk])).status_code == 404
    assert "说明" in client.get("/resources/").content.decode()
    assert resource.title not in client.get("/resources/?action=science-museums").content.decode()


def test_public_list_filters_by_joint_action_and_kind(client, world, tmp_path):
    _stored(world, tmp_path, title="科技馆文档")
    Resource.objects.create(
        campaign=world.campaign, joint_action=world.bases, kind="poster", title="基地海报"
    )
    Resource.objects.create(campaign=world.campaign, kind="logo", title="科普月标识")
    page = client.get("/resources/?action=science-museums").content.decode()
    assert "科技馆文档" in page and "基地海报" not in page and "科普月标识" not in page
    page = client.get("/resources/?kind=poster").content.decode()
    assert "基地海报" in page and "科技馆文档" not in page
    page = client.get("/resources/?action=campaign").content.decode()
    assert "科普月标识" in page and "基地海报" not in page
    # Unknown filters are ignored, never a 5xx.
    assert client.get("/resources/?action=%00x&kind=<script>").status_code in (200, 400)


@pytest.mark.parametrize("count", [1, 3])
def test_public_list_query_count(client, world, django_assert_num_queries, count):
    for n in range(count):
        Resource.objects.create(
            campaign=world.campaign,
            joint_action=world.museums,
            kind="pack",
            title=f"资源{n}",
            brand=world.museums.brands.first(),
        )
    client.get("/resources/")  # warm the campaign lookup caches
    # current_campaign() (one query), joint actions, resources (joined): constant.
    with django_assert_num_queries(3):
        response = client.get("/resources/")
    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 3])
def test_manage_list_query_count(as_manager, world, django_assert_num_queries, count):
    for n in range(count):
        Resource.objects.create(
            campaign=world.campaign, joint_action=world.museums, kind="pack", title=f"资源{n}"
        )
    as_manager.get("/org/resources/")
    with django_assert_num_queries(_manage_queries(as_manager)):
        as_manager.get("/org/resources/")


def _manage_queries(client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get("/org/resources/")
    return len(captured.captured_queries)


def test_manage_list_query_count_does_not_grow(as_manager, world):
    Resource.objects.create(campaign=world.campaign, joint_action=world.museums, kind="pack", title="a")
    one = _manage_queries(as_manager)
    for n in range(5):
        Resource.objects.create(
            campaign=world.campaign, joint_action=world.museums, kind="pack", title=f"b{n}"
        )
    assert _manage_queries(as_manager) == one


def test_seeded_plan_resources_are_descriptions(client, world):
    call_command("load_resources", "data/resources/kepuyue-2025.yaml")
    call_command("load_resources", "data/resources/kepuyue-2025.yaml")
    rows = list(Resource.objects.order_by("slug"))
    assert [r.title for r in rows] == ["电影课程资源包", "沉浸式展厅剧本杀活动", "科学运动会"]
    # 五(三)4: the film tour's course pack lives here too (the film tour page links to it).
    pack, *shared = rows
    assert not pack.file and pack.plan_ref == "五(三)4" and pack.brand.slug == "science-films"
    assert all(
        not r.file and r.plan_ref == "五(三)3(1)" and r.brand.slug == "science-night-main" for r in shared
    )
    page = client.get("/resources/?action=science-museums&kind=pack").content.decode()
    assert "科学运动会" in page and "电影课程资源包" in page and "文件尚未上传" in page


# --- the form with any input ---------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.one_of(st.sampled_from(Kind.values), st.text(max_size=20)),
    title=st.text(max_size=300),
    description=st.text(max_size=2500),
    action=st.one_of(st.just("campaign"), st.text(max_size=10), st.integers().map(str)),
)
def test_form_any_input_never_a_server_error(as_manager, world, kind, title, description, action):
    response = as_manager.post(
        NEW, {"kind": kind, "title": title, "description": description, "joint_action": action, "brand": ""}
    )
    assert response.status_code in (302, 400), response.status_code
    Resource.objects.all().delete()
