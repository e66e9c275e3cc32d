"""The roles' own permissions and the one way to ask any permission (权限规则).

Every permission of the platform is a ``rules`` predicate declared once, in the ``rules.py`` of the
app that owns the object: activities in ``kepuyue.activities.rules``, calls for works in
``kepuyue.calls.rules``, and here what belongs to the roles themselves (CAST administrators,
the audit log, reopening recommendations). Those apps build on the scopes of
``kepuyue.roles.services`` and on :data:`is_cast_admin`; roles never import them (the layers of
``docs/architecture.md``). Views, exports and services ask ``user.has_perm("<perm>", obj)`` (through
``rules.permissions.ObjectPermissionBackend``) or call :func:`check`; nothing else decides who may do
what. The permissions (those on activities registered by ``kepuyue.activities.rules``):

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


rules.add_perm("audit.view_auditentry", is_cast_admin)
rules.add_perm("roles.reopen_recommendations", is_cast_admin)


def check(user, perm: str, obj=None) -> bool:
    """``user.has_perm(perm, obj)`` through the predicates above (also for inactive or anonymous users)."""
    return rules.has_perm(perm, user, obj)
