"""What every entry kind shares: uploads on local disk, size limits, eligibility, the document
check, and where entry files are stored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kepuyue.campaigns.models import Call, CallKind
from kepuyue.campaigns.services import call_phase
from kepuyue.common import clock
from kepuyue.common.clock import Phase

from .. import media
from ..models import Entry

# Defaults where a call's YAML spec is silent (the platform's choices; the plan sets none).
DEFAULT_VIDEO_MAX_BYTES = 2 * 1024**3
DEFAULT_DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_IMAGE_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_IMAGE_MAX_PIXELS = 40_000_000
DEFAULT_MAX_IMAGES = 6
# The body of a .docx is read for its character count only up to this many uncompressed bytes.
MAX_DOCX_XML_BYTES = 50 * 1024 * 1024
HASH_CHUNK = 1024 * 1024


@dataclass
class Upload:
    """A complete uploaded file on local disk, not yet validated.

    ``path``: the temporary file; ``name``: the name the uploader's device gave it (display only, never
    used to decide the format); ``size``: bytes; ``sha256``: hex digest when computed while streaming
    (else computed on demand by :func:`sha256_of`).
    """

    path: Path
    name: str = ""
    size: int = 0
    sha256: str = ""

    def __post_init__(self):
        self.path = Path(self.path)
        if not self.size:
            self.size = self.path.stat().st_size


class _LocalFile(File):
    """A local file handed to ``Storage.save``; ``temporary_file_path`` lets ``FileSystemStorage`` move it
    into place instead of copying (a 2 GB video is renamed, not rewritten). Other storages stream it."""

    def temporary_file_path(self) -> str:
        return self.name


def sha256_of(upload: Upload) -> str:
    """The SHA-256 of ``upload`` (hex), read in 1 MB chunks; cached on the object."""
    if not upload.sha256:
        digest = hashlib.sha256()
        with open(upload.path, "rb") as fh:
            while chunk := fh.read(HASH_CHUNK):
                digest.update(chunk)
        upload.sha256 = digest.hexdigest()
    return upload.sha256


def upload_limits(call: Call) -> dict[str, int]:
    """Largest file per form field of ``call``, in bytes: ``{"video": …}``, ``{"images": …}`` or
    ``{"document": …}`` (from the YAML ``spec``, else the platform's defaults)."""
    spec = call.spec or {}
    if call.kind == CallKind.VIDEO:
        return {"video": int(spec.get("max_bytes") or DEFAULT_VIDEO_MAX_BYTES)}
    if call.kind == CallKind.CITYWALK:
        return {"images": int(spec.get("max_image_bytes") or DEFAULT_IMAGE_MAX_BYTES)}
    if call.kind in (CallKind.ESSAY, CallKind.WORK_PLAN):
        return {"document": int(spec.get("max_bytes") or DEFAULT_DOCUMENT_MAX_BYTES)}
    return {}


def cite(call: Call) -> str:
    """``方案 四(二)2`` for a call with a plan section, else ``平台要求``."""
    return _("方案 %(ref)s") % {"ref": call.plan_ref} if call.plan_ref else _("平台要求")


# --- eligibility ------------------------------------------------------------------------------


def eligibility_problem(call: Call, organization, at=None) -> str | None:
    """Why ``organization`` may not submit to ``call`` at ``at`` (default now), or ``None`` if it may.

    Rules: the unit's type is one of the call's ``eligible_types`` (any type when the call lists none),
    and the call is open (``opens_at`` … ``closes_at``, or the campaign's last day when it has no close).
    """
    if organization is None:
        return _("此账号未关联单位，不能提交作品")
    eligible = list(call.eligible_types.all())
    if eligible and organization.type_id not in {t.code for t in eligible}:
        names = _sep().join(t.name for t in eligible)
        return _("本征集面向%(types)s（%(rule)s），本单位不在征集范围内") % {
            "types": names,
            "rule": cite(call),
        }
    phase = call_phase(call, at)
    if phase == Phase.UPCOMING:
        opens = timezone.localtime(call.opens_at, clock.BEIJING)
        return _("征集尚未开始（%(date)s起）") % {"date": dateformat.format(opens, _("Y年n月j日"))}
    if phase == Phase.ENDED:
        return _("征集已截止")
    return None


def individual_fields(call: Call) -> tuple[str, ...] | None:
    """The identity fields a call open to individuals asks for besides the name (``unit``, ``role``,
    ``province``; from its YAML ``spec.individuals``), or ``None`` when only units may submit."""
    if call.kind != CallKind.ESSAY:
        return None
    individuals = (call.spec or {}).get("individuals")
    if individuals is None:
        return None
    return tuple(individuals.get("fields", ("unit", "role", "province")))


def individual_problem(call: Call, user, at=None) -> str | None:
    """Why ``user`` may not submit to ``call`` as a person (个人投稿, plan 六(三)4), or ``None``.

    Rules: the call is open to individuals (its YAML ``spec.individuals``), the account is signed in, the
    call is open now (the same window as units'), and a person has at most one live entry per call (a
    withdrawn one may be replaced)."""
    from ..models import EntryStatus

    if individual_fields(call) is None:
        return _("本征集只接受单位提交（%(rule)s）") % {"rule": cite(call)}
    if not getattr(user, "is_authenticated", False):
        return _("请先登录后投稿")
    phase = call_phase(call, at)
    if phase == Phase.UPCOMING:
        opens = timezone.localtime(call.opens_at, clock.BEIJING)
        return _("征集尚未开始（%(date)s起）") % {"date": dateformat.format(opens, _("Y年n月j日"))}
    if phase == Phase.ENDED:
        return _("征集已截止")
    if Entry.objects.filter(call=call, person=user).exclude(status=EntryStatus.WITHDRAWN).exists():
        return _("每人每项征集限投一篇，您已投稿")
    return None


def _sep() -> str:
    """The list separator of the active language (、 in Chinese)."""
    return pgettext("list separator", "、")


def open_calls_for(organization, at=None) -> list[Call]:
    """Calls of every campaign that ``organization`` may submit to at ``at`` (default now)."""
    if organization is None:
        return []
    calls = Call.objects.select_related("campaign", "joint_action").prefetch_related("eligible_types")
    return [c for c in calls if eligibility_problem(c, organization, at) is None]


def _check_size(call: Call, upload: Upload, limit: int, field_name: str, errors) -> bool:
    if upload.size > limit:
        errors[field_name].append(
            _("平台要求：文件不超过%(limit)s，此文件为%(size)s")
            % {"limit": media._fmt_bytes(limit), "size": media._fmt_bytes(upload.size)}
        )
        return False
    if upload.size == 0:
        errors[field_name].append(_("文件为空，请重新上传"))
        return False
    return True


def _validate_document(call, upload: Upload | None, field_name: str, errors, *, required: bool) -> str | None:
    """Check an essay or work-plan file: size, and .docx/.pdf by content. Returns the format or None."""
    if not upload:
        if required:
            formats = _sep().join(f".{f}" for f in (call.spec or {}).get("formats") or ("docx", "pdf"))
            errors[field_name].append(_("请上传%(formats)s文件") % {"formats": formats})
        return None
    if not _check_size(call, upload, upload_limits(call)["document"], field_name, errors):
        return None
    kind = media.sniff_document(upload.path)
    allowed = [f for f in ((call.spec or {}).get("formats") or ("docx", "pdf")) if f in ("docx", "pdf")]
    if kind not in allowed:
        names = pgettext("alternatives", "或").join(f".{f}" for f in allowed)
        errors[field_name].append(
            _("文件须为%(formats)s格式；按文件内容判断，此文件不是（%(name)s）")
            % {"formats": names, "name": upload.name}
        )
        return None
    return kind


def _file_base(call: Call, entry: Entry) -> str:
    return f"calls/{call.campaign.slug}/{call.slug}/{entry.code}"


def _save(storage, name: str, path: Path, saved: list) -> str:
    with open(path, "rb") as fh:
        stored = storage.save(name, _LocalFile(fh, name=str(path)))
    saved.append((storage, stored))
    return stored


def files_storage():
    """The private storage of entry files (the field's own instance, so tests can point it elsewhere)."""
    return Entry._meta.get_field("file").storage


def temp_dir() -> Path:
    """Local folder of files being uploaded (never under ``MEDIA_ROOT``): ``CALLS_UPLOAD_TEMP_DIR``,
    else ``FILE_UPLOAD_TEMP_DIR``, else ``var/uploads``. Created when missing."""
    folder = Path(
        getattr(settings, "CALLS_UPLOAD_TEMP_DIR", None)
        or settings.FILE_UPLOAD_TEMP_DIR
        or Path(settings.VAR_DIR) / "uploads"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder
