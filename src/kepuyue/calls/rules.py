"""Permissions on calls for works and their entries (征集作品), as ``rules`` predicates.

Checked with ``kepuyue.roles.rules.check(user, perm, obj)`` (superusers get no bypass on object rules):

=============================== ==============================================================
``calls.submit_entry``  (call)   a unit account whose organization type is eligible, the call open
``calls.view_entry``    (entry)  own unit's or own person's (any status); not a draft/withdrawn: the call's manager
                                 (联合行动牵头单位), CAST; judgeable: a judge of the call, never
                                 of the judge's own unit (回避)
``calls.change_entry``  (entry)  own unit's draft or submitted entry (submit, withdraw)
``calls.score_entry``   (entry)  a judge of the call, not of the judge's own unit, judgeable status
``calls.manage_call``   (call)   the manager of the call's joint action, or CAST: judges, shortlist,
                                 publish (择优发布)
``calls.manage_entry``  (entry)  ``calls.manage_call`` on the entry's call
=============================== ==============================================================
"""

from __future__ import annotations

import rules

from kepuyue.roles import services as roles


@rules.predicate
def can_submit_to(user, call) -> bool:
    from .services import eligibility_problem

    org = roles.organization_of(user)
    return call is not None and org is not None and eligibility_problem(call, org) is None


@rules.predicate
def is_own_entry(user, entry) -> bool:
    """The unit's entry, or the person's own (个人投稿, plan 六(三)4)."""
    if entry is None:
        return False
    if entry.person_id is not None:
        return getattr(user, "is_authenticated", False) and entry.person_id == user.pk
    org = roles.organization_of(user)
    return org is not None and entry.organization_id == org.pk


@rules.predicate
def is_not_draft(user, entry) -> bool:
    from .models import EntryStatus

    return entry is not None and entry.status not in (EntryStatus.DRAFT, EntryStatus.WITHDRAWN)


@rules.predicate
def is_changeable(user, entry) -> bool:
    from .models import EntryStatus

    return entry is not None and entry.status in (EntryStatus.DRAFT, EntryStatus.SUBMITTED)


@rules.predicate
def judges_entry(user, entry) -> bool:
    from .models import JUDGEABLE_STATUSES

    if entry is None or entry.status not in JUDGEABLE_STATUSES:
        return False
    if entry.call_id not in roles.judged_call_ids(user):
        return False
    own = roles.organization_of(user)
    return own is None or entry.organization_id != own.pk


@rules.predicate
def manages_call(user, call) -> bool:
    return call is not None and call.joint_action_id in roles.managed_joint_action_ids(user)


@rules.predicate
def manages_entry_call(user, entry) -> bool:
    return entry is not None and entry.call.joint_action_id in roles.managed_joint_action_ids(user)


@rules.predicate
def is_cast_admin(user) -> bool:
    return roles.is_cast_admin(user)


rules.add_perm("calls.submit_entry", can_submit_to)
rules.add_perm(
    "calls.view_entry", is_own_entry | judges_entry | (is_not_draft & (manages_entry_call | is_cast_admin))
)
rules.add_perm("calls.change_entry", is_own_entry & is_changeable)
rules.add_perm("calls.score_entry", judges_entry)
rules.add_perm("calls.manage_call", manages_call | is_cast_admin)
rules.add_perm("calls.manage_entry", is_not_draft & (manages_entry_call | is_cast_admin))
