"""What a signed-in session must do before it may use the platform (``AccountMiddleware``).

In order, for every view except the sign-in steps themselves (views marked with :func:`sign_in_step`):

1. **Idle timeout** — no request for 30 minutes (staff) or ``KEPUYUE_PUBLIC_IDLE_MINUTES`` (public):
   the session ends and the login page says why. Measured in real time, never by the campaign
   clock: a pinned ``KEPUYUE_NOW`` must not keep sessions alive for ever.
2. **Two-factor** — an account that needs TOTP (``roles.services.needs_two_factor``) and has not
   passed it in this session goes to the verify page (or the enrolment page the first time).
   This also covers ``/admin/``.
3. **Initial password** — an account created by an administrator goes to the password-change page.

The flags are stored in the session at login and re-read every ``services.REFRESH_SECONDS``, so a
publisher's page costs no extra query.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from . import services


def sign_in_step(view):
    """Mark a view as part of signing in: no two-factor or password-change redirect in front of it."""
    view.kepuyue_sign_in_step = True
    return view


def _to(name: str, request) -> str:
    return f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}"


class AccountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        session = request.session
        flags = session.get(services.FLAGS_KEY)
        seen = session.get(services.SEEN_KEY)
        now = time.time()
        if flags is None or seen is None:
            flags, seen = services.session_flags(user), now
            session[services.FLAGS_KEY], session[services.SEEN_KEY] = flags, now
        if now - seen > services.idle_limit(flags):
            minutes = services.idle_limit(flags) // 60
            logout(request)
            messages.warning(
                request,
                _("您已超过 %(m)d 分钟未操作，为保护账号安全已自动退出，请重新登录。") % {"m": minutes},
            )
            return redirect(_to("accounts:login", request))
        if now - seen > services.REFRESH_SECONDS:
            flags = services.session_flags(user)
            session[services.FLAGS_KEY], session[services.SEEN_KEY] = flags, now
        if getattr(view_func, "kepuyue_sign_in_step", False):
            return None
        if flags.get("otp") and not services.is_verified(user):
            step = "accounts:verify" if services.confirmed_device(user) else "accounts:enrol"
            return redirect(_to(step, request))
        if flags.get("change"):
            return redirect(_to("accounts:password_change", request))
        return None
