"""The door (签到): a phone page for the unit's staff — scan with the camera (qr-scanner, vendored) or
type the code; offline scans wait in the phone's storage and are synced in one batch when the
connection returns (:func:`sync`, idempotent per scan)."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kepuyue.common.ratelimits import limit, user_or_ip

from .. import services
from .staff import _session

MAX_BODY = 256 * 1024


@login_required
@never_cache
@limit("checkin", key=user_or_ip, method="POST")
def page(request, session_id: int):
    """``/org/registrations/session/<id>/checkin/``: the check-in page. A typed code is posted as a
    normal form (works without JavaScript); with JavaScript, scans and codes go through :func:`sync`."""
    session = _session(request, session_id)
    outcome = None
    if request.method == "POST":
        outcome = services.check_in(
            session, request.POST.get("code", ""), actor=request.user, nonce=request.POST.get("nonce", "")
        )
    return render(
        request,
        "registrations/checkin.html",
        {
            "session": session,
            "activity": session.activity,
            "outcome": outcome,
            "counts": services.session_counts(session),
            "nonce": services.new_token(),
        },
    )


@require_POST
@login_required
@limit("checkin", key=user_or_ip)
def sync(request, session_id: int):
    """``POST …/checkin/sync``: ``{"scans": [{"nonce", "code", "scanned_at", "offline"}, …]}`` → ``{"results":
    […], "counts": {…}}``. A batch sent again is answered the same and counted once."""
    session = _session(request, session_id)
    if len(request.body) > MAX_BODY:
        return JsonResponse({"error": _("签到数据过大，请分批同步")}, status=413)
    try:
        payload = json.loads(request.body.decode("utf-8"))
        scans = payload.get("scans") if isinstance(payload, dict) else None
        outcomes = services.check_in_batch(session, scans, actor=request.user)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return JsonResponse({"error": _("签到数据格式不正确")}, status=400)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    return JsonResponse(
        {"results": [o.as_json() for o in outcomes], "counts": services.session_counts(session)},
        json_dumps_params={"ensure_ascii": False},
    )
