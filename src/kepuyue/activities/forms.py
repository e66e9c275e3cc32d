"""Forms of the activities staff pages: publishing an activity and uploading an import file.

The publishing form only collects and converts input; every rule is checked by
``services.validate_activity`` so the form, the import and the API refuse the same things, with
the same Chinese messages. The organization is never a form field: the view takes it from the
signed-in account's membership.
"""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kepuyue.campaigns.models import Brand, JointAction, KeyTask
from kepuyue.common.text import CleanCharField, CleanDateTimeField, CleanedFormMixin, PhoneField

from . import services
from .models import Audience, Form, SpecialArea, Topic

IMPORT_MAX_BYTES = 50 * 1024 * 1024
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]

# services field → form field, for placing the services' messages.
# The count fields' messages: those of ``services.count_error`` (the import gives the same).
COUNT_MESSAGES = {
    "min_value": gettext_lazy(services.COUNT_MIN_MESSAGE),
    "max_value": gettext_lazy(services.COUNT_MAX_MESSAGE),
}
FIELD_OF = {"region_code": "region", "region": "region"}


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def _grouped(actions, attribute: str) -> list:
    """Choices grouped by joint action (one ``<optgroup>`` each), so that without JavaScript the
    list still shows which brand belongs where."""
    groups = [("", "——")]
    for action in actions:
        items = [(str(item.pk), item.name) for item in getattr(action, attribute).all()]
        if items:
            groups.append((action.name, items))
    return groups


