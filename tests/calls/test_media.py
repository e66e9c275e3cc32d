"""The media checks of calls for works (issue 5), each on a real file made in the test."""

import zipfile

import av
import pytest
from PIL import Image

from kepuyue.calls import media
from kepuyue.calls.media import MediaError, check_image, check_video, extract_poster, sniff_document
from tests.calls.mediafiles import (
    fifo_sentinel,
    has_encoder,
    make_concat_playlist,
    make_docx,
    make_hls_playlist,
    make_huge_declared_png,
    make_jpeg,
    make_mkv,
    make_mp4,
    make_pdf,
    make_png,
    make_truncated_mp4,
    make_webp,
)

# The 探寻科学宝藏 spec from campaigns/kepuyue-2025.yaml (plan 四(二)3).
SPEC = {"container": "mp4", "min_width": 1920, "min_height": 1080, "max_seconds_advised": 180}
PLAYLISTS = {"hls": make_hls_playlist, "concat": make_concat_playlist}


# -- videos: accepted ------------------------------------------------------------------------------------


def test_check_video_1920x1080_h264_accepted(tmp_path):
    result = check_video(make_mp4(tmp_path / "clip.mp4", 1920, 1080, seconds=2.0), SPEC)

    assert result.ok, result.errors
    assert (result.errors, result.warnings) == ([], [])
    assert (result.width, result.height, result.codec, result.rotation) == (1920, 1080, "h264", 0)
    assert result.duration == pytest.approx(2.0, abs=0.05)


def test_check_video_1080x1920_portrait_accepted(tmp_path):
    result = check_video(make_mp4(tmp_path / "clip.mp4", 1080, 1920, seconds=1.0), SPEC)

    assert result.ok, result.errors
    assert (result.width, result.height) == (1080, 1920)


def test_check_video_judged_by_content_not_extension(tmp_path):
    result = check_video(make_mp4(tmp_path / "clip.bin", 1920, 1080, seconds=1.0), SPEC)

    assert result.ok, result.errors


@pytest.mark.skipif(not has_encoder("hevc"), reason="this PyAV build has no H.265 (libx265) encoder")
def test_check_video_h265_accepted(tmp_path):
    result = check_video(make_mp4(tmp_path / "clip.mp4", 1920, 1080, seconds=1.0, codec="hevc"), SPEC)

    assert result.ok, result.errors
    assert result.codec == "hevc"


def test_check_video_200_seconds_accepted_with_warning(tmp_path):
    result = check_video(make_mp4(tmp_path / "long.mp4", 1920, 1080, seconds=200, fps=1, gop=200), SPEC)

    assert result.ok, result.errors
    assert result.duration == pytest.approx(200.0, abs=1.0)
    assert result.warnings == ["方案四(二)3：时长建议不超过3分钟，此视频时长3分20秒；可以提交，但建议精简。"]


def test_check_video_180_seconds_has_no_warning(tmp_path):
    result = check_video(make_mp4(tmp_path / "ok.mp4", 1920, 1080, seconds=180, fps=1, gop=180), SPEC)

    assert result.ok and result.warnings == []


# -- videos: rotation metadata ---------------------------------------------------------------------------


def test_check_video_stored_portrait_with_rotation_judged_by_displayed_size(tmp_path):
    # Stored 1080×1920 with a quarter turn displays 1920×1080, the way a phone held sideways records.
    path = make_mp4(tmp_path / "phone.mp4", 1080, 1920, seconds=1.0, rotate=90)
    with av.open(str(path)) as container:  # the display matrix really is in the file
        assert next(container.decode(video=0)).rotation == -90  # FFmpeg: counter-clockwise degrees

    result = check_video(path, SPEC)

    assert result.ok, result.errors
    assert (result.width, result.height, result.rotation) == (1920, 1080, 90)


def test_check_video_stored_landscape_rotated_displays_portrait(tmp_path):
    result = check_video(make_mp4(tmp_path / "clip.mp4", 1920, 1080, seconds=1.0, rotate=270), SPEC)

    assert result.ok, result.errors
    assert (result.width, result.height, result.rotation) == (1080, 1920, 270)


