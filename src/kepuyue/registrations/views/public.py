"""The public's pages: an activity's sessions and availability, the booking forms, "我的活动" (my
bookings and tickets), a ticket with its QR code and calendar file, and my personal data.

The activity page of the portal (cached for anonymous visitors, issue 17) carries nothing per
visitor: it links here and reads the free places from :func:`availability_json`, which is the same
for everyone. A member's own booking state is only on these pages (never cached: ``private``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import BooleanField
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kepuyue.accounts import verification
from kepuyue.activities.exporting import content_disposition
from kepuyue.activities.models import Activity
from kepuyue.activities.models import Status as ActivityStatus
from kepuyue.common import clock
from kepuyue.common.pagecache import depends, public_page
from kepuyue.common.ratelimits import limit, user_or_ip
from kepuyue.common.text import int_or_none

from .. import services, tickets
from ..forms import BookingForm, GroupForm, add_errors
from ..models import ACTIVE_STATUSES, Booking, Mode, Session, Status
from ..services import messaging


def _published_activity(pk: int) -> Activity:
    return get_object_or_404(
        Activity.objects.select_related("registration_config", "organizer", "campaign"),
        pk=pk,
        status=ActivityStatus.PUBLISHED,
    )


@require_safe
def availability_json(request, pk: int):
    """``/registrations/activity/<id>/availability.json``: each session's free places, the same for
    every visitor (cacheable for a few seconds; the events of :mod:`..signals` say when it changed).

    ``?lang=en`` (one of ``LANGUAGES``) gives the texts (``reason``) in that language: the activity
    page asks in its own, as its script fetches without cookies (so without the language cookie)."""
    lang = request.GET.get("lang", "")
    if lang in dict(settings.LANGUAGES):
        with translation.override(lang):
            response = _availability(request, pk)
        response["Content-Language"] = lang
        return response
    return _availability(request, pk)


def _availability(request, pk: int) -> JsonResponse:
    activity = _published_activity(pk)
    config = services.config_of(activity)
    rows = services.availability(activity, config) if config and config.mode == Mode.PLATFORM else []
    response = JsonResponse(
        {
            "activity": activity.pk,
            "mode": config.mode if config else Mode.NONE,
            "closed": services.registration_closed(activity, config, rows),
            "sessions": [row.as_json() for row in rows],
        },
        json_dumps_params={"ensure_ascii": False},
    )
    patch_cache_control(response, public=True, max_age=10)
    return response


@require_safe
@public_page
def activity_sessions(request, pk: int):
    """``/registrations/activity/<id>/``: the sessions of a published activity with their free places,
    and, for a signed-in member, their own bookings of it and the way to book.

    Page cache (ADR 0025): ``activity:<id>`` (its settings and sessions bump it), ``plan``; the free
    places on the page are refreshed from the availability JSON. Signed-in visitors get their own
    page, ``private`` (:func:`~kepuyue.common.pagecache.public_page`)."""
    depends(request, f"activity:{pk}", "plan", "catalog")
    activity = _published_activity(pk)
    config = services.config_of(activity)
    if config is None or config.mode != Mode.PLATFORM:
        return redirect("portal:activity", pk=activity.pk)
    rows = services.availability(activity, config)
    mine = {}
    verified = False
    if request.user.is_authenticated:
        verified = verification.contact_verified(request.user)
        for booking in Booking.objects.filter(
            user=request.user, activity=activity, status__in=ACTIVE_STATUSES
        ).order_by("created_at"):
            mine.setdefault(booking.session_id, []).append(booking)
    response = render(
        request,
        "registrations/activity_sessions.html",
        {
            "activity": activity,
            "config": config,
            "offer_reason": services.offer_reason(activity, config, [row.session for row in rows]),
            "rows": [(row, mine.get(row.session.pk, [])) for row in rows],
            "verified": verified,
            "login_url": f"{reverse('accounts:login')}?{urlencode({'next': request.path})}",
            "signup_url": f"{reverse('accounts:signup')}?{urlencode({'next': request.path})}",
            "verify_url": f"{reverse('accounts:verify_contact')}?{urlencode({'next': request.path})}",
        },
    )
    return response


def _session(pk: int) -> Session:
    """The session of a published activity, read once for the whole request (the booking service
    uses this read rather than its own), or 404."""
    try:
        return services.bookable_session(pk)
    except Session.DoesNotExist:
        raise Http404 from None


def _prefill(user) -> dict:
    """The member's details from their latest booking (their own data), else the proved phone: a
    returning member books with one tap."""
    last = (
        Booking.objects.filter(user=user, anonymised_at__isnull=True, kind="individual")
        .order_by("-created_at")
        .first()
    )
    if last is not None:
        return {"name": last.name, "phone": last.phone, "adults": "1", "children": "0"}
    return {"phone": verification.verified_phone(user), "adults": "1", "children": "0"}


def _booking_context(request, session, form, kind, **extra) -> dict:
    config = services.config_of(session.activity)
    return {
        "activity": session.activity,
        "session": session,
        "config": config,
        "form": form,
        "kind": kind,
        "notice": services.consent_notice(config) if config else "",
        "reason": services.closed_reason(config, session),
        **extra,
    }


def _rules_errors_too(form, check) -> None:
    """After a field-level refusal (a size cap, a bad token), also run the booking rules on the fields
    that passed, so that every mistake shows at once — not one per submit (fresh try: a too-long count
    hid the missing name, the bad phone and the consent). A field keeps its first message."""
    passed = {name: value for name, value in form.cleaned_data.items() if name not in form.errors}
    try:
        check(passed)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                if field in form.fields and field not in form.errors:
                    for message in errors:
                        form.add_error(field, message)


def _after_booking(request, booking: Booking, created: bool):
    if not created:
        messages.info(request, _("您已报名该场次，无需重复提交。"))
    elif booking.status == Status.WAITLISTED:
        messages.success(request, _("已加入候补。有名额空出时会按顺序通知您确认。"))
        return redirect("registrations:mine")
    else:
        messages.success(request, _("报名成功！请保存电子票，入场时出示二维码。"))
    if booking.status == Status.CONFIRMED:
        return redirect("registrations:ticket", code=booking.code)
    return redirect("registrations:mine")


def _full(request, session: Session, form: BookingForm, exc) -> HttpResponse:
    """The answer to a booking that found the session full (most answers when many race for the last
    places): the message and, when the session has a waitlist, one button that sends what was just
    typed again to join it — a short page, not the whole form again."""
    posted = []
    if exc.waitlist:
        for name, field in form.fields.items():
            value = form.data.get(name)
            if value is not None and not (
                isinstance(field, BooleanField) and not form.cleaned_data.get(name)
            ):
                posted.append((name, value))
    data = form.cleaned_data  # checked by the service before it found the session full
    seats = sum(int_or_none(data.get(k), min_value=0) or 0 for k in ("adults", "children"))
    return render(
        request,
        "registrations/book_full.html",
        {
            "activity": session.activity,
            "session": session,
            "message": exc.messages[0],
            "full_offer": exc.waitlist,
            "posted": posted,
            "party_name": data.get("name", ""),
            "party_size": seats,
        },
    )


@login_required
@never_cache
@limit("booking", key=user_or_ip, method="POST")
def book(request, session_id: int):
    """``/registrations/session/<id>/book/``: the booking form of one session (prefilled for a returning
    member); a full session offers the waitlist."""
    session = _session(session_id)
    config = services.config_of(session.activity)
    if config is None or config.mode != Mode.PLATFORM:
        raise Http404
    if not verification.contact_verified(request.user):
        messages.info(request, _("报名前请先验证电子邮箱或手机号码（任选其一）。"))
        return redirect(f"{reverse('accounts:verify_contact')}?{urlencode({'next': request.path})}")
    if request.method != "POST" and (existing := services.active_booking(request.user, session)) is not None:
        return _after_booking(request, existing, False)
    if request.method == "POST":
        form = BookingForm(request.POST, config=config)
        if form.is_valid():
            try:
                booking, created = services.book(
                    session,
                    request.user,
                    form.cleaned_data,
                    token=form.cleaned_data.get("token", ""),
                    join_waitlist=request.POST.get("join_waitlist") == "1",
                )
            except services.SessionFull as exc:
                return _full(request, session, form, exc)
            except services.NotVerified:
                return redirect(f"{reverse('accounts:verify_contact')}?{urlencode({'next': request.path})}")
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                return _after_booking(request, booking, created)
        else:
            _rules_errors_too(form, lambda data: services.clean_registrant(config, data))
    else:
        form = BookingForm(initial={**_prefill(request.user), "token": services.new_token()}, config=config)
    # The counters as read in this request (a full session's were read again when it refused).
    row = services.session_availability(session, config)
    return render(
        request,
        "registrations/book.html",
        _booking_context(request, session, form, "individual", row=row),
    )


@login_required
@never_cache
@limit("booking", key=user_or_ip, method="POST")
def book_group(request, session_id: int):
    """``/registrations/session/<id>/group/``: 团体预约 for a school class or an organisation."""
    session = _session(session_id)
    config = services.config_of(session.activity)
    if config is None or config.mode != Mode.PLATFORM or not config.groups_enabled:
        raise Http404
    if not verification.contact_verified(request.user):
        return redirect(f"{reverse('accounts:verify_contact')}?{urlencode({'next': request.path})}")
    if request.method == "POST":
        form = GroupForm(request.POST)
        if form.is_valid():
            try:
                booking, created = services.book_group(
                    session, request.user, form.cleaned_data, token=form.cleaned_data.get("token", "")
                )
            except services.NotVerified:
                return redirect(f"{reverse('accounts:verify_contact')}?{urlencode({'next': request.path})}")
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                return _after_booking(request, booking, created)
        else:
            _rules_errors_too(form, lambda data: services.clean_group(config, data))
    else:
        form = GroupForm(
            initial={"phone": verification.verified_phone(request.user), "token": services.new_token()}
        )
    return render(request, "registrations/book.html", _booking_context(request, session, form, "group"))


@login_required
@never_cache
def mine(request):
    """``/registrations/mine/``: 我的活动 — the member's bookings (upcoming first), offers to confirm,
    tickets, cancelling."""
    now = clock.now()
    # Offers past their time move on now (the tick does it too, every few minutes).
    for session_id in set(
        Booking.objects.filter(
            user=request.user, status=Status.OFFERED, offer_expires_at__lte=now
        ).values_list("session_id", flat=True)
    ):
        services.expire_offers(session=session_id, at=now)
    bookings = list(services.my_bookings(request.user)[:200])
    offered = [b for b in bookings if b.status == Status.OFFERED]
    upcoming = [
        b
        for b in bookings
        if b.status in ACTIVE_STATUSES and b.session.ends_at >= now and b.status != Status.OFFERED
    ]
    past = [b for b in bookings if b not in offered and b not in upcoming]
    for booking in bookings:
        booking.cancellable = (
            services.can_cancel(booking, now) if booking.status in ACTIVE_STATUSES else False
        )
        booking.display_code = tickets.display_code(booking.code)
    return render(
        request,
        "registrations/mine.html",
        {
            "offered": offered,
            "upcoming": upcoming,
            "past": past,
            "verified": verification.contact_verified(request.user),
            "retention_days": services.retention_days(),
        },
    )


def _own(request, code: str) -> Booking:
    code = tickets.normalise_code(code) or ""
    return get_object_or_404(
        Booking.objects.select_related("session", "activity__organizer", "activity__registration_config"),
        code=code,
        user=request.user,
    )


@login_required
@never_cache
def ticket(request, code: str):
    """``/registrations/ticket/<code>/``: the ticket — QR code, typed code, session, place; cancel.
    Another account's ticket is a 404."""
    booking = _own(request, code)
    payload = tickets.qr_payload(booking.session_id, booking.code)
    over = services.door_closed(booking.session)  # the ticket no longer opens the door: no QR code
    return render(
        request,
        "registrations/ticket.html",
        {
            "booking": booking,
            "activity": booking.activity,
            "session": booking.session,
            "over": over,
            "code": tickets.display_code(booking.code),
            "qr_svg": tickets.qr_svg(payload, title=_("电子票二维码"))
            if booking.status == Status.CONFIRMED and not over
            else "",
            "cancellable": services.can_cancel(booking) if booking.status in ACTIVE_STATUSES else False,
            "cancel_deadline": services.cancel_deadline(booking),
        },
    )


