"""Pages of calls for works (征集): the unit's entries and uploads, the tus endpoint, the judges' blind
scoring, the joint-action manager's panel and the public galleries.

Thin views: the unit comes from the signed-in account's ``Membership``, never from the request; fields
such as ``organization`` or ``status`` in a post are ignored because the services read only the fields
they know. Permissions are the predicates of ``kepuyue.calls.rules``; an entry a user may not see is a 404.
"""

from __future__ import annotations

import os
from email.utils import formatdate
from itertools import groupby

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from kepuyue.campaigns.models import Call, CallKind, Campaign
from kepuyue.campaigns.services import call_phase
from kepuyue.common.ranges import ranged_response
from kepuyue.regions.models import Region
from kepuyue.roles import services as roles
from kepuyue.roles.rules import check

from . import media, services, uploads
from .models import Entry, EntryImage, EntryStatus, Score

MAX_STOPS = 12
# The kinds' names on the unit's page (``CallKind`` labels are not marked for translation).
KIND_LABELS = {
    CallKind.CITYWALK: gettext_lazy("CityWalk 路线"),
    CallKind.VIDEO: gettext_lazy("短视频"),
    CallKind.ESSAY: gettext_lazy("征文"),
    CallKind.WORK_PLAN: gettext_lazy("工作方案"),
    CallKind.BOOK_LIST: gettext_lazy("书单"),
    CallKind.LINK: gettext_lazy("作品链接"),
}


def _call(campaign: str, call: str) -> Call:
    return get_object_or_404(
        Call.objects.select_related("campaign", "joint_action", "brand"), campaign__slug=campaign, slug=call
    )


def _entry(code: str) -> Entry:
    return get_object_or_404(
        Entry.objects.select_related("call", "call__campaign", "call__joint_action", "organization", "city"),
        code=code,
    )


def _viewable(request, code: str, perm: str = "calls.view_entry") -> Entry:
    entry = _entry(code)
    if not check(request.user, perm, entry):
        raise Http404
    return entry


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


# --- tus --------------------------------------------------------------------------------------


def _tus_response(status: int = 204, **headers) -> HttpResponse:
    response = HttpResponse(status=status)
    response["Tus-Resumable"] = uploads.TUS_VERSION
    response["Cache-Control"] = "no-store"
    for key, value in headers.items():
        response[key.replace("_", "-")] = str(value)
    return response


def _tus_error(error: uploads.TusError) -> HttpResponse:
    response = _tus_response(error.status)
    response.content = error.message.encode("utf-8")
    response["Content-Type"] = "text/plain; charset=utf-8"
    return response


def _tus_options(max_size: int | None = None) -> HttpResponse:
    headers = {"Tus_Version": uploads.TUS_VERSION, "Tus_Extension": uploads.TUS_EXTENSIONS}
    if max_size:
        headers["Tus_Max_Size"] = max_size
    return _tus_response(204, **headers)


def _tus_guard(request) -> uploads.TusError | None:
    if not request.user.is_authenticated:
        return uploads.TusError(401, _("请先登录"))
    if request.headers.get("Tus-Resumable") != uploads.TUS_VERSION:
        return uploads.TusError(412, _("需要 Tus-Resumable: 1.0.0"))
    return None


@never_cache
def tus_create(request, campaign: str, call: str):
    """tus creation: ``POST`` with ``Upload-Length`` (bytes) and ``Upload-Metadata`` → 201 with
    ``Location``. Only a unit that may submit to the call, and within the call's video size limit."""
    the_call = _call(campaign, call)
    limit = services.upload_limits(the_call).get("video")
    if request.method == "OPTIONS":
        return _tus_options(limit)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST", "OPTIONS"])
    if error := _tus_guard(request):
        return _tus_error(error)
    if limit is None or not check(request.user, "calls.submit_entry", the_call):
        return _tus_error(uploads.TusError(403, _("本账号不能向此征集上传视频")))
    length = request.headers.get("Upload-Length", "")
    if not length.isdigit():
        return _tus_error(uploads.TusError(400, _("需要 Upload-Length（字节数）")))
    if int(length) > limit:
        message = _("平台要求：视频不超过%(limit)s") % {"limit": media._fmt_bytes(limit)}
        return _tus_error(uploads.TusError(413, message))
    try:
        metadata = uploads.parse_metadata(request.headers.get("Upload-Metadata", ""))
    except uploads.TusError as error:
        return _tus_error(error)
    upload = uploads.create(
        user_id=request.user.pk, call_id=the_call.pk, length=int(length), metadata=metadata
    )
    location = request.build_absolute_uri(reverse("calls:tus_upload", args=[upload.id]))
    return _tus_response(201, Location=location, Upload_Expires=formatdate(upload.expires, usegmt=True))


