"""What registrations do when an activity moves (subscribed in :meth:`RegistrationsConfig.ready`).

``close_on_withdrawal`` receives ``activities.signals.activity_moving`` *in* the transaction of the
move: when a published activity leaves the published state (withdrawn 撤回), its registration is
closed and every active booking of a session not yet started cancelled in that same transaction
(:func:`.services.booking.cancel_upcoming`; checked-in bookings and those of sessions already started
are history and stay as they were) — a withdrawal that rolls back closes nothing. Registrants are told through :mod:`.services.messaging` (inbox rows in the
transaction; e-mails and text messages after its commit).

``attendance`` answers ``activities.signals.attendance_requested`` (the summary form's participant
count) with the people checked in.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from kepuyue.activities.models import Status as ActivityStatus
from kepuyue.audit import services as audit

from .models import RegistrationConfig
from .services import booking, checkin


def close_on_withdrawal(
    sender, activity, from_state: str = "", to_state: str = "", actor=None, reason: str = "", **kwargs
):
    """A published activity withdrawn or returned: close its registration, cancel its upcoming bookings,
    tell their holders."""
    if from_state != ActivityStatus.PUBLISHED or to_state == ActivityStatus.PUBLISHED:
        return
    why = _("活动已撤回") + (f"：{reason}" if reason else "")
    RegistrationConfig.objects.filter(activity=activity).update(closed=True, closed_reason=why[:200])
    cancelled = booking.cancel_upcoming(activity, actor=actor, reason=why, why="withdrawn")
    if not cancelled:
        return
    audit.record(
        "registration.close_withdrawn",
        actor=actor,
        obj=activity,
        data={"cancelled": len(cancelled)},
    )


def attendance(sender, activity, **kwargs):
    """The people checked in at ``activity`` (``None`` when it has no sessions)."""
    return checkin.attendance(activity)
