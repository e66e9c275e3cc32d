"""The unit's pages (单位后台 · 报名管理), under ``/org/registrations/``: its activities' registration
settings and sessions; per session the bookings, waitlist, check-ins and no-shows; messages to all
registrants; exports (masked by default; full data audited); close/reopen; cancel and move bookings.

Every object is read through the unit's querysets of :mod:`..rules`: another unit's activity,
session or booking is a 404; an account without a unit gets 403.
"""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kepuyue.activities.exporting import content_disposition, csv_chunks, export_filename
from kepuyue.activities.models import Status as ActivityStatus
from kepuyue.audit import services as audit
from kepuyue.common import clock
from kepuyue.common.ratelimits import limit, over_limit, refuse, user_or_ip
from kepuyue.common.text import int_or_none
from kepuyue.roles import services as roles

from .. import rules, services, tickets
from ..forms import ConfigForm, MessageForm, ReasonForm, SessionForm, add_errors
from ..models import Booking, Session, Status

PAGE_SIZE = 100
FILTERS = {
    "confirmed": (_("已报名"), Q(status=Status.CONFIRMED)),
    "waitlisted": (_("候补"), Q(status__in=[Status.WAITLISTED, Status.OFFERED])),
    "checked": (_("已签到"), Q(status=Status.CONFIRMED, checked_in_at__isnull=False)),
    "noshow": (_("未到场"), Q(status=Status.CONFIRMED, checked_in_at__isnull=True)),
    "cancelled": (_("已取消"), Q(status__in=[Status.CANCELLED, Status.EXPIRED])),
    "all": (_("全部"), Q()),
}


def _unit(request):
    unit = roles.organization_of(request.user)
    if unit is None:
        raise PermissionDenied(_("当前账号未绑定参与单位，不能管理报名"))
    return unit


def _activity(request, pk: int):
    _unit(request)
    return get_object_or_404(
        rules.managed_activities(request.user).select_related("registration_config", "organizer", "campaign"),
        pk=pk,
    )


def _session(request, pk: int) -> Session:
    _unit(request)
    return get_object_or_404(
        rules.managed_sessions(request.user).select_related(
            "activity__registration_config", "activity__organizer"
        ),
        pk=pk,
    )


def _booking(request, pk: int) -> Booking:
    _unit(request)
    return get_object_or_404(
        rules.managed_bookings(request.user).select_related(
            "session", "activity__organizer", "activity__campaign"
        ),
        pk=pk,
    )


@login_required
def home(request):
    """报名管理: the unit's activities, published first, with their registration mode and counts."""
    _unit(request)
    activities = (
        rules.managed_activities(request.user)
        .exclude(status=ActivityStatus.DRAFT)
        .select_related("registration_config")
        .annotate(
            # One correlated subquery per relation: joining sessions and bookings in one GROUP BY
            # would multiply the people by the sessions.
            n_sessions=Coalesce(
                Subquery(
                    Session.objects.filter(activity=OuterRef("pk"))
                    .order_by()
                    .values("activity")
                    .annotate(n=Count("pk"))
                    .values("n")
                ),
                0,
            ),
            people=Coalesce(
                Subquery(
                    Booking.objects.filter(activity=OuterRef("pk"), status=Status.CONFIRMED)
                    .order_by()
                    .values("activity")
                    .annotate(n=Sum("seats"))
                    .values("n")
                ),
                0,
            ),
        )
        .order_by("-starts_at", "-id")[:200]
    )
    return render(request, "registrations/staff_home.html", {"activities": activities})


@login_required
def activity(request, pk: int):
    """One activity: the settings in brief, each session with its counts, and the actions."""
    item = _activity(request, pk)
    config = services.config_of(item)
    sessions = list(
        Session.objects.filter(activity=item)
        .annotate(
            people=Sum("bookings__seats", filter=Q(bookings__status=Status.CONFIRMED)),
            checked=Sum(
                "bookings__seats",
                filter=Q(bookings__status=Status.CONFIRMED, bookings__checked_in_at__isnull=False),
            ),
            waiting=Count("bookings", filter=Q(bookings__status__in=[Status.WAITLISTED, Status.OFFERED])),
        )
        .order_by("starts_at", "id")
    )
    return render(
        request,
        "registrations/staff_activity.html",
        {
            "activity": item,
            "config": config,
            "sessions": sessions,
            "now": clock.now(),
            "attended": services.attendance(item),
            "reason_form": ReasonForm(),
        },
    )


