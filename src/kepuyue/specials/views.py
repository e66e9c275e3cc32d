"""Public pages of the programmes. The same page for every visitor (nothing per visitor: a page cache
may keep them); every list is bounded and read in a constant number of queries."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from kepuyue.activities.models import Status
from kepuyue.calls.models import Entry, EntryStatus
from kepuyue.campaigns.models import JointAction
from kepuyue.common.pagecache import depends, public_page
from kepuyue.common.text import int_or_none, parse_date
from kepuyue.orgs.models import Organization
from kepuyue.regions.models import Level, Region

from . import services
from .models import Film, FilmCategory, Play, Volunteer

#: How many screenings a page lists (the nearest first); narrow by film, province or date for others.
SHOWINGS_LIMIT = 50


def _filters(request) -> tuple[str, date | None, list[str]]:
    problems = []
    province = (request.GET.get("province") or "").strip()
    if province and not (len(province) == 6 and province.isdigit() and province.endswith("0000")):
        problems.append(_("请选择省份"))
        province = ""
    day = None
    raw = (request.GET.get("date") or "").strip()
    if raw:
        try:
            day = parse_date(raw, label=_("日期"))
        except ValidationError as exc:
            problems.append(exc.messages[0])
    return province, day, problems


def _every_campaign(request) -> None:
    """Screenings, performances and a unit's activities are published activities of any campaign:
    every activity change bumps its ``campaign:<id>``, so these pages hold all campaigns' versions
    (a handful of rows, one query) besides ``catalog`` (an import batch, an organizer renamed)."""
    from kepuyue.campaigns.models import Campaign

    depends(request, "plan", "catalog")
    depends(
        request, *(f"campaign:{pk}" for pk in Campaign.objects.order_by("pk").values_list("pk", flat=True))
    )


def _with_booking(rows: list) -> list:
    """Mark the screenings a page may tag 可在线预约: booking on the platform and offered now by the
    one rule of :func:`kepuyue.registrations.services.offer_reason` (not ended, window open, not
    closed). No query: the settings row is joined."""
    from kepuyue.registrations import services as registrations
    from kepuyue.registrations.models import Mode

    for row in rows:
        config = registrations.config_of(row.activity)
        row.bookable = (
            config is not None
            and config.mode == Mode.PLATFORM
            and not registrations.offer_reason(row.activity, config)
        )
    return rows


def _provinces():
    return Region.objects.filter(level=Level.PROVINCE).order_by("code").values_list("code", "name")


@require_safe
@public_page
def film_tour(request):
    """``/films/``: 光影科学梦 (五(三)4) — the catalogue by category, where films are showing (filter by
    film, province and date; upcoming first) and the course resource pack.

    Page cache (ADR 0025): ``films`` (a film or screening changed) and every campaign's activities."""
    depends(request, "films")
    _every_campaign(request)
    province, day, problems = _filters(request)
    film = None
    film_id = (request.GET.get("film") or "").strip()
    if film_id:
        pk = int_or_none(film_id, min_value=1, max_value=2**31 - 1)  # "²".isdigit() is true, int() refuses it
        film = Film.objects.filter(pk=pk).first() if pk else None
        if film is None:
            problems.append(_("没有这部影片"))
    films = list(Film.objects.order_by("category", "title"))
    shown = services.film_shown_counts(f.pk for f in films)
    groups = []
    for value, label in FilmCategory.choices:
        items = [(f, shown.get(f.pk, 0)) for f in films if f.category == value]
        groups.append({"value": value, "label": label, "films": items})
    rows = list(services.showings(film=film, province=province, day=day)[: SHOWINGS_LIMIT + 1])
    context = {
        "groups": groups,
        "films": films,
        "showings": _with_booking(rows[:SHOWINGS_LIMIT]),
        "more": len(rows) > SHOWINGS_LIMIT,
        "film": film,
        "province": province,
        "day": day,
        "provinces": list(_provinces()),
        "problems": problems,
        "course_pack_url": getattr(settings, "KEPUYUE_FILM_COURSE_PACK_URL", ""),
        "nav": "films",
    }
    return render(request, "specials/film_tour.html", context, status=400 if problems else 200)


