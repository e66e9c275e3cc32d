"""The quiz's public pages (科普法·我知道·比比看, plan 六(三)1): the rounds, a round with its rules and
leaderboards, the taker's form, an attempt (questions only — never answers), its result, the
certificate PDF and its public verification page. Rules are in :mod:`kepuyue.quiz.services`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from kepuyue.common import clock
from kepuyue.common.pagecache import depends, public_page
from kepuyue.common.ratelimits import ip_key, limit, user_or_ip
from kepuyue.common.text import int_or_none

from .forms import ProfileForm
from .models import Attempt, AttemptStatus, Round
from .services import boards, certificates, taking


@require_safe
@public_page
def rounds(request):
    """``/quiz/``: the rounds, open ones first. Page cache (ADR 0025): ``quiz`` (a round saved)."""
    depends(request, "quiz")
    items = list(Round.objects.order_by("-opens_at"))
    now = clock.now()
    return render(
        request,
        "quiz/rounds.html",
        {"rounds": [(r, taking.window_state(r, now)) for r in items], "nav": "quiz"},
    )


@require_safe
@public_page
def round_detail(request, slug: str):
    """``/quiz/<slug>/``: the rules, the way in, and the leaderboards (比比看).

    Page cache: ``quiz`` (a round saved) and ``quiz-board:<id>`` (a tally or best changed: the
    boards); signed-in visitors get their own page, ``private``."""
    depends(request, "quiz")
    round = get_object_or_404(Round, slug=slug)
    depends(request, f"quiz-board:{round.pk}")
    context = {
        "round": round,
        "state": taking.window_state(round),
        "board": boards.board(round),
        "nav": "quiz",
    }
    if request.user.is_authenticated:
        context |= {
            "profile": taking.profile_of(request.user),
            "used_today": taking.attempts_today(round, request.user),
            "current": taking.in_flight(request.user),
            "best": round.bests.filter(user=request.user).first(),
        }
    return render(request, "quiz/round.html", context)


@login_required
@never_cache
def profile(request, slug: str):
    """``/quiz/<slug>/profile/``: who takes the quiz (no phone number asked)."""
    round = get_object_or_404(Round, slug=slug)
    current = taking.profile_of(request.user)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                taking.save_profile(
                    request.user,
                    name=data["name"],
                    age=data["age"],
                    province=data["province"],
                    unit=data["unit"],
                    guardian_name=data.get("guardian_name", ""),
                    guardian_consent=data.get("guardian_consent", False),
                )
            except taking.QuizError as exc:
                form.add_error(None, exc.messages[0])
            else:
                messages.success(request, _("答题信息已保存。"))
                return redirect("quiz:round", slug=round.slug)
    else:
        initial = {}
        if current is not None:
            initial = {
                "name": current.name,
                "age": str(current.age),
                "province": current.province_id,
                "unit": current.unit.name if current.unit else "",
                "guardian_name": current.guardian_name,
                "guardian_consent": bool(current.guardian_consent_at),
            }
        form = ProfileForm(initial=initial)
    return render(request, "quiz/profile.html", {"round": round, "form": form})


@login_required
@require_POST
@limit("quiz_start", key=user_or_ip)
def start(request, slug: str):
    """Start (or resume) an attempt, then show it."""
    round = get_object_or_404(Round, slug=slug)
    if taking.profile_of(request.user) is None:
        return redirect("quiz:profile", slug=round.slug)
    try:
        attempt = taking.start(round, request.user)
    except taking.QuizError as exc:
        messages.error(request, exc.messages[0])
        return redirect("quiz:round", slug=round.slug)
    return redirect("quiz:attempt", token=attempt.token)


def _own_attempt(request, token: str) -> Attempt:
    attempt = (
        Attempt.objects.select_related("round", "province").filter(token=token, user=request.user).first()
    )
    if attempt is None:
        raise Http404
    return attempt


@login_required
@never_cache
def attempt(request, token: str):
    """``/quiz/attempt/<token>/``: the questions (texts and shuffled options only); POST submits."""
    attempt = _own_attempt(request, token)
    if request.method == "POST":
        return _submit(request, attempt)
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return redirect("quiz:result", token=attempt.token)
    if clock.now() > taking.hard_deadline(attempt):
        taking.expire(attempt)
        messages.error(request, _("已超过答题时限，本次答题未计成绩。"))
        return redirect("quiz:round", slug=attempt.round.slug)
    remaining = max(0, int((attempt.deadline - clock.now()).total_seconds()))
    return render(
        request,
        "quiz/attempt.html",
        {
            "attempt": attempt,
            "round": attempt.round,
            "items": taking.paper_of(attempt),
            "remaining": remaining,
        },
    )


@limit("quiz_submit", key=user_or_ip)
def _submit(request, attempt: Attempt):
    chosen: dict[int, list[int]] = {}
    for number in range(1, attempt.total + 1):
        values = request.POST.getlist(f"q{number}")[:8]
        picked = [int_or_none(v, min_value=0, max_value=7) for v in values]
        chosen[number] = [p for p in picked if p is not None]
    try:
        taking.submit(attempt, chosen, actor=request.user)
    except taking.QuizError as exc:
        messages.error(request, exc.messages[0])
        if attempt.status == AttemptStatus.SUBMITTED:
            return redirect("quiz:result", token=attempt.token)
        return redirect("quiz:round", slug=attempt.round.slug)
    return redirect("quiz:result", token=attempt.token)


@login_required
@never_cache
@require_safe
def result(request, token: str):
    """The score, each question with its answer and explanation, and the certificate."""
    attempt = _own_attempt(request, token)
    if attempt.status == AttemptStatus.IN_PROGRESS:
        return redirect("quiz:attempt", token=attempt.token)
    return render(
        request,
        "quiz/result.html",
        {"attempt": attempt, "round": attempt.round, "review": taking.review(attempt)},
    )


def verify_url(request, code: str) -> str:
    return request.build_absolute_uri(reverse("quiz:verify", kwargs={"code": code}))


@login_required
@require_safe
def certificate(request, token: str):
    """The certificate PDF of a passed attempt (its owner only)."""
    attempt = _own_attempt(request, token)
    if not attempt.passed or attempt.status != AttemptStatus.SUBMITTED:
        raise Http404
    pdf = certificates.certificate_pdf(attempt, verify_url(request, attempt.certificate_code))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{attempt.certificate_code}.pdf"'
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_safe
@limit("quiz_verify", key=ip_key)
@public_page
def verify(request, code: str = ""):
    """``/quiz/verify/<code>/`` (or ``?code=``): whether a certificate is genuine (name masked).

    Page cache (ADR 0025), inside the rate limit (every lookup still counts): a certificate found
    stays genuine, one not found is a 404 (never stored); ``quiz`` for the round names."""
    depends(request, "quiz")
    code = code or request.GET.get("code", "")[:40]
    found = certificates.verify(code) if code else None
    status = 404 if code and found is None else 200
    return render(request, "quiz/verify.html", {"code": code, "found": found}, status=status)
