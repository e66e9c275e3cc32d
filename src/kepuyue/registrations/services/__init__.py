"""Registration services 报名服务: every rule of registering for an activity, in one package that the
public pages, the unit's pages, commands and (later) the API all call.

- :mod:`.setup` — the settings (mode, window, party, groups, data asked, consent, waitlist, cut-off),
  sessions, the window check and the public availability.
- :mod:`.booking` — booking (individual and group), the waitlist (offers, expiry, confirmation),
  cancelling and moving; never oversold, idempotent.
- :mod:`.checkin` — check-in at the door, one scan or an offline batch, and the counts.
- :mod:`.privacy` — retention, a member's own data, masked and full exports.
- :mod:`.messaging` — what registrants are told (inbox, e-mail, SMS, the ticket e-mail).
- :mod:`.reminders` — the day-before reminders and the unit's message to all registrants.
"""

from .booking import (
    NotVerified,
    SessionFull,
    active_booking,
    book,
    book_group,
    bookable_session,
    can_cancel,
    cancel,
    cancel_deadline,
    cancel_upcoming,
    changeable_bookings,
    clean_group,
    clean_registrant,
    confirm_offer,
    expire_offers,
    is_history,
    move,
    new_token,
    offer_next,
    session_started,
)
from .checkin import MAX_BATCH, Outcome, attendance, check_in, check_in_batch, session_counts
from .privacy import delete_my_data, export_rows, mask_booking, my_bookings, purge_personal_data
from .reminders import message_registrants, send_reminders
from .setup import (
    SessionAvailability,
    availability,
    closed_reason,
    config_of,
    consent_notice,
    delete_session,
    offer_reason,
    registration_closed,
    retention_days,
    save_config,
    save_session,
    session_availability,
    sessions_of,
    set_closed,
    set_session_closed,
    waiting_count,
)

__all__ = [
    "MAX_BATCH",
    "NotVerified",
    "Outcome",
    "SessionAvailability",
    "SessionFull",
    "active_booking",
    "attendance",
    "availability",
    "book",
    "book_group",
    "bookable_session",
    "can_cancel",
    "cancel",
    "cancel_deadline",
    "cancel_upcoming",
    "changeable_bookings",
    "check_in",
    "check_in_batch",
    "clean_group",
    "clean_registrant",
    "confirm_offer",
    "closed_reason",
    "registration_closed",
    "offer_reason",
    "config_of",
    "consent_notice",
    "delete_my_data",
    "delete_session",
    "expire_offers",
    "is_history",
    "export_rows",
    "mask_booking",
    "message_registrants",
    "move",
    "my_bookings",
    "new_token",
    "offer_next",
    "session_started",
    "purge_personal_data",
    "retention_days",
    "save_config",
    "save_session",
    "send_reminders",
    "session_availability",
    "session_counts",
    "sessions_of",
    "set_closed",
    "set_session_closed",
    "waiting_count",
]
