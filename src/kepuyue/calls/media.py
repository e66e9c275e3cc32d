"""Media checks for calls for works (征集): short videos, route images and documents.

Pure functions over a file on local disk: no models, no requests, no Django. Upload code streams a file to a
temporary name, calls these, and moves the file into place only when the answer is ``ok``.

Videos are read with PyAV from headers and ONE decoded frame, never a full decode, so the time does not grow
with the file's size. The demuxer may read the uploaded file and nothing else (issue 5, "the demuxer may read
the uploaded file and nothing else"); four layers, each enough on its own for the cases tested:

1. the first bytes are sniffed here: an MP4 (ISO base media file) starts with an ``ftyp`` box, and every
   top-level box must fit inside the file, so an HLS (``#EXTM3U``) or concat (``ffconcat``) playlist never
   reaches FFmpeg, and a truncated upload is named as such;
2. the format is forced to FFmpeg's ``mov,mp4`` demuxer (no probing) and ``format_whitelist`` allows only it,
   also for any nested input a demuxer might try to open;
3. the file is handed to FFmpeg as a Python file object, ``protocol_whitelist`` names no protocol at all, and
   the mov demuxer's external data references are off (``enable_drefs=0``);
4. ``io_open`` is a callback that refuses every nested open, so a demuxer that tries one fails loudly.

Messages are Simplified Chinese, name the rule and cite the plan (``方案四(二)3``) where the rule comes from
the plan, or ``平台要求`` where the platform chose it (the plan asks for "MP4格式" and "分辨率不小于1920×1080",
not for a codec or for image limits).
"""

from __future__ import annotations

import os
import re
import struct
import zipfile
from dataclasses import dataclass, field
from typing import BinaryIO

import av
from PIL import Image, UnidentifiedImageError

__all__ = [
    "ALLOWED_VIDEO_CODECS",
    "MAX_VIDEO_PIXELS",
    "ImageCheck",
    "MediaError",
    "VideoCheck",
    "check_image",
    "check_video",
    "extract_poster",
    "sniff_document",
]

# H.264 or H.265: what phones and editing software export and what every browser and mini-program plays.
ALLOWED_VIDEO_CODECS = ("h264", "hevc")
CODEC_LABELS = {"h264": "H.264", "hevc": "H.265（HEVC）"}

# Larger frames are refused before anything is decoded: one 8192×8192 frame is already ~100 MB of YUV.
MAX_VIDEO_PIXELS = 8192 * 8192

# Packets read while looking for the first picture; a decoder with B-frame delay needs a few, never hundreds.
MAX_PACKETS_FOR_FIRST_FRAME = 250

# Top-level boxes walked by the sniffer; a fragmented MP4 of a few hours has a few thousand.
MAX_TOP_LEVEL_BOXES = 200_000

# FFmpeg's name for its ISO base media demuxer, whose name list covers mp4.
MOV_DEMUXER = "mov,mp4,m4a,3gp,3g2,mj2"

# QuickTime-only brand: a .mov is not the MP4 the plan asks for.
QUICKTIME_BRAND = b"qt  "

_OPEN_OPTIONS = {
    # No protocol is allowed: the input is a Python file object, and nested inputs (concat, HLS segments,
    # external references) would need one. "none" is not a protocol name, so nothing matches.
    "protocol_whitelist": "none",
    "format_whitelist": MOV_DEMUXER,
    "enable_drefs": "0",
    "use_absolute_path": "0",
}


class MediaError(ValueError):
    """A media file that cannot be used; ``str(error)`` is the Chinese reason, fit to show the uploader."""


@dataclass(frozen=True)
class VideoCheck:
    """The answer for one short video.

    ``ok``: accept it. ``errors``: reasons for refusal (Chinese, empty when ``ok``). ``warnings``: shown to the
    uploader but not blocking (e.g. longer than advised). ``width`` × ``height``: the DISPLAYED size in pixels,
    after rotation metadata (a stored 1920×1080 with ``rotation`` 90 is 1080×1920). ``duration``: seconds, from
    the file's headers. ``codec``: FFmpeg's decoder name, ``"h264"`` or ``"hevc"`` when accepted.
    ``rotation``: clockwise degrees to display the stored picture, 0/90/180/270 (the sense of the ``rotate`` tag
    phones write). Fields that could not be read are ``None``.
    """

    ok: bool
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    codec: str | None = None
    rotation: int = 0


@dataclass(frozen=True)
class ImageCheck:
    """The answer for one image: ``ok``, ``errors`` (Chinese), the displayed ``width`` × ``height`` in pixels
    (EXIF orientation honoured) and ``format`` (``"jpeg"``, ``"png"`` or ``"webp"``); ``None`` where unread."""

    ok: bool
    errors: list[str] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    format: str | None = None


