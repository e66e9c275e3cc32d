"""Publicity resources (宣传资源, plan 八(一) “获取宣传资源”): who may upload, what a file must be, storing
it, the public list and the download count.

Files are checked like every other upload on the platform (ADR 0006, 0014), with the same helpers:
streamed to a temporary file by ``kepuyue.calls.uploads.StreamingUploadHandler`` (stops at the kind's
size cap, removed when the request ends), judged by content (``kepuyue.calls.media``: Pillow with a
pixel limit for images, PDF/DOCX by signature and ZIP directory, MP4 with the restricted demuxer and one
decoded frame), images re-encoded upright without EXIF/GPS (``kepuyue.common.images``), and written
atomically under a random name (``AtomicFileSystemStorage``), in the transaction that creates the row
— or nothing is left at all.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from kepuyue.audit import services as audit
from kepuyue.calls import media
from kepuyue.calls.services import Upload, sha256_of
from kepuyue.campaigns.models import Brand, JointAction
from kepuyue.common import pagecache
from kepuyue.common.images import without_metadata
from kepuyue.common.text import clean_text
from kepuyue.roles import services as roles

from .models import Kind, Resource

MB = 1024 * 1024
# Largest file of each kind, in bytes (the platform's choice; the plan sets none). Videos are the
# 宣传片 and 课程 clips CAST and the managers publish; longer ones belong on a video platform (a link).
MAX_BYTES = {
    Kind.LOGO: 20 * MB,
    Kind.POSTER: 50 * MB,
    Kind.TEMPLATE: 50 * MB,
    Kind.VIDEO: 1024 * MB,
    Kind.DOCUMENT: 50 * MB,
    Kind.PACK: 50 * MB,
}
# What each kind accepts, by content: "image" (JPEG, PNG, WebP), "pdf", "docx", "mp4".
ACCEPTED = {
    Kind.LOGO: ("image",),
    Kind.POSTER: ("image", "pdf"),
    Kind.TEMPLATE: ("docx", "pdf", "image"),
    Kind.VIDEO: ("mp4",),
    Kind.DOCUMENT: ("pdf", "docx"),
    Kind.PACK: ("pdf", "docx"),
}
FORMAT_LABELS = {"image": "JPEG/PNG/WebP图片", "pdf": "PDF", "docx": "Word（.docx）", "mp4": "MP4视频"}
IMAGE_MAX_PIXELS = 40_000_000
TITLE_MAX = 200
DESCRIPTION_MAX = 2000


def upload_limit(kind: str | None = None) -> int:
    """The largest file of ``kind`` in bytes (of any kind when ``None``: the body cap of the form)."""
    if kind in MAX_BYTES:
        return MAX_BYTES[Kind(kind)]
    return max(MAX_BYTES.values())


def accepted_text(kind: str) -> str:
    """``PDF、Word（.docx）`` — what ``kind`` accepts, for help texts and messages."""
    return "、".join(FORMAT_LABELS[f] for f in ACCEPTED[Kind(kind)])


# --- who may do what ---------------------------------------------------------------------------------


def may_manage(user) -> bool:
    """Whether ``user`` may upload resources at all: CAST administrators (any joint action, and the
    campaign-wide ones) and joint-action managers (their joint actions)."""
    return roles.is_cast_admin(user) or bool(roles.managed_joint_action_ids(user))


def manageable_joint_actions(user, campaign) -> list[JointAction]:
    """The joint actions of ``campaign`` whose resources ``user`` keeps."""
    actions = JointAction.objects.filter(campaign=campaign).order_by("number")
    if roles.is_cast_admin(user):
        return list(actions)
    return list(actions.filter(pk__in=roles.managed_joint_action_ids(user)))


def manageable(user):
    """The resources ``user`` keeps (a queryset): all for CAST, a manager's joint actions' otherwise.
    Another joint action's resource is not in it (its pages answer 404)."""
    rows = Resource.objects.select_related("campaign", "joint_action", "brand")
    if roles.is_cast_admin(user):
        return rows
    return rows.filter(joint_action_id__in=roles.managed_joint_action_ids(user) or [-1])


def _check_scope(user, joint_action) -> None:
    if roles.is_cast_admin(user):
        return
    if joint_action is None or joint_action.pk not in roles.managed_joint_action_ids(user):
        raise PermissionDenied(_("只能为本账号牵头的联合行动上传宣传资源"))


# --- files ---------------------------------------------------------------------------------------------


