"""The reminder the day before a session, and the unit's message to all registrants (通知报名者)."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from kepuyue.audit import services as audit
from kepuyue.common import clock
from kepuyue.common.text import quote_title
from kepuyue.notifications.models import Kind
from kepuyue.notifications.services import notify

from .. import inputs
from ..models import ACTIVE_STATUSES, Booking, Status
from . import messaging


def send_reminders(at=None) -> int:
    """Remind every confirmed booking whose session starts within the next 24 hours (inbox, e-mail,
    text message), once per booking. Returns how many reminders were sent."""
    at = at or clock.now()
    due = Booking.objects.filter(
        status=Status.CONFIRMED,
        user__isnull=False,
        session__starts_at__gt=at,
        session__starts_at__lte=at + timedelta(hours=24),
    ).select_related("session", "activity__organizer")
    sent = 0
    for booking in due.iterator(chunk_size=500):
        with transaction.atomic():
            sent += messaging.reminder(booking)
    return sent


def message_registrants(
    activity, *, actor, title: str, body: str, session=None, waiting: bool = False
) -> int:
    """Tell every confirmed registrant of ``activity`` (of one ``session`` when given; also the waiting
    ones with ``waiting``) something: an inbox notification and an e-mail each. ``title`` ≤ 60 and
    ``body`` ≤ 1,000 characters. Returns how many accounts were told. Audited. Raises
    ``ValidationError`` for an empty or too long text."""
    title = inputs.text(title, label=_("标题"), max_length=60, required=True)
    body = inputs.text(body, label=_("内容"), max_length=1000, multiline=True, required=True)
    statuses = list(ACTIVE_STATUSES) if waiting else [Status.CONFIRMED]
    rows = Booking.objects.filter(activity=activity, status__in=statuses, user__isnull=False)
    if session is not None:
        rows = rows.filter(session=session)
    users = set(rows.values_list("user_id", flat=True))
    if not users:
        raise ValidationError(_("没有可通知的报名者"))
    with transaction.atomic():
        written = notify(
            users,
            Kind.REGISTRATION_MESSAGE,
            _("%(org)s：%(title)s") % {"org": activity.organizer.name[:40], "title": title},
            _("关于%(t)s：\n%(body)s") % {"t": quote_title(activity.title), "body": body},
            reverse("registrations:mine"),
        )
        audit.record(
            "registration.message",
            actor=actor,
            obj=activity,
            data={"session": getattr(session, "pk", None), "accounts": len(written), "title": title},
        )
    return len(written)