def test_check_video_rotated_720p_refused_naming_displayed_and_stored_size(tmp_path):
    result = check_video(make_mp4(tmp_path / "clip.mp4", 1280, 720, seconds=1.0, rotate=90), SPEC)

    assert not result.ok
    assert result.errors == [
        "方案四(二)3：分辨率不小于1920×1080（竖屏1080×1920），此视频为720×1280（存储为1280×720，按旋转信息显示）。"
    ]


# -- videos: refused -------------------------------------------------------------------------------------


def test_check_video_1280x720_refused_with_reason(tmp_path):
    result = check_video(make_mp4(tmp_path / "small.mp4", 1280, 720, seconds=1.0), SPEC)

    assert not result.ok
    assert result.errors == ["方案四(二)3：分辨率不小于1920×1080（竖屏1080×1920），此视频为1280×720。"]
    assert (result.width, result.height) == (1280, 720)


def test_check_video_cites_the_calls_plan_ref(tmp_path):
    path = make_mp4(tmp_path / "small.mp4", 640, 360, seconds=1.0)

    assert check_video(path, SPEC, plan_ref="二(二)1").errors[0].startswith("方案二(二)1：分辨率")
    assert check_video(path, SPEC, plan_ref=None).errors[0].startswith("分辨率不小于")


def test_check_video_jpeg_renamed_mp4_refused(tmp_path):
    result = check_video(make_jpeg(tmp_path / "photo.mp4", 1920, 1080), SPEC)

    assert not result.ok
    assert result.errors == ["方案四(二)3：须为MP4格式；按文件内容判断，此文件不是MP4（识别为JPEG图片）。"]


def test_check_video_matroska_renamed_mp4_refused(tmp_path):
    result = check_video(make_mkv(tmp_path / "clip.mp4", 1920, 1080, seconds=1.0), SPEC)

    assert not result.ok
    assert result.errors == [
        "方案四(二)3：须为MP4格式；按文件内容判断，此文件不是MP4（识别为Matroska/WebM视频）。"
    ]


def test_check_video_quicktime_mov_refused(tmp_path):
    result = check_video(make_mp4(tmp_path / "clip.mp4", 1920, 1080, seconds=1.0, container="mov"), SPEC)

    assert not result.ok
    assert "QuickTime MOV" in result.errors[0]


@pytest.mark.parametrize(
    ("keep", "faststart"),
    [(0.5, False), (0.5, True), (0.97, True)],
    ids=["index-lost", "data-cut", "last-bytes-missing"],
)
def test_check_video_truncated_mp4_refused(tmp_path, keep, faststart):
    path = make_truncated_mp4(tmp_path / "cut.mp4", keep=keep, faststart=faststart, width=1920, height=1080)

    result = check_video(path, SPEC)

    assert not result.ok
    assert result.errors[0].startswith("文件不完整（")
    assert result.errors[0].endswith("请重新上传完整的视频文件。")


def test_check_video_first_frame_undecodable_refused(tmp_path):
    path = make_mp4(tmp_path / "zeros.mp4", 1920, 1080, seconds=1.0)
    data = bytearray(path.read_bytes())
    start = data.index(b"mdat") + 4
    end = data.index(b"moov") - 4  # movenc writes the index after the media data
    data[start:end] = bytes(end - start)  # same layout and index, no picture left in the samples
    path.write_bytes(bytes(data))

    result = check_video(path, SPEC)

    assert not result.ok
    assert result.errors == ["无法解码视频的第一帧，文件可能已损坏或不完整，请重新导出后上传。"]


def test_check_video_wrong_codec_mpeg4_part2_refused(tmp_path):
    result = check_video(make_mp4(tmp_path / "old.mp4", 1920, 1080, seconds=1.0, codec="mpeg4"), SPEC)

    assert not result.ok
    assert result.codec == "mpeg4"
    assert result.errors == [
        "平台要求：视频编码须为H.264或H.265（HEVC），此文件的视频编码为MPEG-4 part 2，请重新导出。"
    ]


