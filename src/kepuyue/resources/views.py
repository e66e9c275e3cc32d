"""Pages of the publicity resources (宣传资源): the public list and downloads, and the staff pages where
CAST and the joint-action managers upload. Thin: the rules are ``services``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST, require_safe

from kepuyue.calls import uploads
from kepuyue.campaigns.models import JointAction
from kepuyue.campaigns.services import current_campaign
from kepuyue.common.pagecache import depends, public_page
from kepuyue.common.storage import StorageFull, is_full
from kepuyue.common.text import clean_text
from kepuyue.roles import services as roles

from . import services
from .forms import CAMPAIGN_WIDE, ResourceForm
from .models import Kind, Resource

# Text fields of the form: what a body may hold besides the file.
FORM_TEXT_BYTES = 64 * 1024
LIST_LIMIT = 500


@require_safe
@public_page
def index(request):
    """宣传资源: the current campaign's resources, filtered by ``?action=<slug>`` (or ``campaign`` for the
    campaign-wide ones) and ``?kind=``; two queries whatever the number of rows.

    Page cache (ADR 0025): ``resources`` (a resource saved, hidden or downloaded — the page shows the
    counts), ``plan``."""
    depends(request, "resources", "plan")
    campaign = current_campaign()
    if campaign is None:
        raise Http404(_("还没有科普月方案"))
    actions = list(JointAction.objects.filter(campaign=campaign).order_by("number"))
    chosen = clean_text(request.GET.get("action") or "")[:64]
    kind = clean_text(request.GET.get("kind") or "")[:16]
    action = next((a for a in actions if a.slug == chosen), None)
    rows = services.public_resources(
        campaign, joint_action=action, kind=kind, campaign_wide=chosen == CAMPAIGN_WIDE
    )[:LIST_LIMIT]
    return render(
        request,
        "resources/index.html",
        {
            "campaign": campaign,
            "resources": rows,
            "actions": actions,
            "chosen": chosen if (action is not None or chosen == CAMPAIGN_WIDE) else "",
            "kind": kind if kind in Kind.values else "",
            "kinds": Kind.choices,
            "nav": "resources",
        },
    )


def download(request, pk: int):
    """The file of a public resource, as an attachment named after its title; counted once per request
    (``services.count_download``). A hidden resource or one without a file is a 404."""
    try:
        resource = services.downloadable(pk)
    except Resource.DoesNotExist:
        raise Http404(_("资源不存在或已下架")) from None
    try:
        handle = resource.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404(_("文件暂不可用")) from None
    services.count_download(resource)
    filename = f"{resource.title[:80]}.{resource.file_format or 'bin'}"
    return FileResponse(handle, as_attachment=True, filename=filename)


def _staff(request):
    if not services.may_manage(request.user):
        raise PermissionDenied(_("只有中国科协管理员和联合行动牵头单位可以管理宣传资源"))
    campaign = current_campaign()
    if campaign is None:
        raise Http404(_("还没有科普月方案"))
    return campaign


@login_required
def manage(request):
    """管理宣传资源: the resources the account keeps, with their download counts."""
    campaign = _staff(request)
    rows = services.manageable(request.user).filter(campaign=campaign).order_by("-created", "id")[:LIST_LIMIT]
    return render(request, "resources/manage.html", {"campaign": campaign, "resources": rows})


def _form(request, campaign, *, data=None, files=None, initial=None):
    return ResourceForm(
        data,
        files,
        initial=initial,
        actions=services.manageable_joint_actions(request.user, campaign),
        cast=roles.is_cast_admin(request.user),
    )


def _with_streaming(request):
    """Before the body is read: files stream to disk and stop at the largest cap (ADR 0006/0014)."""
    if request.method == "POST":
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            declared = int(declared) if declared.isascii() and declared.isdigit() else 0
        except ValueError:  # pragma: no cover - isdigit guards it
            declared = 0
        if declared > services.upload_limit() + FORM_TEXT_BYTES:
            return HttpResponse(
                _("上传内容超过宣传资源的文件大小上限"), status=413, content_type="text/plain; charset=utf-8"
            )
        request.upload_handlers = [
            uploads.StreamingUploadHandler(request, limits={"file": services.upload_limit()})
        ]
    return None


@csrf_exempt
def create(request):
    """上传宣传资源 (the CSRF check follows in ``_create``, once the upload handlers are set)."""
    return _with_streaming(request) or _create(request)


@login_required
@csrf_protect
def _create(request):
    campaign = _staff(request)
    if request.method != "POST":
        return render(
            request, "resources/form.html", {"form": _form(request, campaign), "campaign": campaign}
        )
    form = _form(request, campaign, data=request.POST, files=request.FILES)
    return _submit(request, campaign, form, None)


@csrf_exempt
def edit(request, pk: int):
    return _with_streaming(request) or _edit(request, pk)


@login_required
@csrf_protect
def _edit(request, pk: int):
    campaign = _staff(request)
    resource = get_object_or_404(services.manageable(request.user), pk=pk)
    if request.method != "POST":
        initial = {
            "kind": resource.kind,
            "title": resource.title,
            "description": resource.description,
            "joint_action": str(resource.joint_action_id or CAMPAIGN_WIDE),
            "brand": str(resource.brand_id or ""),
        }
        form = _form(request, campaign, initial=initial)
        return render(
            request, "resources/form.html", {"form": form, "campaign": campaign, "resource": resource}
        )
    form = _form(request, campaign, data=request.POST, files=request.FILES)
    return _submit(request, campaign, form, resource)


def _submit(request, campaign, form, resource):
    handler = next(
        (h for h in request.upload_handlers if isinstance(h, uploads.StreamingUploadHandler)), None
    )
    context = {"form": form, "campaign": campaign, "resource": resource}
    valid = form.is_valid()
    if handler is not None and handler.too_large:
        form.add_error(
            "file",
            _("平台要求：文件不超过%(limit)s")
            % {"limit": services.media._fmt_bytes(services.upload_limit(request.POST.get("kind")))},
        )
        valid = False
    if not valid:
        return render(request, "resources/form.html", context, status=400)
    part = request.FILES.get("file")
    upload = part.as_upload() if part is not None and hasattr(part, "as_upload") else None
    try:
        if resource is None:
            resource = services.add_resource(
                campaign=campaign, data=form.data_for_service(), upload=upload, actor=request.user
            )
            messages.success(request, _("已上传：%(title)s") % {"title": resource.title})
        else:
            services.update_resource(
                resource, data=form.data_for_service(), upload=upload, actor=request.user
            )
            messages.success(request, _("已保存：%(title)s") % {"title": resource.title})
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            for problem in problems:
                form.add_error(field if field in form.fields else None, problem)
        return render(request, "resources/form.html", context, status=400)
    except OSError as error:
        if not is_full(error):
            raise
        form.add_error(None, str(StorageFull()))
        return render(request, "resources/form.html", context, status=507)
    return redirect("resources:manage")


@login_required
@require_POST
def hide(request, pk: int):
    """下架 / 重新上架 (``hidden=1`` / ``0``)."""
    _staff(request)
    resource = get_object_or_404(services.manageable(request.user), pk=pk)
    services.set_hidden(resource, request.POST.get("hidden") == "1", actor=request.user)
    return redirect("resources:manage")
