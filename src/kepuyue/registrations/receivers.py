"""What registrations do when an activity moves (subscribed in :meth:`RegistrationsConfig.ready`).

``close_on_withdrawal`` receives ``activities.signals.activity_moving`` *in* the transaction of the
move: when a published activity leaves the published state (withdrawn 撤回), its registration is
closed and every active booking cancelled in that same transaction — a withdrawal that rolls back
closes nothing. Registrants are told through :mod:`.services.messaging` (inbox rows in the
transaction; e-mails and text messages after its commit).

``attendance`` answers ``activities.signals.attendance_requested`` (the summary form's participant
count) with the people checked in.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from kepuyue.activities.models import Status as ActivityStatus
from kepuyue.audit import services as audit
from kepuyue.common import clock
from kepuyue.common.events import send_after_commit

from . import signals
from .models import ACTIVE_STATUSES, Booking, RegistrationConfig, Session, Status
from .services import checkin, messaging


def close_on_withdrawal(
    sender, activity, from_state: str = "", to_state: str = "", actor=None, reason: str = "", **kwargs
):
    """A published activity withdrawn: close its registration, cancel its bookings, tell registrants."""
    if from_state != ActivityStatus.PUBLISHED or to_state == ActivityStatus.PUBLISHED:
        return
    why = _("活动已撤回") + (f"：{reason}" if reason else "")
    RegistrationConfig.objects.filter(activity=activity).update(closed=True, closed_reason=why[:200])
    now = clock.now()
    bookings = list(
        Booking.objects.filter(activity=activity, status__in=ACTIVE_STATUSES).select_related(
            "session", "activity__organizer", "activity__campaign", "user"
        )
    )
    if not bookings:
        return
    Booking.objects.filter(pk__in=[b.pk for b in bookings]).update(
        status=Status.CANCELLED, cancelled_at=now, cancel_reason="withdrawn"
    )
    Session.objects.filter(activity=activity).update(booked=0, group_booked=0)
    for booking in bookings:
        was = booking.status
        booking.status = Status.CANCELLED
        messaging.cancelled(booking, by_unit=True, reason=why)
        send_after_commit(
            signals.registration_cancelled,
            Booking,
            **signals.booking_keys(booking),
            actor=actor,
            from_status=was,
            reason="withdrawn",
        )
    audit.record(
        "registration.close_withdrawn",
        actor=actor,
        obj=activity,
        data={"cancelled": len(bookings)},
    )


def attendance(sender, activity, **kwargs):
    """The people checked in at ``activity`` (``None`` when it has no sessions)."""
    return checkin.attendance(activity)
