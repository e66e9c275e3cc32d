"""The judges' pages: their calls and blind scoring by entry code."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kepuyue.campaigns.models import Call
from kepuyue.common.text import clean_text, too_long_message
from kepuyue.roles import services as roles

from .. import services
from ..models import Score
from .common import _call, _viewable

COMMENT_MAX_LENGTH = 5000

# --- judges -----------------------------------------------------------------------------------


@login_required
def judge_home(request):
    """评审: the calls this account judges, with its progress on each."""
    calls = Call.objects.filter(pk__in=roles.judged_call_ids(request.user)).select_related("campaign")
    rows = []
    for call in calls:
        entries = services.judgeable_entries(request.user, call)
        scored = Score.objects.filter(judge=request.user, entry__in=entries).count()
        rows.append({"call": call, "total": entries.count(), "scored": scored})
    return render(request, "calls/judge_home.html", {"rows": rows})


@login_required
def judge_call(request, campaign: str, call: str):
    """The entries of one call this judge scores, by anonymous code; no unit or uploader is shown."""
    the_call = _call(campaign, call)
    if the_call.pk not in roles.judged_call_ids(request.user):
        raise Http404
    entries = list(services.judgeable_entries(request.user, the_call))
    mine = dict(Score.objects.filter(judge=request.user, entry__in=entries).values_list("entry_id", "total"))
    rows = [{"entry": e, "total": mine.get(e.pk)} for e in entries]
    return render(
        request,
        "calls/judge_call.html",
        {
            "call": the_call,
            "rows": rows,
            "scored": len(mine),
            "themes": {t["slug"]: t["name"] for t in the_call.themes},
        },
    )


@login_required
def judge_entry(request, code: str):
    """Blind scoring of one entry: its code, title, theme and content, the criteria with their weights.
    An entry of the judge's own unit, or of a call the account does not judge, is a 404."""
    entry = _viewable(request, code, "calls.score_entry")
    score = Score.objects.filter(entry=entry, judge=request.user).first()
    errors = []
    if request.method == "POST":
        values = {c["slug"]: request.POST.get(f"score-{c['slug']}", "").strip() for c in entry.call.criteria}
        try:
            parsed = {k: float(v) for k, v in values.items() if v != ""}
            comment = clean_text(request.POST.get("comment", ""), multiline=True)
            if len(comment) > COMMENT_MAX_LENGTH:
                raise services.ScoreError(too_long_message(_("评语"), COMMENT_MAX_LENGTH, len(comment)))
            services.score_entry(entry, request.user, parsed, comment)
        except (ValueError, TypeError) as error:
            errors.append(
                str(error) if isinstance(error, services.ScoreError) else _("得分须为0—100之间的数字")
            )
        else:
            messages.success(request, _("已保存对作品 %(code)s 的评分") % {"code": entry.code})
            following = (
                services.judgeable_entries(request.user, entry.call)
                .exclude(scores__judge=request.user)
                .first()
            )
            if following is not None:
                return redirect("calls:judge_entry", code=following.code)
            return redirect("calls:judge_call", campaign=entry.call.campaign.slug, call=entry.call.slug)
    criteria = [
        {
            **c,
            "value": request.POST.get(f"score-{c['slug']}")
            if errors
            else (f"{score.scores[c['slug']]:g}" if score and c["slug"] in score.scores else ""),
        }
        for c in entry.call.criteria
    ]
    return render(
        request,
        "calls/judge_entry.html",
        {
            "entry": entry,
            "criteria": criteria,
            "score": score,
            "errors": errors,
            "theme": {t["slug"]: t["name"] for t in entry.call.themes}.get(entry.theme, ""),
        },
        status=400 if errors else 200,
    )
