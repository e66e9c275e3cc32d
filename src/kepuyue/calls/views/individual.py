"""个人投稿 (plan 六(三)4): a person with a public account submits an essay to a call open to individuals
(the call's YAML ``spec.individuals``), and sees their own entries. The identity fields are those the call
asks for; the entry is then judged and published (择优发布) like a unit's."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_protect

from kepuyue.common.text import clean_text
from kepuyue.regions.models import Level, Region

from .. import services
from ..models import EntrantRole, Entry
from .common import _call

# (longest text in characters, label, several lines)
TEXTS = {
    "title": (200, gettext_lazy("作品名称"), False),
    "theme": (64, gettext_lazy("主题"), False),
    "author": (50, gettext_lazy("姓名"), False),
    "author_unit": (200, gettext_lazy("所在单位"), False),
    "entrant_role": (16, gettext_lazy("身份"), False),
    "entrant_province": (6, gettext_lazy("所在省份"), False),
    "body": (100_000, gettext_lazy("正文"), True),
}


def _texts(post) -> tuple[dict, dict]:
    """The post's fields cleaned (NFC, no control characters); a text over its limit is refused by name."""
    data, errors = {}, {}
    for name, (limit, label, multiline) in TEXTS.items():
        try:
            data[name] = clean_text(
                post.get(name, ""), multiline=multiline, max_length=limit, label=str(label)
            )
        except ValidationError as error:
            data[name] = ""
            errors[name] = list(error.messages)
    return data, errors


@login_required
@csrf_protect
def individual_new(request, campaign: str, call: str):
    """The essay form for a person: title, theme, text, and the identity the call asks for."""
    the_call = _call(campaign, call)
    fields = services.individual_fields(the_call)
    if fields is None:
        raise Http404  # a call for units only has no personal form
    data, errors = {}, {}
    problem = services.individual_problem(the_call, request.user)
    if request.method == "POST" and not problem:
        data, errors = _texts(request.POST)
        if not errors:
            try:
                entry = services.submit_individual_entry(the_call, user=request.user, data=data)
            except ValidationError as error:
                errors = error.message_dict
            else:
                messages.success(request, _("征文已提交，编号 %(code)s") % {"code": entry.code})
                return redirect("calls:personal")
    provinces = Region.objects.filter(level=Level.PROVINCE).order_by("code").values_list("code", "name")
    return render(
        request,
        "calls/individual_form.html",
        {
            "call": the_call,
            "fields": fields,
            "problem": problem,
            "data": data,
            "errors": {("all" if k == "__all__" else k): v for k, v in errors.items()},
            "roles": EntrantRole.choices,
            "provinces": list(provinces) if "province" in fields else [],
        },
        status=400 if errors else 200,
    )


@login_required
def personal_entries(request):
    """我的个人投稿: the signed-in person's own essays and their status (one query)."""
    entries = (
        Entry.objects.filter(person=request.user)
        .select_related("call", "call__campaign")
        .order_by("-created", "-id")
    )
    return render(request, "calls/personal_entries.html", {"entries": entries})
