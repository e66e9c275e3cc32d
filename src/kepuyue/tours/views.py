"""Public tour pages (``/tours/``): the list and one tour with its route on the map.

Nothing per visitor is in them (the page cache may keep them whole); each reads a bounded number of
queries: the list one page of tours and the campaign's four totals, a tour its stops.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from kepuyue.activities.models import SpecialArea
from kepuyue.activities.services import labels_of
from kepuyue.campaigns import services as campaigns
from kepuyue.campaigns.models import Campaign
from kepuyue.common.pagecache import depends, public_page
from kepuyue.common.text import int_or_none

from . import services
from .models import Tour, TourStatus

PAGE_SIZE = 30


def _campaign(request) -> Campaign | None:
    slug = request.GET.get("campaign", "")
    if slug:
        if len(slug) > 64:
            raise Http404("没有这一届科普月")
        return get_object_or_404(Campaign, slug=slug)
    return campaigns.current_campaign()


@require_safe
@public_page
def tour_list(request):
    """``/tours/``: published tours of the campaign, newest first, 30 a page, with the totals.

    Page cache (ADR 0025): ``tours:<campaign id>`` (any tour, stop or vehicle of the campaign
    changed), ``plan``, ``catalog`` (an operator renamed)."""
    depends(request, "plan", "catalog")
    campaign = _campaign(request)
    if campaign is None:
        return render(request, "portal/no_campaign.html", {"nav": "tours"})
    depends(request, f"tours:{campaign.pk}")
    paginator = Paginator(services.public_tours(campaign), PAGE_SIZE)
    page_number = request.GET.get("page", "1")
    if int_or_none(page_number, min_value=1, max_value=10_000) is None:
        page_number = "1"
    page = paginator.get_page(page_number)
    return render(
        request,
        "tours/list.html",
        {"campaign": campaign, "page": page, "totals": services.totals(campaign), "nav": "tours"},
    )


@require_safe
@public_page
def tour_detail(request, pk: int):
    """``/tours/<id>/``: a published tour: its stops, counties, distance, special areas and route.

    Page cache: ``tour:<id>`` (the tour, its stops or its vehicle changed), ``plan``, ``catalog``."""
    depends(request, f"tour:{pk}", "plan", "catalog")
    tour = get_object_or_404(
        Tour.objects.select_related("vehicle", "operator", "campaign", "brand", "vehicle__province"),
        pk=pk,
        status=TourStatus.PUBLISHED,
    )
    return render(request, "tours/detail.html", _detail_context(tour) | {"nav": "tours"})


def _detail_context(tour: Tour) -> dict:
    stops = list(services.ordered_stops(tour).select_related("region__parent"))
    counties = sorted({s.region_id: s.region for s in stops}.values(), key=lambda r: r.code)
    return {
        "tour": tour,
        "stops": stops,
        "counties": counties,
        "special_labels": [gettext(label) for label in labels_of(tour.special_areas, SpecialArea)],
        "route": services.route(tour, stops),
        "geo": settings.STATIC_URL + "dashboard/geo/",
    }