# -- videos ------------------------------------------------------------------------------------------------


def check_video(path: str | os.PathLike, spec: dict, *, plan_ref: str | None = "四(二)3") -> VideoCheck:
    """Check an uploaded short video against a call's entry specification.

    ``path``: the uploaded file on local disk. ``spec``: the call's ``spec`` from the campaign YAML, e.g.
    ``{"container": "mp4", "min_width": 1920, "min_height": 1080, "max_seconds_advised": 180}`` (pixels,
    pixels, seconds; every key optional). ``plan_ref``: the plan section cited in messages; the default is the
    2025 plan's short-video clause, so pass the call's ``plan_ref`` for any other call (``None`` cites nothing).

    Rules (plan 四(二)3: "分辨率不小于1920×1080（1080p），MP4格式，时长建议不超过3分钟"; issue 5):

    - MP4 judged by content, never by the file name: an ``ftyp`` box first, every top-level box complete,
      a ``moov`` box present (QuickTime ``.mov`` with only the ``qt`` brand is refused);
    - an H.264 or H.265 video stream (``spec["codecs"]`` may narrow or widen ``ALLOWED_VIDEO_CODECS``);
    - displayed size ≥ ``min_width`` × ``min_height`` in landscape, or ≥ ``min_height`` × ``min_width`` in
      portrait; the stored pixel grid is what counts (sample aspect ratio is not used to stretch it);
    - duration above ``max_seconds_advised`` is accepted with a warning (the plan advises, it does not require);
    - a file whose first frame cannot be decoded, or whose frames exceed ``MAX_VIDEO_PIXELS``, is refused.

    Cost: headers plus one decoded frame, independent of the file's size. Returns a ``VideoCheck``; bad media
    never raises. Raises ``OSError`` if ``path`` cannot be read and ``ValueError`` for a ``spec`` asking for a
    container other than MP4 (the only demuxer this module lets FFmpeg use).
    """
    container_name = str(spec.get("container", "mp4")).lower()
    if container_name != "mp4":
        raise ValueError(f"check_video only validates MP4, the spec asks for {container_name!r}")
    cite = f"方案{plan_ref}：" if plan_ref else ""
    codecs = tuple(spec.get("codecs", ALLOWED_VIDEO_CODECS))

    problem = _sniff_mp4(path)
    if problem:
        return VideoCheck(ok=False, errors=[problem.format(cite=cite)])

    try:
        probe = _probe(path, decode_first_frame=True)
    except MediaError as error:
        return VideoCheck(ok=False, errors=[str(error)])

    errors: list[str] = []
    warnings: list[str] = []
    if probe.codec not in codecs:
        wanted = "或".join(CODEC_LABELS.get(c, c) for c in codecs)
        errors.append(f"平台要求：视频编码须为{wanted}，此文件的视频编码为{probe.codec_label}，请重新导出。")

    min_w, min_h = spec.get("min_width"), spec.get("min_height")
    if min_w and min_h and not _big_enough(probe.width, probe.height, int(min_w), int(min_h)):
        stored = ""
        if probe.rotation in (90, 270):
            stored = f"（存储为{probe.height}×{probe.width}，按旋转信息显示）"
        errors.append(
            f"{cite}分辨率不小于{min_w}×{min_h}（竖屏{min_h}×{min_w}），"
            f"此视频为{probe.width}×{probe.height}{stored}。"
        )

    duration = probe.duration
    if duration is None or duration <= 0:
        errors.append("无法从文件中读出视频时长，文件可能已损坏，请重新导出后上传。")
    else:
        advised = spec.get("max_seconds_advised")
        if advised and duration > float(advised):
            warnings.append(
                f"{cite}时长建议不超过{_fmt_seconds(float(advised))}，此视频时长{_fmt_seconds(duration)}；"
                "可以提交，但建议精简。"
            )

    return VideoCheck(
        ok=not errors,
        errors=errors,
        warnings=warnings,
        width=probe.width,
        height=probe.height,
        duration=duration,
        codec=probe.codec,
        rotation=probe.rotation,
    )


