"""Webhooks (事件推送, issue 16 §3): subscriptions, fan-out of domain events, signed deliveries with
retries, the delivery log, automatic disabling, and the address check against SSRF.

**Signature.** Each POST carries ``Kepuyue-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is
HMAC-SHA256 of ``"<t>." + body`` (the raw bytes) with the subscription's secret, plus
``Kepuyue-Event`` and ``Kepuyue-Delivery`` (the event id, the same on every retry: receivers
de-duplicate on it). A receiver recomputes the HMAC, compares in constant time and refuses a ``t``
older than a few minutes (replays). ``docs/api.md`` shows a verifier.

**Delivery.** Events are the after-commit domain events of the lower apps (``activities.signals``,
``review.signals``, ``registrations.signals``, ``calls.signals``; ``docs/architecture.md``), so a
rolled-back change is never announced. Each event becomes one :class:`WebhookDelivery` per matching
subscription; events queued together are announced together (:func:`announce_many`: one read of the
subscriptions, one ``bulk_create``) and sent in batches of ``WEBHOOK_BATCH_SIZE`` (:func:`deliver_many`:
one claiming update, ``WEBHOOK_CONCURRENCY`` threads over keep-alive connections, the outcomes recorded in
bulk; decision 0032) — by the Celery task ``kepuyue.api.deliver_webhooks`` on a worker when a broker is
configured (``REDIS_URL``), on the server's background process or thread otherwise. A failure (network
error, timeout, any status but 2xx) is retried after 30 s, 1, 2, 4 … minutes (at most one hour apart, at
most :data:`MAX_ATTEMPTS` tries) by ``deliver_due`` (Celery beat every minute, or
``manage.py deliver_webhooks`` from cron). :data:`DISABLE_AFTER` consecutive failures disable the
subscription; the page re-enables it.

**SSRF.** A target must be http(s) on the default or an explicit port and resolve only to public
addresses (no loopback, private, link-local, multicast or reserved ranges) unless
``KEPUYUE_WEBHOOK_ALLOW_PRIVATE`` is on (tests, an intranet deployment). The check runs when the
subscription is saved and again at each delivery, and the connection goes to the address that was
checked (no DNS rebinding between check and connect); redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kepuyue.audit import services as audit
from kepuyue.common import background
from kepuyue.common.text import clean_text

from . import tokens
from .models import DeliveryState, TokenKind, WebhookDelivery, WebhookEvent, WebhookSubscription

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Kepuyue-Signature"
TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 8
DISABLE_AFTER = 10
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
MAX_SUBSCRIPTIONS = 20
USER_AGENT = "Kepuyue-Webhooks/1"


# --- signing --------------------------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Kepuyue-Signature`` header value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# --- the target address ---------------------------------------------------------------------------


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE", False))


def check_url(url: str) -> tuple[str, int, str, str]:
    """``(scheme, port, host, address)`` of a webhook target, or ``ValidationError`` (Chinese) when
    it is not http(s), has credentials, or resolves to a non-public address (SSRF)."""
    url = clean_text(url, max_length=500, label=_("接收地址"))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": [_("接收地址：须为 http:// 或 https:// 开头的完整网址")]})
    if parts.username or parts.password:
        raise ValidationError({"url": [_("接收地址：不能包含用户名或密码")]})
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError({"url": [_("接收地址：端口无效")]}) from None
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise ValidationError(
            {"url": [_("接收地址：无法解析域名“%(host)s”") % {"host": host[:100]}]}
        ) from None
    addresses = sorted({info[4][0] for info in infos})
    if not allow_private():
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not ip.is_global or ip.is_multicast:
                raise ValidationError(
                    {"url": [_("接收地址：不能指向内网、本机或保留地址（%(ip)s）") % {"ip": address}]}
                )
    return parts.scheme, port, host, addresses[0]


_pools: dict[tuple, urllib3.HTTPConnectionPool] = {}
_pools_lock = threading.Lock()
MAX_POOLS = 64


def _pool(scheme: str, host: str, port: int, address: str) -> urllib3.HTTPConnectionPool:
    """The keep-alive connection pool to ``address`` (the checked one) for ``host``: one per target,
    shared by the process's delivery threads (at most ``WEBHOOK_CONCURRENCY`` connections each).
    HTTPS checks the certificate and SNI of ``host`` while connecting to ``address`` (no DNS rebinding
    between check and connect)."""
    key = (scheme, host, port, address)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            if len(_pools) >= MAX_POOLS:  # many targets: start again rather than hold sockets forever
                for old in _pools.values():
                    old.close()
                _pools.clear()
            options = {
                "maxsize": concurrency(),
                "block": True,
                "timeout": urllib3.Timeout(connect=TIMEOUT_SECONDS, read=TIMEOUT_SECONDS),
                "retries": False,
            }
            if scheme == "https":
                pool = urllib3.HTTPSConnectionPool(
                    address,
                    port,
                    server_hostname=host,
                    assert_hostname=host,
                    ssl_context=ssl.create_default_context(),
                    **options,
                )
            else:
                pool = urllib3.HTTPConnectionPool(address, port, **options)
            _pools[key] = pool
    return pool


def close_pools() -> None:
    """Close every pooled connection (tests; a process that changes its targets)."""
    with _pools_lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()


def post(url: str, body: bytes, headers: dict, *, target: tuple | None = None) -> int:
    """POST ``body`` to ``url`` (checked again unless ``target`` is the ``check_url`` answer of this
    batch; connected to the checked address, no redirects) over a pooled keep-alive connection;
    returns the status code. Raises ``ValidationError`` for a refused address, ``OSError`` or
    ``urllib3.exceptions.HTTPError`` for a network failure."""
    scheme, port, host, address = target or check_url(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    response = _pool(scheme, host, port, address).urlopen(
        "POST",
        path,
        body=body,
        headers={"Host": parts.netloc, **headers},
        redirect=False,
        retries=False,
        assert_same_host=False,
        preload_content=False,
    )
    try:
        if len(response.read(65536, decode_content=False)) < 65536:
            response.release_conn()  # read to the end: the connection is kept for the next one
        else:
            response.close()  # a long answer is not read: the connection is dropped
    except Exception:
        response.close()
        raise
    return response.status


def concurrency() -> int:
    return max(1, int(getattr(settings, "WEBHOOK_CONCURRENCY", 8)))


def batch_size() -> int:
    return max(1, int(getattr(settings, "WEBHOOK_BATCH_SIZE", 100)))


# --- subscriptions --------------------------------------------------------------------------------


def subscriptions_of(user):
    """The subscriptions ``user`` manages: its own, and its unit's unit subscriptions."""
    from django.db.models import Q

    from kepuyue.roles import services as roles

    q = Q(user=user)
    organization = roles.organization_of(user)
    if organization is not None:
        q |= Q(organization=organization, kind=TokenKind.UNIT)
    return WebhookSubscription.objects.filter(q)


