"""Sign-in pages (登录、两步验证、修改密码、退出), public sign-up, and applications to join.

The sign-in steps are marked with ``sign_in_step`` so the account middleware lets a half-signed-in
session reach them. Applications are read by administrators only through
``services.applications_in_scope``: another scope's application is a 404.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from kepuyue.activities.services import mask_phone
from kepuyue.audit.services import record
from kepuyue.common.ratelimits import limit, over_limit, refuse, user_or_ip
from kepuyue.common.storage import signed_download_url
from kepuyue.roles import services as roles
from kepuyue.roles.rules import check

from . import backends, reset, services, verification
from .forms import (
    ApplicationForm,
    LoginForm,
    NewPasswordForm,
    PhoneCodeForm,
    PhoneForm,
    ResetPasswordForm,
    ResetRequestForm,
    ReturnForm,
    SignUpForm,
    TokenForm,
)
from .middleware import sign_in_step
from .models import ApplicationStatus, OrganizationApplication


def _next(request) -> str:
    """The page to go on to after signing in (``next``, same host only), else the account's home."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path only: redirect() takes any other text for a view name (NoReverseMatch, a 500).
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    user = request.user
    if roles.organization_of(user) is not None:
        return reverse("activities:mine")
    # Each role lands on its own desk: administrators review, managers feature, judges score.
    if roles.admin_grants(user) or roles.is_cast_admin(user):
        return reverse("review:queue")
    if roles.managed_joint_action_ids(user):
        return reverse("review:featuring")
    if roles.judged_call_ids(user):
        return reverse("calls:judge_home")
    return reverse("accounts:home")


def _with_next(name: str, target: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': target})}"


def _after_password(request):
    """Where a session goes once the password is right: TOTP, then the initial password, then on."""
    flags = request.session.get(services.FLAGS_KEY) or services.session_flags(request.user)
    target = _next(request)
    if flags.get("otp") and not services.is_verified(request.user):
        step = "accounts:verify" if services.confirmed_device(request.user) else "accounts:enrol"
        return redirect(_with_next(step, target))
    if flags.get("change"):
        return redirect(_with_next("accounts:password_change", target))
    return redirect(target)


@sign_in_step
@sensitive_post_parameters("password")
@never_cache
@limit("login", method="POST")
def login_view(request):
    """登录: user name or e-mail and password (django-axes locks after 5 failures)."""
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.get_user())
        return _after_password(request)
    return render(request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")})


@sign_in_step
def logout_view(request):
    """退出: a POST ends the session (a GET asks to confirm)."""
    if request.method == "POST":
        logout(request)
        messages.success(request, _("您已安全退出。"))
        return redirect("portal:home")
    return render(request, "accounts/logout.html")


@sign_in_step
@login_required
@never_cache
def verify(request):
    """两步验证: the 6-digit code of the account's authenticator, after the password."""
    device = services.confirmed_device(request.user)
    if device is None:
        return redirect(_with_next("accounts:enrol", _next(request)))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if wait := services.throttled(device):
            form.add_error("token", wait)
        elif device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            record("account.totp_verify", actor=request.user, obj=request.user)
            return _after_password(request)
        else:
            record("account.totp_failed", actor=request.user, obj=request.user)
            form.add_error("token", _("验证码不正确或已过期，请输入身份验证器当前显示的数字"))
    return render(request, "accounts/verify.html", {"form": form, "next": request.GET.get("next", "")})


@sign_in_step
@login_required
@never_cache
def enrol(request):
    """绑定身份验证器: scan the QR code, type the first code; the device is then confirmed."""
    if services.confirmed_device(request.user) is not None:
        if services.is_verified(request.user):
            messages.info(request, _("已绑定身份验证器。如需更换，请联系管理员解除绑定。"))
            return redirect("accounts:home")
        return redirect(_with_next("accounts:verify", _next(request)))
    device = services.enrolment_device(request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if wait := services.throttled(device):
            form.add_error("token", wait)
        elif services.confirm_enrolment(device, form.cleaned_data["token"]):
            otp_login(request, device)
            messages.success(request, _("身份验证器已绑定，以后登录时请输入它显示的验证码。"))
            return _after_password(request)
        else:
            form.add_error("token", _("验证码不正确，请确认手机时间准确后输入当前显示的数字"))
    context = {
        "form": form,
        "qr": services.qr_svg(device),
        "secret": services.totp_secret(device),
        "next": request.GET.get("next", ""),
    }
    return render(request, "accounts/enrol.html", context)


@sign_in_step
@sensitive_post_parameters()
@login_required
@never_cache
def password_change(request):
    """修改密码 (also the forced change of an initial password)."""
    flags = request.session.get(services.FLAGS_KEY) or {}
    if flags.get("otp") and not services.is_verified(request.user):
        return _after_password(request)
    form = NewPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        services.password_changed(user)
        request.session[services.FLAGS_KEY] = {**flags, "change": False}
        messages.success(request, _("密码已修改。"))
        return redirect(_next(request))
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "forced": flags.get("change", False), "next": request.GET.get("next", "")},
    )


