"""The unit's pages of calls for works: its entries, the entry form (multipart uploads), actions and files."""

from __future__ import annotations

import os
import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from kepuyue.campaigns.models import Call, CallKind
from kepuyue.common.ranges import ranged_response
from kepuyue.common.storage import StorageFull, is_full
from kepuyue.common.text import clean_text, int_or_none, too_long_message
from kepuyue.regions.models import Level, Region
from kepuyue.regions.services import children_of
from kepuyue.roles import services as roles
from kepuyue.roles.rules import check

from .. import media, services, uploads
from ..models import Entry, EntryImage, EntryStatus
from .common import DEFAULT_STOPS, KIND_LABELS, MAX_STOPS, _call, _viewable

# The entry form's text fields: (longest text in characters, label, several lines). Checked here before
# the services see the post (issue 9): NFC, no control characters, a Chinese refusal over the limit.
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
STOP_TEXTS = {"name": 200, "address": 255, "region": 6, "city": 6, "province": 6}

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


# At most this many kept uploads are read from one post (a route has at most 12 images).
MAX_KEPT = 16


def _posted_stop_count(post) -> int:
    """How many stop blocks the user had on the page: the highest ``stop-<i>-…`` field posted, plus one."""
    count = 0
    for i in range(MAX_STOPS):
        if any(f"stop-{i}-{name}" in post for name in ("name", "address", "region", "city", "province")):
            count = i + 1
    return count


def _stops_from(post) -> list[dict]:
    """The stops as posted, in order, one per block on the page (empty blocks included). A stop's region is
    the deepest of its cascading selects that was chosen (county, else city, else province)."""
    stops = []
    for i in range(_posted_stop_count(post)):
        stop = {name: clean_text(post.get(f"stop-{i}-{name}", "")) for name in ("name", "address")}
        stop["region"] = next(
            (
                code
                for code in (
                    clean_text(post.get(f"stop-{i}-{level}", "")) for level in ("region", "city", "province")
                )
                if code
            ),
            "",
        )
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


def _chain(region: Region | None) -> dict[str, str]:
    """``{"province", "city", "region"}`` codes of the cascading selects that show ``region``."""
    if region is None:
        return {}
    if region.level == Level.PROVINCE:
        return {"province": region.code}
    province = region.province_code  # six digits: "330000"
    if region.level == Level.PREFECTURE:
        return {"province": province, "city": region.code}
    parent = region.parent_id or ""
    if parent == province:  # a county directly under its province (省直辖县级行政单位)
        return {"province": province, "city": region.code}
    return {"province": province, "city": parent, "region": region.code}


def _cascade_rows(stops: list[dict], city_code: str) -> tuple[list[dict], dict]:
    """The stops with the option lists their selects need (only the chosen branches, never every county),
    and the route city's selects. One query for the chosen regions, one per distinct parent shown."""
    wanted = {s.get("region") or "" for s in stops} | {city_code}
    regions = {r.code: r for r in Region.objects.filter(code__in=[c for c in wanted if c])}
    cache: dict[str, list[list[str]]] = {}

    def options(parent: str) -> list[list[str]]:
        if parent and parent not in cache:
            cache[parent] = children_of(parent)
        return cache.get(parent, [])

    rows = []
    for stop in stops:
        chain = _chain(regions.get(stop.get("region") or ""))
        rows.append(
            {
                **stop,
                "chain": chain,
                "cities": options(chain.get("province", "")),
                "counties": options(chain.get("city", ""))
                if chain.get("region")
                else (options(chain["city"]) if chain.get("city") else []),
            }
        )
    city_chain = _chain(regions.get(city_code))
    city = {
        "province": city_chain.get("province", ""),
        "code": city_chain.get("city", ""),
        "options": options(city_chain.get("province", "")),
    }
    return rows, city


