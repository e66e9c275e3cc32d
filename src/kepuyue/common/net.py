"""The client's IP address, trusting only the configured proxies (``TRUSTED_PROXIES``).

One function, :func:`client_ip`, is read by everything that keys on the client: the audit log
(``kepuyue.audit.context``), django-axes' lock-out (``AXES_CLIENT_IP_CALLABLE``) and the rate limits
(``RATELIMIT_IP_META_KEY``, ``kepuyue.common.ratelimits``).

The rule (the one nginx's ``real_ip_recursive`` and RFC 7239 §7.4 describe): start from the address
that opened the connection (``REMOTE_ADDR``); while that address is a trusted proxy, step one hop to
the left in ``X-Forwarded-For``. The first address that is *not* a trusted proxy is the client. Every
hop a trusted proxy appended is real; whatever the client wrote itself stands further left and is never
reached while the proxies append properly. A hop that is not an IP address (garbage, Unicode digits,
a port-less oddity, an overlong header) ends the walk: the answer is then the last trusted hop, so a
forged value can never choose the address. The answer is always a valid, normalised IP address
(IPv4-mapped IPv6 as IPv4) or ``None``.

``TRUSTED_PROXIES`` (environment ``KEPUYUE_TRUSTED_PROXIES``: comma-separated addresses or CIDR
networks) defaults to the loopback networks when ``KEPUYUE_BEHIND_PROXY=1`` (nginx on the same host)
and to nothing otherwise, so ``X-Forwarded-For`` is ignored unless a proxy is configured.
:func:`strip_untrusted_forwarding` (middleware) also drops ``X-Forwarded-Proto``/``-Host``/``-For``
from a request that did not come through a trusted proxy, so Django's own proxy settings
(``SECURE_PROXY_SSL_HEADER``, ``USE_X_FORWARDED_HOST``) cannot be fed by a client that reaches the
application directly.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK = ("127.0.0.0/8", "::1/128")
# No chain of proxies is this long; a longer header is a client's padding and is not walked further.
MAX_HOPS = 20
# "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" plus brackets and a port.
MAX_HOP_CHARS = 64
FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST")


def parse_networks(values) -> tuple[IPNetwork, ...]:
    """``values`` (addresses or CIDR networks, strings) as networks; raises ``ImproperlyConfigured``
    naming the bad entry. Used by settings for ``KEPUYUE_TRUSTED_PROXIES``."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {value!r} is not an IP address or network (e.g. 10.0.0.0/8)"
            ) from exc
    return tuple(networks)


@lru_cache(maxsize=8)
def _trusted(values: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return parse_networks(values)


def trusted_networks() -> tuple[IPNetwork, ...]:
    """The configured trusted proxies (``settings.TRUSTED_PROXIES``) as networks."""
    return _trusted(tuple(str(v) for v in getattr(settings, "TRUSTED_PROXIES", ()) or ()))


def parse_ip(value: str | None) -> IPAddress | None:
    """One hop as an address, or ``None`` when it is not a plain IP address.

    Accepts ``1.2.3.4``, ``1.2.3.4:5678``, ``2001:db8::1``, ``[2001:db8::1]:443``; IPv4-mapped IPv6 becomes
    IPv4. Refuses anything else: non-ASCII (full-width or Arabic-Indic digits), zone ids (``fe80::1%eth0``),
    leading zeros, overlong strings, empty strings.

    Every request parses its ``REMOTE_ADDR`` (twice: :func:`strip_untrusted_forwarding` and
    :func:`client_ip`), and a server sees few distinct ones: the answers are remembered per process
    (decision 0036) for texts short enough to be a hop; a longer text is parsed each time (refused,
    unless it is mostly spaces), so a client's padding cannot fill the memory.
    """
    if not value or not isinstance(value, str):
        return None
    if len(value) > 2 * MAX_HOP_CHARS:
        return _parse.__wrapped__(value)
    return _parse(value)


@lru_cache(maxsize=4096)
def _parse(value: str) -> IPAddress | None:
    value = value.strip()
    if not value or len(value) > MAX_HOP_CHARS or not value.isascii() or "%" in value:
        return None
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or (value[end + 1 :] and not _is_port(value[end + 1 :])):
            return None
        value = value[1:end]
    elif value.count(":") == 1:
        value, port = value.split(":")
        if not _is_port(":" + port):
            return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


# An address as text (``str()`` of an ``ipaddress`` object formats it anew each time), per process.
_text = lru_cache(maxsize=4096)(str)


def _is_port(text: str) -> bool:
    digits = text[1:]
    return text.startswith(":") and 0 < len(digits) <= 5 and digits.isascii() and digits.isdigit()


def is_trusted(address: IPAddress | None, networks: tuple[IPNetwork, ...] | None = None) -> bool:
    """Whether ``address`` lies in one of the trusted proxies' networks."""
    if address is None:
        return False
    networks = trusted_networks() if networks is None else networks
    return any(address.version == net.version and address in net for net in networks)


def client_ip(request) -> str | None:
    """The client's IP address as a string (see the module's rule), or ``None`` when even
    ``REMOTE_ADDR`` is not an address. Computed once per request."""
    cached = getattr(request, "_kepuyue_client_ip", False)
    if cached is not False:
        return cached
    meta = request.META
    address = parse_ip(meta.get("REMOTE_ADDR"))
    networks = trusted_networks()
    if address is not None and networks and is_trusted(address, networks):
        forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
        hops = forwarded.rsplit(",", MAX_HOPS)[-MAX_HOPS:] if isinstance(forwarded, str) else []
        for hop in reversed(hops):
            previous = parse_ip(hop)
            if previous is None:
                break  # garbage: the last trusted hop stands
            address = previous
            if not is_trusted(address, networks):
                break
    result = _text(address) if address is not None else None
    try:
        request._kepuyue_client_ip = result
    except AttributeError:  # a request-like object without attributes (tests, axes' own calls)
        pass
    return result


def strip_untrusted_forwarding(get_response):
    """Middleware (first in the chain): a request whose ``REMOTE_ADDR`` is not a trusted proxy loses
    its ``X-Forwarded-*`` headers, so no setting downstream can be fooled by a direct client."""

    def middleware(request):
        if not is_trusted(parse_ip(request.META.get("REMOTE_ADDR"))):
            for name in FORWARDING_HEADERS:
                request.META.pop(name, None)
        return get_response(request)

    return middleware
