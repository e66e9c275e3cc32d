"""Webhooks: fan-out of the domain events to the subscriptions that cover the object, signatures
checked by an independent reference verifier, retries with backoff, automatic disabling and
re-enabling, the SSRF check. Deliveries go to a real HTTP server on a free loopback port."""

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from django.utils import timezone

from kepuyue.activities import services
from kepuyue.activities.models import Status
from kepuyue.api import webhooks
from kepuyue.api.models import DeliveryState, WebhookDelivery, WebhookSubscription
from tests.fixtures_services import free_port

from .conftest import make_activity

pytestmark = pytest.mark.django_db


class Receiver:
    """A webhook receiver on a free port of 127.0.0.1 that records each request and answers ``status``."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # a free port: runs never collide
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/kepuyue"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    found = Receiver()
    yield found
    found.close()


def reference_verify(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """A verifier written from docs/api.md alone (as a receiver would), not from our code:
    ``t=<unix>,v1=<hex>``, HMAC-SHA256 over ``<t>.<raw body>``, constant-time compare, fresh ``t``."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(fields["t"])
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode("utf-8"), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields["v1"])


def subscribe(user, url, events, kind="unit"):
    return webhooks.create_subscription(user, url=url, events=events, kind=kind)


def publish(activity):
    services.transition(activity, Status.SUBMITTED)
    services.transition(activity, Status.PUBLISHED)


def test_published_activity_is_delivered_signed(
    receiver, unit, other_unit, publisher, other_publisher, django_capture_on_commit_callbacks
):
    mine = subscribe(publisher, receiver.url, ["activity.published", "activity.withdrawn"])
    subscribe(other_publisher, receiver.url + "?other", ["activity.published"])
    activity = make_activity(unit, publish=False)
    with django_capture_on_commit_callbacks(execute=True):
        publish(activity)
    assert len(receiver.requests) == 1  # not to the other unit's subscription
    request = receiver.requests[0]
    assert request["path"] == "/hooks/kepuyue"
    assert request["headers"]["Kepuyue-Event"] == "activity.published"
    assert reference_verify(mine.secret, request["headers"]["Kepuyue-Signature"], request["body"])
    # A byte changed, another secret, or an old timestamp fails the reference verifier.
    assert not reference_verify(mine.secret, request["headers"]["Kepuyue-Signature"], request["body"] + b" ")
    assert not reference_verify("whsec_other", request["headers"]["Kepuyue-Signature"], request["body"])
    stale = webhooks.sign(mine.secret, request["body"], int(time.time()) - 3600)
    assert not reference_verify(mine.secret, stale, request["body"])
    payload = json.loads(request["body"])
    assert payload["event"] == "activity.published"
    assert payload["data"]["activity"]["id"] == activity.pk
    assert payload["id"] == request["headers"]["Kepuyue-Delivery"]
    delivery = WebhookDelivery.objects.get(subscription=mine)
    assert delivery.state == DeliveryState.DELIVERED and delivery.response_status == 200


def test_a_rolled_back_change_is_never_announced(receiver, unit, publisher):
    subscribe(publisher, receiver.url, ["activity.published"])
    activity = make_activity(unit, publish=False)
    publish(activity)  # inside the test's transaction: on_commit never runs
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()


def test_scope_subscription_follows_the_administrators_scope(
    receiver, unit, make_staff, django_capture_on_commit_callbacks
):
    zhejiang = make_staff("zj-admin", role="platform_admin", region="330000")
    guangdong = make_staff("gd-admin", role="platform_admin", region="440000")
    subscribe(zhejiang, receiver.url, ["activity.published"], kind="scope")
    subscribe(guangdong, receiver.url + "?gd", ["activity.published"], kind="scope")
    activity = make_activity(unit, publish=False)
    with django_capture_on_commit_callbacks(execute=True):
        publish(activity)
    assert [r["path"] for r in receiver.requests] == ["/hooks/kepuyue"]


def test_registration_and_entry_events(receiver, unit, publisher, django_capture_on_commit_callbacks):
    from kepuyue.calls.signals import entry_moved
    from kepuyue.registrations.signals import registration_cancelled, registration_created

    subscribe(publisher, receiver.url, ["registration.created", "registration.cancelled", "entry.published"])
    keys = {"booking_id": 7, "session_id": 3, "activity_id": 5, "organizer_id": unit.pk, "kind": "individual"}
    registration_created.send(
        None, **keys, status="confirmed", seats=2, campaign_id=1, booking=None, actor=None
    )
    registration_cancelled.send(
        None, **keys, status="cancelled", seats=2, from_status="confirmed", reason="member"
    )
    entry = SimpleNamespace(
        code="ABC123",
        title="城市漫步",
        call=SimpleNamespace(slug="citywalk-routes", campaign_id=1),
        organization_id=unit.pk,
    )
    entry_moved.send(None, entry=entry, from_state="selected", to_state="published")
    events = [json.loads(r["body"])["event"] for r in receiver.requests]
    assert events == ["registration.created", "registration.cancelled", "entry.published"]
    body = json.loads(receiver.requests[0]["body"])
    assert body["data"]["registration"] == {
        "id": 7,
        "session_id": 3,
        "activity_id": 5,
        "kind": "individual",
        "status": "confirmed",
        "seats": 2,
    }