def _form_context(request, call, data=None, errors=None, stops=None, kept=None):
    spec = call.spec or {}
    data = data or {}
    formats = list(spec.get("formats") or ["jpg", "png", "webp"])
    context = {
        "call": call,
        "kind": call.kind,
        "spec": spec,
        "image_formats": pgettext("list separator", "、").join(formats).upper().replace("WEBP", "WebP"),
        "limits": services.upload_limits(call),
        "data": data,
        "errors": {("all" if k == "__all__" else k): v for k, v in (errors or {}).items()},
        "kept": kept or [],
        "kept_fields": {k["field"] for k in kept or []},
        "tus_endpoint": reverse("calls:tus_create", args=[call.campaign.slug, call.slug]),
        "check_url": reverse("calls:check", args=[call.campaign.slug, call.slug]),
        "accept": {
            CallKind.VIDEO: "video/mp4",
            CallKind.CITYWALK: ",".join(f"image/{f.replace('jpg', 'jpeg')}" for f in formats),
            CallKind.ESSAY: ".docx,.pdf",
            CallKind.WORK_PLAN: ".docx,.pdf",
        }.get(call.kind, ""),
    }
    if call.kind == CallKind.CITYWALK:
        # Stop blocks: as many as the user left on the page (4 on a new form), each with the cascading
        # 省 → 市 → 县 selects; only the provinces and the chosen branches are in the HTML (issue 11.3).
        rows = list(stops or [])
        if not rows:
            rows = [{} for _i in range(DEFAULT_STOPS)]
        rows, city = _cascade_rows(rows[:MAX_STOPS], str(data.get("city") or ""))
        context.update(
            stops=rows,
            max_stops=MAX_STOPS,
            provinces=children_of(None),
            route_city=city,
            regions_url=reverse("regions:provinces"),
        )
    return context


def _form_error(request, call, errors, *, kept=None, status=400):
    context = _form_context(
        request, call, data=request.POST, errors=errors, stops=_stops_from(request.POST), kept=kept
    )
    return render(request, "calls/entry_form.html", context, status=status)


@csrf_exempt
def entry_new(request, campaign: str, call: str):
    """提交作品: the form of the call's kind. The upload handlers are set before the body is read (so
    CSRF is checked after, by ``_entry_new``): files stream to disk, never to memory, and every temporary
    file is removed when the request ends (``kepuyue.common.uploads``), whatever the answer."""
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


def _given_files(request, call, files, post, errors) -> tuple[dict, dict[int, uploads.TusUpload]]:
    """The files of this post: new multipart parts, finished uploads kept from an earlier try (signed
    ``kept`` tokens) and a finished tus upload (``upload_id``). Returns ``{field: Upload | [Upload]}`` and the
    upload records behind some of them (by ``id()`` of the ``Upload``), to delete once the entry is stored."""
    given: dict = {}
    records: dict[int, uploads.TusUpload] = {}
    for name in ("video", "document"):
        if name in files:
            given[name] = files[name].as_upload()
    if "images" in files:
        given["images"] = [f.as_upload() for f in files.getlist("images")]
    kept_images = []
    for token in post.getlist("kept")[:MAX_KEPT]:
        try:
            record = uploads.from_token(token, user_id=request.user.pk, call_id=call.pk)
        except uploads.TusError as error:
            errors.setdefault("all", []).append(error.message)
            continue
        if record.field == "images":
            upload = record.as_upload()
            kept_images.append(upload)
            records[id(upload)] = record
        elif record.field in ("video", "document") and record.field not in given:
            given[record.field] = record.as_upload()
            records[id(given[record.field])] = record
        else:  # a new file was chosen instead: the kept one is not wanted any more
            record.delete()
    if kept_images:
        given["images"] = kept_images + given.get("images", [])
    upload_id = clean_text(post.get("upload_id") or "")
    if upload_id and call.kind == CallKind.VIDEO and "video" not in given:
        try:
            record = uploads.get(upload_id, user_id=request.user.pk)
        except uploads.TusError as error:
            errors["video"] = [error.message]
        else:
            if record.call_id != call.pk or not record.complete:
                errors["video"] = [_("视频尚未上传完成，请继续上传")]
            else:
                given["video"] = record.as_upload()
                records[id(given["video"])] = record
    return given, records


