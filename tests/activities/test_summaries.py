"""Activity summaries 活动总结: who may report when, the due date, links, and photos checked by their
content, scaled, stripped of EXIF and stored under random names (or nothing stored at all)."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from kepuyue.activities import summaries
from kepuyue.activities.models import Status, Summary, SummaryPhoto
from kepuyue.audit.models import AuditEntry
from kepuyue.common.clock import BEIJING
from tests.calls.mediafiles import make_huge_declared_png, make_jpeg, make_png, make_webp
from tests.review import conftest as review

pytestmark = pytest.mark.django_db

world = review.world  # the review tests' units, accounts and activities (activities end 2025-09-10 17:00)
AFTER = "2025-09-12T10:00+08:00"
DATA = {"text": "参观人数超出预期。", "participants": 1200, "video_links": [], "news_links": []}


def upload(path: Path, name: str | None = None, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type=content_type)


def stored_files(media_root) -> list[Path]:
    root = Path(media_root)
    return [p for p in root.rglob("*") if p.is_file() and "summaries" in p.parts] if root.exists() else []


@pytest.fixture
def ended(world, clock):
    """A published activity of 杭州低碳科技馆, with the clock two days after its end."""
    activity = world.activity(world.units.zj, Status.PUBLISHED)
    clock(AFTER)
    return activity


def test_summary_due_date_is_end_day_plus_yaml_days(world, ended):
    assert world.plan.review["summary_due_days"] == 15
    due = summaries.summary_due(ended)
    assert due.astimezone(BEIJING).date().isoformat() == "2025-09-25"
    assert (due.hour, due.minute) == (23, 59)


def test_unit_submits_after_the_end_with_a_real_photo_upright_scaled_and_without_exif(world, ended, tmp_path):
    # A 3000×2000 camera photo stored sideways (EXIF orientation 6 = rotate 90° clockwise to view),
    # with a GPS position in its EXIF.
    source = make_jpeg(tmp_path / "IMG_0001.JPG", 3000, 2000, exif_orientation=6)
    with Image.open(source) as image:
        exif = image.getexif()
        exif[0x8825] = {1: "N", 2: (30.0, 15.0, 0.0)}  # GPSInfo
        image.save(source, format="JPEG", exif=exif.tobytes())
    summary = summaries.submit_summary(
        ended,
        {
            **DATA,
            "video_links": "https://v.example.cn/1\n\nhttps://v.example.cn/1",
            "news_links": ["http://news.cn/a"],
        },
        actor=world.users.pub_zj,
        photos=[upload(source)],
    )
    assert summary.submitted_at == datetime.fromisoformat(AFTER)
    assert summary.late is False
    assert summary.video_links == ["https://v.example.cn/1"]  # blank lines and duplicates dropped
    assert summary.news_links == ["http://news.cn/a"]
    photo = summary.photos.get()
    assert photo.image.name.startswith("summaries/2025/") or photo.image.name.startswith("summaries/")
    stem = Path(photo.image.name).stem
    assert len(stem) == 32 and "IMG" not in photo.image.name
    with photo.image.open("rb") as handle, Image.open(io.BytesIO(handle.read())) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (1067, 1600) == (photo.width, photo.height)  # upright and scaled
        assert not stored.getexif()  # no orientation, no GPS
        assert "exif" not in stored.info
        rgb = stored.convert("RGB")
        # The red band was on the LEFT of the stored frame; turned upright it runs along the TOP.
        red, green, _blue = rgb.getpixel((stored.width // 2, 20))
        assert red > 180 and green < 80
    entry = AuditEntry.objects.get(action="activity.summary")
    assert entry.actor == world.users.pub_zj and entry.object_id == str(ended.pk)
    assert entry.data["photos"] == 1 and entry.data["late"] is False


def test_png_with_transparency_becomes_webp_and_webp_is_accepted(world, ended, tmp_path):
    transparent = tmp_path / "logo.png"
    Image.new("RGBA", (400, 300), (0, 128, 255, 100)).save(transparent, format="PNG")
    summary = summaries.submit_summary(
        ended,
        DATA,
        actor=world.users.pub_zj,
        photos=[
            upload(transparent, content_type="image/png"),
            upload(make_png(tmp_path / "a.png", 800, 600), content_type="image/png"),
            upload(make_webp(tmp_path / "b.webp", 2400, 1200), content_type="image/webp"),
        ],
    )
    names = [Path(p.image.name).suffix for p in summary.photos.all()]
    assert names == [".webp", ".jpg", ".jpg"]
    assert [(p.width, p.height) for p in summary.photos.all()] == [(400, 300), (800, 600), (1600, 800)]


def test_not_before_the_end_not_for_another_unit_and_not_unpublished(world, clock):
    activity = world.activity(world.units.zj, Status.PUBLISHED)
    with pytest.raises(ValidationError, match="活动结束后才能提交总结"):
        summaries.submit_summary(activity, DATA, actor=world.users.pub_zj)
    clock(AFTER)
    with pytest.raises(PermissionDenied):
        summaries.submit_summary(activity, DATA, actor=world.users.pub_gd)
    with pytest.raises(PermissionDenied):
        summaries.submit_summary(activity, DATA, actor=world.users.admin_zj)
    returned = world.activity(world.units.zj, Status.RETURNED)
    with pytest.raises(PermissionDenied):
        summaries.submit_summary(returned, DATA, actor=world.users.pub_zj)
    assert not Summary.objects.exists()


def test_a_late_summary_is_accepted_and_marked_and_a_correction_keeps_the_first_time(world, ended, clock):
    clock("2025-09-26T08:00+08:00")  # due by the end of Sep 25
    summary = summaries.submit_summary(ended, DATA, actor=world.users.pub_zj)
    assert summary.late is True
    clock("2025-09-27T08:00+08:00")
    corrected = summaries.submit_summary(ended, {**DATA, "participants": 1500}, actor=world.users.pub_zj)
    assert corrected.pk == summary.pk and corrected.participants == 1500
    assert corrected.submitted_at == datetime.fromisoformat("2025-09-26T08:00+08:00")
    assert AuditEntry.objects.filter(action="activity.summary").count() == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("video_links", "javascript:alert(1)", "不是有效的网址"),
        ("news_links", "ftp://example.cn/a", "不是有效的网址"),
        ("news_links", "\n".join(f"https://n.example.cn/{i}" for i in range(6)), "最多 5 个"),
        ("participants", -1, "实际参与人数"),
        ("participants", "很多", "实际参与人数"),
        ("text", "  ", "必须填写"),
    ],
)
def test_bad_fields_are_refused_with_the_field_named(world, ended, field, value, message):
    with pytest.raises(ValidationError) as caught:
        summaries.submit_summary(ended, {**DATA, field: value}, actor=world.users.pub_zj)
    assert message in " ".join(caught.value.message_dict[field])
    assert not Summary.objects.exists()


def test_bad_photos_are_refused_and_leave_no_file(world, ended, tmp_path, media_root):
    good = upload(make_jpeg(tmp_path / "good.jpg", 640, 480))
    fake = SimpleUploadedFile("photo.jpg", b"<html>not an image</html>", content_type="image/jpeg")
    bomb = upload(make_huge_declared_png(tmp_path / "bomb.png"), content_type="image/png")
    gif = tmp_path / "anim.gif"
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    with pytest.raises(ValidationError) as caught:
        summaries.submit_summary(
            ended,
            DATA,
            actor=world.users.pub_zj,
            photos=[good, fake, bomb, upload(gif, content_type="image/gif")],
        )
    text = " ".join(caught.value.message_dict["photos"])
    assert "photo.jpg" in text and "JPEG、PNG 或 WebP" in text
    assert "bomb.png" in text and ("压缩炸弹" in text or "像素过多" in text)
    assert "anim.gif" in text
    assert not Summary.objects.exists() and not SummaryPhoto.objects.exists()
    assert stored_files(media_root) == []


def test_a_failed_save_deletes_the_files_it_wrote(world, ended, tmp_path, media_root, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(summaries.audit, "record", broken)
    photos = [upload(make_jpeg(tmp_path / f"{i}.jpg", 320, 240)) for i in range(3)]
    with pytest.raises(RuntimeError):
        summaries.submit_summary(ended, DATA, actor=world.users.pub_zj, photos=photos)
    assert stored_files(media_root) == []
    assert not Summary.objects.exists()


def test_at_most_nine_photos_and_removing_one_frees_a_place(
    world, ended, tmp_path, media_root, django_capture_on_commit_callbacks
):
    photos = [upload(make_jpeg(tmp_path / f"{i}.jpg", 64, 48)) for i in range(9)]
    summary = summaries.submit_summary(ended, DATA, actor=world.users.pub_zj, photos=photos)
    assert summary.photos.count() == 9
    extra = upload(make_jpeg(tmp_path / "ten.jpg", 64, 48))
    with pytest.raises(ValidationError, match="最多 9 张"):
        summaries.submit_summary(ended, DATA, actor=world.users.pub_zj, photos=[extra])
    first = summary.photos.first()
    with django_capture_on_commit_callbacks(execute=True):
        summaries.submit_summary(
            ended, DATA, actor=world.users.pub_zj, photos=[extra], remove_photo_ids=[first.pk]
        )
    assert summary.photos.count() == 9
    assert not first.image.storage.exists(first.image.name)
    assert len(stored_files(media_root)) == 9


# --- pages ------------------------------------------------------------------------------------------


def test_unit_page_shows_the_due_date_and_takes_the_summary(world, ended, client, tmp_path):
    review.login(client, world.users.pub_zj)
    detail = client.get(reverse("activities:detail", args=[ended.pk]))
    url = reverse("activities:summary", args=[ended.pk])
    assert url in detail.content.decode()
    page = client.get(url)
    assert page.status_code == 200 and "2025年9月25日" in page.content.decode()
    response = client.post(
        url,
        {
            "text": "<script>alert('x')</script>\n第二段",
            "participants": "321",
            "video_links": "https://v.example.cn/x",
            "news_links": "",
            "photos": [upload(make_jpeg(tmp_path / "p.jpg", 200, 100))],
        },
    )
    assert response.status_code == 302
    summary = Summary.objects.get(activity=ended)
    assert summary.participants == 321 and summary.photos.count() == 1

    public = client.get(reverse("portal:activity", args=[ended.pk])).content.decode()
    assert "活动总结" in public and "321" in public
    assert "<script>alert" not in public and "&lt;script&gt;alert" in public
    assert summary.photos.get().image.url in public
    assert 'href="https://v.example.cn/x"' in public


def test_unit_page_shows_errors_and_stores_nothing(world, ended, client):
    review.login(client, world.users.pub_zj)
    response = client.post(
        reverse("activities:summary", args=[ended.pk]),
        {
            "text": "好",
            "participants": "10",
            "news_links": "javascript:alert(1)",
            "photos": [SimpleUploadedFile("x.png", b"GIF89a", content_type="image/png")],
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "不是有效的网址" in body and "x.png" in body
    assert not Summary.objects.exists()


def test_other_unit_gets_404_and_an_unfinished_activity_is_refused(world, client, clock):
    activity = world.activity(world.units.zj, Status.PUBLISHED)
    url = reverse("activities:summary", args=[activity.pk])
    review.login(client, world.users.pub_zj)
    assert "活动结束" in client.get(url).content.decode()
    assert client.post(url, {"text": "x", "participants": "1"}).status_code == 403
    clock(AFTER)
    review.login(client, world.users.pub_gd)
    assert client.get(url).status_code == 404
    assert client.post(url, {"text": "x", "participants": "1"}).status_code == 404
    assert not Summary.objects.exists()


def test_public_page_without_a_summary_has_no_summary_section(world, ended, client):
    body = client.get(reverse("portal:activity", args=[ended.pk])).content.decode()
    assert 'id="summary"' not in body


def test_public_page_reads_the_summary_and_its_photos_in_two_queries(
    world, ended, client, tmp_path, django_assert_max_num_queries
):
    photos = [upload(make_jpeg(tmp_path / f"{i}.jpg", 64, 48)) for i in range(3)]
    summaries.submit_summary(ended, DATA, actor=world.users.pub_zj, photos=photos)
    url = reverse("portal:activity", args=[ended.pk])
    client.get(url)  # warm the region index and caches
    # The activity with its summary (1), its photos (1) and the films it screens (1, issue 15).
    with django_assert_max_num_queries(3):
        body = client.get(url).content.decode()
    assert body.count('class="summary-photos"') == 1 and body.count("活动照片") == 3
