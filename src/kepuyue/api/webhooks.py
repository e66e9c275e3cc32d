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
subscription, sent by the Celery task ``kepuyue.api.deliver_webhook`` — on a worker when a broker is
configured (``REDIS_URL``), in-process right after the commit otherwise. A failure (network error,
timeout, any status but 2xx) is retried after 30 s, 1, 2, 4 … minutes (at most one hour apart, at
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
import time
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

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


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to ``address`` (the checked one) with SNI and certificate checks for ``host``."""

    def __init__(self, host, port, address, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, address, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(url: str, body: bytes, headers: dict) -> int:
    """POST ``body`` to ``url`` (checked again, connected to the checked address, no redirects);
    returns the status code. Raises ``ValidationError`` for a refused address, ``OSError`` for a
    network failure."""
    scheme, port, host, address = check_url(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if scheme == "https":
        connection = _PinnedHTTPSConnection(
            host, port, address, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        connection = _PinnedHTTPConnection(host, port, address, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("POST", path, body=body, headers={"Host": parts.netloc, **headers})
        response = connection.getresponse()
        response.read(65536)
        return response.status
    finally:
        connection.close()


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
    the subscriptions (decision 0028); ``data`` is ids and public fields, so it travels as JSON."""
    background.defer(_announce, event, data, organizer_id, activity_id)


def _announce(event: str, data: dict, organizer_id: int | None, activity_id: int | None) -> None:
    announce(event, data, organizer_id=organizer_id, activity_id=activity_id)


def announce(
    event: str, data: dict, *, organizer_id: int | None, activity_id: int | None = None
) -> list[int]:
    """Create a delivery of ``event`` (payload ``data``) for every active subscription to it that
    covers the object, and send them; returns the delivery ids. Called after commit."""
    candidates = WebhookSubscription.objects.filter(disabled_at__isnull=True).select_related("user")
    matching = [
        s
        for s in candidates
        if event in s.events and _covers(s, organizer_id=organizer_id, activity_id=activity_id)
    ]
    if not matching:
        return []
    event_id = str(uuid.uuid4())
    payload = {"id": event_id, "event": event, "created": timezone.now(), "data": data}
    payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False))
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                subscription=s, event=event, event_id=event_id, payload=payload, next_attempt_at=now
            )
            for s in matching
        ]
    )
    ids = [d.pk for d in deliveries]
    from .tasks import deliver_webhook_task

    for pk in ids:
        try:
            deliver_webhook_task.delay(pk)
        except Exception:  # a broker that is down: deliver_due picks it up
            logger.exception("webhook %s: could not queue", pk)
    return ids


# --- delivering -----------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 30 s, 1, 2, 4 … minutes, at most an hour."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def deliver(delivery_id: int) -> str:
    """Try a pending delivery once; returns its state. Safe to call twice (only a pending, due
    delivery of an active subscription is sent, and it is claimed by a conditional update)."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        state=DeliveryState.PENDING,
        next_attempt_at__lte=now,
        subscription__disabled_at__isnull=True,
    ).update(next_attempt_at=now + timedelta(seconds=TIMEOUT_SECONDS * 4), attempts=F("attempts") + 1)
    if not claimed:
        found = WebhookDelivery.objects.filter(pk=delivery_id).values_list("state", flat=True).first()
        return found or ""
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
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
    status, error = None, ""
    try:
        status = post(subscription.url, body, headers)
        if not 200 <= status < 300:
            error = _("接收方返回 %(status)d") % {"status": status}
    except ValidationError as exc:
        error = "；".join(exc.messages)
    except (OSError, http.client.HTTPException) as exc:
        error = (
            _("网络错误：%(error)s") % {"error": exc.__class__.__name__ + (f" {exc}" if str(exc) else "")}
        )[:300]
    return _record(delivery, status, error)


def _record(delivery: WebhookDelivery, status: int | None, error: str) -> str:
    now = timezone.now()
    subscription = delivery.subscription
    with transaction.atomic():
        if not error:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                state=DeliveryState.DELIVERED,
                response_status=status,
                error="",
                delivered_at=now,
                next_attempt_at=None,
            )
            WebhookSubscription.objects.filter(pk=subscription.pk).update(failures=0)
            return DeliveryState.DELIVERED
        attempts = delivery.attempts
        final = attempts >= MAX_ATTEMPTS
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.FAILED if final else DeliveryState.PENDING,
            response_status=status,
            error=error[:300],
            next_attempt_at=None if final else now + backoff(attempts),
        )
        WebhookSubscription.objects.filter(pk=subscription.pk).update(failures=F("failures") + 1)
        failures = WebhookSubscription.objects.values_list("failures", flat=True).get(pk=subscription.pk)
        if failures >= DISABLE_AFTER:
            disabled = WebhookSubscription.objects.filter(
                pk=subscription.pk, disabled_at__isnull=True
            ).update(
                disabled_at=now,
                disabled_reason=_("连续 %(n)d 次投递失败，已自动停用") % {"n": failures},
            )
            if disabled:
                audit.record(
                    "api.webhook.disable", obj=subscription, data={"failures": failures, "error": error[:200]}
                )
    return DeliveryState.FAILED if final else DeliveryState.PENDING


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
    for pk in ids:
        deliver(pk)
    return len(ids)
