"""Staff forms of the programmes: thin, the rules are in :mod:`.services`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import FilmCategory, VolunteerRole


class FilmForm(forms.Form):
    title = forms.CharField(label=_("片名"), max_length=100)
    category = forms.ChoiceField(label=_("类别"), choices=FilmCategory.choices)
    description = forms.CharField(
        label=_("简介"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ScreeningForm(forms.Form):
    activity = forms.IntegerField(label=_("活动"), min_value=1, max_value=2**31 - 1)
    film = forms.IntegerField(label=_("影片"), min_value=1, max_value=2**31 - 1)


class PlayForm(forms.Form):
    title = forms.CharField(label=_("剧目名称"), max_length=100)
    scientist = forms.CharField(label=_("所演科学家"), max_length=100)
    troupe = forms.CharField(label=_("剧团/演出团队"), max_length=100, required=False)
    description = forms.CharField(
        label=_("简介"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class PerformanceForm(forms.Form):
    activity = forms.IntegerField(label=_("活动"), min_value=1, max_value=2**31 - 1)
    play = forms.IntegerField(label=_("剧目"), min_value=1, max_value=2**31 - 1)


class VolunteerForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=30, help_text=_("只填姓名；不要填写电话、证件号等。"))
    role = forms.ChoiceField(label=_("身份"), choices=VolunteerRole.choices)


class LectureLinksForm(forms.Form):
    live_url = forms.CharField(
        label=_("直播链接"), max_length=500, required=False, help_text=_("https:// 开头")
    )
    replay_url = forms.CharField(
        label=_("回放链接"), max_length=500, required=False, help_text=_("https:// 开头")
    )