@login_required
@require_safe
def ticket_ics(request, code: str):
    """``/registrations/ticket/<code>.ics``: the booked session as a calendar event."""
    booking = _own(request, code)
    page = request.build_absolute_uri(reverse("registrations:ticket", args=[booking.code]))
    response = HttpResponse(
        tickets.booking_ics(booking, page_url=page, location=booking.activity.venue),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition(f"ticket-{booking.code}.ics")
    return response


def _confirmed(request) -> bool:
    """Whether the request is the second step of an irreversible action: a POST with ``confirmed=1``
    from the confirmation page (a GET, or a POST from an older page without it, shows that page)."""
    return request.method == "POST" and request.POST.get("confirmed") == "1"


def _confirm_page(
    request,
    *,
    title: str,
    question: str,
    details: list[str],
    action: str,
    fields: dict,
    button: str,
    back: str,
):
    """The confirmation step of an irreversible action (works without JavaScript)."""
    return render(
        request,
        "registrations/confirm_action.html",
        {
            "title": title,
            "question": question,
            "details": details,
            "action": action,
            "fields": fields,
            "button": button,
            "back": back,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@never_cache
@limit("booking", key=user_or_ip, method="POST")
def cancel(request, code: str):
    """Cancel one's own booking (or leave the waitlist, or decline an offer): a GET (or a POST without
    ``confirmed``) asks first; the POST of the confirmation page cancels."""
    booking = _own(request, code)
    if (refusal := services.cancel_refusal(booking)) is not None:  # say why before asking anything
        messages.error(request, " ".join(refusal.messages))
        return redirect("registrations:ticket", code=booking.code)
    if not _confirmed(request):
        title = {
            Status.WAITLISTED: _("退出候补"),
            Status.OFFERED: _("放弃递补名额"),
        }.get(booking.status, _("取消报名"))
        return _confirm_page(
            request,
            title=title,
            question=_("确定要%(action)s吗？取消后不能恢复，名额会让给其他人。") % {"action": title},
            details=[booking.activity.title, messaging.when_text(booking)],
            action=reverse("registrations:cancel", args=[booking.code]),
            fields={},
            button=_("确定%(action)s") % {"action": title},
            back=reverse("registrations:ticket", args=[booking.code]),
        )
    try:
        services.cancel(booking, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已取消报名。"))
    return redirect("registrations:mine")


@require_POST
@login_required
@limit("booking", key=user_or_ip)
def confirm(request, code: str):
    """Accept the place a waitlist offer holds."""
    booking = _own(request, code)
    try:
        booking = services.confirm_offer(booking, request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("registrations:mine")
    messages.success(request, _("已确认，报名成功！"))
    return redirect("registrations:ticket", code=booking.code)


@login_required
@never_cache
def my_data(request):
    """``/registrations/mine/data/``: every piece of personal data the platform keeps about the member's
    bookings, in full (it is theirs), with a delete button for each and for all."""
    bookings = list(services.my_bookings(request.user).filter(anonymised_at__isnull=True)[:500])
    return render(
        request,
        "registrations/my_data.html",
        {"bookings": bookings, "retention_days": services.retention_days()},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@never_cache
def delete_data(request):
    """Delete the personal data of one booking (``code``) or of all (``all=1``); active bookings are
    cancelled first. A GET (or a POST without ``confirmed``) asks first."""
    data = request.POST if request.method == "POST" else request.GET
    everything = data.get("all") == "1"
    booking = None if everything else _own(request, data.get("code", ""))
    if not _confirmed(request):
        return _confirm_page(
            request,
            title=_("删除我的全部报名信息") if everything else _("删除此条信息"),
            question=_("确定要删除吗？姓名、电话等个人信息将被永久删除，不能恢复；未开始的报名会同时取消。"),
            details=[] if everything else [booking.activity.title, messaging.when_text(booking)],
            action=reverse("registrations:delete_data"),
            fields={"all": "1"} if everything else {"code": booking.code},
            button=_("确定删除"),
            back=reverse("registrations:my_data"),
        )
    count = (
        services.delete_my_data(request.user, booking) if booking else services.delete_my_data(request.user)
    )
    messages.success(request, _("已删除 %(n)d 条报名的个人信息。") % {"n": count})
    return redirect("registrations:my_data")
