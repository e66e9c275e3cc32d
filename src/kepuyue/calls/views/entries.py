"""The unit's pages of calls for works: its entries, the entry form (multipart uploads), actions and files."""

from __future__ import annotations

import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from kepuyue.campaigns.models import Call, CallKind
from kepuyue.common.ranges import ranged_response
from kepuyue.common.text import clean_text, int_or_none, too_long_message
from kepuyue.regions.models import Region
from kepuyue.roles import services as roles
from kepuyue.roles.rules import check

from .. import media, services, uploads
from ..models import Entry, EntryImage, EntryStatus
from .common import KIND_LABELS, MAX_STOPS, _call, _viewable

# The entry form's text fields: (longest text in characters, label, several lines). Checked here before
# the services see the post (issue 9): NFC, no control characters, a Chinese refusal over the limit.
# TODO(issue 9): move into calls.services.submitting (submit_entry) now that calls/services is a package.
ENTRY_TEXTS = {
    "title": (200, gettext_lazy("作品名称"), False),
    "theme": (64, gettext_lazy("主题"), False),
    "description": (5000, gettext_lazy("简介"), True),
    "city": (6, gettext_lazy("城市"), False),
    "author": (200, gettext_lazy("作者"), False),
    "author_unit": (200, gettext_lazy("作者单位"), False),
    "body": (100_000, gettext_lazy("正文"), True),
    "publisher": (200, gettext_lazy("出版社"), False),
    "isbn": (32, gettext_lazy("ISBN"), False),
    "audience": (100, gettext_lazy("适读人群"), False),
    "reason": (5000, gettext_lazy("推荐理由"), True),
    "year": (8, gettext_lazy("出版年"), False),
    "link": (500, gettext_lazy("作品链接"), False),
    "product_kind": (50, gettext_lazy("作品类型"), False),
    "upload_id": (64, "upload_id", False),
}
STOP_TEXTS = {"name": 200, "address": 255, "region": 6}

# --- the unit's pages -------------------------------------------------------------------------


@login_required
def my_entries(request):
    """我的征集作品: open calls the unit may answer and the unit's entries, newest first."""
    organization = roles.organization_of(request.user)
    if organization is None:
        raise PermissionDenied(_("当前账号未绑定参与单位，不能提交征集作品"))
    entries = (
        Entry.objects.filter(organization=organization)
        .select_related("call", "call__campaign")
        .order_by("-created", "-id")
    )
    calls = services.open_calls_for(organization)
    for call in calls:
        call.kind_label = KIND_LABELS.get(call.kind) or call.get_kind_display()
    return render(
        request,
        "calls/my_entries.html",
        {"calls": calls, "entries": entries, "organization": organization},
    )


def _stops_from(post) -> list[dict]:
    stops = []
    for i in range(MAX_STOPS):
        stop = {name: clean_text(post.get(f"stop-{i}-{name}", "")) for name in STOP_TEXTS}
        stop["is_own_venue"] = post.get("own_stop") == str(i)
        stops.append(stop)
    return stops


def _entry_texts(post) -> tuple[dict, dict[str, list[str]]]:
    """The entry form's texts cleaned (``common.text.clean_text``) and the refusals: a text over its
    limit (:data:`ENTRY_TEXTS`), a publication year that is not ASCII digits, a stop's name or
    address over its limit. Fields not listed pass as they are (buttons, check boxes)."""
    data = {key: post.get(key) for key in post}
    errors: dict[str, list[str]] = {}
    for name, (limit, label, multiline) in ENTRY_TEXTS.items():
        if name not in post:
            continue
        text = clean_text(post.get(name), multiline=multiline)
        if len(text) > limit:
            errors.setdefault(name, []).append(too_long_message(str(label), limit, len(text)))
        data[name] = text
    year = data.get("year") or ""
    if year and int_or_none(year) is None:
        errors.setdefault("year", []).append(_("出版年须为年份数字（如 2024）"))
    for i in range(MAX_STOPS):
        for name, limit in STOP_TEXTS.items():
            text = clean_text(post.get(f"stop-{i}-{name}", ""))
            if len(text) > limit:
                errors.setdefault("stops", []).append(
                    too_long_message(_("第 %(n)d 站") % {"n": i + 1}, limit, len(text))
                )
    return data, errors


def _form_context(request, call, data=None, errors=None, stops=None):
    spec = call.spec or {}
    regions = []
    if call.kind == CallKind.CITYWALK:
        regions = list(Region.objects.filter(level__lte=3).order_by("code").values_list("code", "full_name"))
    rows = stops or [{} for _i in range(4)]
    return {
        "call": call,
        "kind": call.kind,
        "spec": spec,
        "image_formats": pgettext("list separator", "、").join(spec.get("formats") or []).upper(),
        "limits": services.upload_limits(call),
        "data": data or {},
        "errors": {("all" if k == "__all__" else k): v for k, v in (errors or {}).items()},
        "stops": rows + [{}] * max(0, 4 - len(rows)),
        "regions": regions,
        "cities": [r for r in regions if r[0].endswith("00") and not r[0].endswith("0000")],
        "tus_endpoint": reverse("calls:tus_create", args=[call.campaign.slug, call.slug]),
        "accept": {
            CallKind.VIDEO: "video/mp4",
            CallKind.CITYWALK: ",".join(
                f"image/{f.replace('jpg', 'jpeg')}" for f in spec.get("formats", ["jpg", "png"])
            ),
            CallKind.ESSAY: ".docx,.pdf",
            CallKind.WORK_PLAN: ".docx,.pdf",
        }.get(call.kind, ""),
    }


