"""Rate limits (django-ratelimit) on the endpoints a stranger can repeat cheaply.

Each limit has a name, a default rate in :data:`DEFAULT_RATE_LIMITS` and a setting
(``settings.RATE_LIMITS[name]``, environment ``KEPUYUE_RATE_LIMIT_<NAME>``; ``off`` turns it off).
Counts live in the default cache: per process with the embedded default's local-memory cache (two
workers may each allow the full count), shared by every app node with Redis (``REDIS_URL``).

Requests are counted per client address (:func:`kepuyue.common.net.client_ip`, trusted proxies
only) or, on pages that need an account, per account. A refused request raises :class:`RateLimited`;
``django_ratelimit``'s middleware turns it into ``kepuyue.common.views.rate_limited``: a Chinese
``429`` page with ``Retry-After`` (JSON for clients that ask for it). Endpoints with their own error
format (the tus server) call :func:`over_limit` and answer themselves.

Usage::

    @limit("signup", method="POST")           # per client address
    def signup(request): ...

    @limit("export", key=user_or_ip)          # per account
    def export(request, fmt): ...
"""

from __future__ import annotations

import os
import re
from functools import wraps

from django.core.exceptions import ImproperlyConfigured
from django_ratelimit.exceptions import Ratelimited

# name → "count/period" (django-ratelimit's syntax: s, m, h, d, with an optional multiplier: "5/10m").
DEFAULT_RATE_LIMITS = {
    # POSTs to /accounts/login/ per address: credential stuffing over many names (django-axes locks
    # one name on one address after 5 failures; this bounds the names tried).
    "login": "30/m",
    # New public accounts per address (schools and mobile networks share addresses: generous).
    "signup": "20/h",
    # 单位入驻申请 filed per account.
    "apply": "10/h",
    # Password-reset requests per address, and per e-mail or phone asked for (no mail-bombing).
    "password_reset": "10/h",
    "password_reset_target": "3/h",
    # Password-reset links opened (tokens tried) per address.
    "password_reset_confirm": "30/h",
    # Resumable (tus) uploads created per account.
    "upload_create": "60/h",
    # Full-text searches (/activities/?q=) per address.
    "search": "120/m",
    # Staff .xlsx/.csv exports per account.
    "export": "30/h",
    # Import uploads, retries and "提交全部草稿" per account (each reads a whole file or many rows).
    "import": "60/h",
    # Bookings, cancellations and waitlist answers per account (a double tap is fine; a script is not).
    "booking": "60/h",
    # Verification e-mails and SMS codes sent per account (each SMS costs money and annoys).
    "verify_send": "5/h",
    # SMS codes tried per account (6 digits: a few tries, never a brute force).
    "verify_code": "10/h",
    # A unit's messages to all registrants of an activity, per account.
    "registrant_message": "10/d",
    # Check-in scans and offline batches per account (a busy door: generous).
    "checkin": "3000/h",
    # Account invitations (e-mails or text messages) a staff account sends (issue 11.4).
    "invite": "30/h",
    # Name suggestions (autocompletion) per account on the staff pages: a keystroke each, capped.
    "suggest": "300/m",
    # Quiz attempts started and submitted per account (the day's attempts are capped by the round;
    # this stops a script), certificate look-ups per address (codes are not enumerable at this rate).
    "quiz_start": "30/h",
    "quiz_submit": "30/h",
    "quiz_verify": "60/m",
    # A unit's offline-result uploads and an organizer's question-bank imports, per account.
    "quiz_upload": "30/h",
    # Open API reads of public data per client address (a provincial mirror pages through quickly).
    "api_read": "600/m",
    # Open API requests per token (reads and writes of a unit's or a scope's data).
    "api_write": "1200/m",
    # API tokens created per account.
    "api_token": "20/h",
}
RATE_PATTERN = re.compile(r"^\d+/\d*[smhd]$")
PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_setting(variable: str, default: str) -> str | None:
    """The rate in the environment variable ``variable`` (or ``default``); ``None`` for ``off``/``0``.
    Raises ``ImproperlyConfigured`` for anything else than ``count/period``."""
    value = os.environ.get(variable, default).strip().lower()
    if value in {"off", "0", "none", ""}:
        return None
    if not RATE_PATTERN.match(value):
        raise ImproperlyConfigured(f"{variable}={value!r}: expected count/period, e.g. 30/m, 10/h, 5/10m")
    return value


class RateLimited(Ratelimited):
    """Too many requests of one kind (``name``) from one address or account (django-ratelimit's
    middleware renders it through ``RATELIMIT_VIEW``)."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def rate_of(name: str) -> str | None:
    """The configured rate of the limit ``name`` (``None``: off)."""
    from django.conf import settings

    return getattr(settings, "RATE_LIMITS", DEFAULT_RATE_LIMITS).get(name, DEFAULT_RATE_LIMITS.get(name))


def period_seconds(name: str) -> int:
    """The length of the limit's window in seconds (the ``Retry-After`` of a refusal: at most this)."""
    rate = rate_of(name) or "1/m"
    count, multiplier, unit = re.match(r"(\d+)/(\d*)([smhd])", rate).groups()
    return int(multiplier or 1) * PERIOD_SECONDS[unit]


def ip_key(group, request) -> str:
    """The client address (trusted proxies only); ``unknown`` when there is none."""
    from .net import client_ip

    return client_ip(request) or "unknown"


def user_or_ip(group, request) -> str:
    """The account when signed in, else the client address."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{ip_key(group, request)}"


def over_limit(request, name: str, *, key=ip_key, value: str | None = None, increment: bool = True) -> bool:
    """Count this request against the limit ``name`` and say whether it is over.

    ``key``: a function ``(group, request) → str`` (:func:`ip_key`, :func:`user_or_ip`), or ``value``: a
    fixed string to count on (an e-mail address asked for). Always ``False`` when the limit is off.
    """
    from django_ratelimit.core import is_ratelimited

    rate = rate_of(name)
    if rate is None:
        return False
    group = f"kepuyue.{name}"
    count_key = (lambda g, r: value) if value is not None else key
    return is_ratelimited(request, group=group, key=count_key, rate=rate, increment=increment)


def refuse(name: str):
    """Raise the refusal of the limit ``name`` (the middleware renders the 429 page)."""
    raise RateLimited(name)


def limit(name: str, *, key=ip_key, method: str | tuple[str, ...] | None = None):
    """Decorator: refuse with 429 when the view's requests (of ``method``, default all) go over ``name``."""
    methods = (method,) if isinstance(method, str) else method

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if (methods is None or request.method in methods) and over_limit(request, name, key=key):
                refuse(name)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
