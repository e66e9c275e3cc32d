"""Server memory while large uploads stream in (issue 5): peak RSS of gunicorn above idle.

Prepares a database of its own (``var/bench-upload/``: migrate, static files, the 2025 plan, one science-education base
with a signed-in session), serves it with gunicorn on loopback, and streams generated files to the upload
endpoints while sampling the resident memory (``/proc/<pid>/status`` VmRSS, every 20 ms) of the master and
every worker. Reports, per scenario, the idle RSS, the peak and the peak above idle (MB = 2^20 bytes), and
the throughput. Scenarios:

- ``tus``: one upload of ``--size-mb`` MB as a single tus PATCH (the worst case: one request body, no
  chunking) — ``POST`` creation, then ``PATCH`` with the whole file;
- ``tus-concurrent``: ``--concurrent`` uploads of ``--concurrent-mb`` MB at once, each a single PATCH;
- ``multipart``: the plain form post (``<input type=file>``, no JavaScript) of one ``--size-mb`` file; the
  file is random bytes, so the video check refuses it after it has streamed in (the upload is what is
  measured; the refusal leaves no file).

    .venv/bin/python bench/upload_memory.py --size-mb 1024 --concurrent 8 --concurrent-mb 200

Gunicorn runs as ``make run`` does (2 sync workers) unless ``--threads`` > 1 (gthread). Nothing here is a
timed test; figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
VAR = ROOT / "var" / "bench-upload"
CALL = "kepuyue-2025/science-treasure-videos"
MB = 1024 * 1024
SEND_CHUNK = MB


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL"}}
    env.update(
        {
            "SECRET_KEY": "bench-" + "k" * 40,
            "DEBUG": "0",
            "KEPUYUE_HTTPS": "0",
            "LOG_LEVEL": "WARNING",
            "KEPUYUE_VAR_DIR": str(VAR),
            "KEPUYUE_NOW": "2025-08-15T10:00+08:00",  # the call is open
        }
    )
    return env


SETUP = """
from django.contrib.auth import get_user_model
from django.test import Client
from kepuyue.orgs.models import Membership, Organization
org, _ = Organization.objects.get_or_create(name="压测科普教育基地", defaults={"type_id": "science_education_base"})
user = get_user_model().objects.filter(username="bench-base").first()
if user is None:
    user = get_user_model().objects.create_user("bench-base", password="bench-Pw-2025-x")
Membership.objects.get_or_create(user=user, defaults={"organization": org})
client = Client()
client.force_login(user)
print(client.cookies["sessionid"].value)
"""


def prepare(env: dict[str, str]) -> str:
    """Migrate, load the plan, make the unit account; returns a session id."""
    VAR.mkdir(parents=True, exist_ok=True)
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [PY, "manage.py", "load_campaign", "campaigns/kepuyue-2025.yaml"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    out = subprocess.run(
        [PY, "manage.py", "shell", "-c", SETUP], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def make_file(path: Path, size: int) -> Path:
    """``size`` bytes of random-looking data (one random MB repeated), written once and reused."""
    if path.exists() and path.stat().st_size == size:
        return path
    block = os.urandom(MB)
    with open(path, "wb") as fh:
        for _ in range(size // MB):
            fh.write(block)
        fh.write(block[: size % MB])
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def server_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [master, *map(int, children)]


class Sampler(threading.Thread):
    """Samples the summed RSS of the server's processes until stopped; keeps the peak (KB)."""

    def __init__(self, master: int):
        super().__init__(daemon=True)
        self.master, self.peak, self.running = master, 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_kb(server_pids(self.master)))
            time.sleep(0.02)


class Session:
    def __init__(self, port: int, sessionid: str):
        self.port, self.sessionid = port, sessionid
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/calls/", headers={"Cookie": f"sessionid={sessionid}"})
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
        cookie = response.getheader("Set-Cookie", "")
        self.csrf = cookie.split("csrftoken=", 1)[1].split(";", 1)[0]
        conn.close()

    def headers(self, **extra) -> dict[str, str]:
        return {
            "Cookie": f"sessionid={self.sessionid}; csrftoken={self.csrf}",
            "X-CSRFToken": self.csrf,
            "Tus-Resumable": "1.0.0",
            **extra,
        }


def stream(
    conn: http.client.HTTPConnection, method: str, url: str, headers: dict, path: Path, prefix=b"", suffix=b""
):
    size = path.stat().st_size + len(prefix) + len(suffix)
    conn.putrequest(method, url)
    for key, value in {**headers, "Content-Length": str(size)}.items():
        conn.putheader(key, value)
    conn.endheaders()
    conn.send(prefix)
    with open(path, "rb") as fh:
        while chunk := fh.read(SEND_CHUNK):
            conn.send(chunk)
    conn.send(suffix)
    response = conn.getresponse()
    body = response.read()
    return response.status, response, body


def tus_upload(session: Session, path: Path) -> None:
    size = path.stat().st_size
    conn = http.client.HTTPConnection("127.0.0.1", session.port, timeout=600)
    meta = "filename " + base64.b64encode(path.name.encode()).decode()
    conn.request(
        "POST",
        f"/calls/tus/{CALL}/",
        headers=session.headers(**{"Upload-Length": str(size), "Upload-Metadata": meta}),
    )
    created = conn.getresponse()
    created.read()
    assert created.status == 201, created.status
    location = created.getheader("Location").split("://", 1)[1].split("/", 1)[1]
    status, response, body = stream(
        conn,
        "PATCH",
        "/" + location,
        session.headers(**{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}),
        path,
    )
    assert status == 204 and response.getheader("Upload-Offset") == str(size), (status, body[:200])
    conn.request("DELETE", "/" + location, headers=session.headers())  # leave the disk as it was
    conn.getresponse().read()
    conn.close()


