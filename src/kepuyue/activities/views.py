"""Staff pages of the activities app (单位后台): my activities, publish/edit/submit, import, export.

Thin views: the organization always comes from the signed-in account's ``Membership``, never
from the request data; the rules live in ``services``, ``importing`` and ``exporting``. Another
unit's activity or import job is a 404. A superuser without a membership may run an
administrator's import (organizers looked up by name; rows published) but publishes no activity.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kepuyue.common import clock
from kepuyue.common.paging import BoundedPaginator
from kepuyue.common.ratelimits import limit, user_or_ip
from kepuyue.common.storage import signed_download_url
from kepuyue.common.text import ids_from

from . import export_jobs, exporting, importing, services, summaries, tasks
from .forms import ActivityForm, ImportUploadForm, SummaryForm
from .listing import ActivityFilter, filter_activities
from .models import Activity, ExportJob, ImportJob, Status

PAGE_SIZE = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def organization_of(user):
    """The organization ``user`` publishes for (its ``Membership``), or ``None`` (read once per request)."""
    from kepuyue.roles.services import organization_of as membership_organization

    return membership_organization(user)


def _organization(request):
    organization = organization_of(request.user)
    if organization is None:
        raise PermissionDenied(_("当前账号未绑定参与单位，不能发布活动"))
    return organization


def _own_activity(request, pk: int) -> Activity:
    return get_object_or_404(
        Activity.objects.select_related("joint_action", "brand", "key_task", "region"),
        pk=pk,
        organizer=_organization(request),
    )


@login_required
def my_activities(request):
    """我的活动: the unit's activities, newest first, with their status; ``?status=`` filters."""
    organization = _organization(request)
    activities = (
        services.activities_of(organization)
        .select_related("joint_action", "brand")
        .order_by("-created", "-id")
    )
    status = request.GET.get("status", "")
    if status in Status.values:
        activities = activities.filter(status=status)
    page = BoundedPaginator(
        activities.defer("description", "description_html", "search_text"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "activities/activity_list.html",
        {
            "organization": organization,
            "page": page,
            "statuses": Status.choices,
            "status": status,
            "editable": services.EDITABLE_STATUSES,
        },
    )


def _save(request, form: ActivityForm, organization, activity: Activity | None):
    data = form.to_data()
    try:
        if activity is None:
            activity = services.create_activity(organization, data, actor=request.user)
        else:
            activity = services.update_activity(activity, data, actor=request.user)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                target = "region" if field in ("region_code", "region") else field
                for message in errors:
                    form.add_error(target if target in form.fields else None, message)
        else:
            form.add_error(None, exc.messages)
        return None
    if request.POST.get("action") == "submit":
        try:
            services.transition(activity, Status.SUBMITTED, actor=request.user)
            messages.success(request, _("已提交审核：%(title)s") % {"title": activity.title})
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已保存为草稿：%(title)s") % {"title": activity.title})
    return activity


@login_required
def activity_detail(request, pk: int):
    """活动详情与处理记录: the unit's own activity with its workflow history (who, when, from, to, why)."""
    from kepuyue.audit import services as audit

    activity = _own_activity(request, pk)
    return render(
        request,
        "activities/activity_detail.html",
        {
            "activity": activity,
            "history": audit.history(activity).filter(action__startswith="activity."),
            "editable": activity.status in services.EDITABLE_STATUSES,
            **_summary_context(activity),
        },
    )


def _summary_context(activity: Activity) -> dict:
    """What the detail and summary pages say about the summary: it, its due date, late or not."""
    published = activity.status == Status.PUBLISHED
    return {
        "summary": summaries.summary_of(activity) if published else None,
        "summary_due": summaries.summary_due(activity) if published else None,
        "ended": summaries.has_ended(activity),
        "overdue": published and clock.now() > summaries.summary_due(activity),
    }


@login_required
def activity_summary(request, pk: int):
    """活动总结: the unit fills in (or corrects) the summary of its published activity once it has
    ended; the due date is shown and a late one is accepted but marked. Another unit's activity is
    a 404, a summary of an unpublished one is refused (403 on POST)."""
    activity = _own_activity(request, pk)
    context = _summary_context(activity)
    summary = context["summary"]
    can_submit = activity.status == Status.PUBLISHED and context["ended"]
    # People counted by higher apps (registrations: checked in), offered as the participant count.
    attended = summaries.attendance(activity) if can_submit else None
    if request.method == "POST":
        if not can_submit:
            raise PermissionDenied(_("只能在已发布的活动结束后提交总结"))
        form = SummaryForm(request.POST)
        if form.is_valid():
            try:
                summaries.submit_summary(
                    activity,
                    form.cleaned_data,
                    actor=request.user,
                    photos=request.FILES.getlist("photos"),
                    remove_photo_ids=ids_from(request.POST.getlist("remove_photo")),
                )
            except ValidationError as exc:
                grouped = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
                for field, errors in grouped.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
            else:
                messages.success(request, _("已提交活动总结：%(title)s") % {"title": activity.title})
                return redirect("activities:detail", pk=activity.pk)
    else:
        initial = {}
        if attended is not None:
            initial["participants"] = attended
        if summary is not None:
            initial = {
                "text": summary.text,
                "participants": summary.participants,
                "video_links": "\n".join(summary.video_links),
                "news_links": "\n".join(summary.news_links),
            }
        form = SummaryForm(initial=initial)
    return render(
        request,
        "activities/summary_form.html",
        {
            "activity": activity,
            "form": form,
            "can_submit": can_submit,
            "max_photos": summaries.MAX_PHOTOS,
            "attended": attended,
            **context,
        },
    )


@login_required
def activity_create(request):
    """发布活动: a new activity of the unit, saved as a draft (or submitted at once)."""
    organization = _organization(request)
    campaign = importing.default_campaign()
    form = ActivityForm(request.POST or None, request.FILES or None, campaign=campaign)
    if request.method == "POST" and form.is_valid() and _save(request, form, organization, None):
        return redirect("activities:mine")
    return render(
        request,
        "activities/activity_form.html",
        {"form": form, "organization": organization, "campaign": campaign},
    )


@login_required
def brand_suggestion(request):
    """建议品牌 for the publishing form's script: ``?joint_action=<id>&title=…&summary=…`` →
    ``{"suggestion": {"brand_id", "brand", "term", "field", "reason"} | null}``. Only a suggestion: the
    form shows it with its reason and a button; nothing is set without the unit's click (plan 八(一))."""
    _organization(request)
    from kepuyue.campaigns.models import JointAction
    from kepuyue.common.text import clean_text

    action_id = request.GET.get("joint_action") or ""
    action = (
        JointAction.objects.filter(pk=int(action_id)).first()
        if action_id.isascii() and action_id.isdigit() and len(action_id) < 10
        else None
    )
    title = clean_text(request.GET.get("title") or "")[:200]
    summary = clean_text(request.GET.get("summary") or "", multiline=True)[:500]
    found = services.suggest_brand(title, summary, services.brands_of(action)) if action else None
    return JsonResponse(
        {"suggestion": found.as_dict() if found else None}, json_dumps_params={"ensure_ascii": False}
    )


@login_required
def activity_edit(request, pk: int):
    """修改活动: only drafts and returned activities can be changed."""
    activity = _own_activity(request, pk)
    if activity.status not in services.EDITABLE_STATUSES:
        messages.error(
            request, _("活动状态为“%(status)s”，不能修改") % {"status": activity.get_status_display()}
        )
        return redirect("activities:mine")
    campaign = activity.campaign
    form = ActivityForm(request.POST or None, request.FILES or None, campaign=campaign, activity=activity)
    if request.method == "POST" and form.is_valid() and _save(request, form, activity.organizer, activity):
        return redirect("activities:mine")
    return render(
        request,
        "activities/activity_form.html",
        {"form": form, "organization": activity.organizer, "campaign": campaign, "activity": activity},
    )


@login_required
@require_POST
def activity_submit(request, pk: int):
    """提交审核 of a draft or returned activity."""
    activity = _own_activity(request, pk)
    try:
        services.transition(activity, Status.SUBMITTED, actor=request.user)
        messages.success(request, _("已提交审核：%(title)s") % {"title": activity.title})
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("activities:mine")


@login_required
@require_POST
def activity_withdraw(request, pk: int):
    """撤回 a published activity of the unit (it leaves the public pages); ``reason`` is kept in the history."""
    from kepuyue.roles.rules import check

    activity = _own_activity(request, pk)
    if not check(request.user, "activities.withdraw_activity", activity):
        messages.error(request, _("只有已发布的活动可以撤回"))
        return redirect("activities:detail", pk=activity.pk)
    try:
        services.transition(
            activity, Status.WITHDRAWN, actor=request.user, reason=request.POST.get("reason", "")
        )
        messages.success(request, _("已撤回：%(title)s") % {"title": activity.title})
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("activities:detail", pk=activity.pk)


@login_required
@limit("export", key=user_or_ip)
def export_mine(request, fmt: str):
    """The unit's activities as ``.xlsx`` or ``.csv``, filtered by ``?status=`` and by every filter
    of the public list (``q``, ``joint_action``, ``brand``, ``province``/``city``/``county``,
    ``from``/``to``, ``form``, ``audience``, ``topic``, ``phase`` — see ``listing.ActivityFilter``);
    phones unmasked, since they are the unit's own."""
    organization = _organization(request)
    activities, _messages = filter_activities(
        ActivityFilter.from_params(request.GET), queryset=services.activities_of(organization), paged=False
    )
    status = request.GET.get("status", "")
    if status in Status.values:
        activities = activities.filter(status=status)
    if fmt not in ("xlsx", "csv"):
        raise Http404
    name = exporting.export_filename(f"{organization.name}_活动", fmt)
    if export_jobs.too_large_for_request(activities):
        params = {k: v for k, v in request.GET.items() if v}
        return offer_export_job(
            request, fmt, name, kind=export_jobs.Kind.MINE, params=params, organization=organization
        )
    from kepuyue.audit import services as audit

    # Full phone numbers are personal data: the export is audited.
    audit.record(
        "export.activities",
        actor=request.user,
        organization=organization,
        data={"format": fmt, "status": status},
    )
    if fmt == "xlsx":
        return exporting.xlsx_response(activities, name, mask_phones=False)
    return exporting.csv_response(activities, name, mask_phones=False)


def offer_export_job(
    request, fmt: str, filename: str, *, kind: str, params: dict, organization=None, campaign=None
):
    """A list too long for one request: GET shows what will be exported and a button (POST) that
    starts the background job, then goes to its progress page. Used by this app's and the review
    desk's export views."""
    if request.method == "POST":
        job = export_jobs.start_export(
            request.user,
            kind=kind,
            fmt=fmt,
            params=params,
            filename=filename,
            organization=organization,
            campaign=campaign,
        )
        return redirect("activities:export_job", pk=job.pk)
    return render(
        request,
        "activities/export_offer.html",
        {
            "fmt": fmt,
            "filename": filename,
            "limit": export_jobs.inline_limit(),
            "days": export_jobs.retention().days,
        },
    )


@login_required
def export_list(request):
    """我的导出: the account's export jobs, newest first (only its own), with their state."""
    jobs = list(export_jobs.jobs_of(request.user)[:50])
    return render(
        request,
        "activities/export_list.html",
        {"jobs": [(job, export_jobs.is_stale(job)) for job in jobs], "days": export_jobs.retention().days},
    )


def _own_export(request, pk: int) -> ExportJob:
    return get_object_or_404(export_jobs.jobs_of(request.user), pk=pk)


@login_required
def export_job(request, pk: int):
    """One export job: progress (the page refreshes itself every 2 s while it runs, no JavaScript
    needed), then the download link; a failed or interrupted job can be started again. Another
    account's job is a 404."""
    job = _own_export(request, pk)
    if request.method == "POST" and request.POST.get("action") == "retry":
        export_jobs.retry(job)
        return redirect("activities:export_job", pk=job.pk)
    stale = export_jobs.is_stale(job)
    running = job.state in export_jobs.RUNNING_STATES and not stale
    percent = int(100 * job.processed / job.total) if job.total else 0
    return render(
        request,
        "activities/export_job.html",
        {"job": job, "running": running, "stale": stale, "percent": min(percent, 100)},
    )


@login_required
def export_download(request, pk: int):
    """The file of a finished export job, for its owner only (anyone else, or after it expired: 404)."""
    job = _own_export(request, pk)
    if job.state != ExportJob.State.DONE or not job.file or (job.expires_at and job.expires_at < clock.now()):
        raise Http404(_("导出文件不存在或已过期"))
    if url := signed_download_url(job.file, filename=job.filename or f"activities.{job.fmt}"):
        return redirect(url)  # an object store: the browser fetches the file from it (ADR 0026)
    try:
        handle = job.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("导出文件不存在或已过期")) from exc
    content_type = XLSX if job.fmt == "xlsx" else "text/csv; charset=utf-8"
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = exporting.content_disposition(
        job.filename, fallback=f"activities.{job.fmt}"
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- import -----------------------------------------------------------------------------------------


def _importer_scope(request):
    """``(organization, is_admin)`` for the import pages: a unit imports for itself; a superuser
    without a membership runs an administrator's import."""
    organization = organization_of(request.user)
    if organization is not None:
        return organization, False
    if request.user.is_superuser:
        return None, True
    raise PermissionDenied(_("当前账号未绑定参与单位，不能导入活动"))


def _own_job(request, pk: int) -> ImportJob:
    organization, is_admin = _importer_scope(request)
    jobs = (
        ImportJob.objects.filter(organization__isnull=True)
        if is_admin
        else ImportJob.objects.filter(organization=organization)
    )
    return get_object_or_404(jobs, pk=pk)


@login_required
@limit("import", key=user_or_ip, method="POST")
def import_upload(request):
    """导入活动: upload a sheet; validation starts at once (in the background for large files)."""
    organization, is_admin = _importer_scope(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None, admin=is_admin)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        original = upload.name
        upload.name = f"{uuid.uuid4().hex}{Path(original).suffix.lower()}"
        job = ImportJob.objects.create(
            organization=organization,
            created_by=request.user,
            file=upload,
            original_name=original[:255],
            default_organizer=form.cleaned_data.get("default_organizer"),
        )
        tasks.queue_validate(job)
        return redirect("activities:import_job", pk=job.pk)
    own = (
        ImportJob.objects.filter(organization__isnull=True)
        if is_admin
        else ImportJob.objects.filter(organization=organization)
    )
    importing.recover_stale(own)
    jobs = own.order_by("-created")[:10]
    return render(
        request,
        "activities/import_upload.html",
        {"form": form, "organization": organization, "is_admin": is_admin, "jobs": jobs},
    )


@login_required
def import_job(request, pk: int):
    """One import: progress (the page refreshes itself every 2 s while running, no JavaScript
    needed), then the validation report and the commit button, then the result."""
    job = _own_job(request, pk)
    if importing.recover_stale(ImportJob.objects.filter(pk=job.pk)):
        job.refresh_from_db()
    running = job.state in importing.RUNNING
    percent = int(100 * job.processed / job.total) if job.total else 0
    rows = importing.row_report(job)
    failed = importing.failed_rows(job)
    drafts = (
        Activity.objects.filter(import_job=job, status=Status.DRAFT).count()
        if job.state == ImportJob.State.DONE and job.organization_id
        else 0
    )
    return render(
        request,
        "activities/import_job.html",
        {
            "job": job,
            "running": running,
            "percent": min(percent, 100),
            "rows": rows[:200],
            "more_rows": max(0, len(rows) - 200),
            "counts": importing.counts_line(job) if job.report else "",
            "failed_count": len(failed),
            "warning_count": sum(1 for i in job.report if i.get("level") == importing.WARNING),
            "summary": importing.summary_line(job) if job.state == ImportJob.State.DONE else "",
            "drafts": drafts,
            "can_retry": job.state == ImportJob.State.FAILED
            and job.retryable
            and job.attempts < importing.MAX_ATTEMPTS,
        },
    )


@login_required
@require_POST
@limit("import", key=user_or_ip)
def import_retry(request, pk: int):
    """重试: run the interrupted step of a stale or failed-retryable import again."""
    job = _own_job(request, pk)
    try:
        step = importing.retry_import(job)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("activities:import_job", pk=job.pk)
    if step == "commit":
        tasks.queue_commit(job)
    else:
        tasks.queue_validate(job)
    messages.success(request, _("已重新开始，请稍候"))
    return redirect("activities:import_job", pk=job.pk)


@login_required
@require_POST
@limit("import", key=user_or_ip)
def import_submit_drafts(request, pk: int):
    """提交全部草稿: submit every draft of this import for review in one step."""
    job = _own_job(request, pk)
    if job.organization_id is None:
        raise Http404
    submitted, refused = services.submit_import_drafts(job, actor=request.user)
    if submitted:
        messages.success(request, _("已提交审核 %(n)d 个活动") % {"n": len(submitted)})
    for activity, reason in refused[:20]:
        messages.error(
            request, _("未提交“%(title)s”：%(reason)s") % {"title": activity.title, "reason": reason}
        )
    if len(refused) > 20:
        messages.error(
            request, _("另有 %(n)d 个草稿未能提交，请在“我的活动”中查看") % {"n": len(refused) - 20}
        )
    if not submitted and not refused:
        messages.info(request, _("这次导入没有待提交的草稿"))
    return redirect("activities:import_job", pk=job.pk)


@login_required
@require_POST
def import_commit(request, pk: int):
    """确认导入: write the validated rows (in the background)."""
    job = _own_job(request, pk)
    if job.state != ImportJob.State.VALIDATED:
        messages.error(
            request, _("这次导入当前状态为“%(state)s”，不能导入") % {"state": job.get_state_display()}
        )
        return redirect("activities:import_job", pk=job.pk)
    job.state = ImportJob.State.COMMITTING
    job.processed = 0
    job.heartbeat = timezone.now()  # queued: the stale check counts from here
    job.save(update_fields=["state", "processed", "heartbeat", "updated"])
    tasks.queue_commit(job)
    return redirect("activities:import_job", pk=job.pk)


@login_required
def import_report(request, pk: int):
    """The validation report of an import as ``.xlsx``."""
    job = _own_job(request, pk)
    response = HttpResponse(importing.report_workbook(job), content_type=XLSX)
    name = f"{Path(job.original_name).stem}_问题报告.xlsx"
    response["Content-Disposition"] = exporting.content_disposition(name, fallback="import-report.xlsx")
    return response


@login_required
def import_template(request):
    """The 重点科普活动信息表 template with its drop-down lists."""
    _importer_scope(request)
    response = HttpResponse(importing.build_template(), content_type=XLSX)
    response["Content-Disposition"] = exporting.content_disposition(
        "重点科普活动信息表.xlsx", fallback="activities-template.xlsx"
    )
    return response
