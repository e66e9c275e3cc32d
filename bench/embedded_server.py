"""Which server should `make run` use? Compares candidates on slow clients, speed, uploads, downloads, exports.

Prepares a database of its own (``var/bench-server/``: what ``make data`` loads, plus ``seed_demo``
activities for one unit's export, a signed-in unit account and a 256 MB file under ``/media/``), then
for each candidate server (2 workers or processes, as ``make run``) on a port of ``--port``:

(a) ``bench/slow_clients.py``: 25 connections trickling request bodies and 25 slow readers of the
    256 MB file, while the home page is requested 20 times — p50/max ms and failed probes (10 s);
(b) wrk, 10 s, 16 connections: req/s and p95 of ``/`` and of ``/healthz`` (a trivial view);
(c) a 1 GB tus ``PATCH`` and a 1 GB multipart form post: peak RSS of all server processes above idle;
(d) 8 concurrent downloads of the 256 MB file at full speed: peak RSS above idle, MB/s, and a ``Range``
    request answered ``206``;
(e) the unit's ``.csv`` export (a ``StreamingHttpResponse``) of ~``--export-rows`` activities: time to
    the first byte vs. the whole, and peak RSS above idle.

    .venv/bin/python bench/embedded_server.py --servers sync,gevent,uvicorn,granian,waitress,serve

Needs ``wrk``. Nothing here is a timed test; the figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import slow_clients
import upload_memory as up

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
VAR = ROOT / "var" / "bench-server"
MB = 1024 * 1024
MEDIA_NAME = "bench/video-256m.bin"

WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %f, "p50": %f, "p95": %f, "errors": %d, "non2xx": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""

EXPORT_SETUP = """
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from kepuyue.activities.models import Activity
from kepuyue.orgs.models import Membership, Organization
org = Organization.objects.get(name="压测科普教育基地")
# The seeded rows all become the bench unit's (with ids unique within it), for a sizeable export.
Activity.objects.filter(external_id__startswith="demo-9-").update(
    organizer=org, external_id=Concat(Value("bench-"), Cast("id", CharField()))
)
Membership.objects.filter(user__username="bench-base").update(organization=org)
print(Activity.objects.filter(organizer=org).count())
"""


def servers(port: int, workers: int) -> dict[str, list[str]]:
    bind = f"127.0.0.1:{port}"
    gunicorn = [str(BIN / "gunicorn"), "kepuyue.wsgi", "--bind", bind, "--workers", str(workers)]
    return {
        "sync": [*gunicorn, "--timeout", "30"],
        "gevent": [*gunicorn, "--worker-class", "gevent", "--worker-connections", "1000"],
        # What make run serves (kepuyue.serve: granian with its settings).
        "serve": [str(BIN / "python"), "-m", "kepuyue.serve", "--port", str(port), "--workers", str(workers)],
        "uvicorn": [
            str(BIN / "uvicorn"),
            "--factory",
            "django.core.asgi:get_asgi_application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        "granian": [
            str(BIN / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "kepuyue.wsgi:application",
        ],
        # waitress is one process: its threads share one GIL.
        "waitress": [
            str(BIN / "waitress-serve"),
            f"--listen={bind}",
            "--threads=8",
            "kepuyue.wsgi:application",
        ],
    }


def environment() -> dict[str, str]:
    env = up.environment()
    env.update({"KEPUYUE_VAR_DIR": str(VAR), "DJANGO_SETTINGS_MODULE": "kepuyue.settings"})
    if os.environ.get("PYTHONPATH"):  # a snapshot of the code, while the working tree changes
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def manage(env, *args, capture=False) -> str:
    out = subprocess.run(
        [str(BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        capture_output=capture,
        stdout=None if capture else subprocess.DEVNULL,
    )
    return out.stdout if capture else ""


def prepare(env, export_rows: int) -> tuple[str, int]:
    """``make data`` into VAR, seed activities, the unit account and the media file; (session, rows)."""
    VAR.mkdir(parents=True, exist_ok=True)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "load_regions")
    manage(env, "load_campaign", "campaigns/kepuyue-2025.yaml")
    manage(env, "import_organizations", "data/bases.csv")
    subprocess.run(
        [
            str(BIN / "python"),
            "manage.py",
            "import_activities",
            "data/activities.csv",
            "--campaign",
            "kepuyue-2025",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,  # 71 rows are expected failures (see the README)
    )
    if export_rows:
        manage(env, "seed_demo", "--activities", str(export_rows), "--seed", "9")
    session = manage(env, "shell", "-c", up.SETUP, capture=True).strip().splitlines()[-1]
    rows = int(manage(env, "shell", "-c", EXPORT_SETUP, capture=True).strip().splitlines()[-1])
    media = VAR / "media" / MEDIA_NAME
    media.parent.mkdir(parents=True, exist_ok=True)
    up.make_file(media, 256 * MB)
    return session, rows


def all_pids(root: int) -> list[int]:
    """``root`` and every descendant (children of any of its threads)."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return found