@csrf_exempt
@never_cache
def tus_upload(request, upload_id: str):
    """tus core: ``HEAD`` (offset), ``PATCH`` (append at ``Upload-Offset``), ``DELETE`` (termination).
    CSRF is checked by hand for PATCH and DELETE (the header ``X-CSRFToken``), after the guard, so the
    body is never read before we decide to."""
    if request.method == "OPTIONS":
        return _tus_options()
    if request.method not in ("HEAD", "PATCH", "DELETE"):
        return HttpResponseNotAllowed(["HEAD", "PATCH", "DELETE", "OPTIONS"])
    if error := _tus_guard(request):
        return _tus_error(error)
    if request.method != "HEAD":
        from django.middleware.csrf import CsrfViewMiddleware

        reject = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
        if reject is not None:
            return reject
    try:
        upload = uploads.get(upload_id, user_id=request.user.pk)
        if request.method == "HEAD":
            return _tus_response(200, Upload_Offset=upload.offset, Upload_Length=upload.length)
        if request.method == "DELETE":
            upload.delete()
            return _tus_response(204)
        if request.content_type != "application/offset+octet-stream":
            raise uploads.TusError(415, _("Content-Type 须为 application/offset+octet-stream"))
        offset = request.headers.get("Upload-Offset", "")
        if not offset.isdigit():
            raise uploads.TusError(400, _("需要 Upload-Offset"))
        length = request.META.get("CONTENT_LENGTH")
        new_offset = uploads.append(upload, int(offset), request, int(length) if length else None)
        return _tus_response(
            204, Upload_Offset=new_offset, Upload_Expires=formatdate(upload.expires, usegmt=True)
        )
    except uploads.TusError as error:
        return _tus_error(error)


# --- judges -----------------------------------------------------------------------------------


@login_required
def judge_home(request):
    """评审: the calls this account judges, with its progress on each."""
    calls = Call.objects.filter(pk__in=roles.judged_call_ids(request.user)).select_related("campaign")
    rows = []
    for call in calls:
        entries = services.judgeable_entries(request.user, call)
        scored = Score.objects.filter(judge=request.user, entry__in=entries).count()
        rows.append({"call": call, "total": entries.count(), "scored": scored})
    return render(request, "calls/judge_home.html", {"rows": rows})


@login_required
def judge_call(request, campaign: str, call: str):
    """The entries of one call this judge scores, by anonymous code; no unit or uploader is shown."""
    the_call = _call(campaign, call)
    if the_call.pk not in roles.judged_call_ids(request.user):
        raise Http404
    entries = list(services.judgeable_entries(request.user, the_call))
    mine = dict(Score.objects.filter(judge=request.user, entry__in=entries).values_list("entry_id", "total"))
    rows = [{"entry": e, "total": mine.get(e.pk)} for e in entries]
    return render(
        request,
        "calls/judge_call.html",
        {
            "call": the_call,
            "rows": rows,
            "scored": len(mine),
            "themes": {t["slug"]: t["name"] for t in the_call.themes},
        },
    )


@login_required
def judge_entry(request, code: str):
    """Blind scoring of one entry: its code, title, theme and content, the criteria with their weights.
    An entry of the judge's own unit, or of a call the account does not judge, is a 404."""
    entry = _viewable(request, code, "calls.score_entry")
    score = Score.objects.filter(entry=entry, judge=request.user).first()
    errors = []
    if request.method == "POST":
        values = {c["slug"]: request.POST.get(f"score-{c['slug']}", "").strip() for c in entry.call.criteria}
        try:
            parsed = {k: float(v) for k, v in values.items() if v != ""}
            services.score_entry(entry, request.user, parsed, request.POST.get("comment", ""))
        except (ValueError, TypeError) as error:
            errors.append(
                str(error) if isinstance(error, services.ScoreError) else _("得分须为0—100之间的数字")
            )
        else:
            messages.success(request, _("已保存对作品 %(code)s 的评分") % {"code": entry.code})
            following = (
                services.judgeable_entries(request.user, entry.call)
                .exclude(scores__judge=request.user)
                .first()
            )
            if following is not None:
                return redirect("calls:judge_entry", code=following.code)
            return redirect("calls:judge_call", campaign=entry.call.campaign.slug, call=entry.call.slug)
    criteria = [
        {
            **c,
            "value": request.POST.get(f"score-{c['slug']}")
            if errors
            else (f"{score.scores[c['slug']]:g}" if score and c["slug"] in score.scores else ""),
        }
        for c in entry.call.criteria
    ]
    return render(
        request,
        "calls/judge_entry.html",
        {
            "entry": entry,
            "criteria": criteria,
            "score": score,
            "errors": errors,
            "theme": {t["slug"]: t["name"] for t in entry.call.themes}.get(entry.theme, ""),
        },
        status=400 if errors else 200,
    )


