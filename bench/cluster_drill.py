"""Failure drill (issue 17 §6): load the loopback cluster, kill an app node, then the Celery worker, restart them.

    .venv/bin/python bench/cluster_drill.py            # ~1–3 min; exit status 0 when every check holds

Starts its own cluster (``bench/cluster.py``: nginx, three app nodes, worker, beat, PostgreSQL database
``kepuyue_drill``, Redis, the S3 stand-in) on ports 8370–8375 under ``var/cluster-drill/``, then, while
eight client threads keep requesting public pages through nginx:

1. **a resumable upload started on the node that dies** — a tus upload is created and half sent on node 1
   directly; node 1 is killed (SIGKILL, no clean-up); the other half goes through nginx to another node,
   which finds the upload in the shared folder: the upload completes, byte for byte;
2. **no request fails beyond those in flight on the killed node** — every request is recorded (start, end,
   status, the node nginx used); a failure is allowed only if it was in flight when node 1 died;
3. **no task is lost** — export jobs are queued, the worker is killed (SIGKILL) while it holds some, then
   started again: every job ends done, with its file in the private store (acks late, idempotent claim,
   redelivery after the visibility timeout, 10 s here);
4. **nothing stale past an invalidation** — an activity's detail page is read through every node, its title
   changed (saved and ``activity_changed`` sent, as an edit does), and the new title must be on every node.

The load generator is a bounded pool of Python threads (``http.client``), not locust: the drill needs
each request's exact start, end and upstream to tell "in flight on the killed node" from "failed", and
locust (gevent, monkey-patching) adds a heavy dependency for a 40-second, eight-client load.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import secrets
import shutil
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster import Cluster, wait_http  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLOCK = "2025-08-15T10:00:00+08:00"  # the calls for works are open (tus needs an open call)


@dataclass
class Hit:
    path: str
    start: float
    end: float
    status: int
    upstream: str
    error: str = ""


class Load:
    """``threads`` clients requesting ``paths`` through nginx until stopped; every request recorded."""

    def __init__(self, port: int, paths: list[str], threads: int = 8):
        self.port = port
        self.paths = paths
        self.threads = threads
        self.hits: list[Hit] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.workers = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def _run(self, index: int) -> None:
        conn = None
        n = index
        while not self.stop.is_set():
            path = self.paths[n % len(self.paths)]
            n += 1
            start = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("GET", path, headers={"Accept-Language": "zh-hans"})
                response = conn.getresponse()
                response.read()
                hit = Hit(
                    path, start, time.monotonic(), response.status, response.getheader("X-Upstream", "")
                )
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as error:  # noqa: BLE001 - every failure is recorded, none ends the client
                hit = Hit(path, start, time.monotonic(), 0, "", f"{type(error).__name__}: {error}")
                if conn is not None:
                    conn.close()
                conn = None
            with self.lock:
                self.hits.append(hit)
            time.sleep(0.02)

    def __enter__(self):
        for worker in self.workers:
            worker.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for worker in self.workers:
            worker.join(timeout=35)


def request(port: int, method: str, path: str, body: bytes = b"", headers=None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def setup_django(cluster: Cluster) -> None:
    os.environ.update(cluster.env())
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def fixtures() -> dict:
    """A unit account that may upload to the video call, signed in (a session in Redis), and the objects
    the drill reads: a published activity and an organization with activities to export."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.cache import SessionStore

    from kepuyue.activities.models import Activity, Status
    from kepuyue.orgs.models import Membership, Organization

    org, _ = Organization.objects.get_or_create(
        name="集群演练科普教育基地", defaults={"type_id": "science_education_base", "region_id": "330106"}
    )
    user, created = get_user_model().objects.get_or_create(username="cluster-drill")
    if created:
        user.set_password(secrets.token_urlsafe(16))
        user.save()
    Membership.objects.get_or_create(user=user, organization=org)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "kepuyue.accounts.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    csrf = secrets.token_hex(16)
    activity = Activity.objects.filter(status=Status.PUBLISHED).order_by("pk").first()
    exporter = (
        Activity.objects.filter(status=Status.PUBLISHED).order_by("pk").values_list("organizer", flat=True)[0]
    )
    return {
        "user": user,
        "cookie": f"sessionid={session.session_key}; csrftoken={csrf}",
        "csrf": csrf,
        "activity": activity,
        "export_org": Organization.objects.get(pk=exporter),
    }


