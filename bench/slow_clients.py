"""Slow clients against a running server: does the home page still answer while they hang on?

Opens ``--trickle`` connections that promise a request body (``Content-Length`` 1 MB) and send it one
byte a second, and ``--readers`` connections that download a large file (``--media``, a path under
``/media/``) with a 4 KB receive buffer, reading 4 KB a second (a phone on a bad network). While they
are all connected it requests the home page ``--probes`` times, one after another, each with a fresh
connection and a 10 s time-out, and prints the latencies (ms) as one JSON line:

    .venv/bin/python bench/slow_clients.py --url http://127.0.0.1:8000 --media /media/bench/video.bin

The acceptance criterion of issue 9 is "50 connections trickling bodies or reading slowly while the
home page answers in < 1 s"; ``tests/hostile/test_slow_clients.py`` asserts it against the server that
``make run`` starts, and ``bench/embedded_server.py`` uses this module to compare servers.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


class SlowClients:
    """``trickle`` body tricklers and ``readers`` slow readers of ``media_path`` on ``host:port``,
    kept alive by one thread until :meth:`close`."""

    def __init__(self, host: str, port: int, *, trickle: int, readers: int, media_path: str = ""):
        self.host, self.port = host, port
        self.sockets: list[tuple[str, socket.socket]] = []
        self.running = True
        self.opened_errors = 0
        for _ in range(trickle):
            self._open("trickle", self._trickle_head())
        for _ in range(readers if media_path else 0):
            head = f"GET {media_path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
            self._open("reader", head, receive_buffer=4096)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _trickle_head(self) -> bytes:
        return (
            "POST /accounts/login/ HTTP/1.1\r\n"
            f"Host: {self.host}\r\n"
            # A well-formed CSRF cookie: the CSRF check then reads the body for the form's token.
            f"Cookie: csrftoken={'a' * 32}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 1048576\r\n\r\n"
            "username="
        ).encode()

    def _open(self, kind: str, head: bytes, receive_buffer: int = 0) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.settimeout(5)
        try:
            sock.connect((self.host, self.port))
            sock.sendall(head)
        except OSError:
            self.opened_errors += 1
            sock.close()
            return
        sock.setblocking(False)
        self.sockets.append((kind, sock))

    def _loop(self) -> None:
        while self.running:
            for kind, sock in list(self.sockets):
                try:
                    if kind == "trickle":
                        sock.send(b"a")
                    else:
                        sock.recv(4096)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    pass  # the server gave up on it (time-out): it stays counted as opened
            time.sleep(1.0)

    def close(self) -> None:
        self.running = False
        self.thread.join(5)
        for _kind, sock in self.sockets:
            sock.close()


def probe(url: str, timeout: float = 10.0) -> float | None:
    """Seconds one GET of ``url`` took (a fresh connection), or ``None`` on an error or time-out."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback benchmark
            response.read()
            if response.status != 200:
                return None
    except (OSError, urllib.error.URLError):
        return None
    return time.perf_counter() - started


def measure(
    base_url: str, *, trickle: int, readers: int, media_path: str, probes: int = 20, settle: float = 2.0
) -> dict:
    """Open the slow clients, wait ``settle`` seconds, time ``probes`` home-page requests; a dict of
    latencies in ms (``p50``, ``max``), ``failed`` probes, and the slow connections held open."""
    parts = urllib.parse.urlsplit(base_url)
    clients = SlowClients(
        parts.hostname, parts.port or 80, trickle=trickle, readers=readers, media_path=media_path
    )
    try:
        time.sleep(settle)
        times = [probe(base_url.rstrip("/") + "/") for _ in range(probes)]
    finally:
        clients.close()
    ok = [t * 1000 for t in times if t is not None]
    return {
        "slow_connections": len(clients.sockets),
        "probes": probes,
        "failed": probes - len(ok),
        "p50_ms": round(statistics.median(ok), 1) if ok else None,
        "max_ms": round(max(ok), 1) if ok else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--trickle", type=int, default=25)
    parser.add_argument("--readers", type=int, default=25)
    parser.add_argument("--media", default="", help="a large file's path, e.g. /media/bench/video.bin")
    parser.add_argument("--probes", type=int, default=20)
    args = parser.parse_args()
    result = measure(
        args.url, trickle=args.trickle, readers=args.readers, media_path=args.media, probes=args.probes
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
