"""Staff pages of the dashboard: ``/org/dashboard/`` (工作看板) and the coverage gaps (最后一公里).

Thin views over :mod:`.staff`. Accounts without an administrator's region scope get 403 (as on the
review desk); a province outside the scope is a 404.
"""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from kepuyue.campaigns.models import Campaign
from kepuyue.campaigns.services import current_campaign
from kepuyue.common.text import cell_safe
from kepuyue.regions.models import Level, Region
from kepuyue.review import services as review

from . import staff
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