@login_required
def settings_view(request, pk: int):
    """报名设置: mode, window, party, groups, data asked, consent, waitlist, cut-off."""
    item = _activity(request, pk)
    config = services.config_of(item)
    if request.method == "POST":
        form = ConfigForm(request.POST)
        if form.is_valid():
            try:
                services.save_config(item, form.cleaned_data, actor=request.user)
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("报名设置已保存。"))
                return redirect("registrations:org_activity", pk=item.pk)
    else:
        form = ConfigForm(initial=ConfigForm.initial_from(config))
    return render(
        request, "registrations/staff_settings.html", {"activity": item, "form": form, "config": config}
    )


@login_required
def session_edit(request, pk: int, session_id: int | None = None):
    """Add a session (``session_id`` None) or change one."""
    item = _activity(request, pk)
    session = get_object_or_404(Session, pk=session_id, activity=item) if session_id else None
    if request.method == "POST":
        form = SessionForm(request.POST)
        if form.is_valid():
            try:
                services.save_session(item, form.cleaned_data, actor=request.user, session=session)
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("场次已保存。"))
                return redirect("registrations:org_activity", pk=item.pk)
    else:
        initial = {"group_capacity": "0"}
        if session is not None:
            initial = {
                "label": session.label,
                "starts_at": session.starts_at.astimezone(clock.BEIJING),
                "ends_at": session.ends_at.astimezone(clock.BEIJING),
                "capacity": session.capacity,
                "group_capacity": session.group_capacity,
            }
        form = SessionForm(initial=initial)
    return render(
        request, "registrations/staff_session_form.html", {"activity": item, "form": form, "session": session}
    )


@require_POST
@login_required
def session_action(request, session_id: int, action: str):
    """Close, reopen or delete one session."""
    session = _session(request, session_id)
    try:
        if action == "close":
            services.set_session_closed(session, True, actor=request.user)
        elif action == "reopen":
            services.set_session_closed(session, False, actor=request.user)
        elif action == "delete":
            services.delete_session(session, actor=request.user)
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已处理。"))
    return redirect("registrations:org_activity", pk=session.activity_id)


@require_POST
@login_required
def close_activity(request, pk: int, action: str):
    """Stop or reopen registration for the whole activity."""
    item = _activity(request, pk)
    form = ReasonForm(request.POST)
    reason = form.data.get("reason", "")
    try:
        services.set_closed(item, action == "close", actor=request.user, reason=reason)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已停止报名。") if action == "close" else _("已重新开放报名。"))
    return redirect("registrations:org_activity", pk=item.pk)


@login_required
def bookings(request, session_id: int):
    """One session's bookings, by ``?status=`` (confirmed, waitlisted, checked, noshow, cancelled, all);
    personal data masked unless ``?full=1`` (audited: ``registration.view_full``)."""
    session = _session(request, session_id)
    key = request.GET.get("status", "confirmed")
    key = key if key in FILTERS else "confirmed"
    full = request.GET.get("full") == "1"
    rows = list(
        Booking.objects.filter(session=session)
        .filter(FILTERS[key][1])
        .order_by("created_at", "id")[:PAGE_SIZE]
    )
    if full:
        audit.record(
            "registration.view_full",
            actor=request.user,
            obj=session.activity,
            data={"session": session.pk, "filter": key, "rows": len(rows)},
        )
    for row in rows:
        row.shown = services.mask_booking(row, full=full)
        row.display_code = tickets.display_code(row.code)
    others = list(
        Session.objects.filter(activity_id=session.activity_id).exclude(pk=session.pk).order_by("starts_at")
    )
    return render(
        request,
        "registrations/staff_bookings.html",
        {
            "session": session,
            "activity": session.activity,
            "rows": rows,
            "filter": key,
            "filters": [(k, label) for k, (label, _q) in FILTERS.items()],
            "full": full,
            "counts": services.session_counts(session),
            "others": others,
            "ended": clock.now() > session.ends_at,
            "page_size": PAGE_SIZE,
        },
    )