def check_file(kind: str, upload: Upload) -> tuple[str, list[str]]:
    """Judge ``upload`` (a file on local disk) for a resource of ``kind`` by its content.

    Returns ``(format, errors)``: ``format`` one of ``jpg``/``png`` (as it will be stored), ``pdf``,
    ``docx``, ``mp4``; ``errors`` Chinese messages (empty when accepted). Never trusts the file name or
    the browser's content type. Raises ``OSError`` only if the file cannot be read.
    """
    kind = Kind(kind)
    limit = MAX_BYTES[kind]
    if upload.size == 0:
        return "", [_("文件为空，请重新上传")]
    if upload.size > limit:
        return "", [
            _("平台要求：%(kind)s文件不超过%(limit)s，此文件为%(size)s")
            % {"kind": kind.label, "limit": media._fmt_bytes(limit), "size": media._fmt_bytes(upload.size)}
        ]
    accepted = ACCEPTED[kind]
    with open(upload.path, "rb") as fh:
        head = fh.read(16)
    document = media.sniff_document(upload.path) if head[:4] in (b"%PDF", b"PK\x03\x04") else None
    if document in accepted:
        return document, []
    if "image" in accepted and document is None and not head.startswith((b"%PDF", b"PK")):
        result = media.check_image(upload.path, max_bytes=limit, max_pixels=IMAGE_MAX_PIXELS)
        if result.ok:
            return ("png" if result.format == "png" else "jpg"), []
        if result.format is not None or head[:3] == b"\xff\xd8\xff" or head[:4] == b"\x89PNG":
            return "", result.errors
    if "mp4" in accepted:
        result = media.check_video(upload.path, {"container": "mp4"}, plan_ref=None)
        if result.ok:
            return "mp4", []
        return "", result.errors
    return "", [
        _("%(kind)s须为%(formats)s；按文件内容判断，此文件不是（%(name)s）")
        % {"kind": kind.label, "formats": accepted_text(kind), "name": upload.name[:100] or _("未命名文件")}
    ]


class _LocalFile(File):
    """A local temporary file handed to ``Storage.save``: the atomic storage links it into place."""

    def temporary_file_path(self) -> str:
        return self.name


def _store(resource: Resource, upload: Upload, file_format: str, saved: list) -> None:
    base = uuid.uuid4().hex
    resource.sha256 = sha256_of(upload)  # before the bytes are moved into place
    if file_format in ("jpg", "png"):
        clean = without_metadata(str(upload.path), max_pixels=IMAGE_MAX_PIXELS)
        resource.file.save(f"{base}.{clean.extension}", ContentFile(clean.content), save=False)
        file_format, size = clean.extension, len(clean.content)
    else:
        with open(upload.path, "rb") as fh:
            resource.file.save(f"{base}.{file_format}", _LocalFile(fh, name=str(upload.path)), save=False)
        size = upload.size
    saved.append(resource.file.name)
    resource.file_format = file_format
    resource.file_size = size
    resource.file_name = clean_text(Path(upload.name or "").name)[:200]


# --- writing ------------------------------------------------------------------------------------------


def _texts(data) -> tuple[dict, dict]:
    errors: dict[str, list[str]] = {}
    values = {}
    for name, label, limit, multiline in (
        ("title", _("名称"), TITLE_MAX, False),
        ("description", _("说明"), DESCRIPTION_MAX, True),
    ):
        try:
            values[name] = clean_text(
                data.get(name) or "", max_length=limit, label=label, multiline=multiline
            )
        except ValidationError as error:
            errors.setdefault(name, []).extend(error.messages)
    if not errors.get("title") and not values.get("title"):
        errors.setdefault("title", []).append(_("名称：必须填写"))
    return values, errors


def validate(data, *, campaign) -> tuple[dict, dict]:
    """Check a resource's fields: ``kind`` (a :class:`Kind`), ``title`` (≤ 200), ``description``
    (≤ 2,000, several lines), ``joint_action`` (a JointAction of ``campaign`` or ``None``: campaign-wide),
    ``brand`` (a Brand of that joint action, or ``None``). Returns ``(values, errors)``; ``errors`` maps a
    field to Chinese messages."""
    values, errors = _texts(data)
    kind = data.get("kind") or ""
    if kind not in Kind.values:
        errors.setdefault("kind", []).append(_("请选择资源类型"))
    values["kind"] = kind
    action = data.get("joint_action")
    if action is not None and action.campaign_id != campaign.pk:
        errors.setdefault("joint_action", []).append(_("联合行动不属于本届科普月"))
    brand = data.get("brand")
    if brand is not None and (action is None or brand.joint_action_id != action.pk):
        errors.setdefault("brand", []).append(_("品牌活动须属于所选联合行动"))
    values["joint_action"], values["brand"] = action, brand
    return values, errors


def add_resource(*, campaign, data, upload: Upload | None, actor) -> Resource:
    """Create a resource of ``campaign`` from ``data`` (see :func:`validate`) with the file ``upload``
    (optional: a description alone is allowed, e.g. a shared pack whose files come later), by ``actor``
    (CAST, or the manager of ``data["joint_action"]``). The file is checked (:func:`check_file`) and
    stored in the transaction that creates the row; any failure leaves neither. Audited
    (``resource.create``). Raises ``PermissionDenied`` out of scope, ``ValidationError`` (dict)."""
    values, errors = validate(data, campaign=campaign)
    _check_scope(actor, values["joint_action"])
    file_format = ""
    if upload is not None and not errors.get("kind"):
        file_format, problems = check_file(values["kind"], upload)
        if problems:
            errors.setdefault("file", []).extend(problems)
    if errors:
        raise ValidationError(errors)
    resource = Resource(campaign=campaign, uploaded_by=actor if actor and actor.is_authenticated else None)
    for name, value in values.items():
        setattr(resource, name, value)
    _save(resource, upload, file_format, action="resource.create", actor=actor)
    return resource


