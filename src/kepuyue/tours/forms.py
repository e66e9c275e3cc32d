"""Forms of the operating units' tour pages (thin: the rules are in :mod:`.services`)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kepuyue.activities.models import Activity, SpecialArea
from kepuyue.common.text import CleanCharField, CleanDateField, CleanedFormMixin
from kepuyue.regions.models import Level, Region

from . import importing, services
from .models import VehicleKind, VenueKind


class VehicleForm(CleanedFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("类别"), choices=VehicleKind.choices)
    name = CleanCharField(label=_("名称"), max_length=100, help_text=_("例如：浙江科普大篷车 1 号"))
    plate = CleanCharField(label=_("车牌号"), max_length=16, required=False, help_text=_("科普大篷车必填"))
    model = CleanCharField(label=_("车型"), max_length=32, required=False, help_text=_("例如：Ⅱ型"))
    theme = CleanCharField(label=_("展览主题"), max_length=64, required=False, help_text=_("流动科技馆必填"))
    province = forms.ModelChoiceField(
        label=_("所在省份"),
        queryset=Region.objects.filter(level=Level.PROVINCE, is_official=True).order_by("code"),
    )


class TourForm(CleanedFormMixin, forms.Form):
    title = CleanCharField(label=_("巡展名称"), max_length=100)
    vehicle = forms.ModelChoiceField(label=_("车辆/展品"), queryset=None)
    brand = forms.ModelChoiceField(label=_("品牌活动"), queryset=None, required=False)
    summary = CleanCharField(
        label=_("简介"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, operator, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vehicle"].queryset = services.vehicles_of(operator)
        self.fields["brand"].queryset = services.tour_brands(campaign)


class StopForm(CleanedFormMixin, forms.Form):
    """A stop typed by hand; the place is written as people write it (浙江杭州淳安 or 330127)."""

    date = CleanDateField(label=_("日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    place = CleanCharField(
        label=_("所在区县"),
        max_length=100,
        required=False,
        help_text=_("写全省、市、县，例如：浙江省杭州市淳安县"),
    )
    venue_kind = forms.ChoiceField(label=_("场所类型（六进）"), choices=VenueKind.choices)
    venue = CleanCharField(label=_("场所名称"), max_length=100, required=False)
    activity = forms.IntegerField(
        label=_("关联活动编号"),
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text=_("站点是平台上已发布的活动时填写；日期和区县可留空"),
    )
    special_areas = forms.TypedMultipleChoiceField(
        label=_("特殊地区"),
        choices=SpecialArea.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = CleanCharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args, tour, **kwargs):
        self.tour = tour
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        region = None
        if data.get("place"):
            region, problem = importing.region_of({"place": data["place"]})
            if problem:
                self.add_error("place", problem)
                return data
        activity = None
        if data.get("activity"):
            activity = Activity.objects.filter(pk=data["activity"]).first()
            if activity is None:
                self.add_error("activity", _("没有这个活动编号"))
                return data
        stop, problems = services.check_stop(
            self.tour,
            services.StopInput(
                date=data.get("date"),
                region=region,
                venue_kind=data["venue_kind"],
                venue=data.get("venue", ""),
                activity=activity,
                special_areas=sum(set(data.get("special_areas") or [])),
                note=data.get("note", ""),
            ),
        )
        for problem in problems:
            self.add_error(None, problem)
        self.stop = stop
        return data


class ImportForm(forms.Form):
    file = forms.FileField(label=_("行程文件（.xlsx 或 .csv）"), max_length=200)
    dry_run = forms.BooleanField(label=_("只检查，不导入"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > importing.MAX_BYTES:
            raise forms.ValidationError(_("文件不能超过 5 MB"))
        return upload
