"""Events of activities 活动事件 (see ``kepuyue.common.events`` for the two phases).

Sent with ``sender=Activity``. Every event carries the activity and the ids a subscriber needs
without reading it again (:func:`activity_keys`): ``activity_id``, ``campaign_id``,
``joint_action_id`` (``None`` for a campaign-wide activity), ``brand_id``, ``organizer_id`` and the
region chain ``province_code`` / ``prefecture_code`` / ``county_code`` (empty strings where coarser) —
what a page cache, a dashboard roll-up or a webhook keys on. ``actor`` is the account acting
(``None`` for a command or the system).

================================ ============== =====================================================
event                            phase          extra payload
================================ ============== =====================================================
``activity_moving``              in transaction ``from_state``, ``to_state`` (``Status`` values), ``actor``,
                                                ``reason``
``activity_moved``               after commit   same as ``activity_moving``
``activity_changed``             after commit   ``actor``, ``created`` (``True`` for a new draft)
``summary_submitted``            after commit   ``actor``, ``summary`` (the ``Summary``), ``created``
``activities_imported``          in transaction ``organizer_ids``, ``since`` (rows of these units written
                                                at ``since`` by the importer's bulk writes; no
                                                ``activity_keys``: one event per batch),
                                                ``activity_ids`` (exactly the rows of this batch)
================================ ============== =====================================================

Subscribers are listed in ``docs/architecture.md``.
"""

from __future__ import annotations

from django.dispatch import Signal

#: A workflow move is being made (``activities.services.transition``), inside its transaction,
#: after the row changed and the audit entry was written. A receiver that raises undoes the move.
activity_moving = Signal()
#: A workflow move was committed (submitted, published, returned, resubmitted, withdrawn).
activity_moved = Signal()
#: A draft or returned activity was created or changed (``create_activity``/``update_activity``).
activity_changed = Signal()
#: The unit submitted or corrected the summary (活动总结) of a published, ended activity.
summary_submitted = Signal()
#: The importer wrote a batch of rows with bulk statements (no model signals): the rows of the units
#: ``organizer_ids`` whose ``updated`` is ``since``. Sent inside the batch's transaction.
activities_imported = Signal()
#: Not an event but a question, asked by the summary form (``activities.summaries.attendance``) with
#: ``activity``: receivers in higher apps return how many people they counted at it (registrations:
#: the people checked in), or ``None``. The form offers the sum as the participant count.
attendance_requested = Signal()


def activity_keys(activity) -> dict:
    """The ids every activity event carries (see the module docstring)."""
    return {
        "activity": activity,
        "activity_id": activity.pk,
        "campaign_id": activity.campaign_id,
        "joint_action_id": activity.joint_action_id,
        "brand_id": activity.brand_id,
        "organizer_id": activity.organizer_id,
        "province_code": activity.province_code,
        "prefecture_code": activity.prefecture_code,
        "county_code": activity.county_code,
    }