def update_resource(resource: Resource, *, data, upload: Upload | None, actor) -> Resource:
    """Change a resource's fields and, with ``upload``, replace its file (the old one is deleted once the
    change commits). Same rules and scope as :func:`add_resource` (also for the joint action it moves
    to). Audited (``resource.update``)."""
    _check_scope(actor, resource.joint_action)
    values, errors = validate(data, campaign=resource.campaign)
    _check_scope(actor, values["joint_action"])
    file_format = ""
    if upload is not None and not errors.get("kind"):
        file_format, problems = check_file(values["kind"], upload)
        if problems:
            errors.setdefault("file", []).extend(problems)
    elif upload is None and resource.file and values.get("kind") and not errors.get("kind"):
        if not _format_fits(values["kind"], resource.file_format):
            errors.setdefault("kind", []).append(
                _("已上传的文件不是%(kind)s可用的格式（%(formats)s），请同时上传新文件")
                % {"kind": Kind(values["kind"]).label, "formats": accepted_text(values["kind"])}
            )
    if errors:
        raise ValidationError(errors)
    old = resource.file.name if resource.file else ""
    for name, value in values.items():
        setattr(resource, name, value)
    _save(resource, upload, file_format, action="resource.update", actor=actor)
    if upload is not None and old and old != resource.file.name:
        storage = resource.file.storage
        transaction.on_commit(lambda: storage.delete(old))
    return resource


def _format_fits(kind: str, file_format: str) -> bool:
    fmt = "image" if file_format in ("jpg", "png") else file_format
    return fmt in ACCEPTED[Kind(kind)]


def _save(resource: Resource, upload, file_format: str, *, action: str, actor) -> None:
    saved: list[str] = []
    try:
        with transaction.atomic():
            if upload is not None:
                _store(resource, upload, file_format, saved)
            resource.save()
            audit.record(
                action,
                actor=actor,
                obj=resource,
                data={"kind": resource.kind, "file": resource.file.name or "", "sha256": resource.sha256},
            )
    except Exception:
        for name in saved:
            resource.file.storage.delete(name)
        raise


def set_hidden(resource: Resource, hidden: bool, *, actor) -> Resource:
    """下架 / 重新上架: a hidden resource leaves the public page and its download answers 404. Audited."""
    _check_scope(actor, resource.joint_action)
    if resource.hidden != hidden:
        resource.hidden = hidden
        resource.save(update_fields=["hidden", "updated"])
        audit.record("resource.hide" if hidden else "resource.show", actor=actor, obj=resource)
    return resource


# --- the public side ------------------------------------------------------------------------------


def public_resources(campaign, *, joint_action=None, kind: str = "", campaign_wide: bool = False):
    """The resources the public sees for ``campaign`` (not hidden), filtered by ``joint_action`` (a
    JointAction), ``campaign_wide`` (only those of no joint action) and ``kind``; joint action and brand
    selected (one query)."""
    rows = Resource.objects.filter(campaign=campaign, hidden=False).select_related("joint_action", "brand")
    if campaign_wide:
        rows = rows.filter(joint_action=None)
    elif joint_action is not None:
        rows = rows.filter(joint_action=joint_action)
    if kind in Kind.values:
        rows = rows.filter(kind=kind)
    return rows.order_by(F("joint_action__number").asc(nulls_first=True), "kind", "-created", "id")


def downloadable(pk: int) -> Resource:
    """A public resource with a file, or ``Resource.DoesNotExist``."""
    return Resource.objects.select_related("campaign").get(~Q(file=""), pk=pk, hidden=False)


def count_download(resource: Resource) -> None:
    """One more download: a single ``UPDATE … SET downloads = downloads + 1`` (no read, no lock held
    across the response; concurrent downloads never lose a count)."""
    Resource.objects.filter(pk=resource.pk).update(downloads=F("downloads") + 1)
    # The public list shows the count (page cache, ADR 0025).
    transaction.on_commit(lambda: pagecache.bump("resources"), robust=True)


def brand_choices(actions) -> list[Brand]:
    """The brands of ``actions`` (for the form), in the YAML's order."""
    return list(
        Brand.objects.filter(joint_action__in=actions)
        .select_related("joint_action")
        .order_by("joint_action__number", "order")
    )


__all__ = [
    "ACCEPTED",
    "MAX_BYTES",
    "ObjectDoesNotExist",
    "accepted_text",
    "add_resource",
    "brand_choices",
    "check_file",
    "count_download",
    "downloadable",
    "manageable",
    "manageable_joint_actions",
    "may_manage",
    "public_resources",
    "set_hidden",
    "update_resource",
    "upload_limit",
]
