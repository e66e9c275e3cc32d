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


class CodeField(forms.CharField):
    """A 6-digit one-time code as typed: full-width digits (``７４０１７４``, a Chinese input method's),
    spaces and dashes are accepted (``services.six_digit_code``); cleaned to 6 ASCII digits. Anything
    that cannot be a code is refused here, before the check, so it costs no try. No ``pattern``
    attribute: the browser's ``\\d`` is ASCII only and would block full-width digits."""

    def __init__(self, *, invalid: str, **kwargs):
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 32}),
        )
        super().__init__(**kwargs)
        self.error_messages["invalid"] = invalid

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        code = services.six_digit_code(value)
        if not code:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return code


class TokenForm(CleanedFormMixin, forms.Form):
    token = CodeField(label=_("验证码"), invalid=_("请输入身份验证器显示的 6 位数字"))


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

    code = CodeField(label=_("短信验证码"), invalid=_("请输入短信中的 6 位数字验证码"))


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

    totp = CodeField(
        label=_("身份验证器验证码"), required=False, invalid=_("请输入身份验证器显示的 6 位数字")
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


# --- Staff-managed accounts (账号管理, kepuyue.accounts.staff) ------------------------------------


class NamedChoiceField(forms.CharField):
    """A text box where staff type a *name* (a unit, a region, a national society) with suggestions;
    the form turns it into the object through ``kepuyue.roles.suggest.resolve`` in the account's
    scope, so it works without JavaScript. Never an id, slug or code."""

    def __init__(self, kind: str, *args, **kwargs):
        self.kind = kind
        kwargs.setdefault("max_length", 100)
        super().__init__(*args, **kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"autocomplete": "off", "list": f"names-{self.kind}"})
        return attrs


def _resolve(user, kind: str, text: str, label: str):
    from kepuyue.roles import suggest

    found = suggest.resolve(kind, user, text)
    if found is None:
        raise ValidationError(_("没有找到名为“%(t)s”的%(w)s（在您的管辖范围内）") % {"t": text, "w": label})
    if isinstance(found, suggest.Ambiguous):
        raise ValidationError(
            _("“%(t)s”有多个匹配，请选择其一：%(n)s") % {"t": text, "n": "、".join(found.labels)}
        )
    return found


class StaffAccountForm(CleanedFormMixin, forms.Form):
    """新建账号: a person's name, e-mail and/or mobile (the invitation goes there), the unit by name
    (required for platform administrators), and how to send the invitation."""

    name = forms.CharField(label=_("姓名"), max_length=64)
    organization = NamedChoiceField(
        "organization",
        label=_("所属单位"),
        required=False,
        help_text=_("输入单位名称，可从提示中选择"),
    )
    email = CleanEmailField(label=_("电子邮箱"), required=False)
    phone = PhoneField(label=_("手机号码"), required=False, mobile_only=True)
    channel = forms.ChoiceField(
        label=_("邀请发送方式"),
        choices=[("email", _("电子邮件")), ("phone", _("短信"))],
        widget=forms.RadioSelect,
        initial="email",
    )

    def __init__(self, user, *args, **kwargs):
        from kepuyue.roles import services as roles

        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["organization"].required = not roles.is_cast_admin(user)
        if roles.is_cast_admin(user):
            self.fields["organization"].help_text = _(
                "单位账号填写；为平台管理员或牵头单位管理员开通账号可留空，创建后授予角色"
            )

    def clean_organization(self):
        text = self.cleaned_data.get("organization", "")
        return _resolve(self.user, "organization", text, _("单位")) if text else None

    def clean(self):
        data = super().clean()
        channel = data.get("channel")
        if not data.get("email") and not data.get("phone"):
            raise ValidationError(_("请填写电子邮箱或手机号码（至少一项），用于发送邀请链接"))
        if channel == "email" and not data.get("email"):
            self.add_error("email", _("选择电子邮件发送邀请时须填写电子邮箱"))
        if channel == "phone" and not data.get("phone"):
            self.add_error("phone", _("选择短信发送邀请时须填写手机号码"))
        return data


class GrantForm(CleanedFormMixin, forms.Form):
    """授予角色 (CAST): the role and its scope by name — a region (province or prefecture) or a
    national society for a platform administrator, a joint action for a manager."""

    role = forms.ChoiceField(label=_("角色"))
    region = NamedChoiceField("region", label=_("管辖地区（省级或地级）"), required=False)
    society = NamedChoiceField("society", label=_("管辖全国学会"), required=False)
    joint_action = forms.ModelChoiceField(
        label=_("联合行动"), queryset=None, required=False, empty_label=_("（不适用）")
    )

    def __init__(self, user, campaign, *args, **kwargs):
        from kepuyue.roles.models import Role

        from .staff import MANAGED_ROLES

        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["role"].choices = [(r.value, r.label) for r in Role if r in MANAGED_ROLES]
        joint_actions = campaign.joint_actions.order_by("number") if campaign is not None else None
        if joint_actions is None:
            from kepuyue.campaigns.models import JointAction

            joint_actions = JointAction.objects.none()
        self.fields["joint_action"].queryset = joint_actions

    def clean_region(self):
        text = self.cleaned_data.get("region", "")
        return _resolve(self.user, "region", text, _("地区")) if text else None

    def clean_society(self):
        text = self.cleaned_data.get("society", "")
        return _resolve(self.user, "society", text, _("全国学会")) if text else None


class UnitPhoneForm(CleanedFormMixin, forms.Form):
    """本单位联系电话 (the unit's own page): the office line and whether the public may see it in full."""

    contact_phone = PhoneField(label=_("单位联系电话"), required=False, several=True, max_length=64)
    phone_public = forms.BooleanField(
        label=_("这是对外办公电话，可在活动页面完整显示"),
        required=False,
        help_text=_("仅限单位办公电话或预约电话；个人手机号码请勿勾选，公开页面会隐藏其中间四位。"),
    )
