"""The joint-action manager's pages: judges, progress, ranking, shortlisting and publishing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kepuyue.campaigns.models import Call
from kepuyue.campaigns.services import call_phase
from kepuyue.common.text import clean_text
from kepuyue.roles.rules import check

from .. import services
from ..models import Entry, EntryStatus
from .common import _call, _viewable

# --- the joint-action manager -----------------------------------------------------------------


@login_required
def manage_home(request):
    """征集管理: calls of the joint actions this account manages (every call for CAST)."""
    calls = Call.objects.select_related("campaign", "joint_action").order_by("-campaign__starts", "opens_at")
    calls = [c for c in calls if check(request.user, "calls.manage_call", c)]
    if not calls:
        raise Http404
    return render(request, "calls/manage_home.html", {"calls": calls})


@login_required
def manage_call(request, campaign: str, call: str):
    """One call's panel: judges (assign, remove), progress per judge, entries ranked by normalised and
    mean weighted score, shortlist (入围), reject, publish (择优发布)."""
    the_call = _call(campaign, call)
    if not check(request.user, "calls.manage_call", the_call):
        raise Http404
    if request.method == "POST":
        username = clean_text(request.POST.get("username", ""))[:150]
        judge = get_user_model().objects.filter(username=username).first()
        if judge is None:
            messages.error(request, _("没有账号“%(username)s”") % {"username": username})
        elif request.POST.get("action") == "remove":
            services.remove_judge(the_call, judge, actor=request.user)
            messages.success(request, _("已取消 %(username)s 的评审资格") % {"username": username})
        else:
            services.assign_judge(the_call, judge, actor=request.user)
            messages.success(request, _("已指定 %(username)s 为评审专家") % {"username": username})
        return redirect("calls:manage_call", campaign=campaign, call=call)
    return render(
        request,
        "calls/manage_call.html",
        {
            "call": the_call,
            "results": services.results(the_call),
            "progress": services.judge_progress(the_call),
            "phase": call_phase(the_call),
            "drafts": Entry.objects.filter(call=the_call, status=EntryStatus.DRAFT).count(),
        },
    )


@login_required
@require_POST
def manage_entry(request, code: str):
    """``to=shortlisted|rejected|published|submitted`` on an entry of a managed call."""
    entry = _viewable(request, code, "calls.manage_entry")
    target = request.POST.get("to", "")
    if target not in (
        EntryStatus.SHORTLISTED,
        EntryStatus.REJECTED,
        EntryStatus.PUBLISHED,
        EntryStatus.SUBMITTED,
    ):
        raise Http404
    try:
        services.transition(entry, target, actor=request.user)
        messages.success(
            request,
            _("作品 %(code)s：%(status)s") % {"code": entry.code, "status": EntryStatus(target).label},
        )
    except services.TransitionError as error:
        messages.error(request, str(error))
    return redirect("calls:manage_call", campaign=entry.call.campaign.slug, call=entry.call.slug)
