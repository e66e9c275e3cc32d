"""Hostile uploads (issue 9 classes 2 and 8, issue 11 point 3): every upload path of the calls for works — route
images and videos by multipart, videos by tus, documents — fed files and headers made to hurt.

Each input asserts: a refusal with a Chinese message (or harmless storage: re-encoded, under the platform's own
name), never a 5xx, and no file left behind in the upload temporaries, the private storage or the public media
(a refused file's bytes are gone when the request ends, whatever refused it).
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.test import Client
from PIL import Image

from kepuyue.calls.models import Entry
from tests.calls.conftest import base, files_in, plan, staff, storages  # noqa: F401 - fixtures
from tests.calls.mediafiles import (
    make_concat_playlist,
    make_hls_playlist,
    make_huge_declared_png,
    make_jpeg,
    make_mkv,
    make_mp4,
    make_truncated_mp4,
)
from tests.calls.test_uploads import NEW_ROUTE, NEW_VIDEO, TUS_CREATE, tus_create, tus_headers

pytestmark = pytest.mark.django_db

STOPS = {
    "title": "植物之旅",
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


@pytest.fixture
def unit_client(client, staff):  # noqa: F811
    client.force_login(staff)
    return client


def nothing_left(storages, *, private_ok=False):  # noqa: F811
    """No upload temporary (tus state included) and, unless an entry was accepted, nothing stored."""
    assert files_in(storages["temp"]) == []
    assert files_in(storages["public"]) == []
    if not private_ok:
        assert files_in(storages["private"]) == []


def ok_status(response) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:300])


# --- files that are not what they say ------------------------------------------------------------


def _png_bytes(width=40, height=30, mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (200, 40, 40) if mode == "RGB" else 0).save(out, format="PNG", **save)
    return out.getvalue()


def _jpeg_bytes(width=40, height=30, mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height)).save(out, format="JPEG")
    return out.getvalue()


def _bad_crc_png() -> bytes:
    data = bytearray(_png_bytes())
    data[29] ^= 0xFF  # inside IHDR's CRC
    return bytes(data)


def _animated_webp() -> bytes:
    out = io.BytesIO()
    frames = [Image.new("RGB", (20, 20), c) for c in ((255, 0, 0), (0, 255, 0))]
    frames[0].save(out, format="WEBP", save_all=True, append_images=frames[1:])
    return out.getvalue()


def _png_bomb(width=100_000, height=100_000) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 4096))
        + chunk(b"IEND", b"")
    )


# (name, bytes): route images that must be refused.
REFUSED_IMAGES = [
    ("empty.png", b""),
    ("one-byte.jpg", b"\xff"),
    ("png-magic-garbage.png", b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 100),
    ("jpeg-magic-garbage.jpg", b"\xff\xd8\xff\xe0" + b"\x13" * 500),
    ("text.jpg", "这不是图片，是一段文字。".encode() * 20),
    ("gif.png", b"GIF89a" + b"\x01\x00\x01\x00\x80\x00\x00" + b"\x00" * 30),
    ("svg.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'),
    ("pdf.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"),
    ("html.webp", b"<!doctype html><script>alert(1)</script>"),
    ("zip.png", b"PK\x03\x04" + b"\x00" * 200),
    ("truncated.jpg", _jpeg_bytes(400, 300)[:300]),
    ("truncated.png", _png_bytes(400, 300)[:120]),
    ("bad-crc.png", _bad_crc_png()),
    ("bomb-100k.png", _png_bomb()),
    ("bomb-wide.png", _png_bomb(2_000_000, 30)),
    ("animated.webp", _animated_webp()),
    ("elf.jpg", b"\x7fELF\x02\x01\x01" + b"\x00" * 100),
    ("riff-not-webp.webp", b"RIFF\x10\x00\x00\x00WAVEfmt " + b"\x00" * 16),
]


@pytest.mark.parametrize(("name", "content"), REFUSED_IMAGES, ids=[n for n, _c in REFUSED_IMAGES])
def test_route_image_refused_and_nothing_left(unit_client, storages, name, content):  # noqa: F811
    response = unit_client.post(NEW_ROUTE, {**STOPS, "images": _file(name, content)})
    ok_status(response)
    assert response.status_code == 400
    assert "images" in response.context["errors"] or "文件为空" in response.content.decode()
    assert not Entry.objects.exists()
    nothing_left(storages)


def test_route_image_pillow_bomb_guard_refused(unit_client, storages, tmp_path, settings):  # noqa: F811
    # Pillow's own limit (MAX_IMAGE_PIXELS) fires before ours: still a refusal with a message.
    bomb = make_huge_declared_png(tmp_path / "b.png", 60_000, 60_000)
    response = unit_client.post(NEW_ROUTE, {**STOPS, "images": _file("b.png", bomb.read_bytes())})
    assert response.status_code == 400 and "像素" in response.content.decode()
    nothing_left(storages)


def test_too_many_route_images_refused(unit_client, storages):  # noqa: F811
    images = [_file(f"{i}.png", _png_bytes()) for i in range(7)]
    response = unit_client.post(NEW_ROUTE, {**STOPS, "images": images})
    assert response.status_code == 400 and "最多6张" in response.content.decode()
    nothing_left(storages)


def test_route_image_over_size_limit_stops_streaming(unit_client, storages, plan):  # noqa: F811
    routes = plan.calls.get(slug="citywalk-routes")
    routes.spec = {**routes.spec, "max_image_bytes": 1000}
    routes.save()
    response = unit_client.post(
        NEW_ROUTE, {**STOPS, "images": _file("big.png", _png_bytes(300, 300) + b"\0" * 5000)}
    )
    ok_status(response)
    assert response.status_code in (400, 413)
    nothing_left(storages)


# (name, bytes-maker): files that are accepted, but only as a clean re-encoded image under the entry's own name.
def _polyglot_jpeg_zip():
    return _jpeg_bytes(60, 40) + b"PK\x03\x04" + b"evil-zip-payload" * 10


def _jpeg_with_script_tail():
    return _jpeg_bytes(60, 40) + b"<script>alert(document.cookie)</script>"


def _cmyk_jpeg():
    return _jpeg_bytes(60, 40, mode="CMYK")


def _palette_png_transparent():
    out = io.BytesIO()
    Image.new("P", (30, 30)).save(out, format="PNG", transparency=0)
    return out.getvalue()


def _png_16bit():
    out = io.BytesIO()
    Image.new("I;16", (30, 30)).save(out, format="PNG")
    return out.getvalue()


HARMLESS_IMAGES = [
    ("../../../../etc/passwd.png", lambda: _png_bytes()),
    ("..\\..\\windows\\win.ini.png", lambda: _png_bytes()),
    ("a\x00b.png", lambda: _png_bytes()),
    ("路线图①②.png", lambda: _png_bytes()),
    ("x" * 200 + ".png", lambda: _png_bytes()),
    ("polyglot.jpg", _polyglot_jpeg_zip),
    ("script-tail.jpg", _jpeg_with_script_tail),
    ("cmyk.jpg", _cmyk_jpeg),
    ("palette.png", _palette_png_transparent),
    ("deep.png", _png_16bit),
    ("photo.exe", lambda: _png_bytes()),
]


@pytest.mark.parametrize(
    ("name", "make"), HARMLESS_IMAGES, ids=[f"harmless-{i}" for i in range(len(HARMLESS_IMAGES))]
)
def test_route_image_stored_harmlessly(unit_client, storages, name, make):  # noqa: F811
    # The raw multipart body: the test client would strip the name's folders itself.
    body, content_type = _multipart(STOPS, {"images": (name, make())})
    response = unit_client.generic("POST", NEW_ROUTE, body, content_type=content_type)
    ok_status(response)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = Entry.objects.get()
    stored = files_in(storages["private"])
    assert [Path(p).name for p in stored] in (["route-1.jpg"], ["route-1.png"])
    assert all(p.startswith(f"calls/kepuyue-2025/citywalk-routes/{entry.code}/") for p in stored)
    content = (storages["private"] / stored[0]).read_bytes()
    assert b"PK\x03\x04" not in content and b"<script" not in content
    with Image.open(storages["private"] / stored[0]) as image:
        assert not image.getexif()
    assert files_in(storages["temp"]) == []


def test_route_image_name_over_the_header_limit_refused(unit_client, storages):  # noqa: F811
    body, content_type = _multipart(STOPS, {"images": ("x" * 20_000 + ".png", _png_bytes())})
    response = unit_client.generic("POST", NEW_ROUTE, body, content_type=content_type)
    assert response.status_code == 400 and "请求无法处理" in response.content.decode()
    nothing_left(storages)


def test_route_webp_with_gps_exif_stored_as_jpeg_without_it(unit_client, storages, tmp_path):  # noqa: F811
    webp = tmp_path / "gps.webp"
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825).update({1: "N", 2: (30.0, 15.0, 0.0)})  # GPSLatitudeRef, GPSLatitude
    Image.new("RGB", (50, 40), (10, 200, 10)).save(webp, format="WEBP", exif=exif.tobytes())
    response = unit_client.post(NEW_ROUTE, {**STOPS, "images": _file("gps.webp", webp.read_bytes())})
    assert response.status_code == 302
    (stored,) = files_in(storages["private"])
    assert stored.endswith(".jpg")
    with Image.open(storages["private"] / stored) as image:
        assert image.format == "JPEG" and not image.getexif()


# --- videos by multipart -------------------------------------------------------------------------


def _video_inputs(folder: Path) -> list[tuple[str, bytes]]:
    hd = make_mp4(folder / "hd.mp4", 1920, 1080, seconds=0.5)
    return [
        ("empty.mp4", b""),
        ("jpeg.mp4", make_jpeg(folder / "p.jpg").read_bytes()),
        (
            "truncated-index-lost.mp4",
            make_truncated_mp4(
                folder / "t1.mp4", keep=0.5, width=1920, height=1080, seconds=0.5
            ).read_bytes(),
        ),
        (
            "truncated-faststart.mp4",
            make_truncated_mp4(
                folder / "t2.mp4", keep=0.3, faststart=True, width=1920, height=1080, seconds=0.5
            ).read_bytes(),
        ),
        ("matroska.mp4", make_mkv(folder / "m.mkv", 1920, 1080, seconds=0.5).read_bytes()),
        ("hls.mp4", make_hls_playlist(folder / "h.m3u8", hd).read_bytes()),
        ("concat.mp4", make_concat_playlist(folder / "c.txt", hd).read_bytes()),
        ("ftyp-only.mp4", struct.pack(">I", 16) + b"ftypisom" + b"\0\0\0\0"),
        (
            "huge-box.mp4",
            struct.pack(">I", 16) + b"ftypisom\0\0\0\0" + struct.pack(">I", 0xFFFFFFF0) + b"mdat",
        ),
        ("random.mp4", bytes(range(256)) * 40),
        ("polyglot-html.mp4", b"<html>" + hd.read_bytes()),
    ]


VIDEO_NAMES = [
    "empty.mp4",
    "jpeg.mp4",
    "truncated-index-lost.mp4",
    "truncated-faststart.mp4",
    "matroska.mp4",
    "hls.mp4",
    "concat.mp4",
    "ftyp-only.mp4",
    "huge-box.mp4",
    "random.mp4",
    "polyglot-html.mp4",
]


@pytest.mark.parametrize("name", VIDEO_NAMES)
def test_video_refused_and_nothing_left(unit_client, storages, tmp_path, name):  # noqa: F811
    content = dict(_video_inputs(tmp_path))[name]
    response = unit_client.post(
        NEW_VIDEO, {"title": "t", "theme": "base-tour", "video": _file(name, content)}
    )
    ok_status(response)
    assert response.status_code == 400
    assert not Entry.objects.exists()
    nothing_left(storages)


# --- tus headers ---------------------------------------------------------------------------------

BAD_LENGTHS = ["-1", "-0", "²", "１２３", "٣٣", "1e9", "0x10", str(2**64), "", "10 10", "+5", "0"]


@pytest.mark.parametrize("value", BAD_LENGTHS)
def test_tus_create_bad_length_refused_before_anything(unit_client, storages, value):  # noqa: F811
    response = unit_client.post(TUS_CREATE, **tus_headers(upload_length=value))
    ok_status(response)
    assert response.status_code in (400, 413)
    assert response.content.decode()  # a Chinese reason
    nothing_left(storages)


def test_tus_declared_length_over_the_call_limit_refused_before_the_body(unit_client, storages):  # noqa: F811
    response = unit_client.post(TUS_CREATE, **tus_headers(upload_length=str(3 * 1024**3)))
    assert response.status_code == 413 and "视频不超过" in response.content.decode()
    nothing_left(storages)


@pytest.mark.parametrize(
    "metadata",
    ["filename", "filename !!!notbase64", "filename " + "QUJD" * 5000, "filename Li4vLi4vZXRjL3Bhc3N3ZA=="],
)
def test_tus_metadata_harmless(unit_client, storages, metadata):  # noqa: F811
    response = unit_client.post(TUS_CREATE, **tus_headers(upload_length="10", upload_metadata=metadata))
    ok_status(response)
    assert response.status_code in (201, 400)
    for path in files_in(storages["temp"]):
        assert path.startswith("tus/") and ".." not in path


@pytest.mark.parametrize("upload_id", ["..%2F..%2Fetc%2Fpasswd", "0" * 31, "g" * 32, "A" * 32, "%00" * 4])
def test_tus_upload_id_traversal_is_404(unit_client, storages, upload_id):  # noqa: F811
    response = unit_client.head(f"/calls/tus/u/{upload_id}", **tus_headers())
    ok_status(response)
    assert response.status_code in (404, 400)


def test_tus_patch_beyond_declared_length_refused_before_reading(unit_client, storages):  # noqa: F811
    url = tus_create(unit_client, 10)
    response = unit_client.generic(
        "PATCH",
        url,
        b"x" * 50,
        content_type="application/offset+octet-stream",
        **tus_headers(upload_offset="0"),
    )
    assert response.status_code == 413
    assert Path(storages["temp"] / "tus" / (url.rsplit("/", 1)[1] + ".part")).stat().st_size == 0


# --- the request itself --------------------------------------------------------------------------


def _big_png_bytes() -> bytes:
    """A real PNG above FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), so Django's own handler writes it to disk."""
    return _png_bytes(40, 30) + b"\0" * (3 * 1024 * 1024)


