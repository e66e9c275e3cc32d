"""The public galleries of calls for works and their published results."""

from __future__ import annotations

from itertools import groupby

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from kepuyue.campaigns.models import CallKind, Campaign
from kepuyue.campaigns.services import call_phase
from kepuyue.common.clock import Phase
from kepuyue.common.pagecache import depends, public_page
from kepuyue.common.ratelimits import limit, user_or_ip
from kepuyue.common.text import clean_text, xlsx_safe
from kepuyue.regions.models import Region

from .. import services
from ..models import Entry, EntryStatus
from .common import _call

# --- public galleries -------------------------------------------------------------------------


@require_safe
@public_page
def gallery_index(request):
    """征集作品展示: the calls of the current (or most recent) campaign and how many works each published.

    Page cache (ADR 0025): ``calls`` (a call or entry saved), ``plan``."""
    depends(request, "calls", "plan")
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


@require_safe
@public_page
def call_results(request, campaign: str, call: str):
    """The published works of one call (择优发布): a video gallery filtered by theme and province, CityWalk
    routes by city with their stops in order, the book list, or the essay / work-plan results list.

    Page cache: ``calls`` (an entry or call saved), ``plan``, ``catalog`` (a unit renamed)."""
    depends(request, "calls", "plan", "catalog")
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
    by_theme = book_groups(the_call, rows) if the_call.kind == CallKind.BOOK_LIST else []
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
            "by_theme": by_theme,
            "themes": themes,
            "theme": theme,
            "provinces": provinces,
            "province": province,
            # The 个人投稿 button only while the call takes entries (not before it opens, not after its
            # deadline): the form would only answer "征集已截止".
            "individuals_open": services.individual_fields(the_call) is not None
            and call_phase(the_call) == Phase.ONGOING,
            "nav": "calls",
        },
    )


# --- the book list (阅见科普书单, plan 七(四)2) -------------------------------------------------------


def book_groups(call, entries) -> list[tuple[str, list]]:
    """Published books grouped by the call's themes in their order (books without one last, under
    “其他”), each group by title; each entry gets ``isbn_display``, hyphenated by the ISBN ranges."""
    order = [t["slug"] for t in call.themes or []]
    names = {t["slug"]: t["name"] for t in call.themes or []}
    groups: dict[str, list] = {}
    for entry in entries:
        entry.isbn_display = services.format_isbn13(entry.isbn)
        groups.setdefault(entry.theme if entry.theme in names else "", []).append(entry)
    result = []
    for slug in [*order, ""]:
        if slug in groups:
            result.append((names.get(slug, "其他"), sorted(groups[slug], key=lambda e: (e.title, e.pk))))
    return result


BOOK_COLUMNS = ["主题", "书名", "作者", "出版社", "出版年", "ISBN", "适读人群", "推荐理由", "推荐单位"]


@require_safe
@limit("export", key=user_or_ip)
def book_list_xlsx(request, campaign: str, call: str):
    """The published book list as ``.xlsx`` (grouped as on the page; every cell formula-safe)."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    the_call = _call(campaign, call)
    if the_call.kind != CallKind.BOOK_LIST:
        raise Http404
    book = Workbook()
    sheet = book.active
    sheet.title = "书单"
    sheet.append(BOOK_COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for theme, entries in book_groups(the_call, list(services.published_entries(the_call))):
        for e in entries:
            sheet.append(
                [
                    xlsx_safe(v)
                    for v in (
                        theme,
                        e.title,
                        e.author,
                        e.publisher,
                        e.year,
                        e.isbn_display,
                        e.audience,
                        e.reason,
                        e.organization.name,
                    )
                ]
            )
    for column, width in zip("ABCDEFGHI", (14, 28, 16, 18, 8, 20, 14, 40, 20), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{the_call.slug}.xlsx"'
    return response
