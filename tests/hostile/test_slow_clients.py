"""Slow clients (issue 9, class 3): 50 connections trickling request bodies or reading a large file
slowly, and the home page still answers in under a second.

The server is the real one, started as ``make run`` starts it (``python -m kepuyue.serve``: granian, two
workers) on a free port, against a migrated temporary SQLite database and media folder.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 10.0) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
        response.read()
        assert response.status == 200
    return time.perf_counter() - started


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``(port, media path)`` of a running embedded server; stopped after the module."""
    var = tmp_path_factory.mktemp("slow-var")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "PYTEST_VERSION"}}
    env.update(
        {
            "KEPUYUE_VAR_DIR": str(var),
            "SECRET_KEY": "slow-client-test-" + "k" * 40,
            "KEPUYUE_HTTPS": "0",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    for command in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True
        )
    media = var / "media" / "video.bin"
    media.parent.mkdir(parents=True, exist_ok=True)
    media.write_bytes(os.urandom(MB) * 32)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kepuyue.serve", "--port", str(port), "--workers", "2", "--no-access-log"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # stopped with its workers below
    )
    try:
        for _ in range(150):
            try:
                get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        yield port, "/media/video.bin"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def open_slow(port: int, media: str, trickle: int, readers: int) -> list[socket.socket]:
    """Connections that promise a 1 MB body and send one byte, and readers of ``media`` with a 4 KB
    receive buffer that read nothing: each would hold a sync worker."""
    sockets = []
    for n in range(trickle + readers):
        sock = socket.socket()
        if n >= trickle:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        if n < trickle:
            sock.sendall(
                b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Cookie: csrftoken=" + b"a" * 32 + b"\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1048576\r\n\r\nu"
            )
        else:
            sock.sendall(f"GET {media} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        sockets.append(sock)
    return sockets


def test_home_page_answers_within_a_second_with_50_slow_clients(server):
    port, media = server
    home = f"http://127.0.0.1:{port}/"
    get(home)  # the first request of each worker imports and compiles templates
    get(home)
    sockets = open_slow(port, media, trickle=25, readers=25)
    try:
        time.sleep(2)  # every slow connection has been accepted and is waiting
        for sock in sockets[:25]:
            sock.send(b"a")  # still trickling
        latencies = [get(home) for _ in range(5)]
        assert max(latencies) < 1.0, latencies
    finally:
        for sock in sockets:
            sock.close()
