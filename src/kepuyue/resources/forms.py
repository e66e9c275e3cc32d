"""The upload form of a publicity resource (宣传资源); the rules are ``services.validate`` and
``services.check_file``, the form only offers the choices in the account's scope."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kepuyue.campaigns.models import Brand, JointAction

from . import services
from .models import Kind

CAMPAIGN_WIDE = "campaign"


class ResourceForm(forms.Form):
    """``joint_action``: a joint action the account keeps, or 全国科普月（不属于联合行动） for CAST."""

    kind = forms.ChoiceField(label=_("类型"), choices=Kind.choices)
    title = forms.CharField(label=_("名称"), max_length=services.TITLE_MAX)
    description = forms.CharField(
        label=_("说明"),
        required=False,
        max_length=services.DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    joint_action = forms.ChoiceField(label=_("联合行动"))
    brand = forms.ChoiceField(label=_("品牌活动"), required=False)
    file = forms.FileField(label=_("文件"), required=False)

    def __init__(self, *args, actions: list[JointAction], cast: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.actions = {str(a.pk): a for a in actions}
        choices = [(CAMPAIGN_WIDE, _("全国科普月（不属于某一联合行动）"))] if cast else []
        self.fields["joint_action"].choices = choices + [(str(a.pk), a.name) for a in actions]
        self.brands = {str(b.pk): b for b in services.brand_choices(actions)}
        self.fields["brand"].choices = [("", _("（不限品牌）"))] + [
            (str(b.pk), f"{b.joint_action.name} · {b.name}") for b in self.brands.values()
        ]
        self.fields["file"].help_text = " ".join(
            f"{Kind(k).label}：{services.accepted_text(k)}，不超过{services.upload_limit(k) // (1024 * 1024)} MB。"
            for k in Kind.values
        )

    def data_for_service(self) -> dict:
        """The cleaned values in the shape ``services.validate`` reads."""
        data = self.cleaned_data
        action = self.actions.get(data.get("joint_action") or "")
        brand: Brand | None = self.brands.get(data.get("brand") or "")
        return {
            "kind": data.get("kind"),
            "title": data.get("title"),
            "description": data.get("description"),
            "joint_action": action,
            "brand": brand,
        }