class ActivityForm(CleanedFormMixin, forms.Form):
    """The publishing form (发布活动). ``campaign`` limits the joint actions, brands and key tasks
    to that campaign's. :meth:`to_data` gives the mapping ``services.create_activity`` takes.

    The joint action is optional: the empty choice is a campaign-wide activity (全国科普月活动,
    plan 八(一)), which has no brand or key task and runs in the campaign month."""

    joint_action = forms.ModelChoiceField(
        queryset=JointAction.objects.none(),
        label=gettext_lazy("联合行动"),
        required=False,
        empty_label=gettext_lazy("不属于联合行动（全国科普月活动）"),
    )
    brand = forms.ChoiceField(
        label=gettext_lazy("品牌活动"), required=False, help_text=gettext_lazy("须属于所选联合行动")
    )
    key_task = forms.ChoiceField(
        label=gettext_lazy("重点任务"), required=False, help_text=gettext_lazy("不选时按品牌活动确定")
    )
    title = forms.CharField(label=gettext_lazy("活动名称"), max_length=200)
    summary = forms.CharField(
        label=gettext_lazy("活动简介"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    description = CleanCharField(
        label=gettext_lazy("活动详情"),
        required=False,
        max_length=services.TEXT_LIMITS["description"],
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("支持 Markdown，不超过 20000 个字符"),
    )
    co_organizers = forms.CharField(label=gettext_lazy("协办/承办单位"), max_length=500, required=False)
    starts_at = CleanDateTimeField(
        label=gettext_lazy("开始时间"), widget=DateTimeLocalInput(), input_formats=DATETIME_FORMATS
    )
    ends_at = CleanDateTimeField(
        label=gettext_lazy("结束时间"), widget=DateTimeLocalInput(), input_formats=DATETIME_FORMATS
    )
    form = forms.ChoiceField(
        label=gettext_lazy("活动形式"), choices=Form.choices, initial=Form.OFFLINE, widget=forms.RadioSelect
    )
    online_url = forms.CharField(
        label=gettext_lazy("线上地址"),
        max_length=500,
        required=False,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text=gettext_lazy("线上或线上线下结合的活动必填"),
    )
    region = forms.CharField(
        label=gettext_lazy("所在地区"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("县级区划代码（如 330106）或地名（如 浙江省杭州市西湖区）"),
    )
    venue = forms.CharField(label=gettext_lazy("活动地点"), max_length=255, required=False)
    audiences = forms.TypedMultipleChoiceField(
        label=gettext_lazy("面向对象"),
        coerce=int,
        required=False,
        choices=Audience.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    topics = forms.TypedMultipleChoiceField(
        label=gettext_lazy("活动主题"),
        coerce=int,
        required=False,
        choices=Topic.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    special_areas = forms.TypedMultipleChoiceField(
        label=gettext_lazy("特殊地区"),
        coerce=int,
        required=False,
        choices=SpecialArea.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    # Counts: the rule and messages of ``services.count_error`` (the import's too).
    expected_participants = forms.IntegerField(
        label=gettext_lazy("预计参与人数"),
        min_value=0,
        max_value=services.COUNT_MAX,
        required=False,
        error_messages=COUNT_MESSAGES,
    )
    science_workers = forms.IntegerField(
        label=gettext_lazy("参与科技工作者人数"),
        min_value=0,
        max_value=services.COUNT_MAX,
        required=False,
        error_messages=COUNT_MESSAGES,
    )
    book_signing = forms.BooleanField(
        label=gettext_lazy("设图书签售"),
        required=False,
        help_text=gettext_lazy("阅读交流活动依据作家意愿及图书情况可增设图书签售（方案 七(四)1）"),
    )
    poster = forms.FileField(
        label=gettext_lazy("海报"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=gettext_lazy("JPEG、PNG 或 WebP，不超过 10 MB"),
    )
    contact_name = forms.CharField(label=gettext_lazy("联系人"), max_length=64, required=False)
    contact_phone = PhoneField(
        label=gettext_lazy("联系电话"),
        max_length=services.TEXT_LIMITS["contact_phone"],
        required=False,
        several=True,
        help_text=gettext_lazy("手机或座机（如 010-68571988），多个号码用“、”分隔；公开页面只显示部分号码"),
    )

    def __init__(self, *args, campaign=None, activity=None, **kwargs):
        if activity is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_from(activity)
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        actions = (
            JointAction.objects.filter(campaign=campaign)
            .prefetch_related("brands", "key_tasks")
            .order_by("number")
            if campaign is not None
            else JointAction.objects.none()
        )
        self.fields["joint_action"].queryset = actions
        actions = list(actions)
        self.fields["brand"].choices = _grouped(actions, "brands")
        self.fields["key_task"].choices = _grouped(actions, "key_tasks")
        self.fields["brand"].widget.attrs["data-filter-by"] = "id_joint_action"
        self.fields["key_task"].widget.attrs["data-filter-by"] = "id_joint_action"
        self.activity = activity
        self.region_obj = None

    def clean_brand(self):
        value = self.cleaned_data.get("brand")
        return Brand.objects.filter(pk=value, joint_action__campaign=self.campaign).first() if value else None

    def clean_key_task(self):
        value = self.cleaned_data.get("key_task")
        return (
            KeyTask.objects.filter(pk=value, joint_action__campaign=self.campaign).first() if value else None
        )

    def clean_region(self):
        from kepuyue.regions.models import Region
        from kepuyue.regions.services import match_region

        text = (self.cleaned_data.get("region") or "").strip()
        if not text:
            return ""
        if text.isdigit():
            if len(text) != 6 or not Region.objects.filter(code=text).exists():
                raise forms.ValidationError(
                    _("区划代码 %(code)s 不存在，请填写6位县级行政区划代码") % {"code": text}
                )
            self.region_obj = Region.objects.get(code=text)
            return text
        found = match_region(text)
        if found is None:
            raise forms.ValidationError(
                _("未能识别地区“%(text)s”，请写完整的省市县名称或6位区划代码") % {"text": text}
            )
        self.region_obj = found.region
        return text

    def clean_poster(self):
        poster = self.cleaned_data.get("poster")
        if poster:
            try:
                services.check_poster(poster)
            except forms.ValidationError as exc:
                raise forms.ValidationError(exc.message_dict["poster"]) from None
        return poster

    def to_data(self) -> dict:
        """The cleaned input in the shape ``services.validate_activity``/``create_activity`` read."""
        data = dict(self.cleaned_data)
        data["campaign"] = self.campaign
        data["region"] = self.region_obj
        data.pop("region_code", None)
        for name in ("audiences", "topics", "special_areas"):
            data[name] = services.bits(data.get(name) or [])
        poster = data.get("poster")
        if poster is None or poster == "":
            data.pop("poster", None)  # keep the stored one
        return data

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        data = self.to_data()
        data.pop("poster", None)  # already sniffed in clean_poster
        for name, message in services.validate_activity(data):
            target = FIELD_OF.get(name, name)
            self.add_error(target if target in self.fields else None, message)
        return cleaned


def initial_from(activity) -> dict:
    """Form values of a saved activity (times in Beijing time, bit sets as lists, region code)."""
    from kepuyue.common import clock

    return {
        "joint_action": activity.joint_action_id,
        "brand": str(activity.brand_id or ""),
        "key_task": str(activity.key_task_id or ""),
        "title": activity.title,
        "summary": activity.summary,
        "description": activity.description,
        "co_organizers": activity.co_organizers,
        "starts_at": activity.starts_at.astimezone(clock.BEIJING).replace(tzinfo=None),
        "ends_at": activity.ends_at.astimezone(clock.BEIJING).replace(tzinfo=None),
        "form": activity.form,
        "online_url": activity.online_url,
        "region": activity.region_id or "",
        "venue": activity.venue,
        "audiences": [m.value for m in services.choices_of(activity.audiences, Audience)],
        "topics": [m.value for m in services.choices_of(activity.topics, Topic)],
        "special_areas": [m.value for m in services.choices_of(activity.special_areas, SpecialArea)],
        "expected_participants": activity.expected_participants,
        "science_workers": activity.science_workers,
        "book_signing": activity.book_signing,
        "poster": activity.poster or None,
        "contact_name": activity.contact_name,
        "contact_phone": activity.contact_phone,
    }


class ImportUploadForm(forms.Form):
    """Upload of a 重点科普活动信息表 (``.xlsx`` or ``.csv``, at most 50 MB)."""

    file = forms.FileField(
        label=gettext_lazy("活动信息表"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
        help_text=gettext_lazy(".xlsx 或 .csv（UTF-8 或 GB18030 编码），不超过 50 MB"),
    )

    default_organizer = forms.CharField(
        label=gettext_lazy("默认主办单位（选填）"),
        required=False,
        max_length=200,
        help_text=gettext_lazy(
            "管理员导入：主办单位为空的行归入此单位（填写单位全称，如本科协），不再作为错误"
        ),
    )

    def __init__(self, *args, admin: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not admin:
            del self.fields["default_organizer"]

    def clean_default_organizer(self):
        from kepuyue.common.text import clean_text
        from kepuyue.orgs.models import Organization

        name = clean_text(
            self.cleaned_data.get("default_organizer") or "", max_length=200, label=_("默认主办单位")
        )
        if not name:
            return None
        found = Organization.objects.filter(name=name).first()
        if found is None:
            raise forms.ValidationError(_("找不到单位“%(name)s”，请填写已入驻单位的全称") % {"name": name})
        return found

    def clean_file(self):
        upload = self.cleaned_data["file"]
        suffix = Path(upload.name).suffix.lower()
        if suffix not in (".xlsx", ".csv"):
            raise forms.ValidationError(_("只能导入 .xlsx 或 .csv 文件（.xls 请先另存为 .xlsx）"))
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("文件过大（%(mb).1f MB），不能超过 50 MB") % {"mb": upload.size / 1024 / 1024}
            )
        # The content, not the name, decides how the file is read (README; ``importing.check_file_kind``):
        # a CSV named .xlsx is read as CSV, anything else is refused at validation with its reason.
        return upload


class SummaryForm(CleanedFormMixin, forms.Form):
    """活动总结: the text fields of a summary. Photos come as ``request.FILES.getlist("photos")`` and
    every rule (links, photo count and content, dates) is checked by
    ``kepuyue.activities.summaries.submit_summary``."""

    text = forms.CharField(
        label=gettext_lazy("活动总结"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=5000,
        help_text=gettext_lazy("活动开展情况、亮点与成效，不超过 5000 字"),
    )
    participants = forms.IntegerField(label=gettext_lazy("实际参与人数"), min_value=0, max_value=10_000_000)
    video_links = forms.CharField(
        label=gettext_lazy("视频链接"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("每行一个，以 http:// 或 https:// 开头，最多 5 个"),
    )
    news_links = forms.CharField(
        label=gettext_lazy("新闻报道链接"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("每行一个，以 http:// 或 https:// 开头，最多 5 个"),
    )