def extract_poster(
    path: str | os.PathLike, dest: str | os.PathLike | BinaryIO, *, quality: int = 85
) -> tuple[int, int]:
    """Write the first frame of an MP4 as a JPEG poster, in displayed orientation.

    ``dest``: a path or a writable binary file. ``quality``: JPEG quality, 1–95. Returns the poster's
    ``(width, height)`` in pixels (e.g. ``(1080, 1920)`` for a stored 1920×1080 with rotation 90). The file
    is opened as strictly as in ``check_video``; raises ``MediaError`` (a ``ValueError``, Chinese message) if
    it is not a decodable MP4, ``OSError`` if a path cannot be read or written. Used for the 探寻科学宝藏
    gallery (issue 5, "a poster frame extracted for the gallery").
    """
    problem = _sniff_mp4(path)
    if problem:
        raise MediaError(problem.format(cite=""))
    probe = _probe(path, decode_first_frame=True, keep_frame=True)
    image = probe.frame.to_image()
    transpose = {
        90: Image.Transpose.ROTATE_270,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }
    if probe.rotation in transpose:
        image = image.transpose(transpose[probe.rotation])
    image.save(dest, format="JPEG", quality=quality)
    return image.size


@dataclass
class _Probe:
    codec: str
    codec_label: str
    width: int
    height: int
    duration: float | None
    rotation: int
    frame: av.VideoFrame | None = None


def _probe(path, *, decode_first_frame: bool, keep_frame: bool = False) -> _Probe:
    """Open ``path`` with the restricted demuxer, read its first video stream and decode one frame.

    Returns the displayed size (pixels), duration (seconds), codec and clockwise rotation; raises
    ``MediaError`` with the reason when the file cannot be opened, has no video or no decodable frame.
    """
    refused_urls: list[str] = []
    try:
        with open(path, "rb") as fh, _open_input(fh, refused_urls) as container:
            stream = next(
                (
                    s
                    for s in container.streams.video
                    if not s.disposition & av.stream.Disposition.attached_pic
                ),
                None,
            )
            if stream is None or stream.codec_context is None:
                if stream is None:
                    raise MediaError("文件中没有视频画面（没有视频流）。")
                raise MediaError(
                    f"平台要求：视频编码须为H.264或H.265（HEVC），此文件的视频编码无法识别（{stream.codec.name}）。"
                )
            codec = stream.codec_context.name
            width, height = stream.codec_context.width, stream.codec_context.height
            label = CODEC_LABELS.get(codec, stream.codec_context.codec.long_name or codec)
            if not width or not height:
                raise MediaError("无法读出视频的分辨率，文件可能已损坏。")
            if width * height > MAX_VIDEO_PIXELS:
                raise MediaError(f"平台要求：视频画面过大（{width}×{height}），拒绝解码。")
            duration = _duration(container, stream)
            frame = _first_frame(container, stream) if decode_first_frame else None
            if decode_first_frame and frame is None:
                raise MediaError("无法解码视频的第一帧，文件可能已损坏或不完整，请重新导出后上传。")
            # FFmpeg gives the display matrix as counter-clockwise degrees in [-180, 180]; report clockwise.
            rotation = (-round((frame.rotation if frame is not None else 0) / 90) * 90) % 360
    except MediaError:
        raise
    except (av.FFmpegError, OSError, ValueError, RuntimeError, EOFError) as error:
        if refused_urls:
            raise MediaError("文件试图引用其他文件或网址（播放列表或外部引用），已拒绝。") from error
        raise MediaError(
            f"无法读取视频，文件可能已损坏或不完整（FFmpeg：{_ffmpeg_reason(error)}）。"
        ) from error
    if refused_urls:
        raise MediaError("文件试图引用其他文件或网址（播放列表或外部引用），已拒绝。")
    if rotation in (90, 270):
        width, height = height, width
    return _Probe(
        codec=codec,
        codec_label=label,
        width=width,
        height=height,
        duration=duration,
        rotation=rotation,
        frame=frame if keep_frame else None,
    )


def _open_input(fh: BinaryIO, refused_urls: list[str], *, format_name: str = "mp4", **options: str):
    """``av.open`` on an open binary file, restricted to reading that file (see the module docstring).

    Every nested open the demuxer attempts is refused and its URL appended to ``refused_urls``.
    ``format_name`` and ``options`` (FFmpeg options overriding ``_OPEN_OPTIONS``) exist so tests can aim the
    restrictions at a playlist demuxer and show each layer holds on its own; production code uses the defaults.
    """

    def refuse_nested_open(url, flags, open_options):
        refused_urls.append(url)
        raise PermissionError(f"nested input refused: {url}")

    return av.open(
        fh,
        mode="r",
        format=format_name,
        container_options={**_OPEN_OPTIONS, **options},
        # Codec options, for the decoders opened by find_stream_info and by us: refuse giant frames.
        options={"max_pixels": str(MAX_VIDEO_PIXELS)},
        io_open=refuse_nested_open,
    )


