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
from django.utils.translation import pgettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from kepuyue.campaigns.models import Call, CallKind
from kepuyue.common.ranges import ranged_response
from kepuyue.regions.models import Region
from kepuyue.roles import services as roles
from kepuyue.roles.rules import check

from .. import media, services, uploads
from ..models import Entry, EntryImage, EntryStatus
from .common import KIND_LABELS, MAX_STOPS, _call, _viewable

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
        stops.append(
            {
                "name": post.get(f"stop-{i}-name", ""),
                "address": post.get(f"stop-{i}-address", ""),
                "region": post.get(f"stop-{i}-region", ""),
                "is_own_venue": post.get("own_stop") == str(i),
            }
        )
    return stops


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
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
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
        errors: dict[str, list[str]] = {}
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
        upload_id = post.get("upload_id", "").strip()
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
                data=post,
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
