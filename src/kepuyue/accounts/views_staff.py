"""Account pages for staff (账号管理) and the invitation link (账号邀请); the rules are in
``kepuyue.accounts.staff``.

Thin views: every account comes from ``staff.account_for`` / ``staff.search_accounts`` (another
scope's account is a 404), every change from a ``staff`` service (audited there). Nothing is typed
as an id: units, regions and national societies are chosen by name (``kepuyue.roles.suggest``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from kepuyue.campaigns.services import current_campaign
from kepuyue.common.ratelimits import limit, over_limit, refuse, user_or_ip
from kepuyue.roles import services as roles

from . import staff
from .forms import GrantForm, ResetPasswordForm, StaffAccountForm, UnitPhoneForm
from .middleware import sign_in_step

PAGE_SIZE = 30


def _require_manager(request) -> None:
    if not staff.can_manage_accounts(request.user):
        raise PermissionDenied(_("只有平台管理员和中国科协管理员可以管理账号"))


def _errors(request, exc) -> None:
    messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])) or _("操作失败"))


@login_required
def account_list(request):
    """账号管理: the accounts in scope (unit accounts; for CAST also role accounts), newest first, with
    unit, roles, state and last sign-in; ``q`` searches name, e-mail and unit."""
    _require_manager(request)
    q = request.GET.get("q", "").strip()[:100]
    page = Paginator(staff.search_accounts(request.user, q), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/staff_list.html",
        {
            "page": page,
            "q": q,
            "query": urlencode({"q": q}) if q else "",
            "cast": roles.is_cast_admin(request.user),
        },
    )


@login_required
@limit("invite", key=user_or_ip, method="POST")
def account_create(request):
    """新建账号 and send its invitation at once (e-mail or text message)."""
    _require_manager(request)
    form = StaffAccountForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = staff.create_account(
                request.user,
                name=data["name"],
                email=data["email"],
                phone=data["phone"],
                organization=data["organization"],
            )
            staff.invite(request.user, user, channel=data["channel"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("已创建账号 %(u)s，并已发送邀请链接（%(d)d 天内有效）")
                % {"u": user.get_username(), "d": staff.INVITE_DAYS},
            )
            return redirect("accounts:staff_detail", pk=user.pk)
    return render(request, "accounts/staff_form.html", {"form": form})


@login_required
def account_detail(request, pk: int):
    """One account: unit, roles, state, last sign-in, invitations; the actions the actor may take."""
    account = staff.account_for(request.user, pk)
    cast = roles.is_cast_admin(request.user)
    return render(
        request,
        "accounts/staff_detail.html",
        {
            "account": account,
            "invitations": staff.invitations_of(account),
            "cast": cast,
            "grant_form": GrantForm(request.user, current_campaign()) if cast else None,
            "profile": getattr(account, "profile", None),
        },
    )


def _back(pk: int):
    return redirect("accounts:staff_detail", pk=pk)


@login_required
@require_POST
def account_invite(request, pk: int):
    """重新发送邀请 (``channel``): a new one-time link; earlier ones stop working."""
    account = staff.account_for(request.user, pk)
    if over_limit(request, "invite", key=user_or_ip):
        refuse("invite")
    try:
        invitation, _token = staff.invite(request.user, account, channel=request.POST.get("channel", ""))
        messages.success(request, _("邀请链接已发送至 %(to)s") % {"to": _masked(invitation.sent_to)})
    except ValidationError as exc:
        _errors(request, exc)
    return _back(account.pk)


def _masked(value: str) -> str:
    from kepuyue.activities.services import mask_phone

    if "@" in value:
        name, _at, domain = value.partition("@")
        return f"{name[:2]}***@{domain}"
    return mask_phone(value)


@login_required
@require_POST
def account_active(request, pk: int):
    """停用 (``active=0``) / 启用 (``active=1``)."""
    account = staff.account_for(request.user, pk)
    active = request.POST.get("active") == "1"
    try:
        staff.set_active(request.user, account, active)
        messages.success(request, _("账号已启用") if active else _("账号已停用"))
    except ValidationError as exc:
        _errors(request, exc)
    return _back(account.pk)


@login_required
@require_POST
def account_reset(request, pk: int):
    """发送重置密码链接 through the password-reset machinery (an invitation for an account that never
    chose a password)."""
    account = staff.account_for(request.user, pk)
    if over_limit(request, "invite", key=user_or_ip):
        refuse("invite")
    try:
        staff.send_reset(request.user, account, channel=request.POST.get("channel", ""))
        messages.success(request, _("已发送重置密码链接"))
    except ValidationError as exc:
        _errors(request, exc)
    return _back(account.pk)


@login_required
@require_POST
def account_grant(request, pk: int):
    """授予角色 (CAST): role and scope chosen by name."""
    if not roles.is_cast_admin(request.user):
        raise PermissionDenied(_("只有中国科协管理员可以授予或撤销角色"))
    account = staff.account_for(request.user, pk)
    form = GrantForm(request.user, current_campaign(), request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            staff.grant(
                request.user,
                account,
                data["role"],
                region=data["region"] if data["role"] == "platform_admin" else None,
                organization=data["society"] if data["role"] == "platform_admin" else None,
                joint_action=data["joint_action"] if data["role"] == "joint_action_manager" else None,
            )
            messages.success(request, _("已授予角色"))
        except ValidationError as exc:
            _errors(request, exc)
    else:
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
    return _back(account.pk)


@login_required
@require_POST
def grant_revoke(request, pk: int, grant_id: int):
    """撤销角色 (CAST)."""
    if not roles.is_cast_admin(request.user):
        raise PermissionDenied(_("只有中国科协管理员可以授予或撤销角色"))
    account = staff.account_for(request.user, pk)
    if not account.role_grants.filter(pk=grant_id).exists():
        from django.http import Http404

        raise Http404
    staff.revoke(request.user, grant_id)
    messages.success(request, _("已撤销角色"))
    return _back(account.pk)


@sign_in_step
@sensitive_post_parameters()
@never_cache
@limit("password_reset_confirm")
def invitation(request, token: str):
    """The invitation link: choose a password (the platform's rules), then sign in. A used, expired,
    replaced or tampered link says so and asks for a new invitation. Signs nobody in. The page's
    ``Referrer-Policy: same-origin`` keeps the token out of other sites' logs (``no-referrer`` would
    make the browser send ``Origin: null`` with the form, which Django's CSRF check refuses)."""
    found = staff.invitation_from(token)
    if found is None:
        response = render(request, "accounts/invitation_invalid.html", status=410)
        response["Referrer-Policy"] = "same-origin"
        return response
    form = ResetPasswordForm(found.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            staff.accept_invitation(token, form.cleaned_data["new_password1"])
        except ValidationError:
            return render(request, "accounts/invitation_invalid.html", status=410)
        if request.user.is_authenticated:
            logout(request)
        messages.success(request, _("密码已设置，请使用新密码登录。"))
        return redirect("accounts:login")
    response = render(request, "accounts/invitation.html", {"form": form, "account": found.user})
    response["Referrer-Policy"] = "same-origin"
    return response


@login_required
def unit_settings(request):
    """本单位信息 (a unit's account): the unit's contact phone and whether it is a public office line."""
    organization = roles.organization_of(request.user)
    if organization is None:
        raise PermissionDenied(_("当前账号不属于参与单位"))
    form = UnitPhoneForm(
        request.POST or None,
        initial={"contact_phone": organization.contact_phone, "phone_public": organization.phone_public},
    )
    if request.method == "POST" and form.is_valid():
        staff.set_unit_phone(request.user, organization, **form.cleaned_data)
        messages.success(request, _("已保存"))
        return redirect("accounts:unit_settings")
    return render(request, "accounts/unit_settings.html", {"form": form, "organization": organization})