def drill_upload(cluster: Cluster, fx: dict, node_killed: threading.Event, kill) -> dict:
    """tus upload created and half sent on node 1; node 1 killed; the rest through nginx."""
    payload = os.urandom(3 * 1024 * 1024 + 12345)
    half = len(payload) // 2
    headers = {"Tus-Resumable": "1.0.0", "Cookie": fx["cookie"], "X-CSRFToken": fx["csrf"]}
    meta = (
        "filename "
        + base64.b64encode(b"drill.mp4").decode()
        + ",filetype "
        + base64.b64encode(b"video/mp4").decode()
    )
    status, head, body = request(
        cluster.node_port(1),
        "POST",
        "/calls/tus/kepuyue-2025/science-treasure-videos/",
        headers={**headers, "Upload-Length": str(len(payload)), "Upload-Metadata": meta},
    )
    assert status == 201, (status, body[:300])
    path = urllib.parse.urlsplit(head["location"]).path
    status, head, body = request(
        cluster.node_port(1),
        "PATCH",
        path,
        payload[:half],
        {**headers, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
    )
    assert status == 204 and int(head["upload-offset"]) == half, (status, body[:300])
    kill()  # node 1 dies with the upload half done
    node_killed.set()
    # As a tus client does (tus-js-client's retryDelays): ask the offset, send the rest, and on a gateway
    # error ask again and resume. nginx hands a PATCH on to the next node only when it never reached the
    # dead one: over a kept-alive connection to node 1 that nginx has not yet seen close, the PATCH was
    # sent and is a 502 (a PATCH is never re-sent by the proxy: its body streams straight to the node).
    retries = []
    for delay in (0, 0.5, 1, 2):
        time.sleep(delay)
        status, head, _ = request(cluster.nginx_port, "HEAD", path, headers=headers)
        assert status == 200, status
        offset = int(head["upload-offset"])
        status, head, body = request(
            cluster.nginx_port,
            "PATCH",
            path,
            payload[offset:],
            {**headers, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
        )
        if status not in (502, 503, 504):
            break
        retries.append({"offset": offset, "status": status, "upstream": head.get("x-upstream", "")})
    assert status == 204, (status, body[:300], retries)
    upstream = head.get("x-upstream", "")
    assert str(cluster.node_port(1)) not in upstream, upstream
    final = int(head["upload-offset"])
    part = cluster.path("uploads", "tus", path.rsplit("/", 1)[-1] + ".part")
    same = hashlib.sha256(part.read_bytes()).hexdigest() == hashlib.sha256(payload).hexdigest()
    request(cluster.nginx_port, "DELETE", path, headers=headers)  # tus termination: the account's cap is free
    return {
        "length": len(payload),
        "offset_after_kill": offset,
        "client_retries": retries,
        "final": final,
        "finished_on": upstream,
        "bytes_equal": same,
    }


def drill_worker(cluster: Cluster, fx: dict, jobs: int = 12) -> dict:
    """Queue ``jobs`` exports, SIGKILL the worker while it holds some, start it again, wait for all."""
    from django.db.models import Count

    from kepuyue.activities import export_jobs
    from kepuyue.activities.models import ExportJob

    created = [
        export_jobs.start_export(
            fx["user"],
            kind="mine",
            fmt="csv",
            params={},
            filename=f"drill-{i}.csv",
            organization=fx["export_org"],
        ).pk
        for i in range(jobs)
    ]
    # Kill as soon as the worker has started on them (some running, some reserved, most still queued).
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if ExportJob.objects.filter(pk__in=created).exclude(state=ExportJob.State.PENDING).exists():
            break
        time.sleep(0.02)
    states_at_kill = dict(
        ExportJob.objects.filter(pk__in=created).values_list("state").annotate(n=Count("pk"))
    )
    cluster.kill("worker")
    killed_at = time.monotonic()
    time.sleep(1.0)
    cluster.start("worker")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        done = ExportJob.objects.filter(pk__in=created, state=ExportJob.State.DONE).count()
        if done == jobs:
            break
        time.sleep(0.5)
    final = dict(ExportJob.objects.filter(pk__in=created).values_list("state").annotate(n=Count("pk")))
    files_ok = all(
        job.file and job.file.storage.exists(job.file.name)
        for job in ExportJob.objects.filter(pk__in=created, state=ExportJob.State.DONE)
    )
    return {
        "jobs": jobs,
        "states_at_kill": states_at_kill,
        "final": final,
        "files_in_private_store": files_ok,
        "seconds_to_all_done": round(time.monotonic() - killed_at, 1),
    }


def drill_invalidation(cluster: Cluster, fx: dict) -> dict:
    """Read the detail page through every node, change the title, read again: the new title everywhere."""
    from kepuyue.activities import signals
    from kepuyue.activities.models import Activity
    from kepuyue.common.events import send_after_commit

    activity = fx["activity"]
    path = f"/activities/{activity.pk}/"
    ports = [cluster.node_port(n) for n in range(1, cluster.nodes + 1)] + [cluster.nginx_port]
    for port in ports:
        status, _, _ = request(port, "GET", path)
        assert status == 200, (port, status)
    new_title = f"{activity.title.split('（演练')[0][:150]}（演练{secrets.token_hex(3)}）"
    from django.db import transaction

    with transaction.atomic():
        activity.title = new_title
        activity.save()
        send_after_commit(
            signals.activity_changed, Activity, **signals.activity_keys(activity), actor=None, created=False
        )
    stale = []
    for port in ports:
        for _ in range(3):  # nginx spreads these over the nodes
            status, _, body = request(port, "GET", path)
            if status != 200 or new_title not in body.decode("utf-8", "replace"):
                stale.append((port, status))
    return {"path": path, "reads": len(ports) * 3, "stale": stale}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("DRILL_PORT", "8370")))
    parser.add_argument("--keep", action="store_true", help="leave the cluster running afterwards")
    args = parser.parse_args(argv)
    cluster = Cluster(
        db=os.environ.get("DRILL_DB", "kepuyue_drill"),
        base_port=args.port,
        folder=ROOT / "var" / "cluster-drill",
        nodes=3,
        extra_env={
            "CELERY_VISIBILITY_TIMEOUT": "10",
            "KEPUYUE_EXPORT_RECLAIM_SECONDS": "3",
            "KEPUYUE_EXPORT_INLINE_ROWS": "0",
            "KEPUYUE_NOW": CLOCK,
            "KEPUYUE_HTTPS": "0",
        },
    )
    started = time.monotonic()
    cluster.down()
    # The drill's own cluster: uploads of an earlier run (one that failed half-way) must not fill the caps.
    shutil.rmtree(cluster.path("uploads"), ignore_errors=True)
    report: dict = {}
    ok = False
    try:
        cluster.up(full=False)
        report["up_seconds"] = round(time.monotonic() - started, 1)
        report["load_steps_seconds"] = getattr(cluster, "timings", {})
        setup_django(cluster)
        fx = fixtures()
        activity_path = f"/activities/{fx['activity'].pk}/"
        paths = [
            "/",
            "/activities/",
            activity_path,
            "/activities/?q=%E7%A7%91%E6%99%AE",
            "/calls/",
            "/healthz",
        ]
        node_killed = threading.Event()
        kill_at: list[float] = []

        def kill_node1():
            kill_at.append(time.monotonic())
            cluster.kill("node1")
            kill_at.append(time.monotonic())

        with Load(cluster.nginx_port, paths) as load:
            time.sleep(3)
            report["upload"] = drill_upload(cluster, fx, node_killed, kill_node1)
            time.sleep(2)
            cluster.start("node1")
            wait_http(f"{cluster.node_url(1)}/healthz", timeout=90)
            report["node1_back_after_s"] = round(time.monotonic() - kill_at[-1], 1)
            report["worker"] = drill_worker(cluster, fx)
            report["invalidation"] = drill_invalidation(cluster, fx)
            time.sleep(2)
        kill_start, kill_end = kill_at
        failed = [h for h in load.hits if h.error or h.status >= 500]
        in_flight = [h for h in failed if h.start <= kill_end and h.end >= kill_start]
        beyond = [h for h in failed if h not in in_flight]
        report["load"] = {
            "requests": len(load.hits),
            "seconds": round(max(h.end for h in load.hits) - min(h.start for h in load.hits), 1),
            "failed": len(failed),
            "failed_in_flight_on_killed_node": len(in_flight),
            "failed_beyond": [(h.path, h.status, h.error) for h in beyond[:10]],
            "served_by": sorted({h.upstream for h in load.hits if h.upstream}),
        }
        upload, worker, inval = report["upload"], report["worker"], report["invalidation"]
        checks = {
            "no request failed beyond those in flight on the killed node": not beyond,
            "the upload started on node 1 completed through another node": upload["final"] == upload["length"]
            and upload["bytes_equal"],
            "no task lost: every export job done, its file in the private store": worker["final"]
            == {"done": worker["jobs"]}
            and worker["files_in_private_store"],
            "the edit is visible through every node": not inval["stale"],
            "health: database, cache, stores, broker": all(cluster.health(wait=60).values()),
        }
        report["checks"] = checks
        ok = all(checks.values())
    finally:
        report["total_seconds"] = round(time.monotonic() - started, 1)
        print(json.dumps(report, ensure_ascii=False, indent=1, default=str))
        if not args.keep:
            cluster.down()
    for name, passed in report.get("checks", {}).items():
        print(f"{'PASS' if passed else 'FAIL'}  {name}")
    print(f"drill {'passed' if ok else 'FAILED'} in {report['total_seconds']} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