def create_subscription(user, *, url: str, events, kind: str) -> WebhookSubscription:
    """Subscribe ``url`` to ``events`` for ``user``'s unit (``kind="unit"``) or scope; returns the
    subscription (its ``secret`` is shown once by the page). Audited."""
    from kepuyue.roles import services as roles

    if kind not in tokens.kinds_for(user):
        raise PermissionDenied(_("当前账号不能创建这种订阅"))
    events = [e for e in dict.fromkeys(events or []) if e in WebhookEvent.values]
    errors = {}
    if not events:
        errors["events"] = [_("事件：至少选择一个")]
    try:
        check_url(url)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if WebhookSubscription.objects.filter(user=user).count() >= MAX_SUBSCRIPTIONS:
        errors.setdefault("url", []).append(_("最多可创建 %(n)d 个订阅") % {"n": MAX_SUBSCRIPTIONS})
    if errors:
        raise ValidationError(errors)
    subscription = WebhookSubscription.objects.create(
        user=user,
        organization=roles.organization_of(user) if kind == TokenKind.UNIT else None,
        kind=kind,
        url=url.strip(),
        events=events,
        secret="whsec_" + secrets.token_urlsafe(32),
    )
    audit.record(
        "api.webhook.create", actor=user, obj=subscription, data={"url": subscription.url, "events": events}
    )
    return subscription


