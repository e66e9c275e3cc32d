"""Staff pages of the dashboard: ``/org/dashboard/`` (工作看板) and the coverage gaps (最后一公里).

Thin views over :mod:`.staff`. Accounts without an administrator's region scope get 403 (as on the
review desk); a province outside the scope is a 404.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from kepuyue.campaigns import services as campaigns
from kepuyue.campaigns.models import Campaign
from kepuyue.campaigns.services import current_campaign
from kepuyue.common.text import cell_safe
from kepuyue.regions.models import Level, Region
from kepuyue.review import services as review

from . import key_cities, staff
from .views import _cached


def _context(request):
    scope = staff.scope_of(request.user)
    if scope is None:
        raise PermissionDenied("当前账号没有按地区管辖的管理员角色")
    slug = request.GET.get("campaign", "")[:64]
    campaign = Campaign.objects.filter(slug=slug).first() if slug else current_campaign()
    if campaign is None:
        raise Http404("尚未载入科普月方案")
    return scope, campaign


@login_required
@require_safe
def org_dashboard(request):
    """``/org/dashboard/``: regions in scope, review queue ages, quota use, summaries, call entries."""
    scope, campaign = _context(request)
    user = request.user

    def compute() -> dict:
        return {
            "sections": staff.region_rows(campaign, scope),
            "queue": staff.queue_ages(user, campaign),
            "quotas": review.quota_table(user, campaign),
            "summaries": staff.summaries(user, campaign),
            "entries": staff.entries_by_status(user, campaign),
        }

    # Per account (its grants decide the scope), kept as long as the public figures.
    figures = _cached(f"staff:{user.pk}:{campaign.pk}:{campaign.updated.timestamp()}", compute)
    context = {"campaign": campaign, "scope": scope, "provinces": _provinces(scope), **figures}
    return render(request, "dashboard/org_dashboard.html", context)


def _provinces(scope: staff.Scope) -> list[Region]:
    if scope.national:
        return list(Region.objects.filter(level=Level.PROVINCE).order_by("code"))
    codes = sorted({r.province_code for r in scope.regions})
    return list(Region.objects.filter(code__in=codes).order_by("code"))


def _province(scope: staff.Scope, code: str) -> Region:
    province = Region.objects.filter(pk=code[:6], level=Level.PROVINCE).first()
    if province is None or not (
        scope.national or any(r.province_code == province.code for r in scope.regions)
    ):
        raise Http404("没有这个省份，或不在您的管辖范围内")
    return province


@login_required
@require_safe
def coverage(request, code: str):
    """``/org/dashboard/coverage/<province>/``: counties with no published activity (最后一公里)."""
    scope, campaign = _context(request)
    province = _province(scope, code)
    rows = staff.coverage_gaps(campaign, province, scope)
    context = {
        "campaign": campaign,
        "scope": scope,
        "province": province,
        "rows": rows,
        "provinces": _provinces(scope),
    }
    return render(request, "dashboard/coverage.html", context)


@login_required
@require_safe
def coverage_csv(request, code: str):
    scope, campaign = _context(request)
    province = _province(scope, code)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{campaign.slug}-coverage-{province.code}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(["区划代码", "区县", "所属地市", "全称", "民族地区", "说明"])
    for row in staff.coverage_gaps(campaign, province, scope):
        writer.writerow(
            [
                cell_safe(v)
                for v in (
                    row["code"],
                    row["name"],
                    row["prefecture"],
                    row["full_name"],
                    "是" if row["ethnic"] else "",
                    "尚无已发布活动",
                )
            ]
        )
    return response


@login_required
@csrf_protect
@require_http_methods(["GET", "POST"])
def key_city_page(request, ja_slug: str = ""):
    """重点城市 (plan 七(四)1): CAST or the joint action's manager (中国科普作家协会) chooses the key cities and
    sees, per city, the published activities and book signings. Another joint action, or an account that may
    choose none, is a 404."""
    campaign = current_campaign()
    if campaign is None:
        raise Http404
    actions = key_cities.choosable_joint_actions(request.user, campaign)
    if not actions:
        raise Http404
    joint_action = next((ja for ja in actions if ja.slug == ja_slug), None) if ja_slug else actions[0]
    if joint_action is None:
        raise Http404
    if request.method == "POST":
        code = request.POST.get("code", "")[:6]
        try:
            if request.POST.get("action") == "remove":
                campaigns.remove_key_city(joint_action, code, actor=request.user)
                messages.success(request, _("已移除重点城市"))
            else:
                campaigns.add_key_city(joint_action, code, actor=request.user)
                messages.success(request, _("已加入重点城市"))
        except campaigns.KeyCityError as error:
            messages.error(request, str(error))
        return redirect("org_dashboard:key_cities_of", ja_slug=joint_action.slug)
    rows = key_cities.city_rows(joint_action)
    chosen = [r for r in rows if r.key]
    return render(
        request,
        "dashboard/key_cities.html",
        {
            "campaign": campaign,
            "actions": actions,
            "joint_action": joint_action,
            "rule": joint_action.key_cities_rule,
            "rows": rows,
            "chosen": len(chosen),
            "with_events": sum(1 for r in chosen if r.activities),
            "prefectures": key_cities.prefectures(),
        },
    )