# Session key of a reset link's uid and token, between opening the link and choosing the password (the
# token leaves the address bar at once, so it never leaks through a Referer).
RESET_SESSION_KEY = "kepuyue_password_reset"


def _pad(started: float) -> None:
    """Make a reset request take at least ``reset.RESPONSE_SECONDS``, found or not (no enumeration)."""
    remaining = reset.RESPONSE_SECONDS - (time.monotonic() - started)
    if remaining > 0:
        time.sleep(remaining)


@sign_in_step
@never_cache
@limit("password_reset", method="POST")
def password_reset(request):
    """找回密码: the same answer whether or not the e-mail address or number has an account."""
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        started = time.monotonic()
        kind, value = form.cleaned_data["identifier"]
        if over_limit(request, "password_reset_target", value=f"{kind}:{value}"):
            refuse("password_reset_target")
        reset.request_reset(value)
        _pad(started)
        return redirect(f"{reverse('accounts:password_reset_sent')}?{urlencode({'by': kind})}")
    return render(request, "accounts/password_reset.html", {"form": form})


@sign_in_step
def password_reset_sent(request):
    by = "phone" if request.GET.get("by") == "phone" else "email"
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    return render(request, "accounts/password_reset_sent.html", {"by": by, "minutes": minutes})


def _reset_invalid(request):
    request.session.pop(RESET_SESSION_KEY, None)
    return render(request, "accounts/password_reset_invalid.html", status=400)


@sign_in_step
@never_cache
@limit("password_reset_confirm")
def password_reset_confirm(request, uidb64: str, token: str):
    """The link of the message: check it, keep it in the session, go on to the password form."""
    user = reset.user_from_uid(uidb64)
    if not reset.token_valid(user, token) or not reset.self_service_allowed(user):
        return _reset_invalid(request)
    request.session[RESET_SESSION_KEY] = {"uid": uidb64, "token": token}
    return redirect("accounts:password_reset_set", uidb64=uidb64)


@sign_in_step
@sensitive_post_parameters()
@never_cache
def password_reset_set(request, uidb64: str):
    """设置新密码 (and the authenticator's code for accounts that have one); signs nobody in."""
    stored = request.session.get(RESET_SESSION_KEY)
    stored = stored if isinstance(stored, dict) else {}
    user = reset.user_from_uid(uidb64) if stored.get("uid") == uidb64 else None
    if not reset.token_valid(user, str(stored.get("token", ""))) or not reset.self_service_allowed(user):
        return _reset_invalid(request)
    needs_totp = services.confirmed_device(user) is not None
    form = ResetPasswordForm(user, request.POST or None, needs_totp=needs_totp)
    if request.method == "POST" and form.is_valid():
        reset.complete_reset(user, form.cleaned_data["new_password1"])
        request.session.pop(RESET_SESSION_KEY, None)
        if request.user.is_authenticated:
            logout(request)
        messages.success(request, _("密码已重置，请使用新密码登录。"))
        return redirect("accounts:login")
    return render(
        request,
        "accounts/password_reset_set.html",
        {"form": form, "account": user.get_username(), "needs_totp": needs_totp},
    )


@sign_in_step
@sensitive_post_parameters("password1", "password2")
@never_cache
@limit("signup", method="POST")
def signup(request):
    """注册公众账号: e-mail, password, optional phone; signed in at once."""
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.create_public_account(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                phone=form.cleaned_data["phone"],
            )
        except ValidationError as exc:
            form.add_error("email", exc)
        else:
            login(request, user, backend=backends.PATH)
            verification.send_email_link(user)
            messages.success(
                request,
                _("注册成功，欢迎参加全国科普月！验证邮件已发往 %(email)s，验证邮箱或手机后即可报名活动。")
                % {"email": user.email},
            )
            return redirect(_next(request))
    return render(request, "accounts/signup.html", {"form": form, "next": request.GET.get("next", "")})


