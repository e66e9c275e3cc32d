"""操作指南 pages: the list of guides and one guide per role (public: no sign-in needed, as the plan
asks everyone to read it on the platform)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from kepuyue.common.pagecache import public_page
from kepuyue.roles import services as roles

from . import pages


def _roles_of(user) -> set[str]:
    """The guides that fit ``user``'s roles (for the 'yours' mark); nothing queried for anonymous users."""
    if not user.is_authenticated:
        return {"public"}
    mine = set()
    if roles.organization_of(user) is not None:
        mine.add("unit")
    if roles.admin_grants(user):
        mine.add("platform-admin")
    if roles.managed_joint_action_ids(user) or roles.is_cast_admin(user):
        mine.add("manager")
    if roles.judged_call_ids(user):
        mine.add("judge")
    return mine or {"public"}


@require_safe
@public_page
def index(request):
    """操作指南 list. Page cache (ADR 0025): nothing to declare — the guides are files that change with a
    release only (kept ``PAGE_CACHE_SECONDS``); signed-in visitors get their own 'yours' marks."""
    mine = _roles_of(request.user)
    return render(request, "guide/index.html", {"guides": pages.GUIDES, "mine": mine, "nav": "guide"})


@require_safe
@public_page
def page(request, slug: str):
    """One guide. Page cache: as the list."""
    guide = pages.BY_SLUG.get(slug)
    if guide is None:
        raise Http404(_("没有这份操作指南"))
    return render(
        request,
        "guide/page.html",
        {"guide": guide, "html": mark_safe(pages.render(guide)), "guides": pages.GUIDES, "nav": "guide"},  # noqa: S308 - rendered by common.markup and cleaned by nh3
    )
