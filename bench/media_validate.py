"""Validation time of a short video does not depend on its size (issue 5 benchmark), and versus ffprobe.

Makes 1920×1080 H.264 MP4s of the same content and bitrate (~43 Mbit/s: 50 distinct frames of noisy
picture encoded once, then the same packets remuxed again and again with new timestamps), about 10 MB and
about 1 GiB, each with the index (moov) at the end, as recorders write it, and at the front ("faststart").
They live in ``var/bench-media/`` (gitignored) and are reused on later runs. Then it times, for each file:

- ``check_video`` in-process (what the upload path runs): headers plus one decoded frame;
- the same with the file's pages dropped from the page cache first (``posix_fadvise(DONTNEED)`` on that
  file only), i.e. the upload just arrived from disk rather than memory;
- ``ffprobe -show_format -show_streams`` (headers only) and ``ffprobe -show_frames -read_intervals %+#1``
  (headers and the first packet decoded), as subprocesses, so each includes ffprobe's start-up
  (``ffprobe -version`` is printed as that floor). ffprobe is only the yardstick: the product never needs it.

Prints medians of ``--runs`` runs in milliseconds as a Markdown table, and the 1 GiB / 10 MB ratio.

    apt-get install -y ffmpeg   # for ffprobe only
    .venv/bin/python bench/media_validate.py --runs 15
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Scripts in bench/ must not shadow standard modules; keep only src/ on the path, not bench/.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT / "src"))

import av  # noqa: E402
from PIL import Image  # noqa: E402

from kepuyue.calls.media import check_video  # noqa: E402

SPEC = {"container": "mp4", "min_width": 1920, "min_height": 1080, "max_seconds_advised": 180}
WIDTH, HEIGHT, FPS, CLIP_FRAMES = 1920, 1080, 25, 50
SIZES = {"10 MB": 10 * 1000 * 1000, "1 GiB": 1024**3}


def noisy_picture() -> Image.Image:
    # Coarse noise, smoothed: x264 at crf 23 spends ~210 KB on each such 1080p frame.
    small = Image.frombytes("L", (WIDTH // 8, HEIGHT // 8), os.urandom(WIDTH * HEIGHT // 64))
    return small.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR).convert("RGB")


def encode_clip(path: Path) -> None:
    """50 frames, one keyframe at the start, no B-frames: the packets can be repeated as they are."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("h264", rate=FPS, options={"preset": "ultrafast", "crf": "23"})
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.gop_size = CLIP_FRAMES
        for index in range(CLIP_FRAMES):
            frame = av.VideoFrame.from_image(noisy_picture()).reformat(format="yuv420p")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def remux_to_size(clip: Path, dest: Path, target_bytes: int, faststart: bool) -> None:
    """Write ``dest`` by repeating the clip's packets (new timestamps) until the data reaches ``target_bytes``."""
    with av.open(str(clip)) as source:
        template = source.streams.video[0]
        packets = [(bytes(p), p.is_keyframe) for p in source.demux(template) if p.size]
        clip_bytes = sum(len(data) for data, _ in packets)
        repeats = max(1, round(target_bytes / clip_bytes))
        options = {"movflags": "faststart"} if faststart else {}
        partial = dest.with_suffix(".partial")
        with av.open(str(partial), "w", format="mp4", options=options) as out:
            stream = out.add_stream_from_template(template)
            stream.time_base = Fraction(1, FPS)
            for repeat in range(repeats):
                for index, (data, keyframe) in enumerate(packets):
                    packet = av.Packet(data)
                    packet.pts = packet.dts = repeat * len(packets) + index
                    packet.time_base, packet.stream, packet.is_keyframe = Fraction(1, FPS), stream, keyframe
                    packet.duration = 1
                    out.mux(packet)
    partial.rename(dest)


def make_files(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    clip = directory / "clip-1080p-50f.mp4"
    if not clip.exists():
        encode_clip(clip)
    files = {}
    for label, target in SIZES.items():
        for faststart in (False, True):
            name = f"{label.replace(' ', '')}-{'faststart' if faststart else 'moov-at-end'}.mp4"
            path = directory / name
            if not path.exists():
                started = time.perf_counter()
                remux_to_size(clip, path, target, faststart)
                print(
                    f"made {path.name}: {path.stat().st_size:,} bytes in {time.perf_counter() - started:.1f} s"
                )
            files[f"{label}, {'moov first' if faststart else 'moov at end'}"] = path
    return files


def drop_from_page_cache(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def median_ms(runs: int, action, before=None) -> float:
    samples = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "bench-media")
    args = parser.parse_args()

    files = make_files(args.dir)
    ffprobe = shutil.which("ffprobe")
    print(
        f"\n{args.runs} runs each, median ms; PyAV {av.__version__}, FFmpeg libavformat {av.library_versions['libavformat']}"
    )
    if ffprobe:
        floor = median_ms(
            args.runs, lambda: subprocess.run([ffprobe, "-version"], capture_output=True, check=True)
        )
        print(f"ffprobe start-up floor (`ffprobe -version`): {floor:.1f} ms")
    else:
        print("ffprobe not found (apt-get install -y ffmpeg): ffprobe columns skipped")

    rows = {}
    for label, path in files.items():
        result = check_video(path, SPEC)
        assert result.ok, (path, result.errors)
        row = {
            "size": path.stat().st_size,
            "duration": result.duration,
            "check": median_ms(args.runs, lambda p=path: check_video(p, SPEC)),
            "check_cold": median_ms(
                args.runs, lambda p=path: check_video(p, SPEC), before=lambda p=path: drop_from_page_cache(p)
            ),
        }
        if ffprobe:
            headers = [ffprobe, "-v", "error", "-show_format", "-show_streams", str(path)]
            frame = [
                ffprobe,
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-show_frames",
                "-read_intervals",
                "%+#1",
            ]
            row["ffprobe"] = median_ms(
                args.runs, lambda c=headers: subprocess.run(c, capture_output=True, check=True)
            )
            row["ffprobe_frame"] = median_ms(
                args.runs, lambda c=[*frame, str(path)]: subprocess.run(c, capture_output=True, check=True)
            )
        rows[label] = row

    print(
        "\n| file | bytes | duration s | check_video ms | check_video, not cached ms "
        "| ffprobe headers ms | ffprobe + 1st frame ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, row in rows.items():
        print(
            f"| {label} | {row['size']:,} | {row['duration']:.1f} | {row['check']:.1f} | {row['check_cold']:.1f} "
            f"| {row.get('ffprobe', float('nan')):.1f} | {row.get('ffprobe_frame', float('nan')):.1f} |"
        )
    print()
    for layout in ("moov at end", "moov first"):
        big, small = rows[f"1 GiB, {layout}"], rows[f"10 MB, {layout}"]
        print(
            f"1 GiB / 10 MB, {layout}: check_video {big['check'] / small['check']:.2f}×, "
            f"not cached {big['check_cold'] / small['check_cold']:.2f}× (target ≤ 2×)"
        )


if __name__ == "__main__":
    main()
