"""The unit's quiz page (plan 六(三)1 线上线下相结合): download the paper-results template, upload it,
see the unit's batches. Only a unit's account (its ``Membership``); another unit's batches are never
listed. Also the organizers' question-bank template and import (CAST administrators)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from kepuyue.common.ratelimits import limit, user_or_ip
from kepuyue.roles.services import is_cast_admin, organization_of

from .models import OfflineBatch, Round
from .services import bank, offline

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _unit(request):
    unit = organization_of(request.user)
    if unit is None:
        raise PermissionDenied(_("只有入驻单位的账号可以上传线下成绩。"))
    return unit


@login_required
@never_cache
@limit("quiz_upload", key=user_or_ip, method="POST")
def offline_page(request, slug: str):
    """``/quiz/org/<slug>/offline/``: the unit's paper results for a round."""
    unit = _unit(request)
    round = get_object_or_404(Round, slug=slug)
    problems = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            problems = [_("请选择要上传的 .xlsx 文件。")]
        else:
            batch, problems = offline.import_offline(round, unit, upload, actor=request.user)
            if batch is not None:
                messages.success(
                    request,
                    _("已导入 %(n)d 人的线下成绩，计入排行榜（标注“线下”）。") % {"n": batch.participants},
                )
                return redirect("quiz:offline", slug=round.slug)
    batches = OfflineBatch.objects.filter(round=round, organization=unit).order_by("-uploaded_at")[:50]
    return render(
        request,
        "quiz/offline.html",
        {
            "round": round,
            "unit": unit,
            "batches": batches,
            "problems": problems[:200],
            "more_problems": max(0, len(problems) - 200),
            "open": offline.upload_open(round),
        },
        status=400 if problems else 200,
    )


@login_required
@require_safe
def offline_template(request, slug: str):
    _unit(request)
    get_object_or_404(Round, slug=slug)
    return _xlsx(offline.offline_template(), "offline-results-template.xlsx")


def _organizer(request):
    if not is_cast_admin(request.user):
        raise PermissionDenied(_("只有中国科协管理员可以导入题库。"))


@login_required
@never_cache
@limit("quiz_upload", key=user_or_ip, method="POST")
def bank_page(request):
    """``/quiz/org/bank/``: the organizers' question-bank template and import (all or nothing)."""
    _organizer(request)
    problems, saved = [], None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            problems = [_("请选择要上传的 .xlsx 文件。")]
        else:
            saved, problems = bank.import_bank_xlsx(upload)
            if saved is not None:
                messages.success(
                    request,
                    _("题库已导入：新增 %(c)d，更新 %(u)d，未变 %(n)d。")
                    % {"c": saved.created, "u": saved.updated, "n": saved.unchanged},
                )
                return redirect("quiz:bank")
    return render(request, "quiz/bank.html", {"problems": problems[:200]}, status=400 if problems else 200)


@login_required
@require_safe
def bank_template(request):
    _organizer(request)
    return _xlsx(bank.bank_template(), "quiz-bank-template.xlsx")