@require_POST
@login_required
def booking_cancel(request, pk: int):
    """The unit cancels a booking, with a reason the holder reads."""
    booking = _booking(request, pk)
    form = ReasonForm(request.POST)
    try:
        services.cancel(booking, actor=request.user, by_unit=True, reason=form.data.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已取消该报名，并通知报名人。"))
    return redirect("registrations:org_bookings", session_id=booking.session_id)


@require_POST
@login_required
def booking_move(request, pk: int):
    """Move a confirmed booking to another session of the activity (``to``)."""
    booking = _booking(request, pk)
    to = request.POST.get("to", "")
    to_pk = int_or_none(to, min_value=1, max_value=2**31 - 1)
    target = Session.objects.filter(pk=to_pk, activity_id=booking.activity_id).first() if to_pk else None
    if target is None:
        messages.error(request, _("请选择要调整到的场次"))
        return redirect("registrations:org_bookings", session_id=booking.session_id)
    try:
        services.move(booking, target, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("registrations:org_bookings", session_id=booking.session_id)
    messages.success(request, _("已调整场次，并通知报名人。"))
    return redirect("registrations:org_bookings", session_id=target.pk)


@login_required
@limit("export", key=user_or_ip)
def export(request, pk: int, fmt: str):
    """``.xlsx``/``.csv`` of the activity's bookings (``?session=`` one session): masked unless
    ``?full=1``. Every export is audited (``export.registrations``, with ``full``)."""
    item = _activity(request, pk)
    if fmt not in ("xlsx", "csv"):
        raise Http404
    full = request.GET.get("full") == "1"
    rows = Booking.objects.filter(activity=item).order_by("session__starts_at", "created_at", "id")
    session = request.GET.get("session", "")
    if (session_pk := int_or_none(session, min_value=1, max_value=2**31 - 1)) is not None:
        rows = rows.filter(session_id=session_pk)
    audit.record(
        "export.registrations",
        actor=request.user,
        obj=item,
        data={"full": full, "format": fmt, "rows": rows.count(), "session": session or None},
    )
    stem = f"报名_{item.pk}" + ("_完整" if full else "")
    filename = export_filename(stem, fmt)
    if fmt == "csv":
        response = StreamingHttpResponse(
            csv_chunks(services.export_rows(rows, full=full)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = content_disposition(filename, fallback="registrations.csv")
        return response
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("报名")
    for line in services.export_rows(rows, full=full):
        sheet.append(line)
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    book.save(handle)
    handle.seek(0)
    response = FileResponse(
        handle, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = content_disposition(filename, fallback="registrations.xlsx")
    return response


@login_required
def message(request, pk: int):
    """通知全部报名者: inbox and e-mail to every confirmed registrant (of one session, optionally the
    waiting ones too). Limited per account (``registrant_message``)."""
    item = _activity(request, pk)
    sessions = list(Session.objects.filter(activity=item).order_by("starts_at"))
    form = MessageForm(request.POST or None, sessions=sessions)
    if request.method == "POST" and form.is_valid():
        if over_limit(request, "registrant_message", key=user_or_ip):
            refuse("registrant_message")
        chosen = next((s for s in sessions if str(s.pk) == form.cleaned_data.get("session")), None)
        try:
            count = services.message_registrants(
                item,
                actor=request.user,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                session=chosen,
                waiting=form.cleaned_data.get("waiting", False),
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("已通知 %(n)d 位报名者（站内信和电子邮件）。") % {"n": count})
            return redirect("registrations:org_activity", pk=item.pk)
    return render(request, "registrations/staff_message.html", {"activity": item, "form": form})
