"""The quiz taker's form (答题信息): name, age, province, optional unit; a guardian under 14."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kepuyue.common.text import CleanCharField, CleanedFormMixin, parse_int
from kepuyue.orgs.models import Organization
from kepuyue.regions.models import Level, Region

from .services.taking import GUARDIAN_AGE


class ProfileForm(CleanedFormMixin, forms.Form):
    name = CleanCharField(label=_("姓名（印在证书上）"), max_length=32)
    age = CleanCharField(
        label=_("年龄（周岁）"), max_length=3, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    province = forms.ModelChoiceField(
        label=_("所在省份"),
        queryset=Region.objects.filter(level=Level.PROVINCE).order_by("code"),
        empty_label="—",
    )
    unit = CleanCharField(
        label=_("所在单位（选填）"),
        max_length=200,
        required=False,
        help_text=_("填写在本平台入驻的单位全称，如某农技协；成绩计入单位排行榜。"),
    )
    guardian_name = CleanCharField(label=_("监护人姓名"), max_length=32, required=False)
    guardian_consent = forms.BooleanField(
        label=_("我是答题者的监护人，同意其参加答题并提供以上信息（未满14周岁须填写）"), required=False
    )

    def clean_age(self):
        return parse_int(self.cleaned_data["age"], label="年龄", min_value=3, max_value=120)

    def clean_unit(self):
        name = self.cleaned_data.get("unit", "")
        if not name:
            return None
        unit = Organization.objects.filter(name=name).first()
        if unit is None:
            raise forms.ValidationError(_("找不到该单位，请填写单位全称，或留空。"))
        return unit

    def clean(self):
        data = super().clean()
        age = data.get("age")
        if age is not None and age < GUARDIAN_AGE:
            if not data.get("guardian_name"):
                self.add_error("guardian_name", _("未满14周岁须填写监护人姓名。"))
            if not data.get("guardian_consent"):
                self.add_error("guardian_consent", _("未满14周岁须由监护人勾选同意。"))
        return data
