"""Forms of the sign-in pages, the public sign-up and the application to join."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kepuyue.common.text import CleanedFormMixin, CleanEmailField, PhoneField, normalize_email
from kepuyue.orgs.models import Organization, OrganizationType
from kepuyue.orgs.validators import validate_uscc

from . import services
from .models import OrganizationApplication

SOCIETY = "national_society"


class LoginForm(CleanedFormMixin, AuthenticationForm):
    """User name (a public account's is its e-mail) and password; django-axes counts the failures."""

    error_messages = {
        "invalid_login": _("用户名或密码不正确。连续失败 5 次，账号将在本设备锁定 30 分钟。"),
        "inactive": _("该账号已停用。"),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("用户名或电子邮箱")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})
        self.fields["password"].label = _("密码")

    def clean_username(self):
        # Public accounts are stored under their canonical e-mail (lower case, IDNA domain).
        username = self.cleaned_data.get("username", "").strip()
        if "@" in username:
            try:
                return normalize_email(username)
            except ValidationError:
                return username.lower()
        return username


class TokenForm(CleanedFormMixin, forms.Form):
    token = forms.RegexField(
        label=_("验证码"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("请输入身份验证器显示的 6 位数字")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 7, "pattern": r"\d*"}
        ),
    )


class SignUpForm(CleanedFormMixin, forms.Form):
    """Public account (公众账号): e-mail and password; the phone is optional. The e-mail is kept in
    its canonical form (``common.text.normalize_email``: lower case, IDNA domain), the phone as 11
    digits (``normalize_phone``), so one mailbox or one typing of a number is one account."""

    email = CleanEmailField(
        label=_("电子邮箱"), max_length=150, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = PhoneField(label=_("手机号码（选填）"), required=False, max_length=40, mobile_only=True)
    password1 = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html,
    )
    password2 = forms.CharField(
        label=_("再次输入密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self):
        email = self.cleaned_data["email"]
        if services.email_taken(email):
            raise ValidationError(_("该电子邮箱已注册，请直接登录"))
        return email

    def clean(self):
        data = super().clean()
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("两次输入的密码不一致"))
        elif password1:
            probe = get_user_model()(username=data.get("email", ""), email=data.get("email", ""))
            try:
                password_validation.validate_password(password1, probe)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class PhoneForm(CleanedFormMixin, forms.Form):
    """The mobile number to prove (a code is texted to it), in ``normalize_phone``'s canonical form."""

    phone = PhoneField(
        label=_("手机号码"), max_length=40, mobile_only=True, error_messages={"required": _("请填写手机号码")}
    )


class PhoneCodeForm(CleanedFormMixin, forms.Form):
    """The 6-digit code of the text message."""

    code = forms.CharField(
        label=_("短信验证码"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6, "pattern": r"\d*"}
        ),
    )


class ApplicationForm(CleanedFormMixin, forms.ModelForm):
    """单位入驻申请. ``region_text`` takes a 6-digit code or a place name (浙江省杭州市西湖区)."""

    region_text = forms.CharField(
        label=_("所在地区"),
        max_length=100,
        help_text=_("填写省、市、县（区）名称，如“浙江省杭州市西湖区”，或 6 位行政区划代码"),
    )
    proof_file = forms.FileField(
        label=_("证明材料"),
        help_text=_("法人登记证书、营业执照或上级单位证明：PDF、JPEG 或 PNG，不超过 10 MB"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/*"}),
    )

    contact_phone = PhoneField(label=_("联系电话"), max_length=32, help_text=_("手机或座机，如 010-68571988"))
    contact_email = CleanEmailField(label=_("电子邮箱"), max_length=254, required=False)

    class Meta:
        model = OrganizationApplication
        fields = ["name", "type", "parent", "uscc", "contact_name", "contact_phone", "contact_email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].queryset = OrganizationType.objects.all()
        self.fields["parent"].queryset = Organization.objects.filter(type_id=SOCIETY).order_by("name")
        self.fields["parent"].empty_label = _("（不是全国学会的分支机构）")
        if self.instance.pk:
            self.fields["proof_file"].required = False
            self.fields["proof_file"].help_text = _("不重新上传则保留原证明材料。") + str(
                self.fields["proof_file"].help_text
            )
            if not self.is_bound:
                self.initial["region_text"] = self.instance.region_id

    def clean_uscc(self):
        return validate_uscc(self.cleaned_data["uscc"])

    def clean_region_text(self):
        from kepuyue.regions.models import Region
        from kepuyue.regions.services import match_region

        text = self.cleaned_data["region_text"].strip()
        if text.isascii() and text.isdigit():
            region = Region.objects.filter(code=text).first()
            if region is None:
                raise ValidationError(_("没有这个行政区划代码：%(code)s"), params={"code": text})
            return region
        found = match_region(text)
        if found is None or found.score < 0.7:
            raise ValidationError(
                _("无法确定“%(text)s”所在的地区，请写出省、市、县（区）全称"), params={"text": text}
            )
        return Region.objects.get(pk=found.region.code)

    def clean_proof_file(self):
        upload = self.cleaned_data.get("proof_file")
        if upload:
            services.sniff_proof(upload)
        return upload

    def application_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["region"] = self.cleaned_data["region_text"]
        return data


class ReturnForm(CleanedFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("退回原因"),
        max_length=services.RETURN_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        strip=True,
    )


class NewPasswordForm(CleanedFormMixin, PasswordChangeForm):
    """修改密码: Django's form plus one rule — the new password must differ from the current one (an
    initial password handed out by an administrator or printed by ``ensure_admin`` must really go)."""

    def clean_new_password1(self):
        new = self.cleaned_data.get("new_password1")
        if new and self.user.check_password(new):
            raise ValidationError(_("新密码不能与当前密码相同"), code="password_unchanged")
        return new


class ResetRequestForm(forms.Form):
    """找回密码: the e-mail address or mobile number of the account."""

    identifier = forms.CharField(
        label=_("电子邮箱或手机号码"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )

    def clean_identifier(self):
        from . import reset

        return reset.classify(self.cleaned_data["identifier"])


class ResetPasswordForm(CleanedFormMixin, SetPasswordForm):
    """设置新密码 after a reset link; accounts with an authenticator also type its current code. The
    passwords lose control characters as on the sign-in and change-password forms
    (``CleanedFormMixin``), so a password set here is the one the sign-in form checks."""

    totp = forms.RegexField(
        label=_("身份验证器验证码"),
        regex=r"^\s*\d{6}\s*$",
        required=False,
        error_messages={"invalid": _("请输入身份验证器显示的 6 位数字")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 7, "pattern": r"\d*"}
        ),
    )

    def __init__(self, user, *args, needs_totp: bool = False, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.needs_totp = needs_totp
        if needs_totp:
            self.fields["totp"].required = True
        else:
            del self.fields["totp"]

    def clean(self):
        data = super().clean()
        if self.needs_totp and not self.errors:
            from . import reset

            if error := reset.check_totp(self.user, data.get("totp", "")):
                self.add_error("totp", error)
        return data
