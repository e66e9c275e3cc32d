"""Posts without a CSRF token from cached public pages (issue 17 §1, ADR 0025 §1).

An anonymous public page carries nothing per visitor, so its forms cannot hold a CSRF token. The few
posts such a page makes are not state changes worth a token — a display preference (language, 大字模式),
the hand-off to a lecture's live or replay link — and :func:`same_site_post` lets them through without
one while refusing a post another site makes (``Sec-Fetch-Site``, ``Origin``). Every real state change
keeps Django's CSRF check.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from django.http import HttpResponseForbidden
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


def cross_site(request) -> bool:
    """True when the browser says the form was posted from another site (``Sec-Fetch-Site``) or
    names another origin (``Origin``). A request with neither header (an old browser) passes."""
    if request.headers.get("Sec-Fetch-Site", "") in {"cross-site", "same-site"}:
        return True
    origin = request.headers.get("Origin", "")
    if origin == "null":
        return True
    # The host only: a TLS proxy that does not pass the scheme on must not refuse our own forms.
    return bool(origin) and urlsplit(origin).netloc != request.get_host()


def same_site_post(view):
    """A POST-only view that needs no CSRF token but refuses a post from another site (403)."""

    @csrf_exempt
    @require_POST
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if cross_site(request):
            return HttpResponseForbidden(_("请在本站页面上操作。"))
        return view(request, *args, **kwargs)

    return wrapped