# --- the joint-action manager -----------------------------------------------------------------


@login_required
def manage_home(request):
    """征集管理: calls of the joint actions this account manages (every call for CAST)."""
    calls = Call.objects.select_related("campaign", "joint_action").order_by("-campaign__starts", "opens_at")
    calls = [c for c in calls if check(request.user, "calls.manage_call", c)]
    if not calls:
        raise Http404
    return render(request, "calls/manage_home.html", {"calls": calls})


@login_required
def manage_call(request, campaign: str, call: str):
    """One call's panel: judges (assign, remove), progress per judge, entries ranked by normalised and
    mean weighted score, shortlist (入围), reject, publish (择优发布)."""
    the_call = _call(campaign, call)
    if not check(request.user, "calls.manage_call", the_call):
        raise Http404
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        judge = get_user_model().objects.filter(username=username).first()
        if judge is None:
            messages.error(request, _("没有账号“%(username)s”") % {"username": username})
        elif request.POST.get("action") == "remove":
            services.remove_judge(the_call, judge, actor=request.user)
            messages.success(request, _("已取消 %(username)s 的评审资格") % {"username": username})
        else:
            services.assign_judge(the_call, judge, actor=request.user)
            messages.success(request, _("已指定 %(username)s 为评审专家") % {"username": username})
        return redirect("calls:manage_call", campaign=campaign, call=call)
    return render(
        request,
        "calls/manage_call.html",
        {
            "call": the_call,
            "results": services.results(the_call),
            "progress": services.judge_progress(the_call),
            "phase": call_phase(the_call),
            "drafts": Entry.objects.filter(call=the_call, status=EntryStatus.DRAFT).count(),
        },
    )


@login_required
@require_POST
def manage_entry(request, code: str):
    """``to=shortlisted|rejected|published|submitted`` on an entry of a managed call."""
    entry = _viewable(request, code, "calls.manage_entry")
    target = request.POST.get("to", "")
    if target not in (
        EntryStatus.SHORTLISTED,
        EntryStatus.REJECTED,
        EntryStatus.PUBLISHED,
        EntryStatus.SUBMITTED,
    ):
        raise Http404
    try:
        services.transition(entry, target, actor=request.user)
        messages.success(
            request,
            _("作品 %(code)s：%(status)s") % {"code": entry.code, "status": EntryStatus(target).label},
        )
    except services.TransitionError as error:
        messages.error(request, str(error))
    return redirect("calls:manage_call", campaign=entry.call.campaign.slug, call=entry.call.slug)


# --- public galleries -------------------------------------------------------------------------


def gallery_index(request):
    """征集作品展示: the calls of the current (or most recent) campaign and how many works each published."""
    campaign = Campaign.objects.order_by("-starts").first()
    if campaign is None:
        raise Http404
    calls = campaign.calls.select_related("joint_action").order_by("joint_action__number", "opens_at")
    counts = {}
    for row in Entry.objects.filter(call__campaign=campaign, status=EntryStatus.PUBLISHED).values_list(
        "call_id", flat=True
    ):
        counts[row] = counts.get(row, 0) + 1
    return render(
        request,
        "calls/gallery_index.html",
        {"campaign": campaign, "calls": [(c, counts.get(c.pk, 0)) for c in calls]},
    )


def call_results(request, campaign: str, call: str):
    """The published works of one call (择优发布): a video gallery filtered by theme and province, CityWalk
    routes by city with their stops in order, the book list, or the essay / work-plan results list."""
    the_call = _call(campaign, call)
    entries = services.published_entries(the_call)
    themes = {t["slug"]: t["name"] for t in the_call.themes}
    theme = request.GET.get("theme", "")
    province = request.GET.get("province", "")
    provinces = []
    if the_call.kind == CallKind.VIDEO:
        codes = sorted({e.organization.region_id[:2] for e in entries if e.organization.region_id})
        provinces = list(
            Region.objects.filter(code__in=[c + "0000" for c in codes]).values_list("code", "name")
        )
        if theme in themes:
            entries = entries.filter(theme=theme)
        if province.isdigit() and len(province) == 6:
            entries = entries.filter(organization__region__code__startswith=province[:2])
    if the_call.kind == CallKind.CITYWALK:
        entries = entries.prefetch_related("stops", "stops__region", "images").order_by("city_id", "title")
    rows = list(entries)
    by_city = (
        [(city, list(items)) for city, items in groupby(rows, key=lambda e: e.city)]
        if the_call.kind == CallKind.CITYWALK
        else []
    )
    return render(
        request,
        "calls/call_results.html",
        {
            "call": the_call,
            "entries": rows,
            "by_city": by_city,
            "themes": themes,
            "theme": theme,
            "provinces": provinces,
            "province": province,
            "nav": "calls",
        },
    )
