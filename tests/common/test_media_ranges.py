"""Public media in the embedded default answer byte ranges (iPhone Safari plays MP4 only so)."""

import pytest


@pytest.fixture
def video(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "calls").mkdir()
    data = bytes(range(256)) * 40  # 10,240 bytes
    (tmp_path / "calls" / "v.mp4").write_bytes(data)
    return data


def test_a_range_gets_206_with_exactly_those_bytes(client, video):
    response = client.get("/media/calls/v.mp4", HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert response["Content-Range"] == "bytes 100-199/10240"
    assert b"".join(response.streaming_content) == video[100:200]
    tail = client.get("/media/calls/v.mp4", HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == video[-10:]
    open_end = client.get("/media/calls/v.mp4", HTTP_RANGE="bytes=10000-")
    assert b"".join(open_end.streaming_content) == video[10000:]


def test_whole_file_and_bad_ranges(client, video):
    whole = client.get("/media/calls/v.mp4")
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == video
    assert client.get("/media/calls/v.mp4", HTTP_RANGE="bytes=20000-").status_code == 416
    assert client.get("/media/calls/missing.mp4", HTTP_RANGE="bytes=0-1").status_code == 404
    assert client.get("/media/../settings.py", HTTP_RANGE="bytes=0-1").status_code in (400, 404)