@login_required
def home(request):
    """我的账号: the account, its (masked) phone, its unit and its applications."""
    profile = services.profile_of(request.user)
    applications = OrganizationApplication.objects.filter(applicant=request.user).select_related(
        "type", "region"
    )
    return render(
        request,
        "accounts/home.html",
        {
            "phone": mask_phone(profile.phone) if profile else "",
            "organization": roles.organization_of(request.user),
            "applications": applications,
            "can_apply": services.can_apply(request.user),
            "reviews": roles.is_cast_admin(request.user) or bool(roles.admin_grants(request.user)),
            "two_factor": services.confirmed_device(request.user) is not None,
            "email_verified": verification.email_verified(request.user, profile),
            "phone_verified": verification.phone_verified(request.user, profile),
        },
    )


@login_required
@never_cache
def verify_contact(request):
    """验证邮箱或手机: send the e-mail link again, or text a code to a mobile number and type it.

    ``action``: ``email`` (send the link), ``phone`` (send a code), ``code`` (check the code). Sending
    is limited per account (``verify_send``), tries too (``verify_code``)."""
    user = request.user
    profile = services.profile_of(user)
    # The number typed at sign-up (not yet proved) is offered as it is, so a code is one tap away.
    typed = profile.phone if profile and not verification.phone_verified(user, profile) else ""
    phone_form = PhoneForm(
        request.POST if request.POST.get("action") == "phone" else None, initial={"phone": typed}
    )
    code_form = PhoneCodeForm(request.POST if request.POST.get("action") == "code" else None)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action in ("email", "phone") and over_limit(request, "verify_send", key=user_or_ip):
        refuse("verify_send")
    if action == "code" and over_limit(request, "verify_code", key=user_or_ip):
        refuse("verify_code")
    if action == "email":
        if verification.send_email_link(user):
            messages.success(
                request, _("验证邮件已发往 %(email)s，请在 3 天内打开其中的链接。") % {"email": user.email}
            )
        else:
            messages.info(request, _("邮箱已验证，或账号没有电子邮箱。"))
        return redirect(_verify_url(request))
    if action == "phone" and phone_form.is_valid():
        try:
            verification.send_phone_code(user, phone_form.cleaned_data["phone"])
        except ValidationError as exc:
            phone_form.add_error("phone", exc)
        else:
            messages.success(request, _("验证码已发送，10 分钟内有效。"))
            return redirect(_verify_url(request))
    if action == "code" and code_form.is_valid():
        try:
            verification.confirm_phone_code(user, code_form.cleaned_data["code"])
        except ValidationError as exc:
            code_form.add_error("code", exc)
        else:
            messages.success(request, _("手机号码已验证。"))
            return redirect(_next_or_home(request))
    return render(
        request,
        "accounts/verify_contact.html",
        {
            "email_verified": verification.email_verified(user, profile),
            "phone_verified": verification.phone_verified(user, profile),
            "phone": mask_phone(profile.phone) if profile else "",
            "pending_phone": mask_phone(verification.pending_phone(user)),
            "phone_form": phone_form,
            "code_form": code_form,
            "next": _safe_next(request),
        },
    )


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _verify_url(request) -> str:
    target = _safe_next(request)
    return _with_next("accounts:verify_contact", target) if target else reverse("accounts:verify_contact")


def _next_or_home(request) -> str:
    return _safe_next(request) or reverse("accounts:home")


@never_cache
def verify_email_link(request, token: str):
    """The link of the verification e-mail: proves the address (no sign-in needed)."""
    try:
        verification.confirm_email(token)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("accounts:verify_contact" if request.user.is_authenticated else "accounts:login")
    messages.success(request, _("电子邮箱已验证，现在可以报名活动了。"))
    return redirect("registrations:mine" if request.user.is_authenticated else "accounts:login")


@login_required
@limit("apply", key=user_or_ip, method="POST")
def apply(request):
    """单位入驻申请: a new application, or the returned one edited and filed again."""
    application = services.open_application(request.user)
    if application is not None and application.status == ApplicationStatus.PENDING:
        messages.info(request, _("您的申请正在审核，请耐心等待。"))
        return redirect("accounts:home")
    if application is None and (reason := services.can_apply(request.user)):
        messages.info(request, reason)
        return redirect("accounts:home")
    form = ApplicationForm(request.POST or None, request.FILES or None, instance=application)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_application(
                request.user,
                form.application_data(),
                form.cleaned_data.get("proof_file"),
                application=application,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("申请已提交，请等待所在地区的平台管理员审核。"))
            return redirect("accounts:home")
    return render(request, "accounts/apply.html", {"form": form, "application": application})


