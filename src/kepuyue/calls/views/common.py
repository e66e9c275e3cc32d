"""What the calls pages share: kind labels and the call/entry lookups (404 when not allowed)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy

from kepuyue.campaigns.models import Call, CallKind
from kepuyue.roles.rules import check

from ..models import Entry

MAX_STOPS = 12
# Stop blocks on a new CityWalk form (the base and at least two other places, plus one spare).
DEFAULT_STOPS = 4
# The kinds' names on the unit's page (``CallKind`` labels are not marked for translation).
KIND_LABELS = {
    CallKind.CITYWALK: gettext_lazy("CityWalk 路线"),
    CallKind.VIDEO: gettext_lazy("短视频"),
    CallKind.ESSAY: gettext_lazy("征文"),
    CallKind.WORK_PLAN: gettext_lazy("工作方案"),
    CallKind.BOOK_LIST: gettext_lazy("书单"),
    CallKind.LINK: gettext_lazy("作品链接"),
}


def _call(campaign: str, call: str) -> Call:
    return get_object_or_404(
        Call.objects.select_related("campaign", "joint_action", "brand"), campaign__slug=campaign, slug=call
    )


def _entry(code: str) -> Entry:
    return get_object_or_404(
        Entry.objects.select_related("call", "call__campaign", "call__joint_action", "organization", "city"),
        code=code,
    )


def _viewable(request, code: str, perm: str = "calls.view_entry") -> Entry:
    entry = _entry(code)
    if not check(request.user, perm, entry):
        raise Http404
    return entry