def enable(subscription: WebhookSubscription, *, by) -> None:
    """Re-enable a disabled subscription (failures counted from zero again). Audited."""
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        disabled_at=None, disabled_reason="", failures=0, updated=timezone.now()
    )
    audit.record("api.webhook.enable", actor=by, obj=subscription)


def delete(subscription: WebhookSubscription, *, by) -> None:
    audit.record("api.webhook.delete", actor=by, obj=subscription, data={"url": subscription.url})
    subscription.delete()


# --- fan-out --------------------------------------------------------------------------------------


def _covers(subscription: WebhookSubscription, *, organizer_id: int | None, activity_id: int | None) -> bool:
    """Whether the subscription's account may see the object (a unit: its own; a scope: what
    ``activities.rules.visible_activities`` gives its account)."""
    if subscription.kind == TokenKind.UNIT:
        return organizer_id is not None and subscription.organization_id == organizer_id
    if activity_id is None:
        return True  # a published entry of a call: public
    from kepuyue.activities.rules import visible_activities

    return visible_activities(subscription.user).filter(pk=activity_id).exists()


def announce_later(
    event: str, data: dict, *, organizer_id: int | None, activity_id: int | None = None
) -> None:
    """:func:`announce`, after the response (``kepuyue.common.background``: a Celery worker, the
    server's background process or thread; at once under tests). A booking's request no longer reads
    the subscriptions (decision 0028); ``data`` is ids and public fields, so it travels as JSON.
    Events queued together are announced together (:func:`announce_many`: one read of the
    subscriptions, one insert of the deliveries, decision 0032)."""
    from .tasks import announce_task

    background.enqueue(
        announce_task,
        {"event": event, "data": data, "organizer_id": organizer_id, "activity_id": activity_id},
        batch=announce_many,
    )


def announce(
    event: str, data: dict, *, organizer_id: int | None, activity_id: int | None = None
) -> list[int]:
    """Create a delivery of ``event`` (payload ``data``) for every active subscription to it that
    covers the object, and send them; returns the delivery ids. Called after commit."""
    return announce_many(
        [{"event": event, "data": data, "organizer_id": organizer_id, "activity_id": activity_id}]
    )


