"""Subscribers of the lower apps' after-commit domain events that announce them to webhooks
(``docs/architecture.md``: "webhooks subscribe to every after-commit event"). Connected in
:meth:`ApiConfig.ready`. Payloads carry ids and public fields, never personal data: a receiver
reads the rest through the API with its token."""

from __future__ import annotations

import logging

from .models import WebhookEvent
from .webhooks import announce_later

logger = logging.getLogger(__name__)

MOVES = {
    "published": WebhookEvent.ACTIVITY_PUBLISHED,
    "returned": WebhookEvent.ACTIVITY_RETURNED,
    "withdrawn": WebhookEvent.ACTIVITY_WITHDRAWN,
}


def _activity(activity, **extra) -> dict:
    return {
        "activity": {
            "id": activity.pk,
            "title": activity.title,
            "status": activity.status,
            "organizer_id": activity.organizer_id,
            "external_id": activity.external_id,
            "campaign_id": activity.campaign_id,
            "joint_action_id": activity.joint_action_id,
            "api_url": f"/api/v1/org/activities/{activity.pk}",
        },
        **extra,
    }


def activity_moved(sender, activity, to_state, from_state="", reason="", **kwargs):
    event = MOVES.get(str(to_state))
    if event:
        data = _activity(activity, from_state=str(from_state), to_state=str(to_state), reason=reason)
        announce_later(event, data, organizer_id=activity.organizer_id, activity_id=activity.pk)


def activity_recommended(sender, activity, **kwargs):
    announce_later(
        WebhookEvent.ACTIVITY_RECOMMENDED,
        _activity(activity),
        organizer_id=activity.organizer_id,
        activity_id=activity.pk,
    )


def activity_featured(sender, activity, **kwargs):
    announce_later(
        WebhookEvent.ACTIVITY_FEATURED,
        _activity(activity),
        organizer_id=activity.organizer_id,
        activity_id=activity.pk,
    )


def _booking(kwargs) -> dict:
    return {
        "registration": {
            "id": kwargs.get("booking_id"),
            "session_id": kwargs.get("session_id"),
            "activity_id": kwargs.get("activity_id"),
            "kind": kwargs.get("kind"),
            "status": kwargs.get("status"),
            "seats": kwargs.get("seats"),
        }
    }


def registration_created(sender, **kwargs):
    announce_later(
        WebhookEvent.REGISTRATION_CREATED,
        _booking(kwargs),
        organizer_id=kwargs.get("organizer_id"),
        activity_id=kwargs.get("activity_id"),
    )


def registration_cancelled(sender, **kwargs):
    data = {**_booking(kwargs), "from_status": kwargs.get("from_status"), "reason": kwargs.get("reason")}
    announce_later(
        WebhookEvent.REGISTRATION_CANCELLED,
        data,
        organizer_id=kwargs.get("organizer_id"),
        activity_id=kwargs.get("activity_id"),
    )


def entry_moved(sender, entry, to_state, **kwargs):
    if str(to_state) != "published":
        return
    call = entry.call
    data = {
        "entry": {
            "code": entry.code,
            "title": entry.title,
            "call": call.slug,
            "campaign_id": call.campaign_id,
            "organization_id": entry.organization_id,
        }
    }
    announce_later(WebhookEvent.ENTRY_PUBLISHED, data, organizer_id=entry.organization_id, activity_id=None)


def connect() -> None:
    from kepuyue.activities import signals as activity_signals
    from kepuyue.calls import signals as call_signals
    from kepuyue.registrations import signals as registration_signals
    from kepuyue.review import signals as review_signals

    activity_signals.activity_moved.connect(activity_moved, dispatch_uid="api.webhooks.activity_moved")
    review_signals.activity_recommended.connect(activity_recommended, dispatch_uid="api.webhooks.recommended")
    review_signals.activity_featured.connect(activity_featured, dispatch_uid="api.webhooks.featured")
    registration_signals.registration_created.connect(
        registration_created, dispatch_uid="api.webhooks.registration_created"
    )
    registration_signals.registration_cancelled.connect(
        registration_cancelled, dispatch_uid="api.webhooks.registration_cancelled"
    )
    call_signals.entry_moved.connect(entry_moved, dispatch_uid="api.webhooks.entry_moved")
