"""Staff pages of the programmes (a unit's account; the catalogue for CAST and the film tour's
managers). Thin: forms in, :mod:`.services` does the rest. Another unit's activity, play or volunteer
is a 404; a page the account has no right to is a 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kepuyue.audit.services import record
from kepuyue.campaigns.services import current_campaign
from kepuyue.roles.services import organization_of

from . import rules, services
from .forms import FilmForm, LectureLinksForm, PerformanceForm, PlayForm, ScreeningForm, VolunteerForm
from .models import Film, LectureLinks, Performance, Play, Screening, Volunteer

#: Rows a staff list shows; a unit's own programmes are small (a roster of hundreds at most).
STAFF_LIMIT = 500


def _unit(request):
    unit = organization_of(request.user)
    if unit is None:
        raise PermissionDenied(_("只有入驻单位的账号可以使用此页面。"))
    return unit


def _university(request):
    unit = rules.university_of(request.user)
    if unit is None:
        raise PermissionDenied(_("只有高校的账号可以使用此页面。"))
    return unit


@login_required
@never_cache
def films(request):
    """``/org/programmes/films/``: the catalogue (片库); CAST and the film tour's managers add films."""
    if not rules.may_edit_catalogue(request.user):
        raise PermissionDenied(_("只有中国科协管理员和“光影科学梦”的管理员可以维护片库。"))
    form = FilmForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            film = services.add_film(actor=request.user, **form.cleaned_data)
        except services.ProgrammeError as exc:
            error = str(exc)
        else:
            messages.success(request, _("已添加《%(title)s》") % {"title": film.title})
            return redirect("specials:org_films")
    rows = list(Film.objects.order_by("category", "title")[:STAFF_LIMIT])
    return render(
        request,
        "specials/org_films.html",
        {"form": form, "films": rows, "error": error},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@never_cache
def screenings(request):
    """``/org/programmes/screenings/``: the unit says which of its activities show which films."""
    unit = _unit(request)
    form = ScreeningForm(request.POST or None)
    error = ""
    if request.method == "POST":
        if form.is_valid():
            activity = rules.own_activity_or_404(request.user, form.cleaned_data["activity"])
            film = Film.objects.filter(pk=form.cleaned_data["film"]).first()
            if film is None:
                error = _("没有这部影片")
            else:
                services.link_screening(activity, film, actor=request.user)
                messages.success(request, _("已登记放映《%(title)s》") % {"title": film.title})
                return redirect("specials:org_screenings")
        else:
            error = _("请选择活动和影片")
    rows = list(
        Screening.objects.filter(activity__organizer=unit)
        .select_related("activity", "film")
        .order_by("-activity__starts_at", "film__title")[:STAFF_LIMIT]
    )
    context = {
        "screenings": rows,
        "activities": list(
            rules.own_activities(request.user)
            .order_by("-starts_at")
            .values("pk", "title", "starts_at")[:STAFF_LIMIT]
        ),
        "films": list(Film.objects.order_by("category", "title").values("pk", "title", "category")),
        "error": error,
    }
    return render(request, "specials/org_screenings.html", context, status=400 if error else 200)


@login_required
@require_POST
def screening_delete(request, pk: int):
    unit = _unit(request)
    screening = (
        Screening.objects.filter(pk=pk, activity__organizer=unit).select_related("activity", "film").first()
    )
    if screening is None:
        raise Http404
    services.unlink_screening(screening, actor=request.user)
    return redirect("specials:org_screenings")


@login_required
@never_cache
def plays(request):
    """``/org/programmes/plays/``: the university's 科学大师剧 repertoire and performances."""
    unit = _university(request)
    play_form = PlayForm(request.POST if request.POST.get("form") == "play" else None)
    perf_form = PerformanceForm(request.POST if request.POST.get("form") == "performance" else None)
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("form") == "play" and play_form.is_valid():
                services.add_play(unit, actor=request.user, **play_form.cleaned_data)
                return redirect("specials:org_plays")
            if request.POST.get("form") == "performance" and perf_form.is_valid():
                activity = rules.own_activity_or_404(request.user, perf_form.cleaned_data["activity"])
                play = Play.objects.filter(pk=perf_form.cleaned_data["play"], university=unit).first()
                if play is None:
                    raise Http404
                services.link_performance(activity, play, actor=request.user)
                return redirect("specials:org_plays")
            error = error or _("请检查填写的内容")
        except services.ProgrammeError as exc:
            error = str(exc)
    rows = list(Play.objects.filter(university=unit).order_by("title")[:STAFF_LIMIT])
    performances = list(
        Performance.objects.filter(play__university=unit)
        .select_related("activity", "play")
        .order_by("-activity__starts_at")[:STAFF_LIMIT]
    )
    context = {
        "plays": rows,
        "performances": performances,
        "activities": list(
            rules.own_activities(request.user)
            .order_by("-starts_at")
            .values("pk", "title", "starts_at")[:STAFF_LIMIT]
        ),
        "play_form": play_form,
        "perf_form": perf_form,
        "error": error,
    }
    return render(request, "specials/org_plays.html", context, status=400 if error else 200)


@login_required
@never_cache
def volunteers(request):
    """``/org/programmes/volunteers/``: the university's roster for 千名青年共探星火馆 (full names: the
    unit's own data, each view audited)."""
    unit = _university(request)
    campaign = current_campaign()
    if campaign is None:
        raise Http404
    form = VolunteerForm(request.POST or None)
    error = ""
    if request.method == "POST":
        if form.is_valid():
            try:
                services.add_volunteer(unit, campaign, actor=request.user, **form.cleaned_data)
            except services.ProgrammeError as exc:
                error = str(exc)
            else:
                messages.success(request, _("已加入志愿者名单"))
                return redirect("specials:org_volunteers")
        else:
            error = _("请填写姓名并选择身份")
    qs = Volunteer.objects.filter(university=unit, campaign=campaign)
    rows = list(qs.order_by("id")[:STAFF_LIMIT])
    record("volunteer.view_roster", actor=request.user, organization=unit, data={"rows": len(rows)})
    context = {"form": form, "volunteers": rows, "total": qs.count(), "campaign": campaign, "error": error}
    return render(request, "specials/org_volunteers.html", context, status=400 if error else 200)


@login_required
@require_POST
def volunteer_delete(request, pk: int):
    unit = _university(request)
    volunteer = get_object_or_404(Volunteer, pk=pk, university=unit)
    services.remove_volunteer(volunteer, actor=request.user)
    return redirect("specials:org_volunteers")


@login_required
@never_cache
def lecture_links(request, pk: int):
    """``/org/programmes/lectures/<activity>/``: the live and replay links of the unit's lecture."""
    activity = rules.own_activity_or_404(request.user, pk)
    current = LectureLinks.objects.filter(activity=activity).first()
    initial = {"live_url": current.live_url, "replay_url": current.replay_url} if current else {}
    form = LectureLinksForm(request.POST or None, initial=initial)
    error = ""
    if request.method == "POST":
        if form.is_valid():
            try:
                services.set_lecture_links(activity, actor=request.user, **form.cleaned_data)
            except services.ProgrammeError as exc:
                error = str(exc)
            else:
                messages.success(request, _("已保存讲座链接"))
                return redirect("specials:org_lecture", pk=activity.pk)
        else:
            error = _("链接不能超过500个字符")
    return render(
        request,
        "specials/org_lecture.html",
        {"activity": activity, "form": form, "error": error},
        status=400 if error else 200,
    )
