"""Every permission of the platform, declared once as ``rules`` predicates (权限规则).

Views, exports and services ask ``user.has_perm("<perm>", obj)`` (through
``rules.permissions.ObjectPermissionBackend``) or call :func:`check`; nothing else decides who may
do what. Permissions on activities:

============================== =============================================================
``activities.view_activity``    own unit's activity (any status); in review scope / managed joint
                                action / CAST when not a draft
``activities.change_activity``  own unit's draft or returned activity
``activities.submit_activity``  own unit's draft or returned activity
``activities.review_activity``  submitted, in review scope (平台管理员) or CAST — approve or return
``activities.recommend_activity`` published, of a joint action, in review scope (平台管理员 only)
``activities.feature_activity`` recommended, of a joint action the account manages, or CAST
``activities.view_phone``      full contact phone: own unit, review scope, managed joint action, CAST
``activities.summarize_activity`` own unit's published activity
``activities.withdraw_activity`` own unit's published activity (撤回)
``activities.export_activities`` publishers, administrators, managers, CAST (rows: ``visible_activities``)
``audit.view_auditentry``       CAST administrators only
``roles.reopen_recommendations`` CAST administrators only
============================== =============================================================
"""

from __future__ import annotations

import rules

from . import services


@rules.predicate
def is_cast_admin(user) -> bool:
    return services.is_cast_admin(user)


@rules.predicate
def is_own_unit(user, activity) -> bool:
    own = services.organization_of(user)
    return own is not None and activity is not None and activity.organizer_id == own.pk


@rules.predicate
def is_not_draft(user, activity) -> bool:
    from kepuyue.activities.models import Status

    return activity is not None and activity.status != Status.DRAFT


@rules.predicate
def is_editable(user, activity) -> bool:
    from kepuyue.activities.services import EDITABLE_STATUSES

    return activity is not None and activity.status in EDITABLE_STATUSES


@rules.predicate
def is_submitted(user, activity) -> bool:
    from kepuyue.activities.models import Status

    return activity is not None and activity.status == Status.SUBMITTED


@rules.predicate
def is_published(user, activity) -> bool:
    from kepuyue.activities.models import Status

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
rules.add_perm("audit.view_auditentry", is_cast_admin)
rules.add_perm("roles.reopen_recommendations", is_cast_admin)


def check(user, perm: str, obj=None) -> bool:
    """``user.has_perm(perm, obj)`` through the predicates above (also for inactive or anonymous users)."""
    return rules.has_perm(perm, user, obj)
