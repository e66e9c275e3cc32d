"""Make real media files for tests, with PyAV and Pillow, into a directory the test owns (``tmp_path``).

Every function takes the destination path first, writes the file and returns it as a ``Path``. Sizes are
pixels, durations seconds. Other apps' tests import these (``from tests.calls.mediafiles import make_mp4``).
"""

from __future__ import annotations

import errno
import os
import struct
import threading
import time
import zipfile
import zlib
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw

# Encoder options that keep test encodes fast and quiet.
_CODEC_OPTIONS = {
    "h264": {"preset": "ultrafast", "tune": "zerolatency"},
    "hevc": {"preset": "ultrafast", "x265-params": "log-level=error"},
}


def has_encoder(codec: str) -> bool:
    """Whether this PyAV build can encode ``codec`` (e.g. ``"hevc"`` needs libx265)."""
    try:
        av.codec.Codec(codec, "w")
    except (av.FFmpegError, ValueError):
        return False
    return True


def sample_picture(width: int, height: int) -> Image.Image:
    """A picture whose orientation can be checked: grey, with a red band on the LEFT quarter of the stored
    frame and a white block at the TOP-left corner."""
    image = Image.new("RGB", (width, height), (90, 90, 90))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, max(width // 4 - 1, 0), height - 1), fill=(220, 20, 20))
    draw.rectangle((0, 0, max(width // 8 - 1, 0), max(height // 8 - 1, 0)), fill=(255, 255, 255))
    return image


def make_mp4(
    path,
    width: int = 1920,
    height: int = 1080,
    seconds: float = 2.0,
    codec: str = "h264",
    rotate: int = 0,
    fps: int = 10,
    gop: int | None = None,
    faststart: bool = False,
    container: str = "mp4",
) -> Path:
    """An MP4 (or another ``container``, e.g. ``"matroska"``) of ``seconds`` at ``fps`` frames per second.

    ``codec``: ``"h264"``, ``"hevc"``, ``"mpeg4"`` (MPEG-4 Part 2) … ``rotate``: clockwise degrees written as
    the track's display matrix (what phones write; a stored 1920×1080 with ``rotate=90`` displays 1080×1920).
    ``gop``: frames between keyframes (default: one per second). ``faststart``: index (moov) before the data.
    Cheap: one still picture encoded ``seconds × fps`` times (ultrafast), so 200 s at 1 fps takes ~0.1 s.
    """
    path = Path(path)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", format=container, options=options) as out:
        stream = out.add_stream(codec, rate=fps, options=_CODEC_OPTIONS.get(codec, {}))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.gop_size = gop or fps
        if rotate:
            stream.set_display_rotation(-rotate)  # PyAV takes counter-clockwise degrees
        frame = av.VideoFrame.from_image(sample_picture(width, height)).reformat(format="yuv420p")
        frame.time_base = Fraction(1, fps)
        for index in range(max(1, round(seconds * fps))):
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def make_mkv(path, width: int = 1920, height: int = 1080, seconds: float = 1.0, codec: str = "h264") -> Path:
    """A Matroska file (H.264 by default), whatever ``path``'s extension says."""
    return make_mp4(path, width, height, seconds, codec=codec, container="matroska")


def make_truncated_mp4(path, keep: float = 0.5, faststart: bool = False, **kwargs) -> Path:
    """An MP4 cut after ``keep`` (a fraction) of its bytes, as an interrupted upload leaves it.

    Without ``faststart`` the index (moov, at the end) is lost; with it, the index survives and the media data
    is cut short. Other keyword arguments go to ``make_mp4``.
    """
    path = Path(path)
    make_mp4(path, faststart=faststart, **kwargs)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def make_jpeg(
    path, width: int = 64, height: int = 48, quality: int = 85, exif_orientation: int | None = None
) -> Path:
    """A JPEG; ``exif_orientation`` (1–8) writes the EXIF Orientation tag."""
    path = Path(path)
    image = sample_picture(width, height)
    exif = Image.Exif()
    if exif_orientation:
        exif[0x0112] = exif_orientation
    image.save(path, format="JPEG", quality=quality, exif=exif.tobytes())
    return path


def make_png(path, width: int = 64, height: int = 48) -> Path:
    """A PNG."""
    path = Path(path)
    sample_picture(width, height).save(path, format="PNG")
    return path


def make_webp(path, width: int = 64, height: int = 48) -> Path:
    """A WebP."""
    path = Path(path)
    sample_picture(width, height).save(path, format="WEBP")
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def make_huge_declared_png(path, width: int = 30000, height: int = 30000) -> Path:
    """A tiny PNG (well under 1 KB) whose header declares ``width`` × ``height`` pixels (8-bit greyscale).

    Every chunk has a valid CRC; the pixel data holds only a few rows, so a reader that trusts the header and
    decodes would allocate ``width × height`` bytes and then find the data short.
    """
    path = Path(path)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" + b"\x00" * min(width, 1024), 9)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", rows)
        + _png_chunk(b"IEND", b"")
    )
    return path


def make_hls_playlist(path, target) -> Path:
    """An HLS playlist (text) whose one segment is ``target``, a local path; name it ``.mp4`` to disguise it."""
    path = Path(path)
    path.write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:10.0,\n{target}\n#EXT-X-ENDLIST\n",
        encoding="utf-8",
    )
    return path


def make_concat_playlist(path, target) -> Path:
    """An FFmpeg concat script naming ``target``, a local path; name it ``.mp4`` to disguise it."""
    path = Path(path)
    path.write_text(f"ffconcat version 1.0\nfile '{target}'\n", encoding="utf-8")
    return path


def make_docx(path, text: str = "我与农技协30周年") -> Path:
    """A minimal valid Word document (``.docx``: a ZIP with ``word/document.xml``) holding ``text``."""
    path = Path(path)
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="word/document.xml"/></Relationships>'
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("word/document.xml", document)
    return path


def make_pdf(path, pages: int = 1) -> Path:
    """A valid PDF of ``pages`` blank A4-ish pages (Pillow's PDF writer)."""
    path = Path(path)
    images = [Image.new("RGB", (595, 842), "white") for _ in range(pages)]
    images[0].save(path, format="PDF", save_all=True, append_images=images[1:])
    return path


class OpenWatch:
    """``opened`` becomes True when anything opens the watched FIFO for reading."""

    def __init__(self) -> None:
        self.opened = False


@contextmanager
def fifo_sentinel(path):
    """Make a FIFO at ``path`` and report whether anyone opened it while the block ran.

    A reader that opens a FIFO blocks until a writer arrives, so it cannot slip by unseen: a thread keeps
    trying a non-blocking open for writing, which fails with ENXIO until a reader has the FIFO open; when it
    succeeds it records the open and closes at once (the reader sees an empty file and goes on). Yields an
    ``OpenWatch``; check ``watch.opened`` after the block.
    """
    path = Path(path)
    os.mkfifo(path)
    watch = OpenWatch()
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as error:
                if error.errno != errno.ENXIO:
                    raise
                time.sleep(0.001)
                continue
            watch.opened = True
            os.close(fd)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        yield watch
        time.sleep(0.05)  # a reader still blocked in open() is released and seen now
    finally:
        stop.set()
        thread.join(timeout=5)