def _duration(container, stream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _first_frame(container, stream):
    """Decode until the first picture comes out; at most ``MAX_PACKETS_FOR_FIRST_FRAME`` packets.

    A packet the decoder rejects is skipped (the next keyframe may still decode); ``None`` if none does.
    """
    for count, packet in enumerate(container.demux(stream), start=1):
        try:
            frames = packet.decode()  # the last packet is a flush (no data), which drains the decoder
        except av.error.InvalidDataError:
            frames = []
        if frames:
            return frames[0]
        if count >= MAX_PACKETS_FOR_FIRST_FRAME:
            break
    try:
        frames = stream.codec_context.decode(None)
    except (av.error.InvalidDataError, av.error.EOFError):  # EOF: the demuxer's flush packet drained it
        return None
    return frames[0] if frames else None


def _ffmpeg_reason(error: Exception) -> str:
    reason = getattr(error, "strerror", None) or str(error)
    return reason.split(":")[0].strip() or type(error).__name__


def _big_enough(width: int, height: int, min_w: int, min_h: int) -> bool:
    long_min, short_min = max(min_w, min_h), min(min_w, min_h)
    return max(width, height) >= long_min and min(width, height) >= short_min


def _fmt_seconds(seconds: float) -> str:
    whole = round(seconds)
    if whole >= 60 and whole % 60 == 0:
        return f"{whole // 60}分钟"
    if whole >= 60:
        return f"{whole // 60}分{whole % 60}秒"
    return f"{seconds:.1f}秒".replace(".0秒", "秒")


_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG图片"),
    (b"\x89PNG\r\n\x1a\n", "PNG图片"),
    (b"GIF8", "GIF图片"),
    (b"#EXTM3U", "HLS播放列表"),
    (b"ffconcat", "concat播放列表"),
    (b"\x1a\x45\xdf\xa3", "Matroska/WebM视频"),
    (b"RIFF", "RIFF（AVI/WAV/WebP）文件"),
    (b"FLV", "FLV视频"),
    (b"%PDF-", "PDF文档"),
    (b"PK\x03\x04", "ZIP压缩包或Office文档"),
    (b"<", "文本/网页/播放列表"),
)


def _sniff_mp4(path) -> str | None:
    """Walk the top-level ISO-BMFF boxes; return a message template (``{cite}``) for a refusal, or ``None``.

    Reads 16 bytes per top-level box (and the ``ftyp`` payload): time grows with the number of boxes, not
    with the size of the media data they hold.
    """
    size = os.stat(path).st_size
    not_mp4 = "{cite}须为MP4格式；按文件内容判断，此文件不是MP4"
    if size == 0:
        return "文件为空，请重新上传。"
    with open(path, "rb") as fh:
        head = fh.read(16)
        if len(head) < 8 or head[4:8] != b"ftyp":
            what = next((name for magic, name in _SIGNATURES if head.startswith(magic)), None)
            if what is None and head[:1] == b"\x47":
                what = "MPEG-TS视频"
            return not_mp4 + (f"（识别为{what}）。" if what else "。")
        ftyp_size = struct.unpack(">I", head[:4])[0]
        if ftyp_size < 16 or ftyp_size > 4096:
            return not_mp4 + "（ftyp box无效）。"
        ftyp = fh.read(ftyp_size - 16) if ftyp_size > 16 else b""
        brands = {head[8:12]} | {ftyp[i : i + 4] for i in range(0, len(ftyp) - 3, 4)}
        if brands <= {QUICKTIME_BRAND}:
            return not_mp4 + "（识别为QuickTime MOV，请导出为MP4）。"

        pos, seen_moov, count = 0, False, 0
        while pos < size:
            count += 1
            if count > MAX_TOP_LEVEL_BOXES:
                return not_mp4 + "（结构异常：顶层box过多）。"
            if size - pos < 8:
                return _truncated(f"文件末尾只剩{size - pos}字节，不足一个box头")
            fh.seek(pos)
            header = fh.read(16)
            box_size, box_type = struct.unpack(">I4s", header[:8])
            header_len = 8
            if box_size == 1:
                if len(header) < 16:
                    return _truncated("最后一个box的64位长度不完整")
                box_size, header_len = struct.unpack(">Q", header[8:16])[0], 16
            elif box_size == 0:  # "extends to the end of the file"
                box_size = size - pos
            if box_size < header_len:
                return not_mp4 + f"（第{count}个box长度无效）。"
            if pos + box_size > size:
                name = box_type.decode("latin-1")
                return _truncated(f"“{name}” box声明{box_size}字节，文件只剩{size - pos}字节")
            seen_moov = seen_moov or box_type == b"moov"
            pos += box_size
    if not seen_moov:
        return _truncated("缺少moov box（索引），通常是录制或上传中断")
    return None


