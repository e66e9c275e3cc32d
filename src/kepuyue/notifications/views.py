"""The inbox 站内通知 (``/inbox/``): the signed-in account's notifications, newest first, unread
marked; mark one or all read. Only the account's own notifications are ever read or changed."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kepuyue.common.text import has_controls, ids_from, int_or_none

from . import services

PAGE_SIZE = 30


@login_required
def inbox(request):
    """``/inbox/``: the account's notifications, 30 a page (``?page=``), ``?unread=1`` for unread only."""
    rows = services.inbox(request.user)
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    page = Paginator(rows, PAGE_SIZE).get_page(int_or_none(request.GET.get("page"), min_value=1))
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "unread_only": unread_only, "unread": services.unread_count(request.user)},
    )


@login_required
@require_POST
def mark_read(request):
    """Mark the posted ``id`` values read (all unread when ``all`` is posted), then go to ``next``
    (a path on this site) or back to the inbox."""
    if request.POST.get("all"):
        services.mark_read(request.user)
    else:
        services.mark_read(request.user, ids_from(request.POST.getlist("id")))
    target = request.POST.get("next", "")
    # A path on this site only: redirect() would take anything else for a view name (NoReverseMatch).
    if (
        target.startswith("/")
        and not has_controls(target)
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    ):
        return HttpResponseRedirect(target)
    return redirect("notifications:inbox")
