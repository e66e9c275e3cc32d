"""The public portal: a campaign's home, the archive of campaigns, one joint action's zone (专区).

Views stay thin: which campaign is current, what phase it is in and which deadlines are open are
all answered by ``kepuyue.campaigns.services`` on the campaign clock (``kepuyue.common.clock``).
"""

from urllib.parse import urlencode

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from django.views.i18n import set_language

from kepuyue.campaigns import services
from kepuyue.campaigns.models import Campaign, JointAction
from kepuyue.common.pagecache import depends, public_page, remember
from kepuyue.common.preferences import cross_site

from .activity_display import featured, home_activities, zone_activities
from .context_processors import LARGE_TEXT_COOKIE

# A year: the visitor chose large text once and should not have to choose again next week.
LARGE_TEXT_MAX_AGE = 365 * 24 * 3600


@require_safe
@public_page
def home(request):
    """``/``: the current campaign's home (running, else most recent, else upcoming).

    With no campaign loaded at all the page says so (HTTP 200), it does not fail.
    """
    depends(request, "plan", "catalog")
    campaign = services.current_campaign()
    if campaign is None:
        return render(request, "portal/no_campaign.html", {"nav": "home"})
    return _campaign_home(request, campaign, is_current=True)


@require_safe
@public_page
def campaign_detail(request, slug: str):
    """``/campaigns/<slug>/``: any campaign's home, the same page as ``/``; 404 for an unknown slug."""
    depends(request, "plan", "catalog")
    campaign = get_object_or_404(Campaign, slug=slug)
    current = services.current_campaign()
    return _campaign_home(request, campaign, is_current=current is not None and current.pk == campaign.pk)


def _campaign_home(request, campaign: Campaign, *, is_current: bool):
    # The featured row and the latest activities: any public change in the campaign.
    depends(request, f"campaign:{campaign.pk}")
    # The plan's joint actions and deadlines: read once per process while the plan is unchanged.
    joint_actions, deadlines = remember(
        request, f"home:{campaign.pk}", lambda: _home_plan(campaign), "plan", "catalog"
    )
    cards = [(ja, services.joint_action_window_phase(ja)) for ja in joint_actions]
    featured_rows = featured(campaign)
    context = {
        "campaign": campaign,
        "phase": services.campaign_phase(campaign),
        "is_current": is_current,
        "cards": cards,
        "key_deadlines": [(d, services.deadline_state(d)) for d in deadlines],
        "featured": featured_rows,
        "home_activities": home_activities(campaign, first=featured_rows),
        "nav": "home" if is_current else "archive",
    }
    return render(request, "portal/campaign_home.html", context)


def _home_plan(campaign: Campaign) -> tuple[list[JointAction], list]:
    """The joint actions (with participant types) and the key deadlines a campaign's home shows."""
    joint_actions = list(campaign.joint_actions.prefetch_related("participant_types").order_by("number"))
    return joint_actions, [deadline for deadline, _state in services.key_deadlines(campaign)]


@require_safe
@public_page
def campaign_list(request):
    """``/campaigns/``: every campaign, newest first, with its phase (往届/归档)."""
    depends(request, "plan")
    campaigns = [(c, services.campaign_phase(c)) for c in Campaign.objects.order_by("-starts")]
    return render(request, "portal/campaign_list.html", {"campaigns": campaigns, "nav": "archive"})


