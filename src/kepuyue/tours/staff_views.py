"""The operating units' tour pages (``/org/tours/``): vehicles, tours, stops, itinerary import.

Only a unit's account (its ``Membership``) reaches them, and only for the unit's own rows: another
unit's tour or stop is a 404 (``services.tours_of``). Every change goes through :mod:`.services`.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from kepuyue.campaigns import services as campaigns
from kepuyue.common.ratelimits import limit, user_or_ip
from kepuyue.roles.services import organization_of

from . import importing, services
from .forms import ImportForm, StopForm, TourForm, VehicleForm
from .models import Stop
from .views import _detail_context

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _unit(request):
    unit = organization_of(request.user)
    if unit is None:
        raise PermissionDenied(_("只有运行单位的账号可以管理巡展。"))
    return unit


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
@never_cache
def index(request):
    """``/org/tours/``: the unit's tours and vehicles."""
    unit = _unit(request)
    tours = services.tours_of(unit).select_related("vehicle", "campaign").order_by("-id")[:200]
    vehicles = services.vehicles_of(unit).select_related("province")[:200]
    return render(request, "tours/org_index.html", {"unit": unit, "tours": tours, "vehicles": vehicles})


@login_required
@never_cache
def vehicle_new(request):
    unit = _unit(request)
    form = VehicleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_vehicle(unit, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已登记车辆/展品。"))
            return redirect("tours_org:index")
    return render(
        request,
        "tours/org_form.html",
        {"form": form, "heading": _("登记车辆/展品")},
        status=400 if form.errors else 200,
    )


@login_required
@never_cache
def tour_new(request):
    unit = _unit(request)
    campaign = campaigns.current_campaign()
    if campaign is None:
        raise PermissionDenied(_("还没有科普月。"))
    form = TourForm(request.POST or None, operator=unit, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            tour = services.save_tour(unit, actor=request.user, campaign=campaign, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("tours_org:tour", pk=tour.pk)
    return render(
        request,
        "tours/org_form.html",
        {"form": form, "heading": _("新建巡展")},
        status=400 if form.errors else 200,
    )


def _tour(request, pk: int):
    unit = _unit(request)
    return get_object_or_404(
        services.tours_of(unit).select_related(
            "vehicle", "operator", "campaign", "brand", "vehicle__province"
        ),
        pk=pk,
    )


def _manage(request, tour, *, stop_form=None, import_form=None, report=None, status=200):
    context = _detail_context(tour) | {
        "stop_form": stop_form or StopForm(tour=tour),
        "import_form": import_form or ImportForm(),
        "report": report,
        "staff": True,
    }
    return render(request, "tours/org_tour.html", context, status=status)


@login_required
@never_cache
def tour(request, pk: int):
    """``/org/tours/<id>/``: a tour's stops, the forms to add stops or import an itinerary."""
    return _manage(request, _tour(request, pk))


@login_required
@require_POST
def stop_add(request, pk: int):
    tour = _tour(request, pk)
    form = StopForm(request.POST, tour=tour)
    if not form.is_valid():
        return _manage(request, tour, stop_form=form, status=400)
    try:
        services.add_stops(tour, [form.stop], actor=request.user)
    except ValidationError as exc:
        form.add_error(None, exc.messages)
        return _manage(request, tour, stop_form=form, status=400)
    messages.success(request, _("已添加站点。"))
    return redirect("tours_org:tour", pk=tour.pk)


@login_required
@require_POST
def stop_delete(request, pk: int, stop: int):
    tour = _tour(request, pk)
    item = get_object_or_404(Stop, pk=stop, tour=tour)
    try:
        services.delete_stop(item, actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect("tours_org:tour", pk=tour.pk)


@login_required
@require_POST
@limit("import", key=user_or_ip, method="POST")
def tour_import(request, pk: int):
    """Import an itinerary: every row checked; written in one transaction only when all are good."""
    tour = _tour(request, pk)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _manage(request, tour, import_form=form, status=400)
    dry_run = form.cleaned_data["dry_run"]
    report = importing.import_itinerary(tour, form.cleaned_data["file"], actor=request.user, dry_run=dry_run)
    if report.ok and not dry_run:
        messages.success(
            request,
            _("已导入 %(added)d 个站点（%(skipped)d 个已存在，未重复添加）。")
            % {"added": report.added, "skipped": report.skipped},
        )
        return redirect("tours_org:tour", pk=tour.pk)
    tour.refresh_from_db()
    return _manage(request, tour, report=report, status=200 if report.ok else 400)


@login_required
@require_POST
def tour_publish(request, pk: int):
    tour = _tour(request, pk)
    try:
        services.set_published(tour, request.POST.get("publish") == "1", actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect("tours_org:tour", pk=tour.pk)


@login_required
@require_safe
def template(request):
    _unit(request)
    response = HttpResponse(importing.template(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="itinerary-template.xlsx"'
    return response
