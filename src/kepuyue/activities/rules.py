"""Permissions on activities 活动权限, as ``rules`` predicates, and the staff querysets of activities.

Registered when the app is ready (:meth:`ActivitiesConfig.ready`); asked through
``user.has_perm("activities.<perm>", activity)`` or ``kepuyue.roles.rules.check``. They build on the
role scopes of ``kepuyue.roles.services`` (a lower layer: roles never import activities).

================================= =============================================================
``activities.view_activity``      own unit's activity (any status); in review scope / managed joint
                                  action / CAST when not a draft
``activities.change_activity``    own unit's draft or returned activity
``activities.submit_activity``    own unit's draft or returned activity
``activities.review_activity``    submitted, in review scope (平台管理员) or CAST — approve or return
``activities.recommend_activity`` published, of a joint action, in review scope (平台管理员 only)
``activities.feature_activity``   recommended, of a joint action the account manages, or CAST
``activities.view_phone``         full contact phone: own unit, review scope, managed joint action, CAST
``activities.summarize_activity`` own unit's published activity
``activities.withdraw_activity``  own unit's published activity (撤回)
``activities.export_activities``  publishers, administrators, managers, CAST (rows: :func:`visible_activities`)
================================= =============================================================
"""

from __future__ import annotations

import rules
from django.db.models import Q, QuerySet

from kepuyue.roles import services
from kepuyue.roles.rules import is_cast_admin

from .models import Activity, Status
from .services import EDITABLE_STATUSES


@rules.predicate
def is_own_unit(user, activity) -> bool:
    own = services.organization_of(user)
    return own is not None and activity is not None and activity.organizer_id == own.pk


@rules.predicate
def is_not_draft(user, activity) -> bool:
    return activity is not None and activity.status != Status.DRAFT


@rules.predicate
def is_editable(user, activity) -> bool:
    return activity is not None and activity.status in EDITABLE_STATUSES


@rules.predicate
def is_submitted(user, activity) -> bool:
    return activity is not None and activity.status == Status.SUBMITTED


@rules.predicate
def is_published(user, activity) -> bool:
    return activity is not None and activity.status == Status.PUBLISHED


@rules.predicate
def has_joint_action(user, activity) -> bool:
    return activity is not None and activity.joint_action_id is not None


@rules.predicate
def is_recommended(user, activity) -> bool:
    return activity is not None and activity.recommended_at is not None


@rules.predicate
def in_review_scope(user, activity) -> bool:
    return (
        activity is not None
        and bool(services.admin_grants(user))
        and services.in_scope(user, activity.organizer)
    )


@rules.predicate
def manages_joint_action(user, activity) -> bool:
    return activity is not None and activity.joint_action_id in services.managed_joint_action_ids(user)


@rules.predicate
def works_on_activities(user) -> bool:
    """A publisher, a platform administrator, a joint-action manager or CAST (not a judge)."""
    return bool(
        services.organization_of(user) is not None
        or services.admin_grants(user)
        or services.managed_joint_action_ids(user)
        or services.is_cast_admin(user)
    )


can_oversee = in_review_scope | manages_joint_action | is_cast_admin

rules.add_perm("activities.view_activity", is_own_unit | (is_not_draft & can_oversee))
rules.add_perm("activities.change_activity", is_own_unit & is_editable)
rules.add_perm("activities.submit_activity", is_own_unit & is_editable)
rules.add_perm("activities.review_activity", is_submitted & (in_review_scope | is_cast_admin))
rules.add_perm("activities.recommend_activity", is_published & has_joint_action & in_review_scope)
rules.add_perm(
    "activities.feature_activity",
    is_published & is_recommended & (manages_joint_action | is_cast_admin),
)
rules.add_perm("activities.view_phone", is_own_unit | (is_not_draft & can_oversee))
rules.add_perm("activities.summarize_activity", is_own_unit & is_published)
rules.add_perm("activities.withdraw_activity", is_own_unit & is_published)
rules.add_perm("activities.export_activities", works_on_activities)


# --- staff querysets ------------------------------------------------------------------------------


def visible_activities(user) -> QuerySet[Activity]:
    """Every activity the account may see on staff pages: all of its own unit's (drafts included);
    submitted and later ones of organizations in its review scope and of the joint actions it manages;
    every non-draft one for CAST. Drafts of another unit are never visible."""
    own = services.organization_of(user)
    q = Q(organizer=own) if own is not None else Q(pk__in=[])
    non_draft = ~Q(status=Status.DRAFT)
    review = services.scope_q(user, "organizer__")
    if review is not None:
        q |= non_draft & review
    managed = services.managed_joint_action_ids(user)
    if managed:
        q |= non_draft & Q(joint_action_id__in=managed)
    return Activity.objects.filter(q)


def review_queue(user) -> QuerySet[Activity]:
    """Submitted activities (待审核) in the account's review scope, oldest first."""
    q = services.scope_q(user, "organizer__")
    if q is None:
        return Activity.objects.none()
    return Activity.objects.filter(q, status=Status.SUBMITTED).order_by("submitted_at", "id")