def test_check_video_frames_above_the_pixel_cap_refused_before_decoding(tmp_path, monkeypatch):
    monkeypatch.setattr(media, "MAX_VIDEO_PIXELS", 320 * 240 - 1)

    result = check_video(make_mp4(tmp_path / "clip.mp4", 320, 240, seconds=1.0), {})

    assert result.errors == ["平台要求：视频画面过大（320×240），拒绝解码。"]


def test_check_video_empty_file_refused(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")

    assert check_video(tmp_path / "empty.mp4", SPEC).errors == ["文件为空，请重新上传。"]


def test_check_video_spec_for_another_container_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError, match="only validates MP4"):
        check_video(make_jpeg(tmp_path / "x.jpg"), {"container": "mkv"})


# -- videos: a playlist disguised as a video ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["hls", "concat"])
def test_playlist_named_mp4_refused_without_opening_its_target(tmp_path, kind):
    playlist = PLAYLISTS[kind](tmp_path / "video.mp4", tmp_path / "secret.ts")

    with fifo_sentinel(tmp_path / "secret.ts") as watch:
        result = check_video(playlist, SPEC)

    assert not result.ok
    assert "须为MP4格式" in result.errors[0]
    assert not watch.opened


@pytest.mark.parametrize("kind", ["hls", "concat"])
def test_fifo_sentinel_sees_an_unrestricted_demuxer_open_the_target(tmp_path, kind):
    # The control for the test above: plain FFmpeg, told the format, does open the playlist's target.
    playlist = PLAYLISTS[kind](tmp_path / "video.mp4", tmp_path / "secret.ts")

    with fifo_sentinel(tmp_path / "secret.ts") as watch:
        with pytest.raises(av.FFmpegError):
            av.open(str(playlist), format=kind, options={"safe": "0"}).close()

    assert watch.opened


@pytest.mark.parametrize(
    ("kind", "options", "refused_by_io_open"),
    [("hls", {}, True), ("concat", {"safe": "0"}, False)],
)
def test_restricted_open_holds_even_when_a_playlist_demuxer_runs(tmp_path, kind, options, refused_by_io_open):
    # Past the sniffer and the forced format (both lifted here), protocol_whitelist and io_open still hold:
    # HLS opens segments through io_open, concat opens its files through the protocol layer.
    playlist = PLAYLISTS[kind](tmp_path / "video.mp4", tmp_path / "secret.ts")
    refused: list[str] = []

    with fifo_sentinel(tmp_path / "secret.ts") as watch, open(playlist, "rb") as fh:
        with pytest.raises((av.FFmpegError, PermissionError)):
            media._open_input(fh, refused, format_name=kind, format_whitelist=kind, **options).close()

    assert not watch.opened
    assert bool(refused) is refused_by_io_open


# -- posters ---------------------------------------------------------------------------------------------


def test_extract_poster_writes_a_jpeg_in_displayed_orientation(tmp_path):
    # Stored 320×180 with a red band on its left quarter; turned a quarter clockwise, the band is on top.
    path = make_mp4(tmp_path / "clip.mp4", 320, 180, seconds=1.0, rotate=90)

    size = extract_poster(path, tmp_path / "poster.jpg")

    assert size == (180, 320)
    with Image.open(tmp_path / "poster.jpg") as poster:
        assert (poster.format, poster.size) == ("JPEG", (180, 320))
        red, green, _ = poster.convert("RGB").getpixel((90, 20))
        assert red > 180 and green < 80
        assert poster.convert("RGB").getpixel((90, 300))[0] < 120


def test_extract_poster_refuses_what_is_not_an_mp4(tmp_path):
    with pytest.raises(MediaError, match="须为MP4格式"):
        extract_poster(make_png(tmp_path / "x.mp4"), tmp_path / "poster.jpg")
    assert not (tmp_path / "poster.jpg").exists()


# -- images ----------------------------------------------------------------------------------------------

LIMITS = {"max_bytes": 5 * 1024 * 1024, "max_pixels": 40_000_000}


@pytest.mark.parametrize(
    ("maker", "fmt"),
    [(make_jpeg, "jpeg"), (make_png, "png"), (make_webp, "webp")],
    ids=["jpeg", "png", "webp"],
)
def test_check_image_accepted(tmp_path, maker, fmt):
    result = check_image(maker(tmp_path / "route.img", 640, 480), **LIMITS)

    assert result == media.ImageCheck(ok=True, errors=[], width=640, height=480, format=fmt)