@require_safe
@public_page
def zone_detail(request, slug: str, ja_slug: str):
    """``/campaigns/<slug>/zones/<ja_slug>/``: one joint action's zone (联合行动专区).

    Shows the plan's participants, key tasks, brand activities with their targets, deadlines,
    calls for works and contacts. 404 when the campaign or the joint action is unknown.
    """
    depends(request, "plan", "catalog")
    campaign = get_object_or_404(Campaign, slug=slug)
    try:
        # The plan's part of the zone (ten queries of names, tasks, brands, targets, deadlines and
        # calls) is read once per process while the plan and the catalog are unchanged.
        joint_action = remember(
            request,
            f"zone:{campaign.pk}:{ja_slug}",
            lambda: services.zone(campaign, ja_slug),
            "plan",
            "catalog",
        )
    except JointAction.DoesNotExist as exc:
        raise Http404("没有这个联合行动") from exc
    depends(request, f"zone:{joint_action.pk}")

    brands = list(joint_action.brands.all())
    top_brands = [b for b in brands if b.parent_id is None]
    children: dict[int, list] = {}
    for brand in brands:
        if brand.parent_id is not None:
            children.setdefault(brand.parent_id, []).append(brand)
    targets = list(joint_action.targets.all())
    brand_targets: dict[int, list] = {}
    for target in targets:
        if target.brand_id is not None:
            brand_targets.setdefault(target.brand_id, []).append(target)
    # A sub-brand whose parent belongs to another joint action would otherwise vanish.
    known = {b.pk for b in brands}
    orphans = [b for b in brands if b.parent_id is not None and b.parent_id not in known]

    calls = list(joint_action.calls.all())
    # One query for all calls' unit types (none when zone() prefetched them already).
    prefetch_related_objects(calls, "eligible_types")

    context = {
        "campaign": campaign,
        "campaign_phase": services.campaign_phase(campaign),
        "ja": joint_action,
        "window_phase": services.joint_action_window_phase(joint_action),
        "brand_tree": [
            _brand_node(b, children, brand_targets) for b in sorted(top_brands + orphans, key=_brand_order)
        ],
        "other_targets": [t for t in targets if t.brand_id is None],
        "deadlines": [(d, services.deadline_state(d)) for d in joint_action.deadlines.all()],
        "calls": [(call, services.call_phase(call)) for call in calls],
        "featured": featured(campaign, joint_action),
        "zone_activities": zone_activities(joint_action),
        "zone_activities_url": f"{reverse('portal:activity_list')}?{urlencode({'campaign': campaign.slug, 'joint_action': joint_action.slug})}",
    }
    return render(request, "portal/zone.html", context)


def _brand_order(brand):
    return (brand.order, brand.pk)


def _brand_node(brand, children, brand_targets):
    return {
        "brand": brand,
        "targets": brand_targets.get(brand.pk, []),
        "children": [
            _brand_node(c, children, brand_targets)
            for c in sorted(children.get(brand.pk, []), key=_brand_order)
        ],
    }


@require_safe
def zone_redirect(request, ja_slug: str):
    """``/zones/<ja_slug>/``: redirect (302) to that joint action's zone in the current campaign.

    404 when no campaign is loaded or the current campaign has no such joint action.
    """
    campaign = services.current_campaign()
    if campaign is None or not campaign.joint_actions.filter(slug=ja_slug).exists():
        raise Http404("没有这个联合行动")
    return redirect("portal:zone", slug=campaign.slug, ja_slug=ja_slug)


_cross_site = cross_site


def _preference(view):
    """A display preference (language, 大字模式) posted from any page without a CSRF token.

    The forms carry no token so that anonymous pages carry nothing per visitor and can be cached
    (issue 17 §1, ADR 0025); a preference is not a state change worth a token — the worst a forged
    post does is switch a visitor's language — and a post another site makes is still refused by
    its ``Origin`` / ``Sec-Fetch-Site``. Every real state change keeps Django's CSRF check."""

    @csrf_exempt
    @require_POST
    def wrapped(request, *args, **kwargs):
        if _cross_site(request):
            return HttpResponseForbidden(_("请在本站页面上切换显示设置。"))
        return view(request, *args, **kwargs)

    wrapped.__doc__ = view.__doc__
    wrapped.__name__ = view.__name__
    return wrapped


@_preference
def language(request):
    """POST ``/display/language/``: Django's ``set_language`` (``language``, ``next``) without a token."""
    return set_language(request)


@_preference
def large_text(request):
    """POST ``/display/large-text/``: turn 大字模式 (适老化) on or off, then go back.

    ``large_text`` is ``1`` (on) or ``0`` (off); without it the mode is toggled. ``next`` is
    followed only when it stays on this site, otherwise the visitor lands on ``/``.
    """
    wanted = request.POST.get("large_text")
    if wanted in {"0", "1"}:
        turn_on = wanted == "1"
    else:
        turn_on = request.COOKIES.get(LARGE_TEXT_COOKIE) != "1"

    next_url = request.POST.get("next") or request.headers.get("referer") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("portal:home")
    response = HttpResponseRedirect(next_url)
    if turn_on:
        response.set_cookie(
            LARGE_TEXT_COOKIE,
            "1",
            max_age=LARGE_TEXT_MAX_AGE,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
        )
    else:
        response.delete_cookie(LARGE_TEXT_COOKIE, samesite="Lax")
    return response
