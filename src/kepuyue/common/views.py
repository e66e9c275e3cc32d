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