def _keep_for_next_try(request, call, given, records, errors) -> list[dict]:
    """After a refusal, keep each finished upload whose own field was not refused (a valid video is never
    thrown away because the title is missing): a signed token for the form, shown as “已上传：…”. Uploads of
    a refused field are removed."""
    kept = []
    for field_name, value in given.items():
        for upload in value if isinstance(value, list) else [value]:
            record = records.get(id(upload))
            if field_name in errors:
                if record is not None:
                    record.delete()
                continue  # a multipart temporary: removed at the end of the request
            try:
                if record is None:
                    record = uploads.keep(upload, user_id=request.user.pk, call_id=call.pk, field=field_name)
                else:
                    record.expires = max(record.expires, time.time() + uploads.expiry_seconds())
                    record.save_info()
            except uploads.TusError as error:  # over the account's byte cap: not kept, the form says why
                errors.setdefault(field_name, []).append(
                    _("文件未保留，请重新选择：%(reason)s") % {"reason": error.message}
                )
                continue
            except OSError:  # a full disk: not kept; the user chooses the file again
                errors.setdefault(field_name, []).append(_("服务器存储空间不足，文件未保留，请稍后重新选择"))
                continue
            kept.append(
                {
                    "token": uploads.token_for(record),
                    "name": record.metadata.get("filename") or _("未命名文件"),
                    "size": record.length,
                    "field": field_name,
                }
            )
    return kept


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
    post, files = request.POST, request.FILES
    data, errors = _entry_texts(post)
    if handler is not None and handler.too_large:
        limit = services.upload_limits(call)[handler.too_large]
        errors[handler.too_large] = [_("平台要求：文件不超过%(limit)s") % {"limit": media._fmt_bytes(limit)}]
    given, records = _given_files(request, call, files, post, errors)
    try:
        if errors:
            raise ValidationError({("__all__" if k == "all" else k): v for k, v in errors.items()})
        stops = [s for s in _stops_from(post)] if call.kind == CallKind.CITYWALK else []
        entry = services.submit_entry(
            call,
            organization=organization,
            user=request.user,
            data=data,
            files=given,
            stops=stops,
            submit=post.get("action") != "draft",
            keep_on_error=True,
        )
    except ValidationError as error:
        refused = error.message_dict
        kept = _keep_for_next_try(request, call, given, records, refused)
        return _form_error(request, call, refused, kept=kept)
    except OSError as error:
        if not is_full(error):
            raise
        for record in records.values():
            record.delete()  # free what we can; the user sends again later
        return _form_error(request, call, {"__all__": [str(StorageFull())]}, status=507)
    for record in records.values():
        record.delete()  # consumed: its bytes were moved into the entry's storage
    if entry.status == EntryStatus.DRAFT:
        messages.success(request, _("作品已保存为草稿，编号 %(code)s") % {"code": entry.code})
    else:
        messages.success(request, _("作品已提交，编号 %(code)s") % {"code": entry.code})
    return redirect("calls:entry", code=entry.code)


@login_required
@require_POST
def entry_check(request, campaign: str, call: str):
    """预检: the form's fields checked before a file is uploaded (issue 11 point 3), by the same services as
    the final submit (:func:`kepuyue.calls.services.precheck_entry`). The page's script posts the form
    without its files (``pending``: the file fields it is about to upload) and starts the upload only on
    ``{"ok": true}``; otherwise it shows ``errors`` (``{field: [Chinese messages]}``) beside the fields."""
    the_call = _call(campaign, call)
    organization = roles.organization_of(request.user)
    if organization is None:
        return JsonResponse(
            {"ok": False, "errors": {"__all__": [_("当前账号未绑定参与单位，不能提交征集作品")]}}
        )
    data, errors = _entry_texts(request.POST)
    if not errors:
        pending = tuple(p for p in request.POST.getlist("pending") if p in services.FILE_FIELDS)
        errors = services.precheck_entry(
            the_call,
            organization=organization,
            data=data,
            stops=_stops_from(request.POST) if the_call.kind == CallKind.CITYWALK else [],
            pending=pending,
        )
    return JsonResponse({"ok": not errors, "errors": errors}, json_dumps_params={"ensure_ascii": False})


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
        {
            "entry": entry,
            "can_change": check(request.user, "calls.change_entry", entry),
            # Which entry a duplicate repeats is for the call's managers only (issue 9 class 8).
            "can_manage": check(request.user, "calls.manage_entry", entry),
        },
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
