"""The current request's client address, for audit entries written deep inside services."""

from __future__ import annotations

from contextvars import ContextVar

from kepuyue.common.net import client_ip

__all__ = ["client_ip", "current_ip", "request_context"]

_client_ip: ContextVar[str | None] = ContextVar("kepuyue_client_ip", default=None)


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
