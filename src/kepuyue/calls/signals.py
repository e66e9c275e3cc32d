"""Events of calls for works 征集事件 (see ``kepuyue.common.events`` for the two phases).

``entry_moved`` is sent **after commit** with ``sender=Entry`` whenever an entry's status changes:
by :func:`kepuyue.calls.services.transition` (submitted, withdrawn, shortlisted, rejected, published
— 择优发布 is ``to_state="published"``, un-publishing ``from_state="published"``), and when
:func:`~kepuyue.calls.services.submit_entry` stores an entry submitted at once (``from_state=""``).

Payload: ``entry``, ``entry_id``, ``call_id``, ``campaign_id``, ``joint_action_id`` (of the call,
``None`` for a campaign-wide call), ``organization_id``, ``from_state``, ``to_state``
(``EntryStatus`` values) and ``actor``. Subscribers are listed in ``docs/architecture.md`` (none
yet: the public galleries' cache and the dashboard will subscribe).
"""

from __future__ import annotations

from django.dispatch import Signal

#: An entry's status changed (after commit).
entry_moved = Signal()


def entry_keys(entry) -> dict:
    """The ids ``entry_moved`` carries besides the states and the actor."""
    call = entry.call
    return {
        "entry": entry,
        "entry_id": entry.pk,
        "call_id": entry.call_id,
        "campaign_id": call.campaign_id,
        "joint_action_id": call.joint_action_id,
        "organization_id": entry.organization_id,
    }