@csrf_exempt
def entry_new(request, campaign: str, call: str):
    """提交作品: the form of the call's kind. The upload handlers are set before the body is read (so
    CSRF is checked after, by ``_entry_new``): files stream to disk, never to memory."""
    the_call = _call(campaign, call)
    if request.method == "POST":
        limits = services.upload_limits(the_call)
        # Refuse a body that cannot fit before reading any of it (1 MB for the text fields).
        declared = int_or_none(request.META.get("CONTENT_LENGTH") or 0, min_value=0) or 0
        allowed = (
            sum(limits.values()) * (services.DEFAULT_MAX_IMAGES if "images" in limits else 1) + 1024 * 1024
        )
        if declared > allowed:
            return HttpResponse(
                _("上传内容超过本征集的文件大小上限"), status=413, content_type="text/plain; charset=utf-8"
            )
        request.upload_handlers = [uploads.StreamingUploadHandler(request, limits=limits)]
    return _entry_new(request, the_call)


@login_required
@csrf_protect
def _entry_new(request, call: Call):
    organization = roles.organization_of(request.user)
    if organization is None:
        raise PermissionDenied(_("当前账号未绑定参与单位，不能提交征集作品"))
    problem = services.eligibility_problem(call, organization)
    if problem:
        raise PermissionDenied(problem)
    if request.method != "POST":
        return render(request, "calls/entry_form.html", _form_context(request, call))

    handler = next(
        (h for h in request.upload_handlers if isinstance(h, uploads.StreamingUploadHandler)), None
    )
    try:
        post, files = request.POST, request.FILES
        data, errors = _entry_texts(post)
        if handler is not None and handler.too_large:
            limit = services.upload_limits(call)[handler.too_large]
            errors[handler.too_large] = [
                _("平台要求：文件不超过%(limit)s") % {"limit": media._fmt_bytes(limit)}
            ]
        given: dict = {}
        for name in ("video", "document"):
            if name in files:
                given[name] = files[name].as_upload()
        if "images" in files:
            given["images"] = [f.as_upload() for f in files.getlist("images")]
        upload_id = data.get("upload_id") or ""
        tus = None
        if upload_id and call.kind == CallKind.VIDEO and "video" not in given:
            try:
                tus = uploads.get(upload_id, user_id=request.user.pk)
            except uploads.TusError as error:
                errors["video"] = [error.message]
            else:
                if tus.call_id != call.pk or not tus.complete:
                    errors["video"] = [_("视频尚未上传完成，请继续上传")]
                else:
                    given["video"] = tus.as_upload()
        if errors:
            raise ValidationError(errors)
        stops = _stops_from(post) if call.kind == CallKind.CITYWALK else []
        try:
            entry = services.submit_entry(
                call,
                organization=organization,
                user=request.user,
                data=data,
                files=given,
                stops=stops,
                submit=post.get("action") != "draft",
            )
        finally:
            if tus is not None:
                tus.delete()  # consumed or refused: either way the upload is finished with
    except ValidationError as error:
        if handler is not None:
            handler.discard_all()
        context = _form_context(
            request, call, data=request.POST, errors=error.message_dict, stops=_stops_from(request.POST)
        )
        return render(request, "calls/entry_form.html", context, status=400)
    finally:
        if handler is not None:
            handler.discard_all()
    if entry.status == EntryStatus.DRAFT:
        messages.success(request, _("作品已保存为草稿，编号 %(code)s") % {"code": entry.code})
    else:
        messages.success(request, _("作品已提交，编号 %(code)s") % {"code": entry.code})
    return redirect("calls:entry", code=entry.code)


@login_required
def entry_detail(request, code: str):
    """The unit's own entry (also for the call's manager): status, warnings, files; submit a draft or
    withdraw."""
    entry = _viewable(request, code)
    own = roles.organization_of(request.user)
    if entry.organization != own and not check(request.user, "calls.manage_entry", entry):
        raise Http404  # judges score through the blind page, never here
    return render(
        request,
        "calls/entry_detail.html",
        {"entry": entry, "can_change": check(request.user, "calls.change_entry", entry)},
    )


@login_required
@require_POST
def entry_action(request, code: str):
    """``action=submit`` (a draft) or ``action=withdraw`` (撤回) on the unit's own entry."""
    entry = _viewable(request, code, "calls.change_entry")
    target = {"submit": EntryStatus.SUBMITTED, "withdraw": EntryStatus.WITHDRAWN}.get(
        request.POST.get("action")
    )
    if target is None:
        raise Http404
    try:
        services.transition(entry, target, actor=request.user)
        messages.success(request, _("作品已提交") if target == EntryStatus.SUBMITTED else _("作品已撤回"))
    except services.TransitionError as error:
        messages.error(request, str(error))
    return redirect("calls:entry", code=entry.code)


@login_required
def entry_file(request, code: str, what: str, n: int = 0):
    """A private file of an entry (video, poster, document, route image ``n``) for whoever may view the
    entry; named by the entry's code only (judges stay blind). Local storage: served with byte ranges;
    an object store: a redirect to a signed link."""
    entry = _viewable(request, code)
    if what == "image":
        name = get_object_or_404(EntryImage, entry=entry, order=n).file
    elif what in ("file", "poster"):
        name = getattr(entry, what)
    else:
        raise Http404
    if not name:
        raise Http404
    try:
        name.path  # noqa: B018 - raises NotImplementedError on an object store
    except NotImplementedError:
        # An object store (scale-out): a signed, short-lived link (private_storage), so no app worker is held
        # for the duration of a video.
        return redirect(name.url)
    ext = os.path.splitext(name.name)[1]
    response = ranged_response(request, name.storage, name.name) or FileResponse(
        name.storage.open(name.name, "rb"), filename=f"{entry.code}{ext}"
    )
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = f'inline; filename="{entry.code}{ext}"'
    return response