def test_bad_csrf_token_leaves_no_temporary(staff, storages, settings):  # noqa: F811
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff)
    response = strict.post("/org/activities/", {"poster": _file("p.png", _big_png_bytes()), "x": "1"})
    assert response.status_code == 403
    nothing_left(storages)


def test_too_many_fields_leaves_no_temporary(unit_client, storages, settings):  # noqa: F811
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    data = {"poster": _file("p.png", _big_png_bytes()), **{f"f{i}": "x" for i in range(20)}}
    response = unit_client.post("/org/activities/new/", data)
    ok_status(response)
    assert response.status_code == 400
    nothing_left(storages)


def test_too_many_files_leaves_no_temporary(unit_client, storages, settings):  # noqa: F811
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 1
    data = {"a": _file("a.png", _big_png_bytes()), "b": _file("b.png", _big_png_bytes())}
    response = unit_client.post("/org/activities/new/", data)
    ok_status(response)
    assert response.status_code == 400
    nothing_left(storages)


def test_route_form_too_many_fields_leaves_no_temporary(unit_client, storages, settings):  # noqa: F811
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    response = unit_client.post(NEW_ROUTE, {"images": _file("r.png", _png_bytes()), **STOPS})
    ok_status(response)
    assert response.status_code == 400
    nothing_left(storages)


