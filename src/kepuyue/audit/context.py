"""The current request's client address, for audit entries written deep inside services."""

from __future__ import annotations

from contextvars import ContextVar

from django.conf import settings

_client_ip: ContextVar[str | None] = ContextVar("kepuyue_client_ip", default=None)


def client_ip(request) -> str | None:
    """The client's IP address: ``REMOTE_ADDR``, or the first ``X-Forwarded-For`` hop when
    ``KEPUYUE_BEHIND_PROXY`` says a trusted proxy sets it."""
    if getattr(settings, "KEPUYUE_BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def current_ip() -> str | None:
    """The IP address of the request being served in this thread/task, or ``None``."""
    return _client_ip.get()


def request_context(get_response):
    """Middleware: remember the client's IP address for the duration of the request."""

    def middleware(request):
        token = _client_ip.set(client_ip(request))
        try:
            return get_response(request)
        finally:
            _client_ip.reset(token)

    return middleware
