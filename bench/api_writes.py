"""Writes of the open API at campaign scale (issue 16): bulk upsert over HTTP and webhook fan-out.

1. **Bulk upsert** of ``--rows`` (10,000) activities through ``POST /api/v1/org/activities/bulk``
   (500 per request, each with an ``Idempotency-Key``) by a unit token, against gunicorn on
   loopback: rows/s for the first pass (every row created) and for the same rows again (every row
   ``unchanged``, the upsert's compare path).
2. **Webhook fan-out** of ``--events`` (10,000) events to a local receiver (a threaded HTTP server
   in a child process on ``--receiver-port``): ``webhooks.announce`` for each event, delivered as
   the embedded default delivers them (in-process, after commit, no broker), signed, logged;
   deliveries/s.

Uses the database of ``bench/api.py`` (seed it there first; ``KEPUYUE_BENCH_DATABASE_URL`` /
``KEPUYUE_BENCH_VAR_DIR`` choose it)::

    .venv/bin/python bench/api_writes.py --db sqlite
    .venv/bin/python bench/api_writes.py --db postgres

The rows it writes are drafts of one bench unit (``bench-api-writes``); a second run updates them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_pages import (  # noqa: E402
    GUNICORN,
    PY,
    ROOT,
    ensure_postgres_database,
    environment,
    manage,
    shell,
    wait_for,
)

SETUP_UNIT = """
from django.contrib.auth import get_user_model
from kepuyue.api.tokens import create_token
from kepuyue.orgs.models import Membership, Organization
unit, _ = Organization.objects.get_or_create(name="bench-api-writes", defaults={"type_id": "science_museum", "region_id": "330106"})
user, _ = get_user_model().objects.get_or_create(username="bench-api-writes")
Membership.objects.get_or_create(user=user, organization=unit)
print(create_token(user, name="bench", kind="unit")[1])
"""

RECEIVER = """
import hashlib, hmac, http.server, sys, threading, time
secret = sys.argv[2].encode()
seen = {"ok": 0, "bad": 0}
lock = threading.Lock()
class Hook(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver behind a proxy
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/count":
            answer = f"{seen['ok']} {seen['bad']}".encode()
            self.send_response(200); self.send_header("Content-Length", str(len(answer))); self.end_headers()
            self.wfile.write(answer)
            return
        fields = dict(p.split("=", 1) for p in self.headers["Kepuyue-Signature"].split(","))
        expected = hmac.new(secret, fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        good = hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - int(fields["t"])) < 300
        with lock:
            seen["ok" if good else "bad"] += 1
        self.send_response(204 if good else 400)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Hook)
server.daemon_threads = True
server.serve_forever()
"""

SUBSCRIBE = """
from kepuyue.api import webhooks
from kepuyue.api.models import WebhookSubscription
from django.contrib.auth import get_user_model
user = get_user_model().objects.get(username="bench-api-writes")
WebhookSubscription.objects.filter(user=user).delete()
print(webhooks.create_subscription(user, url="http://127.0.0.1:{port}/hook", events=["activity.published"], kind="unit").secret)
"""

# The embedded default's path: each event announced after commit as the receivers do
# (announce_later), handed to the background thread, which announces the events queued meanwhile
# together (announce_many: one insert) and sends them concurrently over pooled connections.
FAN_OUT = """
import time
from django.db import transaction
from kepuyue.api import webhooks
from kepuyue.api.models import DeliveryState, WebhookDelivery, WebhookEvent, WebhookSubscription
from kepuyue.common import background
from kepuyue.orgs.models import Organization
unit = Organization.objects.get(name="bench-api-writes")
sub = WebhookSubscription.objects.get(user__username="bench-api-writes")
started = time.perf_counter()
for i in range({events}):
    with transaction.atomic():
        transaction.on_commit(lambda i=i: webhooks.announce_later(
            WebhookEvent.ACTIVITY_PUBLISHED, {{"activity": {{"id": i, "title": "bench"}}}},
            organizer_id=unit.pk, activity_id=i))
