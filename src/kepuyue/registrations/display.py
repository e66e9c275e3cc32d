"""What the portal's activity page shows about registering (``registrations/_booking_block.html``).

The block is the same for every visitor — the mode, the sessions' times, the link to book — so the
page can be cached whole for anonymous visitors (issue 17); free places are fetched separately from
the availability JSON. The portal reads the settings with ``select_related("registration_config")``
(no query); the sessions cost one query, only for activities that register on the platform.
"""

from __future__ import annotations

from .models import Mode
from .services import config_of, offer_reason, sessions_of


def booking_block(activity) -> dict | None:
    """``{"mode", "closed", "reason", "external_url", "phone", "sessions"}`` for the activity page, or
    ``None`` when the unit has not set how to register. ``reason`` (:func:`~.services.offer_reason`)
    is why no booking action may be offered now — the activity ended, the window is shut, every
    session started — and the page then shows it instead of the buttons. Time passing changes it
    within ``PAGE_CACHE_SECONDS`` (ADR 0025)."""
    config = config_of(activity)
    if config is None:
        return None
    sessions = list(sessions_of(activity)[:50]) if config.mode == Mode.PLATFORM else []
    return {
        "mode": config.mode,
        "closed": config.closed,
        "reason": offer_reason(activity, config, sessions),
        "external_url": config.external_url if config.mode == Mode.EXTERNAL else "",
        "phone": config.phone if config.mode == Mode.PHONE else "",
        "sessions": sessions,
    }
