"""Operational endpoints shared by every deployment."""

from django.http import HttpResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    """Liveness probe for load balancers: 200 ``ok`` without touching the database.

    It is also the framework ceiling in the HTTP benchmarks (bench/http_pages.py): the fastest a Django
    view can answer on the same server.
    """
    return HttpResponse("ok", content_type="text/plain")


def media(request, path: str):
    """``/media/<path>`` in the embedded default (an object store serves media in scale-out): Django's
    static ``serve`` plus single byte ranges, so published videos play on iPhones."""
    from django.conf import settings
    from django.core.files.storage import FileSystemStorage
    from django.views.static import serve

    from .ranges import ranged_response

    storage = FileSystemStorage(location=settings.MEDIA_ROOT)
    try:
        exists = storage.exists(path)
    except Exception:  # noqa: BLE001 — a path outside MEDIA_ROOT (SuspiciousFileOperation) is a 404 below
        exists = False
    if exists and request.method == "GET":
        response = ranged_response(request, storage, path)
        if response is not None:
            return response
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Accept-Ranges"] = "bytes"
    return response


def rate_limited(request, exception=None):
    """``RATELIMIT_VIEW``: the answer to a request over one of the rate limits (``kepuyue.common.ratelimits``):
    ``429`` with ``Retry-After`` (the limit's window, seconds), the Chinese page ``429.html``, or
    ``{"error": …}`` for a client that accepts JSON only."""
    from django.http import JsonResponse
    from django.shortcuts import render
    from django.utils.translation import gettext as _

    from .ratelimits import period_seconds

    name = getattr(exception, "name", "")
    wait = period_seconds(name) if name else 60
    message = _("操作过于频繁，请稍后再试（约 %(minutes)d 分钟后）。") % {"minutes": max(1, round(wait / 60))}
    accept = request.headers.get("Accept", "")
    if "application/json" in accept and "text/html" not in accept:
        response = JsonResponse({"error": message}, status=429, json_dumps_params={"ensure_ascii": False})
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(wait)
    return response
