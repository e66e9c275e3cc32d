"""``{% staff_links as links %}``: the staff pages the signed-in account may open, for the header."""

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from kepuyue.roles import services

register = template.Library()


@register.simple_tag(takes_context=True)
def staff_links(context) -> list[tuple[str, str]]:
    """``[(url, label), …]`` by role: unit pages and entries for a publisher, the review desk for
    platform administrators, featuring, calls and publicity resources for joint-action managers, scoring for
    judges, the audit log for CAST; last, the operation guide of the account's role."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    links = []
    if services.organization_of(user) is not None:
        links += [
            (reverse("activities:mine"), _("我的活动")),
            (reverse("activities:create"), _("发布活动")),
            (reverse("activities:import"), _("批量导入")),
            (reverse("registrations:org_home"), _("报名管理")),
            (reverse("calls:mine"), _("征集作品")),
            (reverse("accounts:unit_settings"), _("单位信息")),
        ]
    cast = services.is_cast_admin(user)
    if services.admin_grants(user) or cast:
        links += [
            (reverse("review:queue"), _("审核台")),
            (reverse("review:published"), _("推荐")),
            (reverse("accounts:review_list"), _("入驻申请")),
            (reverse("accounts:staff_list"), _("账号管理")),
        ]
    if services.managed_joint_action_ids(user) or cast:
        links.append((reverse("review:featuring"), _("重点呈现")))
    if services.managed_joint_action_ids(user) or cast:
        links.append((reverse("calls:manage_home"), _("征集管理")))
        # 宣传资源 (kepuyue.resources, plan 八(一); named by URL, never imported).
        links.append((reverse("resources:manage"), _("宣传资源")))
    if services.judged_call_ids(user):
        links.append((reverse("calls:judge_home"), _("作品评审")))
    if cast:
        links += [(reverse("review:audit"), _("审计日志")), (reverse("review:reopen"), _("重新开放推荐"))]
    if (
        services.organization_of(user) is not None
        or services.admin_grants(user)
        or cast
        or (services.managed_joint_action_ids(user))
    ):
        # The open API's tokens and webhooks (kepuyue.api; named by URL, never imported).
        links.append((reverse("api:tokens"), _("开放接口")))
    links.append((reverse("accounts:home"), _("我的账号")))
    # 操作指南 (kepuyue.guide, plan 八(二)) of the account's first role: on every staff page's header.
    if services.organization_of(user) is not None:
        guide = "unit"
    elif services.admin_grants(user):
        guide = "platform-admin"
    elif services.managed_joint_action_ids(user) or cast:
        guide = "manager"
    elif services.judged_call_ids(user):
        guide = "judge"
    else:
        guide = ""
    url = reverse("guide:page", args=[guide]) if guide else reverse("guide:index")
    links.append((url, _("操作指南")))
    return links