def announce_many(events: list[dict]) -> list[int]:
    """:func:`announce` for many events (``{"event", "data", "organizer_id", "activity_id"}``): the
    active subscriptions read once, every delivery inserted with one ``bulk_create``, then sent in
    batches of ``WEBHOOK_BATCH_SIZE`` — by a Celery task each with a broker, here without one
    (:func:`deliver_many`: concurrent, pooled). Returns the delivery ids."""
    subscriptions = list(WebhookSubscription.objects.filter(disabled_at__isnull=True).select_related("user"))
    if not subscriptions or not events:
        return []
    rows = []
    now = timezone.now()
    for item in events:
        event = item["event"]
        matching = [
            s
            for s in subscriptions
            if event in s.events
            and _covers(s, organizer_id=item.get("organizer_id"), activity_id=item.get("activity_id"))
        ]
        if not matching:
            continue
        event_id = str(uuid.uuid4())
        payload = {"id": event_id, "event": event, "created": now, "data": item.get("data") or {}}
        payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False))
        rows += [
            WebhookDelivery(
                subscription=s, event=event, event_id=event_id, payload=payload, next_attempt_at=now
            )
            for s in matching
        ]
    if not rows:
        return []
    ids = [d.pk for d in WebhookDelivery.objects.bulk_create(rows, batch_size=500)]
    if None in ids:  # a database that returns no ids from a multi-row insert: read them back
        ids = list(
            WebhookDelivery.objects.filter(event_id__in={d.event_id for d in rows})
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    send(ids)
    return ids


def send(ids: list[int]) -> None:
    """Send the deliveries ``ids`` in batches: a Celery task per batch with a broker, else here."""
    from .tasks import deliver_webhooks_task

    size = batch_size()
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        if settings.CELERY_TASK_ALWAYS_EAGER:
            deliver_many(chunk)
            continue
        try:
            deliver_webhooks_task.delay(chunk)
        except Exception:  # a broker that is down: deliver_due picks them up
            logger.exception("webhooks %s…: could not queue", chunk[:3])


# --- delivering -----------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 30 s, 1, 2, 4 … minutes, at most an hour."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def deliver(delivery_id: int) -> str:
    """Try a pending delivery once; returns its state. Safe to call twice (only a pending, due
    delivery of an active subscription is sent, and it is claimed by a conditional update)."""
    states = deliver_many([delivery_id])
    if delivery_id in states:
        return states[delivery_id]
    found = WebhookDelivery.objects.filter(pk=delivery_id).values_list("state", flat=True).first()
    return found or ""


def _claim(ids: list[int]) -> list[WebhookDelivery]:
    """Claim the pending, due deliveries of ``ids`` (active subscriptions) with one conditional
    update that moves them past a lease (a second claimer finds them not due) and counts the
    attempt; returns the claimed rows with their subscriptions. The lease outlasts the batch's
    sending; its random microseconds tell this claim's rows from a concurrent one's."""
    now = timezone.now()
    rounds = -(-len(ids) // concurrency())
    lease = (now + timedelta(seconds=TIMEOUT_SECONDS * 2 * (rounds + 1))).replace(
        microsecond=secrets.randbelow(1_000_000)
    )
    claimed = WebhookDelivery.objects.filter(
        pk__in=ids,
        state=DeliveryState.PENDING,
        next_attempt_at__lte=now,
        subscription__disabled_at__isnull=True,
    ).update(next_attempt_at=lease, attempts=F("attempts") + 1)
    if not claimed:
        return []
    return list(
        WebhookDelivery.objects.filter(pk__in=ids, state=DeliveryState.PENDING, next_attempt_at=lease)
        .select_related("subscription")
        .order_by("pk")
    )


def _attempt(delivery: WebhookDelivery, target) -> tuple[int | None, str]:
    """Send one claimed delivery (no database access: it runs on a pool thread); ``(status, error)``."""
    if isinstance(target, ValidationError):
        return None, "；".join(target.messages)
    subscription = delivery.subscription
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Kepuyue-Event": delivery.event,
        "Kepuyue-Delivery": delivery.event_id,
        SIGNATURE_HEADER: sign(subscription.secret, body, timestamp),
    }
    try:
        status = post(subscription.url, body, headers, target=target)
    except ValidationError as exc:
        return None, "；".join(exc.messages)
    except (OSError, http.client.HTTPException, urllib3.exceptions.HTTPError) as exc:
        return None, (
            _("网络错误：%(error)s") % {"error": exc.__class__.__name__ + (f" {exc}" if str(exc) else "")}
        )[:300]
    if not 200 <= status < 300:
        return status, _("接收方返回 %(status)d") % {"status": status}
    return status, ""


def deliver_many(ids: list[int]) -> dict[int, str]:
    """Send the deliveries ``ids`` that are pending and due, ``WEBHOOK_CONCURRENCY`` at a time on a
    bounded thread pool over keep-alive connections; record every outcome in a few bulk updates
    (:func:`_record_many`). Returns ``{delivery id: state}`` of the ones it tried. Safe to call
    twice and concurrently (claimed by a conditional update)."""
    deliveries = _claim(list(ids))
    if not deliveries:
        return {}
    targets: dict[str, object] = {}
    for delivery in deliveries:  # the SSRF check once per target and batch, as the subscription is saved
        url = delivery.subscription.url
        if url not in targets:
            try:
                targets[url] = check_url(url)
            except ValidationError as exc:
                targets[url] = exc
    workers = min(concurrency(), len(deliveries))
    if workers == 1:
        outcomes = [_attempt(d, targets[d.subscription.url]) for d in deliveries]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kepuyue-webhook") as pool:
            outcomes = list(pool.map(lambda d: _attempt(d, targets[d.subscription.url]), deliveries))
    return _record_many([(d, status, error) for d, (status, error) in zip(deliveries, outcomes, strict=True)])


def _record(delivery: WebhookDelivery, status: int | None, error: str) -> str:
    return _record_many([(delivery, status, error)])[delivery.pk]


def _record_many(results: list[tuple[WebhookDelivery, int | None, str]]) -> dict[int, str]:
    """Write the outcomes of a batch: the delivered rows in one update per status code, the failed
    ones grouped by attempt and error (the backoff follows the attempt: 30 s, 1, 2, 4 … minutes), and
    per subscription its run of consecutive failures — reset by a success, counted on by failures
    after it — disabling it at :data:`DISABLE_AFTER` (audited)."""
    now = timezone.now()
    states: dict[int, str] = {}
    delivered: dict[int | None, list[int]] = {}
    failed: dict[tuple, list[int]] = {}
    # subscription id → (subscription, reset by a success, failures after it, the last error)
    runs: dict[int, tuple[WebhookSubscription, bool, int, str]] = {}
    for delivery, status, error in sorted(results, key=lambda r: r[0].pk):
        subscription = delivery.subscription
        _sub, reset, failures, _last = runs.get(subscription.pk, (subscription, False, 0, ""))
        if not error:
            delivered.setdefault(status, []).append(delivery.pk)
            states[delivery.pk] = DeliveryState.DELIVERED
            runs[subscription.pk] = (subscription, True, 0, "")
            continue
        final = delivery.attempts >= MAX_ATTEMPTS
        failed.setdefault((delivery.attempts, final, status, error[:300]), []).append(delivery.pk)
        states[delivery.pk] = DeliveryState.FAILED if final else DeliveryState.PENDING
        runs[subscription.pk] = (subscription, reset, failures + 1, error)
    with transaction.atomic():
        for status, pks in delivered.items():
            WebhookDelivery.objects.filter(pk__in=pks).update(
                state=DeliveryState.DELIVERED,
                response_status=status,
                error="",
                delivered_at=now,
                next_attempt_at=None,
            )
        for (attempts, final, status, error), pks in failed.items():
            WebhookDelivery.objects.filter(pk__in=pks).update(
                state=DeliveryState.FAILED if final else DeliveryState.PENDING,
                response_status=status,
                error=error,
                next_attempt_at=None if final else now + backoff(attempts),
            )
        for subscription, reset, failures, last_error in runs.values():
            rows = WebhookSubscription.objects.filter(pk=subscription.pk)
            if reset:
                rows.update(failures=failures)
            elif failures:
                rows.update(failures=F("failures") + failures)
            if not failures:
                continue
            count = rows.values_list("failures", flat=True).first() or 0
            if count >= DISABLE_AFTER:
                disabled = rows.filter(disabled_at__isnull=True).update(
                    disabled_at=now,
                    disabled_reason=_("连续 %(n)d 次投递失败，已自动停用") % {"n": count},
                )
                if disabled:
                    audit.record(
                        "api.webhook.disable",
                        obj=subscription,
                        data={"failures": count, "error": last_error[:200]},
                    )
    return states


def deliver_due(limit: int = 500) -> int:
    """Send the pending deliveries that are due (retries, and any the broker lost); returns how many
    were tried."""
    ids = list(
        WebhookDelivery.objects.filter(
            state=DeliveryState.PENDING,
            next_attempt_at__lte=timezone.now(),
            subscription__disabled_at__isnull=True,
        )
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    size = batch_size()
    for start in range(0, len(ids), size):
        deliver_many(ids[start : start + size])
    return len(ids)


def purge_deliveries(now=None, *, slice_size: int = 5000) -> int:
    """Delete delivery rows (the delivery log) created more than ``API_WEBHOOK_RETENTION_DAYS`` (30)
    ago, whatever their state: a delivery is retried for about four hours at most, and a pending
    one of a subscription disabled that long is not worth sending any more. In slices of
    ``slice_size`` (never a long lock). Returns how many were deleted. Run daily by Celery beat or
    ``manage.py purge_webhook_deliveries``."""
    days = int(getattr(settings, "API_WEBHOOK_RETENTION_DAYS", 30))
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(
            WebhookDelivery.objects.filter(created__lt=cutoff)
            .order_by("id")
            .values_list("pk", flat=True)[:slice_size]
        )
        if not ids:
            return deleted
        deleted += WebhookDelivery.objects.filter(pk__in=ids).delete()[0]
