"""A small JSON list of divisions for cascading selects (省 → 市 → 县), so forms never carry thousands of
options in their HTML (issue 11 point 3: the CityWalk form was 0.97 MB with 3,700 counties per stop).

``GET /regions/children.json`` → the provinces; ``GET /regions/<code>/children.json`` → the divisions directly
under ``code``: ``[["330100", "杭州市"], …]`` ordered by code. Public data that changes once a year: cached by
browsers and proxies for a day (``Cache-Control: public``), and by the server per code.
"""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.views.decorators.cache import cache_control, cache_page
from django.views.decorators.http import require_GET

from .models import Region
from .services import children_of

ONE_DAY = 24 * 3600


@require_GET
@cache_control(public=True, max_age=ONE_DAY)
@cache_page(ONE_DAY)
def children(request, code: str | None = None):
    """The JSON list of the module's docstring; 404 for a code that is not six digits or not a division."""
    if code is not None and (len(code) != 6 or not code.isascii() or not code.isdigit()):
        raise Http404
    if code is not None and not Region.objects.filter(code=code).exists():
        raise Http404
    return JsonResponse(children_of(code), safe=False, json_dumps_params={"ensure_ascii": False})
