"""Permissions on registrations 报名权限, as ``rules`` predicates, and the unit's querysets.

=================================== ==================================================================
``registrations.manage_activity``   the activity's own unit (its ``Membership``): settings, sessions,
                                    bookings, export, messages, close/reopen, move, check-in
=================================== ==================================================================

Another unit's activity, session or booking is never found: every staff page reads through
:func:`managed_activities`, :func:`managed_sessions` and :func:`managed_bookings` (a 404).
"""

from __future__ import annotations

import rules
from django.db.models import QuerySet

from kepuyue.activities.models import Activity
from kepuyue.activities.rules import is_own_unit
from kepuyue.roles import services

from .models import Booking, Session

rules.add_perm("registrations.manage_activity", is_own_unit)


def managed_activities(user) -> QuerySet[Activity]:
    """The activities whose registrations ``user`` manages: its unit's."""
    own = services.organization_of(user)
    if own is None:
        return Activity.objects.none()
    return Activity.objects.filter(organizer=own)


def managed_sessions(user) -> QuerySet[Session]:
    own = services.organization_of(user)
    if own is None:
        return Session.objects.none()
    return Session.objects.filter(activity__organizer=own)


def managed_bookings(user) -> QuerySet[Booking]:
    own = services.organization_of(user)
    if own is None:
        return Booking.objects.none()
    return Booking.objects.filter(activity__organizer=own)