queued = time.perf_counter() - started
assert background.drain(600)
elapsed = time.perf_counter() - started
done = WebhookDelivery.objects.filter(subscription=sub, state=DeliveryState.DELIVERED).count()
print(done, round(elapsed, 2), round(queued, 2))
"""


def item(n: int) -> dict:
    day = 15 + n % 10
    return {
        "joint_action": "science-museums",
        "brand": "science-nights",  # plan 八(一): without it every row is refused (a refusal is no write)
        "title": f"压测活动 {n}",
        "summary": "接口批量写入",
        "starts_at": f"2025-09-{day:02d}T09:00:00+08:00",
        "ends_at": f"2025-09-{day:02d}T17:00:00+08:00",
        "form": "offline",
        "region_code": "330106",
        "venue": "杭州科技馆",
        "audiences": [1],
        "topics": [1],
        "contact_name": "联系人",
        "contact_phone": "13812345678",
        "external_id": f"bench-{n}",
    }


def bulk(base: str, secret: str, rows: int, batch: int) -> tuple[float, dict]:
    counts: dict[str, int] = {}
    started = time.perf_counter()
    for first in range(0, rows, batch):
        body = json.dumps({"items": [item(n) for n in range(first, min(first + batch, rows))]}).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback
            base + "/api/v1/org/activities/bulk",
            data=body,
            method="POST",
            headers={
                "Authorization": f"Bearer {secret}",
                "Content-Type": "application/json",
                "Idempotency-Key": str(uuid.uuid4()),
            },
        )
        with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310 - loopback
            answer = json.loads(response.read())
        for key in ("created", "updated", "unchanged", "failed"):
            counts[key] = counts.get(key, 0) + answer[key]
    assert counts.get("failed") == 0, counts  # a refused row is no write: never count it as one
    return time.perf_counter() - started, counts


class SkipBulk(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8460)
    parser.add_argument("--receiver-port", type=int, default=8461)
    parser.add_argument("--prepare", action="store_true", help="migrate and load the plan and regions first")
    parser.add_argument("--skip-bulk", action="store_true")
    parser.add_argument("--concurrency", type=int, default=8, help="KEPUYUE_WEBHOOK_CONCURRENCY")
    args = parser.parse_args()

    env = environment(args.db)
    env["KEPUYUE_RATE_LIMITS"] = "0"
    env["KEPUYUE_WEBHOOK_ALLOW_PRIVATE"] = "1"
    env["KEPUYUE_BACKGROUND"] = "thread"
    env["KEPUYUE_WEBHOOK_CONCURRENCY"] = str(args.concurrency)
    if args.db == "postgres":
        ensure_postgres_database()
    if args.prepare:
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        manage(env, "load_regions")
        manage(env, "load_campaign", str(ROOT / "campaigns" / "kepuyue-2025.yaml"))
    have = shell(env, "from kepuyue.activities.models import Activity; print(Activity.objects.count())")
    secret = shell(env, SETUP_UNIT)
    base = f"http://127.0.0.1:{args.port}"
    print(
        f"{args.db}, {int(have):,} activities; load average {' / '.join(Path('/proc/loadavg').read_text().split()[:3])}"
    )

    server = subprocess.Popen(
        [GUNICORN, "kepuyue.wsgi", "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers),
         "--timeout", "300"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(base + "/healthz")
        if args.skip_bulk:
            raise SkipBulk
        seconds, counts = bulk(base, secret, args.rows, args.batch)
        print(
            f"bulk upsert, first pass: {args.rows:,} rows in {seconds:.1f} s = {args.rows / seconds:.0f} rows/s {counts}"
        )
        seconds, counts = bulk(base, secret, args.rows, args.batch)
        print(
            f"bulk upsert, same rows again: {args.rows:,} rows in {seconds:.1f} s = {args.rows / seconds:.0f} rows/s {counts}"
        )
        print(f"load average: {' / '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    except SkipBulk:
        pass
    finally:
        server.terminate()
        try:
            server.wait(60)  # a loaded machine can take a while to stop two workers
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    secret = shell(env, SUBSCRIBE.format(port=args.receiver_port))
    receiver = subprocess.Popen([PY, "-c", RECEIVER, str(args.receiver_port), secret])
    try:
        wait_port = time.monotonic() + 10
        while time.monotonic() < wait_port:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.receiver_port}/count", data=b"", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        delivered, seconds, queued = shell(env, FAN_OUT.format(events=args.events)).split()
        with urllib.request.urlopen(f"http://127.0.0.1:{args.receiver_port}/count", data=b"", timeout=5) as r:  # noqa: S310
            verified, refused = r.read().decode().split()
        print(
            f"webhook fan-out: {args.events:,} events, {int(delivered):,} delivered in {float(seconds):.1f} s "
            f"= {int(delivered) / float(seconds):.0f} deliveries/s (announce_later → background thread, "
            f"concurrency {args.concurrency}; events queued in {float(queued):.1f} s); receiver verified "
            f"{verified} signatures, refused {refused}"
        )
    finally:
        receiver.terminate()
        receiver.wait(10)
    print(f"load average after: {' / '.join(Path('/proc/loadavg').read_text().split()[:3])}")


if __name__ == "__main__":
    sys.exit(main())