def _proof_response(application):
    extension = application.proof.name.rsplit(".", 1)[-1]
    if url := signed_download_url(application.proof, filename=f"proof-{application.pk}.{extension}"):
        return redirect(url)  # an object store: a signed, short-lived link (ADR 0026)
    try:
        handle = application.proof.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    extension = application.proof.name.rsplit(".", 1)[-1]
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"proof-{application.pk}.{extension}",
        content_type=application.proof_type,
    )


@login_required
def my_proof(request, pk: int):
    """The applicant's own proof document."""
    return _proof_response(get_object_or_404(OrganizationApplication, pk=pk, applicant=request.user))


def _reviewer(request):
    if not (roles.is_cast_admin(request.user) or roles.admin_grants(request.user)):
        raise PermissionDenied(_("只有平台管理员可以审核单位入驻申请"))


def _scoped(request, pk: int) -> OrganizationApplication:
    _reviewer(request)
    return get_object_or_404(
        services.applications_in_scope(request.user).select_related(
            "applicant", "type", "region", "parent", "decided_by", "organization"
        ),
        pk=pk,
    )


@login_required
def review_list(request):
    """单位入驻审核: the applications in the administrator's scope, pending first by default."""
    _reviewer(request)
    status = request.GET.get("status", ApplicationStatus.PENDING)
    applications = services.applications_in_scope(request.user).select_related("type", "region")
    if status in ApplicationStatus.values:
        applications = applications.filter(status=status)
    applications = applications.order_by("submitted_at", "id")
    return render(
        request,
        "accounts/review_list.html",
        {"applications": applications[:200], "status": status, "statuses": ApplicationStatus.choices},
    )


@login_required
def review_detail(request, pk: int):
    """One application: its fields, the proof document, approve or return."""
    application = _scoped(request, pk)
    return render(
        request,
        "accounts/review_detail.html",
        {
            "application": application,
            "return_form": ReturnForm(),
            "can_review": check(request.user, "accounts.review_application", application),
            "phone": application.contact_phone,
        },
    )


@login_required
def review_proof(request, pk: int):
    return _proof_response(_scoped(request, pk))


@require_POST
@login_required
def approve(request, pk: int):
    """批准: creates or links the organization and the applicant's membership. Posted fields are ignored."""
    application = _scoped(request, pk)
    if not check(request.user, "accounts.review_application", application):
        messages.error(request, _("该申请已处理，不能重复审核"))
        return redirect("accounts:review_detail", pk=pk)
    try:
        organization = services.approve_application(application, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("accounts:review_detail", pk=pk)
    messages.success(request, _("已批准，“%(name)s”已入驻平台。") % {"name": organization.name})
    return redirect("accounts:review_list")


@require_POST
@login_required
def return_(request, pk: int):
    """退回: with a reason the applicant reads."""
    application = _scoped(request, pk)
    form = ReturnForm(request.POST)
    if not check(request.user, "accounts.review_application", application):
        messages.error(request, _("该申请已处理，不能重复审核"))
        return redirect("accounts:review_detail", pk=pk)
    if not form.is_valid():
        messages.error(request, _("请填写退回原因"))
        return redirect("accounts:review_detail", pk=pk)
    services.return_application(application, actor=request.user, reason=form.cleaned_data["reason"])
    messages.success(request, _("已退回，申请人将看到退回原因。"))
    return redirect("accounts:review_list")


def admin_login(request):
    """The admin's login page is ours: one page with the lock-out, TOTP and password rules."""
    target = request.GET.get("next") or reverse("admin:index")
    user = request.user
    if user.is_authenticated and not (user.is_active and user.is_staff):
        # Signed in, but the admin site is for superusers and admin staff: say so and go to the desk,
        # instead of showing the login form again.
        messages.info(request, _("后台管理仅供平台超级管理员使用；您的工作在此页进行。"))
        request.GET = request.GET.copy()
        request.GET.pop("next", None)
        return redirect(_next(request))
    return redirect(_with_next("accounts:login", target))
