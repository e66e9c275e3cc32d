"""The public dashboard 数据看板 (``/dashboard/``): thin views over :mod:`.figures` and :mod:`.measures`.

Every chart is also a table on the page (accessibility) and a CSV download (``/dashboard/<table>.csv``);
the map's counts come as a small JSON per level (``/dashboard/map.json?region=<code>``).
"""

from __future__ import annotations

import csv

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from kepuyue.campaigns import services as campaigns
from kepuyue.campaigns.models import Campaign
from kepuyue.common.pagecache import depends, public_page
from kepuyue.common.text import cell_safe
from kepuyue.regions.models import Region

from . import figures
from .measures import target_progress


def _campaign(request) -> Campaign | None:
    slug = request.GET.get("campaign", "")
    if slug:
        if len(slug) > 64:
            raise Http404("没有这一届科普月")
        return get_object_or_404(Campaign, slug=slug)
    return campaigns.current_campaign()


def _table(campaign, slug: str) -> figures.Table:
    """One table by its slug (only that one is computed)."""
    if slug == "daily":
        return figures.daily(campaign)[0]
    if slug == "targets":
        return figures.targets_table(target_progress(campaign))
    return {
        "joint-actions": figures.by_joint_action,
        "brands": figures.by_brand,
        "provinces": figures.by_province,
        "units": figures.by_unit_type,
    }[slug](campaign)


_cached = figures.cached


@require_safe
@public_page
def dashboard(request):
    """``/dashboard/``: totals, targets, by joint action / brand / province, the daily curve, the map.

    Page cache (ADR 0025): ``plan``; the figures block is itself a timed cache of its own, so the
    page adds at most ``PAGE_CACHE_SECONDS`` to it."""
    depends(request, "plan")
    campaign = _campaign(request)
    if campaign is None:
        return render(request, "portal/no_campaign.html", {"nav": "dashboard"})

    def figures_html():
        # The figures block rendered once per cache period: a warm request reads one string
        # instead of unpickling the figures and rendering every table (BENCHMARKS.md).
        return render_to_string(
            "dashboard/_figures.html", {"campaign": campaign, **figures.public_figures(campaign)}
        )

    context = {
        "campaign": campaign,
        # The block holds translated labels: one rendering per language.
        "figures_html": _cached(
            f"html:{campaign.pk}:{campaign.updated.timestamp()}:{get_language()}", figures_html
        ),
        "config": {
            "map": reverse("dashboard:map_json"),
            "campaign": campaign.slug,
            "list": reverse("portal:activity_list"),
            # The unhashed names (a directory has no manifest entry); WhiteNoise serves both.
            "geo": settings.STATIC_URL + "dashboard/geo/",
        },
        "nav": "dashboard",
    }
    return render(request, "dashboard/dashboard.html", context)


@require_safe
def table_csv(request, table: str):
    """``/dashboard/<table>.csv``: one chart's table (UTF-8 with BOM so that Excel reads Chinese)."""
    if table not in figures.TABLES:
        raise Http404("没有这张表")
    campaign = _campaign(request)
    if campaign is None:
        raise Http404("还没有科普月")
    data = _cached(
        f"csv:{campaign.pk}:{campaign.updated.timestamp()}:{table}", lambda: _table(campaign, table)
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{campaign.slug}-{table}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(data.headers)
    for row in data.rows:
        writer.writerow([cell_safe(v) for v in row])
    return response


@require_safe
def map_json(request):
    """``/dashboard/map.json?region=<code>``: published activities per child region of ``region``
    (China when absent): ``{"parent", "level", "regions": [[code, name, count], …]}``, a few KB."""
    campaign = _campaign(request)
    if campaign is None:
        raise Http404("还没有科普月")
    code = request.GET.get("region", "")
    if code:
        parent = Region.objects.filter(pk=code[:6], level__lt=3).first() if code.isdigit() else None
        if parent is None:
            return JsonResponse({"error": "没有这个省份或城市的区划代码"}, status=404)
        children = Region.objects.filter(parent=parent)
    else:
        parent, children = None, Region.objects.filter(level=1)
    counts = figures.map_counts(campaign, parent)
    rows = [[c, name, counts.get(c, 0)] for c, name in children.order_by("code").values_list("code", "name")]
    return JsonResponse(
        {
            "campaign": campaign.slug,
            "parent": parent.code if parent else "",
            "parent_name": parent.name if parent else "全国",
            "level": (parent.level + 1) if parent else 1,
            "regions": rows,
        },
        json_dumps_params={"ensure_ascii": False, "separators": (",", ":")},
    )