class Sampler(threading.Thread):
    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.peak, self.running = root, 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, up.rss_kb(all_pids(self.root)))
            time.sleep(0.02)


def with_rss(root: int, job, baseline: int) -> dict:
    """Run ``job``; its time and the peak RSS of the server's processes above ``baseline`` (KB: the RSS
    after warm-up, before any scenario), so memory kept from an earlier scenario still shows."""
    sampler = Sampler(root)
    sampler.start()
    started = time.perf_counter()
    extra = job() or {}
    seconds = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    return {
        "peak_above_start_mb": round((sampler.peak - baseline) / 1024, 1),
        "seconds": round(seconds, 2),
        **extra,
    }


def wrk(url: str, duration: int) -> dict:
    script = VAR / "report.lua"
    script.write_text(WRK_SCRIPT)
    out = subprocess.run(
        ["wrk", "-t2", "-c16", "--timeout", "10s", f"-d{duration}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return {
        "rps": round(data["requests"] / data["seconds"]),
        "p95_ms": round(data["p95"], 1),
        "errors": data["errors"] + data["non2xx"],
    }


def download(port: int, path: str, headers: dict | None = None) -> tuple[int, int]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - loopback
        size = 0
        while block := response.read(MB):
            size += len(block)
        return response.status, size


def downloads(port: int, count: int) -> dict:
    results: list = []

    def one():
        results.append(download(port, f"/media/{MEDIA_NAME}"))

    threads = [threading.Thread(target=one) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = sum(1 for status, size in results if status == 200 and size == 256 * MB)
    status, size = download(port, f"/media/{MEDIA_NAME}", {"Range": "bytes=1000-1999"})
    return {"complete": f"{ok}/{count}", "range": f"{status} {size} B"}


def export(port: int, session: up.Session) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/org/activities/export.csv", headers={"Cookie": session.headers()["Cookie"]}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - loopback
        first = response.read(1)
        ttfb = time.perf_counter() - started
        size = len(first) + len(response.read())
    return {"ttfb_s": round(ttfb, 2), "bytes": size}


def run_one(name: str, command: list[str], env, session_id: str, port: int, args) -> dict:
    if slow_clients.probe(f"http://127.0.0.1:{port}/healthz", timeout=2) is not None:
        raise SystemExit(f"port {port} is taken: stop what serves there first")
    log = open(VAR / f"{name}.log", "w")  # noqa: SIM115 - closed below
    # A session of its own, so stopping it stops every worker (a stale one would answer for the next).
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    result: dict = {"server": name}
    try:
        for _ in range(150):
            if slow_clients.probe(f"http://127.0.0.1:{port}/healthz", timeout=2) is not None:
                break
            time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        for _ in range(10):
            slow_clients.probe(base + "/")
        result["home_alone_ms"] = round(1000 * min(slow_clients.probe(base + "/") or 99 for _ in range(5)), 1)
        time.sleep(0.5)
        baseline = up.rss_kb(all_pids(server.pid))
        result["rss_start_mb"] = round(baseline / 1024)
        result["slow"] = with_rss(
            server.pid,
            lambda: slow_clients.measure(
                base, trickle=25, readers=25, media_path=f"/media/{MEDIA_NAME}", probes=20
            ),
            baseline,
        )
        time.sleep(2)
        result["wrk_home"] = wrk(base + "/", args.duration)
        result["wrk_healthz"] = wrk(base + "/healthz", args.duration)
        session = up.Session(port, session_id)
        if "upload" in args.parts:
            size = args.upload_mb * MB
            big = up.make_file(VAR / f"upload-{args.upload_mb}m.bin", size)
            result["tus"] = with_rss(server.pid, lambda: up.tus_upload(session, big), baseline)
            result["multipart"] = with_rss(server.pid, lambda: up.multipart_upload(session, big), baseline)
        result["downloads"] = with_rss(server.pid, lambda: downloads(port, 8), baseline)
        result["export"] = with_rss(server.pid, lambda: export(port, session), baseline)
    except Exception as error:  # noqa: BLE001 - a candidate that breaks is a result too
        result["error"] = repr(error)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(server.pid, signal.SIGKILL)  # workers that outlived their master
        except ProcessLookupError:
            pass
        log.close()
        shutil.rmtree(VAR / "uploads", ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="sync,gevent,uvicorn,granian,waitress")
    parser.add_argument("--port", type=int, default=8111)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--upload-mb", type=int, default=1024)
    parser.add_argument("--export-rows", type=int, default=20000)
    parser.add_argument("--parts", default="upload")
    args = parser.parse_args()
    env = environment()
    session_id, rows = prepare(env, args.export_rows)
    print(f"prepared; the unit's export has {rows} activities", file=sys.stderr)
    results = []
    for offset, name in enumerate(args.servers.split(",")):
        port = args.port + offset  # one port each: nothing left over from the previous one can answer
        result = run_one(name, servers(port, args.workers)[name], env, session_id, port, args)
        print(json.dumps(result, ensure_ascii=False), flush=True)
        results.append(result)
    with open(VAR / "results.jsonl", "a") as fh:
        for result in results:
            fh.write(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