def test_check_image_png_declaring_30000x30000_refused(tmp_path):
    path = make_huge_declared_png(tmp_path / "bomb.png", 30000, 30000)
    assert path.stat().st_size < 1024

    result = check_image(path, **LIMITS)

    assert not result.ok
    assert result.errors == ["平台要求：图片不超过40,000,000像素，此图片声明为900,000,000像素，拒绝解码。"]


def test_check_image_pixel_limit_checked_on_the_declared_size_before_decoding(tmp_path):
    # 5000×5000 is under Pillow's own guard, so this is our check; the pixel data is short, so had the
    # image been decoded the answer would say "corrupt" (as it does when the limit allows the size).
    path = make_huge_declared_png(tmp_path / "big.png", 5000, 5000)

    refused = check_image(path, max_bytes=LIMITS["max_bytes"], max_pixels=10_000_000)
    decoded = check_image(path, max_bytes=LIMITS["max_bytes"], max_pixels=30_000_000)

    assert refused.errors == ["平台要求：图片不超过10,000,000像素，此图片声明为5000×5000，拒绝解码。"]
    assert decoded.errors[0].startswith("图片已损坏或不完整")


def test_check_image_too_many_bytes_refused(tmp_path):
    result = check_image(make_png(tmp_path / "route.png", 64, 64), max_bytes=100, max_pixels=10_000)

    assert not result.ok
    assert result.errors[0].startswith("平台要求：图片不超过100 字节")


def test_check_image_format_not_allowed_refused(tmp_path):
    result = check_image(make_webp(tmp_path / "route.png"), formats=("jpg", "png"), **LIMITS)

    assert result.errors == ["平台要求：图片须为JPEG、PNG格式；按文件内容判断，此文件不是。"]


def test_check_image_video_renamed_png_refused(tmp_path):
    result = check_image(make_mp4(tmp_path / "route.png", 64, 48, seconds=0.2), **LIMITS)

    assert not result.ok


def test_check_image_truncated_jpeg_refused(tmp_path):
    path = make_jpeg(tmp_path / "route.jpg", 640, 480)
    path.write_bytes(path.read_bytes()[:-400])

    result = check_image(path, **LIMITS)

    assert not result.ok
    assert result.errors[0].startswith("图片已损坏或不完整")


def test_check_image_corrupt_png_crc_refused(tmp_path):
    path = make_png(tmp_path / "route.png", 64, 48)
    data = bytearray(path.read_bytes())
    data[data.index(b"IDAT") + 10] ^= 0xFF
    path.write_bytes(bytes(data))

    assert check_image(path, **LIMITS).errors[0].startswith("图片已损坏或不完整")


def test_check_image_exif_orientation_gives_displayed_size(tmp_path):
    result = check_image(make_jpeg(tmp_path / "phone.jpg", 640, 480, exif_orientation=6), **LIMITS)

    assert result.ok and (result.width, result.height) == (480, 640)


def test_check_image_animated_refused(tmp_path):
    frames = [Image.new("RGB", (32, 32), color) for color in ("red", "blue")]
    frames[0].save(tmp_path / "anim.png", format="PNG", save_all=True, append_images=frames[1:])

    assert check_image(tmp_path / "anim.png", **LIMITS).errors == ["平台要求：不接受动图，请上传静态图片。"]


# -- documents -------------------------------------------------------------------------------------------


def test_sniff_document_by_content(tmp_path):
    with zipfile.ZipFile(tmp_path / "plain.docx", "w") as archive:
        archive.writestr("readme.txt", "not a word document")

    assert sniff_document(make_docx(tmp_path / "essay.pdf")) == "docx"
    assert sniff_document(make_pdf(tmp_path / "plan.docx")) == "pdf"
    assert sniff_document(tmp_path / "plain.docx") is None
    assert sniff_document(make_jpeg(tmp_path / "scan.pdf")) is None
    assert sniff_document(make_mp4(tmp_path / "clip.docx", 64, 48, seconds=0.2)) is None