def test_retries_with_backoff_then_disables(receiver, unit, publisher, client):
    receiver.status = 500
    subscription = subscribe(publisher, receiver.url, ["activity.published"])
    ids = webhooks.announce("activity.published", {"x": 1}, organizer_id=unit.pk, activity_id=None)
    delivery = WebhookDelivery.objects.get(pk=ids[0])
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 1
    assert delivery.error == "接收方返回 500"
    wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=25) < wait <= timedelta(seconds=30)
    assert webhooks.deliver_due() == 0  # not due yet
    waits = []
    for _ in range(webhooks.MAX_ATTEMPTS - 1):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        webhooks.deliver_due()
        delivery.refresh_from_db()
        if delivery.next_attempt_at:
            waits.append(round((delivery.next_attempt_at - timezone.now()).total_seconds() / 30))
    assert waits == [2, 4, 8, 16, 32, 64]  # 30 s × 2^n
    assert delivery.state == DeliveryState.FAILED and delivery.attempts == webhooks.MAX_ATTEMPTS
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS
    # Two more failed events reach DISABLE_AFTER consecutive failures: the subscription stops.
    for _ in range(webhooks.DISABLE_AFTER - webhooks.MAX_ATTEMPTS):
        webhooks.announce("activity.published", {"x": 2}, organizer_id=unit.pk, activity_id=None)
    subscription.refresh_from_db()
    assert subscription.disabled_at is not None and "连续 10 次投递失败" in subscription.disabled_reason
    sent = len(receiver.requests)
    webhooks.announce("activity.published", {"x": 3}, organizer_id=unit.pk, activity_id=None)
    assert len(receiver.requests) == sent  # disabled: nothing sent
    # Re-enabled from the page, it delivers again.
    receiver.status = 204
    client.force_login(publisher)
    page = client.get("/org/api/webhooks/")
    assert "已停用" in page.content.decode() and "重新启用" in page.content.decode()
    assert client.post(f"/org/api/webhooks/{subscription.pk}/enable").status_code == 302
    webhooks.announce("activity.published", {"x": 4}, organizer_id=unit.pk, activity_id=None)
    subscription.refresh_from_db()
    assert subscription.active and subscription.failures == 0
    assert WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).count() == 1


def test_network_failure_is_retried(settings, unit, publisher):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    subscribe(publisher, f"http://127.0.0.1:{free_port()}/nobody-listens", ["activity.published"])
    ids = webhooks.announce("activity.published", {}, organizer_id=unit.pk)
    delivery = WebhookDelivery.objects.get(pk=ids[0])
    assert delivery.state == DeliveryState.PENDING and delivery.error.startswith("网络错误")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8171/",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://0.0.0.0/",
        "ftp://example.org/",
        "http://user:pw@127.0.0.1/",
        "javascript:alert(1)",
    ],
)
def test_private_and_odd_targets_are_refused(publisher, url):
    with pytest.raises(Exception) as refused:
        subscribe(publisher, url, ["activity.published"])
    assert "接收地址" in str(refused.value)
    assert not WebhookSubscription.objects.exists()


def test_a_target_that_turns_private_is_not_called(settings, receiver, unit, publisher):
    """Allowed when saved, refused at delivery once the setting is off (the check runs again)."""
    subscribe(publisher, receiver.url, ["activity.published"])
    settings.WEBHOOK_ALLOW_PRIVATE = False
    ids = webhooks.announce("activity.published", {}, organizer_id=unit.pk)
    assert receiver.requests == []
    assert "内网" in WebhookDelivery.objects.get(pk=ids[0]).error


