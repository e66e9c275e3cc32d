"""Events of registrations 报名事件, all sent after commit (``kepuyue.common.events``).

Sent with ``sender=Booking`` (``Session`` for ``registration_settings_changed``). Every booking event
carries what a page cache, a dashboard roll-up or a webhook keys on without reading the row again
(:func:`booking_keys`): ``booking``, ``booking_id``, ``session_id``, ``activity_id``,
``campaign_id``, ``organizer_id``, ``kind``, ``status`` (after the change), ``seats``, and ``actor``
(``None`` for the system: expiry, retention).

================================= ===================================================================
event                             extra payload
================================= ===================================================================
``registration_created``          — (``status`` is ``confirmed`` or ``waitlisted``)
``registration_cancelled``        ``from_status``, ``reason`` (``member``, ``unit``, ``expired``,
                                  ``withdrawn``, ``deleted``)
``waitlist_offered``              ``offer_expires_at`` (a freed place is held for the first in line)
``waitlist_promoted``             — (the offer was confirmed: a waiting party now has a ticket)
``registration_moved``            ``from_session_id``
``checked_in``                    ``checkin_id``, ``offline``
``registration_settings_changed`` ``activity_id``, ``organizer_id``, ``campaign_id``, ``actor``
================================= ===================================================================

The public availability of a session changes with every event but ``checked_in``.
"""

from __future__ import annotations

from django.dispatch import Signal

registration_created = Signal()
registration_cancelled = Signal()
waitlist_offered = Signal()
waitlist_promoted = Signal()
registration_moved = Signal()
checked_in = Signal()
registration_settings_changed = Signal()


def booking_keys(booking) -> dict:
    """The ids every booking event carries (see the module docstring)."""
    activity = booking.activity
    return {
        "booking": booking,
        "booking_id": booking.pk,
        "session_id": booking.session_id,
        "activity_id": booking.activity_id,
        "campaign_id": activity.campaign_id,
        "organizer_id": activity.organizer_id,
        "kind": booking.kind,
        "status": booking.status,
        "seats": booking.seats,
    }
