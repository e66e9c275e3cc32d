"""What the portal's activity page shows about registering (``registrations/_booking_block.html``).

The block is the same for every visitor — the mode, the sessions' times, the link to book — so the
page can be cached whole for anonymous visitors (issue 17); free places are fetched separately from
the availability JSON. The portal reads the settings with ``select_related("registration_config")``
(no query); the sessions cost one query, only for activities that register on the platform.
"""

from __future__ import annotations

from .models import Mode
from .services import config_of, sessions_of


def booking_block(activity) -> dict | None:
    """``{"mode", "closed", "external_url", "phone", "sessions"}`` for the activity page, or ``None``
    when the unit has not set how to register."""
    config = config_of(activity)
    if config is None:
        return None
    return {
        "mode": config.mode,
        "closed": config.closed,
        "external_url": config.external_url if config.mode == Mode.EXTERNAL else "",
        "phone": config.phone if config.mode == Mode.PHONE else "",
        "sessions": list(sessions_of(activity)[:50]) if config.mode == Mode.PLATFORM else [],
    }
