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
