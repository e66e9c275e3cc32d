"""Forms of the booking pages and the unit's pages. They only collect what was typed: every rule and
every cleaning is in :mod:`kepuyue.registrations.services` (and :mod:`.inputs`), which the API will
call too; a service's ``ValidationError`` comes back onto the form's fields (:func:`add_errors`)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kepuyue.common import clock
from kepuyue.common.text import CleanedFormMixin

from .models import Mode

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
TEXT = {"autocomplete": "off"}


def add_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's errors on the form: a dict's keys on their fields, the rest on the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _text(label, *, max_length=200, required=False, **attrs):
    # Lengths are checked (with the field's name in the message) by the services, never cut here.
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length * 4,
        strip=False,
        widget=forms.TextInput(attrs={**TEXT, **attrs}),
    )


def _datetime(label, *, required=True):
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": _("请按“年-月-日 时:分”填写时间")},
    )


class BookingForm(CleanedFormMixin, forms.Form):
    """个人/家庭报名. ``token`` makes a double tap book once."""

    name = _text(_("姓名"), max_length=64, autocomplete="name")
    phone = _text(_("手机号码"), max_length=20, inputmode="tel", autocomplete="tel")
    adults = forms.CharField(
        label=_("成人人数"),
        required=False,
        max_length=6,
        initial="1",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    children = forms.CharField(
        label=_("未成年人（14岁以下）人数"),
        required=False,
        max_length=6,
        initial="0",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    minor = forms.BooleanField(label=_("报名人未满14周岁（由监护人代为报名）"), required=False)
    guardian_name = _text(_("监护人姓名"), max_length=64)
    guardian_consent = forms.BooleanField(
        label=_("我是随行未成年人的监护人，同意其参加并代为提供上述信息"), required=False
    )
    id_number = _text(_("身份证号"), max_length=18)
    consent = forms.BooleanField(label=_("我已阅读并同意上述个人信息使用告知"), required=False)
    token = forms.CharField(
        widget=forms.HiddenInput,
        required=False,
        max_length=1000,
        error_messages={
            "max_length": _("提交标识无效，请刷新页面后重试"),
            "null_characters_not_allowed": _("提交标识无效，请刷新页面后重试"),
        },
    )

    def __init__(self, *args, config=None, **kwargs):
        super().__init__(*args, **kwargs)
        if config is not None:
            if not config.asks_id_number:
                del self.fields["id_number"]
            if config.max_children == 0:
                for name in ("children",):
                    self.fields[name].widget = forms.HiddenInput()
            if config.max_adults <= 1 and config.max_children == 0:
                self.fields["adults"].widget = forms.HiddenInput()


class GroupForm(CleanedFormMixin, forms.Form):
    """团体预约 (a school class, an organisation)."""

    group_name = _text(_("团体/班级名称"), max_length=100)
    name = _text(_("联系人"), max_length=64, autocomplete="name")
    phone = _text(_("联系人手机号码"), max_length=20, inputmode="tel", autocomplete="tel")
    headcount = forms.CharField(
        label=_("人数"), max_length=6, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    participant_names = forms.CharField(
        label=_("参加人名单（选填，每行一人）"),
        required=False,
        max_length=40000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    guardian_consent = forms.BooleanField(
        label=_("团体中未满14周岁的未成年人已取得其监护人同意"), required=False
    )
    consent = forms.BooleanField(label=_("我已阅读并同意上述个人信息使用告知"), required=False)
    token = forms.CharField(
        widget=forms.HiddenInput,
        required=False,
        max_length=1000,
        error_messages={
            "max_length": _("提交标识无效，请刷新页面后重试"),
            "null_characters_not_allowed": _("提交标识无效，请刷新页面后重试"),
        },
    )


class ConfigForm(CleanedFormMixin, forms.Form):
    """报名设置 of one activity."""

    mode = forms.ChoiceField(label=_("报名方式"), choices=Mode.choices, widget=forms.RadioSelect)
    external_url = _text(_("外部报名链接"), max_length=500, inputmode="url")
    phone = _text(_("报名电话"), max_length=64, inputmode="tel")
    opens_at = _datetime(_("报名开始时间（留空：发布即开始）"), required=False)
    closes_at = _datetime(_("报名截止时间（留空：各场次开始前均可报名）"), required=False)
    max_adults = forms.CharField(
        label=_("每单成人上限"), max_length=6, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    max_children = forms.CharField(
        label=_("每单未成年人（14岁以下）上限"),
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    groups_enabled = forms.BooleanField(label=_("接受团体预约（学校、单位组团）"), required=False)
    max_group_size = forms.CharField(
        label=_("每个团体人数上限"),
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    waitlist_enabled = forms.BooleanField(label=_("满员后可加入候补"), required=False)
    offer_hours = forms.CharField(
        label=_("候补递补后的确认时限（小时，0 表示直接确认）"),
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    cancel_cutoff_hours = forms.CharField(
        label=_("开场前多少小时停止在线取消"),
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    asks_id_number = forms.BooleanField(label=_("收集身份证号（仅在确有必要时）"), required=False)
    id_number_reason = _text(_("收集身份证号的理由"), max_length=200)
    consent_text = forms.CharField(
        label=_("补充告知（选填）"),
        required=False,
        max_length=8000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("平台会自动告知收集的信息、用途和保存期限；此处可补充本活动的特别说明。"),
    )

    @classmethod
    def initial_from(cls, config) -> dict:
        if config is None:
            return {
                "mode": Mode.PLATFORM,
                "max_adults": "1",
                "max_children": "0",
                "max_group_size": "50",
                "waitlist_enabled": True,
                "offer_hours": "24",
                "cancel_cutoff_hours": "2",
            }
        data = {name: getattr(config, name) for name in cls.base_fields if hasattr(config, name)}
        for name in ("opens_at", "closes_at"):
            if data.get(name):
                data[name] = data[name].astimezone(clock.BEIJING)
        return data


class SessionForm(CleanedFormMixin, forms.Form):
    """One session (场次)."""

    label = _text(_("场次名称（选填，如“上午场”）"), max_length=60)
    starts_at = _datetime(_("开始时间"))
    ends_at = _datetime(_("结束时间"))
    capacity = forms.CharField(
        label=_("名额（个人/家庭）"), max_length=7, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    group_capacity = forms.CharField(
        label=_("团体名额"),
        max_length=7,
        required=False,
        initial="0",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )


class MessageForm(CleanedFormMixin, forms.Form):
    """通知全部报名者."""

    title = _text(_("标题"), max_length=60, required=True)
    body = forms.CharField(
        label=_("内容"), max_length=4000, strip=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    session = forms.ChoiceField(label=_("场次"), required=False)
    waiting = forms.BooleanField(label=_("同时通知候补中的人"), required=False)

    def __init__(self, *args, sessions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].choices = [("", _("全部场次"))] + [(str(s.pk), str(s)) for s in sessions]


class ReasonForm(CleanedFormMixin, forms.Form):
    reason = _text(_("原因"), max_length=200)
