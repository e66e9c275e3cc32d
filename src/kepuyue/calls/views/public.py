"""The public galleries of calls for works and their published results."""

from __future__ import annotations

from itertools import groupby

from django.http import Http404
from django.shortcuts import render

from kepuyue.campaigns.models import CallKind, Campaign
from kepuyue.common.text import clean_text
from kepuyue.regions.models import Region

from .. import services
from ..models import Entry, EntryStatus
from .common import _call

# --- public galleries -------------------------------------------------------------------------


def gallery_index(request):
    """征集作品展示: the calls of the current (or most recent) campaign and how many works each published."""
    campaign = Campaign.objects.order_by("-starts").first()
    if campaign is None:
        raise Http404
    calls = campaign.calls.select_related("joint_action").order_by("joint_action__number", "opens_at")
    counts = {}
    for row in Entry.objects.filter(call__campaign=campaign, status=EntryStatus.PUBLISHED).values_list(
        "call_id", flat=True
    ):
        counts[row] = counts.get(row, 0) + 1
    return render(
        request,
        "calls/gallery_index.html",
        {"campaign": campaign, "calls": [(c, counts.get(c.pk, 0)) for c in calls], "nav": "calls"},
    )


def call_results(request, campaign: str, call: str):
    """The published works of one call (择优发布): a video gallery filtered by theme and province, CityWalk
    routes by city with their stops in order, the book list, or the essay / work-plan results list."""
    the_call = _call(campaign, call)
    entries = services.published_entries(the_call)
    themes = {t["slug"]: t["name"] for t in the_call.themes}
    theme = clean_text(request.GET.get("theme", ""))[:64]
    province = clean_text(request.GET.get("province", ""))[:6]
    provinces = []
    if the_call.kind == CallKind.VIDEO:
        codes = sorted({e.organization.region_id[:2] for e in entries if e.organization.region_id})
        provinces = list(
            Region.objects.filter(code__in=[c + "0000" for c in codes]).values_list("code", "name")
        )
        if theme in themes:
            entries = entries.filter(theme=theme)
        if province.isascii() and province.isdigit() and len(province) == 6:
            entries = entries.filter(organization__region__code__startswith=province[:2])
    if the_call.kind == CallKind.CITYWALK:
        entries = entries.prefetch_related("stops", "stops__region", "images").order_by("city_id", "title")
    rows = list(entries)
    by_city = (
        [(city, list(items)) for city, items in groupby(rows, key=lambda e: e.city)]
        if the_call.kind == CallKind.CITYWALK
        else []
    )
    return render(
        request,
        "calls/call_results.html",
        {
            "call": the_call,
            "entries": rows,
            "by_city": by_city,
            "themes": themes,
            "theme": theme,
            "provinces": provinces,
            "province": province,
            "nav": "calls",
        },
    )