def test_unknown_file_field_stops_the_upload(unit_client, storages):  # noqa: F811
    response = unit_client.post(NEW_ROUTE, {**STOPS, "evil": _file("x.png", _png_bytes())})
    ok_status(response)
    assert response.status_code == 400
    nothing_left(storages)


def test_declared_body_too_large_refused_before_reading(unit_client, storages):  # noqa: F811
    response = unit_client.generic(
        "POST", NEW_ROUTE, b"", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(10**12)
    )
    assert response.status_code == 413 and "上限" in response.content.decode()
    nothing_left(storages)


class _Disconnecting(io.RawIOBase):
    """A request body that breaks after ``limit`` bytes, like a phone that lost its network."""

    def __init__(self, payload: bytes, limit: int):
        self.payload, self.limit, self.pos = payload, limit, 0

    def readable(self):
        return True

    def read(self, size=-1):
        if self.pos >= self.limit:
            raise OSError("connection reset by peer")
        size = self.limit - self.pos if size is None or size < 0 else min(size, self.limit - self.pos)
        chunk = self.payload[self.pos : self.pos + size]
        self.pos += len(chunk)
        return chunk

    def readline(self, size=-1):
        return self.read(size)


def _multipart(fields: dict, files: dict, csrf: str = "") -> tuple[bytes, str]:
    boundary = "----hostileboundary"
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, content) in files.items():
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: image/png\r\n\r\n".encode("utf-8", "surrogateescape")
        )
        out.write(content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("url", [NEW_ROUTE, "/org/activities/new/"])
def test_client_disconnect_mid_file_leaves_no_temporary(unit_client, storages, url):  # noqa: F811
    body, content_type = _multipart(
        STOPS, {"images" if url == NEW_ROUTE else "poster": ("r.png", _big_png_bytes())}
    )
    stream = _Disconnecting(body, len(body) // 2)
    response = unit_client.generic(
        "POST", url, b"", content_type=content_type, CONTENT_LENGTH=str(len(body)), **{"wsgi.input": stream}
    )
    ok_status(response)
    nothing_left(storages)


def _file(name: str, content: bytes):
    handle = io.BytesIO(content)
    handle.name = name
    return handle
