"""The staff pages of the API: tokens (接口令牌: list, create with the secret shown once, revoke)
and webhooks (Webhook 订阅: subscribe, the delivery log, re-enable, delete).

A unit's publishers see and revoke their unit's tokens; an administrator sees its own scope
tokens. Another account's token is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kepuyue.common.ratelimits import limit, user_or_ip

from . import tokens, webhooks
from .models import TokenKind, WebhookDelivery, WebhookEvent


@never_cache
@login_required
def token_list(request):
    """接口令牌: the account's tokens, and the form to create one."""
    kinds = tokens.kinds_for(request.user)
    if not kinds:
        raise Http404
    return render(request, "api/tokens.html", _context(request, kinds))


def _context(request, kinds, **extra) -> dict:
    return {
        "tokens": tokens.tokens_of(request.user),
        "kinds": [(k, TokenKind(k).label) for k in kinds],
        **extra,
    }


@never_cache
@login_required
@require_POST
@limit("api_token", key=user_or_ip)
def token_create(request):
    kinds = tokens.kinds_for(request.user)
    if not kinds:
        raise Http404
    kind = request.POST.get("kind") or kinds[0]
    try:
        token, secret = tokens.create_token(request.user, name=request.POST.get("name", ""), kind=kind)
    except ValidationError as exc:
        errors = exc.message_dict.get("name", exc.messages) if hasattr(exc, "error_dict") else exc.messages
        return render(request, "api/tokens.html", _context(request, kinds, errors=errors), status=400)
    except PermissionDenied as exc:
        return render(request, "api/tokens.html", _context(request, kinds, errors=[str(exc)]), status=403)
    # Shown once, in this answer only (never stored, never cached).
    return render(request, "api/tokens.html", _context(request, kinds, created=token, secret=secret))


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(tokens.tokens_of(request.user), pk=pk)
    tokens.revoke_token(token, by=request.user)
    messages.success(request, _("已吊销令牌“%(name)s”，使用它的请求立即失效") % {"name": token.name})
    return redirect("api:tokens")


# --- webhooks -------------------------------------------------------------------------------------

DELIVERY_LOG = 50


@never_cache
@login_required
def webhook_list(request):
    """Webhook 订阅: the account's subscriptions, their last deliveries, and the form to add one."""
    kinds = tokens.kinds_for(request.user)
    if not kinds:
        raise Http404
    return render(request, "api/webhooks.html", _webhook_context(request, kinds))


def _webhook_context(request, kinds, **extra) -> dict:
    subscriptions = list(webhooks.subscriptions_of(request.user))
    log = (
        WebhookDelivery.objects.filter(subscription__in=subscriptions)
        .select_related("subscription")
        .order_by("-created", "-id")[:DELIVERY_LOG]
    )
    return {
        "subscriptions": subscriptions,
        "deliveries": log,
        "kinds": [(k, TokenKind(k).label) for k in kinds],
        "events": WebhookEvent.choices,
        **extra,
    }


@never_cache
@login_required
@require_POST
@limit("api_token", key=user_or_ip)
def webhook_create(request):
    kinds = tokens.kinds_for(request.user)
    if not kinds:
        raise Http404
    try:
        subscription = webhooks.create_subscription(
            request.user,
            url=request.POST.get("url", ""),
            events=request.POST.getlist("events"),
            kind=request.POST.get("kind") or kinds[0],
        )
    except ValidationError as exc:
        errors = [m for messages_ in exc.message_dict.values() for m in messages_]
        return render(
            request, "api/webhooks.html", _webhook_context(request, kinds, errors=errors), status=400
        )
    except PermissionDenied as exc:
        return render(
            request, "api/webhooks.html", _webhook_context(request, kinds, errors=[str(exc)]), status=403
        )
    return render(request, "api/webhooks.html", _webhook_context(request, kinds, created=subscription))


@login_required
@require_POST
def webhook_enable(request, pk: int):
    subscription = get_object_or_404(webhooks.subscriptions_of(request.user), pk=pk)
    webhooks.enable(subscription, by=request.user)
    messages.success(request, _("已重新启用：%(url)s") % {"url": subscription.url})
    return redirect("api:webhooks")


@login_required
@require_POST
def webhook_delete(request, pk: int):
    subscription = get_object_or_404(webhooks.subscriptions_of(request.user), pk=pk)
    webhooks.delete(subscription, by=request.user)
    messages.success(request, _("已删除订阅：%(url)s") % {"url": subscription.url})
    return redirect("api:webhooks")