def test_page_creates_and_shows_the_secret_once(client, publisher, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    client.force_login(publisher)
    response = client.post(
        "/org/api/webhooks/new",
        {"url": "http://127.0.0.1:8171/x", "events": ["activity.published"], "kind": "unit"},
    )
    assert response.status_code == 200
    secret = WebhookSubscription.objects.get().secret
    assert secret in response.content.decode()
    assert secret not in client.get("/org/api/webhooks/").content.decode()
    refused = client.post("/org/api/webhooks/new", {"url": "http://127.0.0.1:8171/x", "events": []})
    assert refused.status_code == 400 and "事件：至少选择一个" in refused.content.decode()


def test_another_units_subscription_is_404(client, publisher, other_publisher, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    subscription = subscribe(publisher, "http://127.0.0.1:8171/x", ["activity.published"])
    client.force_login(other_publisher)
    assert client.post(f"/org/api/webhooks/{subscription.pk}/delete").status_code == 404
    assert client.post(f"/org/api/webhooks/{subscription.pk}/enable").status_code == 404
    assert WebhookSubscription.objects.filter(pk=subscription.pk).exists()


# --- batched, concurrent, pooled delivery (decision 0032) ------------------------------------------


class KeepAliveReceiver:
    """An HTTP/1.1 receiver that keeps connections open, verifies every signature with
    :func:`reference_verify` and counts the client connections it saw."""

    def __init__(self, secret_of, fail_every: int = 0):
        self.verified, self.refused, self.peers, self.count = 0, 0, set(), 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = reference_verify(secret_of(), self.headers["Kepuyue-Signature"], body)
                with receiver.lock:
                    receiver.count += 1
                    receiver.peers.add(self.client_address)
                    receiver.verified += ok
                    receiver.refused += not ok
                    status = 500 if fail_every and receiver.count % fail_every == 0 else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self):
        webhooks.close_pools()  # the server's open keep-alive connections would outlive it
        self.server.shutdown()
        self.server.server_close()


def test_many_events_are_fanned_out_in_bulk_and_sent_over_few_connections(settings, unit, publisher):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_CONCURRENCY = 4
    settings.WEBHOOK_BATCH_SIZE = 25
    holder = {}
    receiver = KeepAliveReceiver(lambda: holder["secret"])
    try:
        subscription = subscribe(publisher, receiver.url, ["activity.published"])
        holder["secret"] = subscription.secret
        events = [
            {"event": "activity.published", "data": {"n": n}, "organizer_id": unit.pk, "activity_id": None}
            for n in range(100)
        ]
        with CaptureQueriesContext(connection) as queries:
            ids = webhooks.announce_many(events)
        assert len(ids) == 100
        assert WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).count() == 100
        assert receiver.verified == 100 and receiver.refused == 0
        # Keep-alive: 4 threads reuse their connections across the 4 batches.
        assert len(receiver.peers) <= 4 * 4
        # Bulk: the query count is per batch, not per delivery.
        assert len(queries) < 60
        assert len({json.loads(json.dumps(d.payload))["id"] for d in WebhookDelivery.objects.all()}) == 100
    finally:
        receiver.close()


def test_failures_in_a_batch_count_as_a_run_and_a_success_resets_it(settings, unit, publisher):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_CONCURRENCY = 1  # in order: every third answer is a 500
    holder = {}
    receiver = KeepAliveReceiver(lambda: holder["secret"], fail_every=3)
    try:
        subscription = subscribe(publisher, receiver.url, ["activity.published"])
        holder["secret"] = subscription.secret
        events = [
            {"event": "activity.published", "data": {"n": n}, "organizer_id": unit.pk, "activity_id": None}
            for n in range(6)
        ]
        webhooks.announce_many(events)  # 204 204 500 204 204 500: one failure after the last success
        subscription.refresh_from_db()
        assert subscription.failures == 1 and subscription.active
        pending = WebhookDelivery.objects.filter(state=DeliveryState.PENDING)
        assert pending.count() == 2 and {d.attempts for d in pending} == {1}
        assert all(d.next_attempt_at > timezone.now() + timedelta(seconds=25) for d in pending)
        # Retried when due: both go through and the run is over.
        pending.update(next_attempt_at=timezone.now())
        receiver.count = 0
        assert webhooks.deliver_due() == 2
        subscription.refresh_from_db()
        assert subscription.failures == 0
        assert WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).count() == 6
    finally:
        receiver.close()


@pytest.mark.django_db(transaction=True)  # the background thread reads with its own connection
def test_events_queued_together_are_announced_together(settings, unit, publisher, receiver):
    """Without a broker the background thread hands the queued events to announce_many at once."""
    from kepuyue.common import background

    settings.KEPUYUE_BACKGROUND = "thread"
    subscribe(publisher, receiver.url, ["activity.published"])
    calls = []
    original = webhooks.announce_many

    def spy(events):
        calls.append(len(events))
        return original(events)

    webhooks.announce_many = spy
    try:
        for n in range(5):
            webhooks.announce_later("activity.published", {"n": n}, organizer_id=unit.pk)
        assert background.drain(30)
    finally:
        webhooks.announce_many = original
    assert sum(calls) == 5 and len(calls) < 5
    assert len(receiver.requests) == 5