@require_safe
@public_page
def film_detail(request, pk: int):
    """``/films/<id>/``: where this film is showing (by province/date, upcoming first). Page cache: as
    ``/films/``."""
    depends(request, "films")
    _every_campaign(request)
    film = get_object_or_404(Film, pk=pk)
    province, day, problems = _filters(request)
    rows = list(services.showings(film=film, province=province, day=day)[: SHOWINGS_LIMIT + 1])
    context = {
        "film": film,
        "showings": _with_booking(rows[:SHOWINGS_LIMIT]),
        "more": len(rows) > SHOWINGS_LIMIT,
        "province": province,
        "day": day,
        "provinces": list(_provinces()),
        "problems": problems,
        "nav": "films",
    }
    return render(request, "specials/film_detail.html", context, status=400 if problems else 200)


@require_safe
@public_page
def plays(request):
    """``/plays/``: the 科学大师剧 repertoire (二(二)2) with published performances per play.

    Page cache: ``plays`` (a play or performance changed), every campaign's activities."""
    depends(request, "plays")
    _every_campaign(request)
    rows = list(
        Play.objects.select_related("university")
        .annotate(shown=Count("performances", filter=Q(performances__activity__status=Status.PUBLISHED)))
        .order_by("-shown", "title")[:200]
    )
    return render(request, "specials/plays.html", {"plays": rows, "nav": "plays"})


@require_safe
@public_page
def unit_page(request, pk: int):
    """``/units/<id>/``: an organization's (e.g. a 星火馆's) public page: its published activities, its
    published works (videos for universities), its plays and its volunteer count (never names).

    Page cache: ``org:<id>`` (its activities, works, plays, volunteers), ``catalog`` (renamed)."""
    depends(request, f"org:{pk}", "plan", "catalog")
    unit = get_object_or_404(Organization.objects.select_related("type", "region"), pk=pk)
    page = services.org_page(unit)
    works = list(
        Entry.objects.filter(organization=unit, status=EntryStatus.PUBLISHED)
        .select_related("call", "call__campaign")
        .order_by("-published_at", "-id")[:50]
    )
    context = {
        "unit": unit,
        "works": works,
        "videos": [w for w in works if w.call.kind == "video"],
        "is_university": unit.type_id == "university",
        **page,
    }
    return render(request, "specials/unit.html", context)


@require_safe
@public_page
def replay_archive(request, campaign: str, joint_action: str):
    """``/lectures/<campaign>/<joint action>/``: the joint action's replay archive (三(二)3).

    Page cache: ``lectures`` (a link changed), ``zone:<id>`` (its activities), ``plan``."""
    depends(request, "plan", "catalog", "lectures")
    ja = (
        JointAction.objects.select_related("campaign")
        .filter(campaign__slug=campaign, slug=joint_action)
        .first()
    )
    if ja is None:
        raise Http404
    depends(request, f"zone:{ja.pk}")
    rows = list(services.replays(ja)[:200])
    return render(request, "specials/replays.html", {"joint_action": ja, "links": rows})


@require_safe
@public_page
def volunteers_public(request):
    """``/volunteers/``: 千名青年共探星火馆 — volunteers per university (counts only, names masked in
    the few shown per university). Page cache: ``volunteers``, ``plan``, ``catalog``."""
    depends(request, "volunteers", "plan", "catalog")
    from kepuyue.campaigns.services import current_campaign

    campaign = current_campaign()
    counts = services.volunteer_counts(campaign) if campaign else []
    total = sum(row["n"] for row in counts)
    return render(
        request,
        "specials/volunteers.html",
        {"campaign": campaign, "counts": counts[:300], "total": total, "volunteer_model": Volunteer},
    )
