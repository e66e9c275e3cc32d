"""The workflow of an activity: the one transition table and :func:`transition`."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kepuyue.audit import services as audit
from kepuyue.common import clock
from kepuyue.common.events import send_after_commit, send_in_transaction
from kepuyue.common.text import clean_text

from .. import signals
from ..models import Activity, Status
from .validation import BIT_FIELDS, TEXT_FIELDS, VALUE_FIELDS, _raise, validate_activity

# --- workflow -------------------------------------------------------------------------------------

# The allowed moves (from, to) → what the move is called. The review issue adds its steps here.
TRANSITIONS: dict[tuple[str, str], str] = {
    (Status.DRAFT, Status.SUBMITTED): "提交审核",
    (Status.SUBMITTED, Status.PUBLISHED): "审核通过并发布",
    (Status.SUBMITTED, Status.RETURNED): "退回修改",
    (Status.RETURNED, Status.SUBMITTED): "修改后重新提交",
    (Status.PUBLISHED, Status.WITHDRAWN): "撤回",
}
# The audit log's name of each move (``activity.<name>``).
TRANSITION_ACTIONS: dict[tuple[str, str], str] = {
    (Status.DRAFT, Status.SUBMITTED): "submit",
    (Status.SUBMITTED, Status.PUBLISHED): "approve",
    (Status.SUBMITTED, Status.RETURNED): "return",
    (Status.RETURNED, Status.SUBMITTED): "resubmit",
    (Status.PUBLISHED, Status.WITHDRAWN): "withdraw",
}
# The longest reason of a move, in characters (it is e-mailed and shown in the inbox).
REASON_MAX_LENGTH = 2000
# Moves that need a reason (the unit must know what to change).
REASON_REQUIRED = frozenset({(Status.SUBMITTED, Status.RETURNED)})


class TransitionNotAllowed(ValidationError):
    """A workflow move that ``TRANSITIONS`` does not allow, or that lacks its reason (Chinese message)."""


def allowed_transitions(activity: Activity) -> list[str]:
    """The statuses ``activity`` may move to from where it stands."""
    return [to for (frm, to) in TRANSITIONS if frm == activity.status]


def activity_data(activity: Activity) -> dict:
    """The data of a saved activity in the shape :func:`validate_activity` reads."""
    data = {name: getattr(activity, name) for name in (*TEXT_FIELDS, *VALUE_FIELDS, *BIT_FIELDS)}
    data.update(
        campaign=activity.campaign,
        joint_action=activity.joint_action,
        key_task=activity.key_task,
        brand=activity.brand,
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        form=activity.form,
        region=activity.region,
    )
    return data


def transition(activity: Activity, to: str, *, actor=None, reason: str = "") -> Activity:
    """Move ``activity`` to status ``to`` if ``TRANSITIONS`` allows it; returns the activity.

    Submitting (to ``submitted``) checks the activity against every rule again (a window may have
    been narrowed since it was saved). Sets ``submitted_at`` on submission and ``published_at`` on
    publication (campaign clock). The row is changed only if it still has the status it was read
    with, so two reviewers cannot both act on it. Every move is written to the audit log (who, when,
    from, to, why; ``kepuyue.audit``) in the same transaction, and announced: ``activity_moving``
    inside the transaction, ``activity_moved`` once it commits (``kepuyue.activities.signals``; the
    subscribers, e.g. review releasing a withdrawn activity's recommendation and notifications telling
    the unit of a return or a publication, are listed in ``docs/architecture.md``).

    Raises ``TransitionNotAllowed`` (Chinese message) for a move the table does not allow, a missing
    reason for returning, or a concurrent change; ``ValidationError`` (dict) when submitting an
    activity that breaks a rule.
    """
    to = Status(to)
    current = Status(activity.status)
    if (current, to) not in TRANSITIONS:
        allowed = "、".join(Status(s).label for s in allowed_transitions(activity)) or "无"
        raise TransitionNotAllowed(
            _("活动“%(title)s”当前为“%(from)s”，不能改为“%(to)s”（可改为：%(allowed)s）")
            % {"title": activity.title, "from": current.label, "to": to.label, "allowed": allowed}
        )
    try:
        reason = clean_text(reason, multiline=True, max_length=REASON_MAX_LENGTH, label=_("原因"))
    except ValidationError as exc:
        raise TransitionNotAllowed(exc.messages[0]) from None
    if (current, to) in REASON_REQUIRED and not reason:
        raise TransitionNotAllowed(_("%(step)s必须填写原因") % {"step": TRANSITIONS[(current, to)]})
    if to == Status.SUBMITTED:
        _raise(validate_activity(activity_data(activity)))
    changes: dict = {"status": to, "updated": clock.now()}
    if to == Status.SUBMITTED:
        changes["submitted_at"] = clock.now()
    if to == Status.PUBLISHED:
        changes["published_at"] = clock.now()
    with transaction.atomic():
        if not Activity.objects.filter(pk=activity.pk, status=current).update(**changes):
            raise TransitionNotAllowed(
                _("活动“%(title)s”已被他人修改，请刷新后重试") % {"title": activity.title}
            )
        for name, value in changes.items():
            setattr(activity, name, value)
        audit.record(
            f"activity.{TRANSITION_ACTIONS[(current, to)]}",
            actor=actor,
            obj=activity,
            data={"from": str(current), "to": str(to), "reason": reason},
        )
        # Higher apps react without this module knowing them (kepuyue.activities.signals): inside the
        # transaction what must be atomic with the move (review gives a withdrawn activity's
        # recommendation back), after commit what leaves the process (the unit hears of a return or
        # a publication; never of a rolled-back move, and a failing receiver does not undo it).
        payload = {
            **signals.activity_keys(activity),
            "from_state": str(current),
            "to_state": str(to),
            "actor": actor,
            "reason": reason,
        }
        send_in_transaction(signals.activity_moving, Activity, **payload)
        send_after_commit(signals.activity_moved, Activity, **payload)
    return activity


# --- in bulk ------------------------------------------------------------------------------------------


def submit_import_drafts(job, *, actor=None) -> tuple[list[Activity], list[tuple[Activity, str]]]:
    """提交全部草稿: submit every draft that the import ``job`` created or changed, in one step
    (issue 11 point 5). Returns ``(submitted, refused)`` — refused drafts (a rule broken, e.g. a
    window narrowed since the import) stay drafts, each with its Chinese reason.

    The same rules as :func:`transition` to ``submitted``: only drafts of the job's own unit (an
    administrator's import publishes at once and has none), each checked against every rule again.
    One transaction moves them (a draft changed meanwhile is left alone), writes **one** audit entry
    (``activity.bulk_submit``, the ids in its data) and announces every activity through the domain
    events (``activity_moving`` inside, ``activity_moved`` after commit), as a single submission would.
    """
    if job.organization_id is None:
        return [], []
    drafts = list(
        Activity.objects.filter(import_job=job, organizer_id=job.organization_id, status=Status.DRAFT)
        .select_related("campaign", "joint_action__campaign", "key_task", "brand", "region")
        .order_by("id")
    )
    ready: list[Activity] = []
    refused: list[tuple[Activity, str]] = []
    for activity in drafts:
        errors = validate_activity(activity_data(activity))
        if errors:
            refused.append((activity, "；".join(message for _field, message in errors)))
        else:
            ready.append(activity)
    if not ready:
        return [], refused
    now = clock.now()
    with transaction.atomic():
        ids = list(
            Activity.objects.select_for_update()
            .filter(pk__in=[a.pk for a in ready], status=Status.DRAFT)
            .values_list("pk", flat=True)
        )
        Activity.objects.filter(pk__in=ids).update(status=Status.SUBMITTED, submitted_at=now, updated=now)
        moved = [a for a in ready if a.pk in set(ids)]
        audit.record(
            "activity.bulk_submit",
            actor=actor,
            obj=job,
            organization=job.organization,
            data={"count": len(moved), "activities": ids[:5000], "refused": len(refused)},
        )
        for activity in moved:
            activity.status, activity.submitted_at, activity.updated = Status.SUBMITTED, now, now
            payload = {
                **signals.activity_keys(activity),
                "from_state": str(Status.DRAFT),
                "to_state": str(Status.SUBMITTED),
                "actor": actor,
                "reason": "",
            }
            send_in_transaction(signals.activity_moving, Activity, **payload)
            send_after_commit(signals.activity_moved, Activity, **payload)
    return moved, refused
