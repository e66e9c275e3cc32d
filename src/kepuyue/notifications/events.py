"""What the workflow tells people (issue 4 item 6): returned, published, recommended, featured.

These are receivers of the after-commit events ``kepuyue.activities.signals.activity_moved`` and
``kepuyue.review.signals.activity_recommended`` / ``activity_featured``, connected in
:meth:`NotificationsConfig.ready`. After commit: a move that is rolled back tells nobody, and a
failing notification is logged and never undoes a move that was made (``kepuyue.common.events``).
"""

from __future__ import annotations

from django.urls import reverse

from kepuyue.activities.models import Activity, Status
from kepuyue.common.text import quote_title

from .models import Kind
from .services import notify


def publishers_of(organization_id: int) -> list[int]:
    """Ids of the accounts that publish for the organization (its ``Membership`` rows)."""
    from kepuyue.orgs.models import Membership

    return list(Membership.objects.filter(organization_id=organization_id).values_list("user_id", flat=True))


def managers_of(joint_action_id: int | None) -> list[int]:
    """Ids of the accounts managing the joint action (联合行动牵头单位管理员)."""
    from kepuyue.roles.models import Role, RoleGrant

    if joint_action_id is None:
        return []
    return list(
        RoleGrant.objects.filter(role=Role.JOINT_ACTION_MANAGER, joint_action_id=joint_action_id).values_list(
            "user_id", flat=True
        )
    )


def _detail(activity: Activity) -> str:
    return reverse("activities:detail", args=[activity.pk])


def activity_moved(sender, activity: Activity, to_state: str, reason: str = "", **kwargs) -> None:
    """After a workflow move: the unit's publishers hear that their activity was returned (with the
    reason) or published. Other moves tell nobody."""
    if to_state == Status.RETURNED:
        notify(
            publishers_of(activity.organizer_id),
            Kind.RETURNED,
            f"活动被退回：{activity.title}",
            f"您的活动{quote_title(activity.title)}被退回修改。\n退回原因：{reason}\n请修改后重新提交审核。",
            _detail(activity),
        )
    elif to_state == Status.PUBLISHED:
        notify(
            publishers_of(activity.organizer_id),
            Kind.PUBLISHED,
            f"活动已发布：{activity.title}",
            f"您的活动{quote_title(activity.title)}已审核通过并在平台公开发布。",
            _detail(activity),
        )


def activity_recommended(sender, activity: Activity, **kwargs) -> None:
    """After a recommendation: the unit's publishers, and the joint action's managers (who may now
    feature it)."""
    ja = activity.joint_action.name if activity.joint_action_id else ""
    notify(
        publishers_of(activity.organizer_id),
        Kind.RECOMMENDED,
        f"活动被推荐：{activity.title}",
        f"您的活动{quote_title(activity.title)}已被平台管理员推荐为{ja}重点活动。",
        _detail(activity),
    )
    notify(
        managers_of(activity.joint_action_id),
        Kind.RECOMMENDED,
        f"新推荐活动待重点呈现：{activity.title}",
        f"{quote_title(activity.title)}（{activity.organizer.name}）已被推荐为{ja}重点活动，可在“重点呈现”中处理。",
        reverse("review:featuring"),
    )


def activity_featured(sender, activity: Activity, **kwargs) -> None:
    """After featuring: the unit's publishers."""
    notify(
        publishers_of(activity.organizer_id),
        Kind.FEATURED,
        f"活动被重点呈现：{activity.title}",
        f"您的活动{quote_title(activity.title)}已被联合行动牵头单位选为重点呈现，将在平台首页和专区展示。",
        reverse("portal:activity", args=[activity.pk]),
    )