def _truncated(detail: str) -> str:
    return f"文件不完整（{detail}），请重新上传完整的视频文件。"


# -- images ------------------------------------------------------------------------------------------------

_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}


def check_image(
    path: str | os.PathLike,
    *,
    max_bytes: int,
    max_pixels: int,
    formats: tuple[str, ...] | list[str] = ("jpeg", "png", "webp"),
) -> ImageCheck:
    """Check an uploaded image (a CityWalk route image, plan 四(二)2 "图片形式"; limits are the platform's).

    ``max_bytes``: the largest file in bytes. ``max_pixels``: the largest width × height in pixels, checked on
    the size DECLARED in the header before any pixel is decoded (decompression bombs). ``formats``: allowed
    formats among ``"jpeg"``, ``"png"``, ``"webp"`` (``"jpg"`` means ``"jpeg"``), judged by content; Pillow is
    only allowed to try these. Animated images are refused. The whole image is then decoded once (bounded by
    ``max_pixels``), so truncated and corrupt files are refused. Returns an ``ImageCheck``; bad images never
    raise; ``OSError`` if ``path`` cannot be read.
    """
    wanted = [_PIL_FORMATS["jpeg" if f.lower() == "jpg" else f.lower()] for f in formats]
    names = "、".join(dict.fromkeys(w.replace("WEBP", "WebP") for w in wanted))
    size = os.stat(path).st_size
    if size == 0:
        return ImageCheck(ok=False, errors=["文件为空，请重新上传。"])
    if size > max_bytes:
        return ImageCheck(
            ok=False, errors=[f"平台要求：图片不超过{_fmt_bytes(max_bytes)}，此文件为{_fmt_bytes(size)}。"]
        )
    try:
        with Image.open(path, formats=wanted) as im:
            fmt = im.format.lower()
            width, height = im.size
            if width * height > max_pixels:
                return ImageCheck(
                    ok=False,
                    errors=[
                        f"平台要求：图片不超过{max_pixels:,}像素，此图片声明为{width}×{height}，拒绝解码。"
                    ],
                    width=width,
                    height=height,
                    format=fmt,
                )
            if getattr(im, "n_frames", 1) > 1:
                return ImageCheck(ok=False, errors=["平台要求：不接受动图，请上传静态图片。"], format=fmt)
            im.verify()  # checksums (PNG CRCs) without keeping pixels
        with Image.open(path, formats=wanted) as im:
            im.load()
            orientation = im.getexif().get(0x0112, 1)
        if orientation in (5, 6, 7, 8):  # EXIF: rotated a quarter turn to display
            width, height = height, width
    except Image.DecompressionBombError as error:
        # Pillow's own guard (Image.MAX_IMAGE_PIXELS × 2) fired while reading the header, before ours.
        declared = re.search(r"\((\d+) pixels\)", str(error))
        said = f"，此图片声明为{int(declared.group(1)):,}像素" if declared else ""
        return ImageCheck(ok=False, errors=[f"平台要求：图片不超过{max_pixels:,}像素{said}，拒绝解码。"])
    except UnidentifiedImageError:
        return ImageCheck(ok=False, errors=[f"平台要求：图片须为{names}格式；按文件内容判断，此文件不是。"])
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError) as error:
        return ImageCheck(ok=False, errors=[f"图片已损坏或不完整，无法解码（{type(error).__name__}）。"])
    return ImageCheck(ok=True, errors=[], width=width, height=height, format=fmt)


def _fmt_bytes(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} 字节"


# -- documents ---------------------------------------------------------------------------------------------

MAX_DOCX_ENTRIES = 10_000


def sniff_document(path: str | os.PathLike) -> str | None:
    """Say what a document is by its content: ``"pdf"``, ``"docx"`` or ``None``.

    PDF: starts with ``%PDF-``. DOCX: a ZIP whose central directory lists ``[Content_Types].xml`` and
    ``word/document.xml`` (at most ``MAX_DOCX_ENTRIES`` entries; nothing is decompressed). Essays and work
    plans are ``.docx``/``.pdf`` (plan 六(三)4, 七(四)1; issue 5). Raises ``OSError`` if ``path`` cannot be read.
    """
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return None
        if len(infos) > MAX_DOCX_ENTRIES:
            return None
        names = {info.filename for info in infos}
        if {"[Content_Types].xml", "word/document.xml"} <= names:
            return "docx"
    return None