def multipart_upload(session: Session, path: Path) -> None:
    boundary = "----kepuyue-bench-boundary"
    fields = {"title": "压测", "theme": "base-tour", "csrfmiddlewaretoken": session.csrf}
    prefix = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    )
    prefix += f'--{boundary}\r\nContent-Disposition: form-data; name="video"; filename="{path.name}"\r\nContent-Type: video/mp4\r\n\r\n'
    suffix = f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", session.port, timeout=600)
    headers = session.headers(**{"Content-Type": f"multipart/form-data; boundary={boundary}"})
    status, _response, body = stream(
        conn, "POST", f"/calls/org/{CALL}/new/", headers, path, prefix.encode(), suffix
    )
    assert status == 400 and "MP4" in body.decode("utf-8", "replace"), (
        status,
        body[:300],
    )  # refused after streaming
    conn.close()


def measure(name: str, master: int, jobs) -> dict:
    time.sleep(1.0)
    idle = rss_kb(server_pids(master))
    sampler = Sampler(master)
    sampler.start()
    started = time.perf_counter()
    threads = [threading.Thread(target=job) for job in jobs]
    errors: list[BaseException] = []
    for thread in threads:
        original = thread.run

        def run(original=original):
            try:
                original()
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        thread.run = run
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    if errors:
        raise errors[0]
    return {"name": name, "idle_mb": idle / 1024, "peak_mb": sampler.peak / 1024, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--concurrent", type=int, default=8)
    parser.add_argument("--concurrent-mb", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--scenarios", default="tus,tus-concurrent,multipart")
    parser.add_argument(
        "--cold", action="store_true", help="no warm-up uploads: include first-request imports"
    )
    args = parser.parse_args()

    env = environment()
    sessionid = prepare(env)
    files = VAR / "files"
    files.mkdir(exist_ok=True)
    big = make_file(files / f"upload-{args.size_mb}m.bin", args.size_mb * MB)
    tiny = make_file(files / "upload-32m.bin", 32 * MB)
    smalls = [
        make_file(files / f"upload-{args.concurrent_mb}m-{i}.bin", args.concurrent_mb * MB)
        for i in range(args.concurrent)
    ]

    command = [GUNICORN, "kepuyue.wsgi", "--workers", str(args.workers), "--timeout", "600"]
    if args.threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(args.threads)]
    scenarios = {
        "tus": (
            f"tus, 1 × {args.size_mb} MB, one PATCH",
            args.size_mb,
            lambda s: [lambda: tus_upload(s, big)],
        ),
        "tus-concurrent": (
            f"tus, {args.concurrent} × {args.concurrent_mb} MB at once",
            args.concurrent * args.concurrent_mb,
            lambda s: [lambda p=p: tus_upload(s, p) for p in smalls],
        ),
        "multipart": (
            f"multipart form, 1 × {args.size_mb} MB",
            args.size_mb,
            lambda s: [lambda: multipart_upload(s, big)],
        ),
    }
    results = []
    for key in args.scenarios.split(","):
        name, total_mb, jobs = scenarios[key]
        # A fresh server per scenario, so one scenario's allocations do not hide in the next one's idle.
        port = free_port()
        server = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)  # noqa: S310 - loopback
                    break
                except OSError:
                    time.sleep(0.2)
            session = Session(port, sessionid)
            # Warm every worker up with small uploads of both kinds (imports — PyAV alone is ~35 MB —, first
            # queries, templates), so "idle" is a worker that has served uploads and the peak is the streaming.
            # Concurrent, so that every sync worker gets some (a free worker accepts while the others are busy).
            if not args.cold:
                for _ in range(3):
                    warm = [
                        threading.Thread(target=tus_upload, args=(session, tiny))
                        for _ in range(args.workers * 2)
                    ]
                    warm += [
                        threading.Thread(target=multipart_upload, args=(session, tiny))
                        for _ in range(args.workers * 2)
                    ]
                    for thread in warm:
                        thread.start()
                    for thread in warm:
                        thread.join()
            results.append({**measure(name, server.pid, jobs(session)), "total_mb": total_mb})
        finally:
            server.terminate()
            server.wait(10)
            shutil.rmtree(VAR / "uploads", ignore_errors=True)

    mode = (
        f"{args.workers} sync workers"
        if args.threads == 1
        else f"{args.workers} gthread workers × {args.threads} threads"
    )
    mode += ", cold workers" if args.cold else ", workers warmed up by small uploads"
    print(f"\ngunicorn {mode}; RSS summed over master and workers (MB = 2^20 bytes)\n")
    print("| scenario | idle RSS | peak RSS | peak above idle | time | throughput |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        total_mb = r["total_mb"]
        print(
            f"| {r['name']} | {r['idle_mb']:.0f} MB | {r['peak_mb']:.0f} MB | **{r['peak_mb'] - r['idle_mb']:.1f} MB** "
            f"| {r['seconds']:.1f} s | {total_mb / r['seconds']:.0f} MB/s |"
        )


if __name__ == "__main__":
    main()
