"""Activity posters are stored upright and without EXIF (GPS, camera; issue 9 class 8, ADR 0014)."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kepuyue.activities import services
from tests.activities.test_services import good  # noqa: F401 - the fixture


def _poster_with_gps(kind="JPEG") -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 8  # displayed a quarter turn the other way: stored 60×40, shown 40×60
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825).update({1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)})
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (30, 90, 160)).save(out, format=kind, exif=exif.tobytes())
    return out.getvalue()


def test_jpeg_poster_stored_upright_without_gps(good, unit, media_root):  # noqa: F811
    activity = services.create_activity(
        unit, {**good, "poster": SimpleUploadedFile("p.jpg", _poster_with_gps())}
    )
    stored = media_root / activity.poster.name
    with Image.open(stored) as image:
        assert image.size == (40, 60) and not image.getexif()
    assert b"PhoneMaker" not in stored.read_bytes()


def test_webp_poster_stored_as_jpeg_without_exif(good, unit, media_root):  # noqa: F811
    poster = SimpleUploadedFile("p.webp", _poster_with_gps("WEBP"))
    activity = services.create_activity(unit, {**good, "poster": poster})
    assert activity.poster.name.endswith(".jpg")
    with Image.open(media_root / activity.poster.name) as image:
        assert image.format == "JPEG" and not image.getexif()
