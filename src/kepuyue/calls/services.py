"""Calls for works (征集): submitting entries, the entry workflow, judging and publishing.

Plain functions over models; the unit's pages, the judges' and managers' pages and the admin call them.
Every rule's message is marked for translation (Simplified Chinese source text) and names the field and the plan section it comes from
(``方案 四(二)2``) or says the rule is the platform's (``平台要求``).

Files reach :func:`submit_entry` as :class:`Upload` objects: complete files on LOCAL disk (a multipart
upload streamed to a temporary file by ``kepuyue.calls.uploads``, or a finished tus upload), never in
memory. They are validated first (``kepuyue.calls.media``), then saved under their final names in
private storage; when anything fails, whatever was saved is deleted and no row is left.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import statistics
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import NamedTemporaryFile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kepuyue.audit.services import record
from kepuyue.campaigns.models import Call, CallKind
from kepuyue.campaigns.services import call_phase
from kepuyue.common import clock
from kepuyue.common.clock import Phase

from . import media
from .models import JUDGEABLE_STATUSES, CityWalkStop, Entry, EntryImage, EntryStatus, Score

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


def _sep() -> str:
    """The list separator of the active language (、 in Chinese)."""
    return pgettext("list separator", "、")


def open_calls_for(organization, at=None) -> list[Call]:
    """Calls of every campaign that ``organization`` may submit to at ``at`` (default now)."""
    if organization is None:
        return []
    calls = Call.objects.select_related("campaign", "joint_action").prefetch_related("eligible_types")
    return [c for c in calls if eligibility_problem(c, organization, at) is None]


# --- ISBN -------------------------------------------------------------------------------------


def normalize_isbn(text: str) -> str:
    """An ISBN-10 or ISBN-13 (hyphens and spaces allowed) as 13 digits.

    ISBN-10: 9 digits and a check character (0–9 or X), Σ (10−i)·dᵢ ≡ 0 (mod 11); converted to ISBN-13
    with the 978 prefix. ISBN-13: 978/979 prefix, Σ wᵢ·dᵢ ≡ 0 (mod 10) with weights 1,3,1,3… (ISO 2108).
    Raises ``ValueError`` with a Chinese message naming the problem.
    """
    import unicodedata

    raw = re.sub(r"[\s\-‐–—:：]", "", unicodedata.normalize("NFKC", text or "")).upper()
    raw = raw.removeprefix("ISBN")
    if not raw:
        raise ValueError(_("请填写ISBN"))
    if len(raw) == 10:
        if not re.fullmatch(r"\d{9}[\dX]", raw):
            raise ValueError(
                _("ISBN“%(isbn)s”格式不对：ISBN-10 为9位数字加1位校验码（0–9或X）") % {"isbn": text}
            )
        digits = [10 if c == "X" else int(c) for c in raw]
        if sum((10 - i) * d for i, d in enumerate(digits)) % 11:
            raise ValueError(_("ISBN“%(isbn)s”的校验码不对，请核对") % {"isbn": text})
        body = "978" + raw[:9]
        return body + str(_isbn13_check(body))
    if len(raw) == 13:
        if not raw.isdigit() or raw[:3] not in ("978", "979"):
            raise ValueError(_("ISBN“%(isbn)s”格式不对：ISBN-13 为以978或979开头的13位数字") % {"isbn": text})
        if _isbn13_check(raw[:12]) != int(raw[12]):
            raise ValueError(_("ISBN“%(isbn)s”的校验码不对，请核对") % {"isbn": text})
        return raw
    raise ValueError(_("ISBN“%(isbn)s”应为10位或13位") % {"isbn": text})


def _isbn13_check(first12: str) -> int:
    total = sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(first12))
    return (10 - total % 10) % 10


def format_isbn13(isbn: str) -> str:
    """``9787030000000`` → ``978-7-03-000000-0``-like display is publisher-specific; we show ``978-7030000000``."""
    return f"{isbn[:3]}-{isbn[3:]}" if len(isbn) == 13 else isbn


# --- counting characters ------------------------------------------------------------------------


def count_chars(text: str) -> int:
    """字数: characters that are not whitespace (the usual count for Chinese essays)."""
    return sum(1 for c in text if not c.isspace())


def docx_text(path) -> str:
    """The text of a ``.docx`` (its ``w:t`` runs joined). Reads at most
    ``MAX_DOCX_XML_BYTES`` uncompressed bytes (a ZIP bomb is refused with ``ValueError``)."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("word/document.xml")
        if info.file_size > MAX_DOCX_XML_BYTES:
            raise ValueError("Word文件正文过大")
        with archive.open(info) as fh:
            xml = fh.read(MAX_DOCX_XML_BYTES + 1).decode("utf-8", "replace")
    return "".join(re.findall(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>", xml))


# --- submitting -------------------------------------------------------------------------------


@dataclass
class _Checked:
    """What validation found out, to be stored: fields for the entry, files to save, images."""

    fields: dict = field(default_factory=dict)
    main: Upload | None = None
    main_ext: str = ""
    poster: Path | None = None
    images: list[tuple[Upload, media.ImageCheck]] = field(default_factory=list)
    stops: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def submit_entry(
    call: Call,
    *,
    organization,
    user=None,
    data: dict,
    files: dict | None = None,
    stops: list[dict] | None = None,
    submit: bool = True,
) -> Entry:
    """Validate and store one entry of ``organization`` to ``call``; returns the saved ``Entry``.

    ``data``: the form's text fields (``title``, ``theme``, ``description``, and per kind ``city``
    (region code), ``author``, ``author_unit``, ``body``, ``publisher``, ``year``, ``isbn``, ``audience``,
    ``reason``, ``link``, ``product_kind``); anything else (``organization``, ``status`` …) is ignored.
    ``files``: ``{"video": Upload}``, ``{"images": [Upload, …]}`` or ``{"document": Upload}``.
    ``stops`` (CityWalk): ``[{"name", "address", "region" (code), "is_own_venue"}]`` in route order.
    ``submit``: ``False`` keeps it as a draft (草稿), else it is submitted (已提交).

    Raises ``ValidationError`` whose ``message_dict`` maps each field to Chinese messages naming the
    rule (and its plan section); then no row and no file is left behind. The temporary files of
    ``files`` are moved (or copied and removed) into private storage on success and removed on a
    validation failure.
    """
    files = files or {}
    uploads = [u for value in files.values() for u in (value if isinstance(value, list) else [value]) if u]
    checked = None
    try:
        problem = eligibility_problem(call, organization)
        if problem:
            raise ValidationError({"__all__": [problem]})
        checked = _validate(call, data, files, stops or [])
        return _store(call, organization, user, checked, submit=submit)
    finally:
        for upload in uploads:
            Path(upload.path).unlink(missing_ok=True)
        if checked is not None and checked.poster is not None:
            checked.poster.unlink(missing_ok=True)


def _validate(call: Call, data: dict, files: dict, stops: list[dict]) -> _Checked:
    errors: dict[str, list[str]] = defaultdict(list)
    checked = _Checked()
    title = (data.get("title") or "").strip()
    if not title:
        errors["title"].append(_("请填写作品名称"))
    elif len(title) > 200:
        errors["title"].append(_("作品名称不超过200字"))
    theme = (data.get("theme") or "").strip()
    themes = {t["slug"]: t["name"] for t in call.themes or []}
    if themes:
        if not theme:
            errors["theme"].append(
                _("请选择主题：%(themes)s（%(rule)s）")
                % {"themes": _sep().join(themes.values()), "rule": cite(call)}
            )
        elif theme not in themes:
            errors["theme"].append(
                _("主题须为%(themes)s之一（%(rule)s）")
                % {"themes": _sep().join(themes.values()), "rule": cite(call)}
            )
    else:
        theme = ""
    checked.fields.update(title=title, theme=theme, description=(data.get("description") or "").strip())

    validator = {
        CallKind.CITYWALK: _validate_citywalk,
        CallKind.VIDEO: _validate_video,
        CallKind.ESSAY: _validate_essay,
        CallKind.WORK_PLAN: _validate_work_plan,
        CallKind.BOOK_LIST: _validate_book,
        CallKind.LINK: _validate_link,
    }[CallKind(call.kind)]
    validator(call, data, files, stops, checked, errors)
    if errors:
        if checked.poster is not None:
            checked.poster.unlink(missing_ok=True)
        raise ValidationError(dict(errors))
    return checked


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


def _validate_video(call, data, files, stops, checked, errors) -> None:
    upload = files.get("video")
    if not upload:
        errors["video"].append(_("请上传视频文件（MP4）"))
        return
    if not _check_size(call, upload, upload_limits(call)["video"], "video", errors):
        return
    result = media.check_video(upload.path, call.spec or {}, plan_ref=call.plan_ref or None)
    if not result.ok:
        errors["video"].extend(result.errors)
        return
    poster = NamedTemporaryFile(suffix=".jpg", dir=temp_dir(), delete=False)
    poster.close()
    checked.poster = Path(poster.name)
    try:
        media.extract_poster(upload.path, checked.poster)
    except (media.MediaError, OSError) as error:
        errors["video"].append(_("无法从视频中取出封面画面：%(error)s") % {"error": error})
        return
    checked.main, checked.main_ext = upload, "mp4"
    checked.warnings.extend(result.warnings)
    checked.fields.update(
        duration=result.duration,
        width=result.width,
        height=result.height,
        codec=result.codec,
        file_format="mp4",
    )


def _venue_key(name: str) -> str:
    """A venue name for comparison: NFKC width-folded, case-folded, without spaces, brackets or dots."""
    import unicodedata

    return re.sub(r"[\s()（）\[\]【】·・.。\-—_]", "", unicodedata.normalize("NFKC", name)).casefold()


def _validate_citywalk(call, data, files, stops, checked, errors) -> None:
    spec = call.spec or {}
    from kepuyue.regions.models import Region

    city_code = (data.get("city") or "").strip()
    city = Region.objects.filter(code=city_code).first() if city_code else None
    if city is None:
        errors["city"].append(_("请选择路线所在城市"))
    checked.fields["city"] = city

    rows = [s for s in stops if any((s.get(k) or "").strip() for k in ("name", "address", "region"))]
    region_codes = {str(s.get("region") or "").strip() for s in rows}
    regions = {r.code: r for r in Region.objects.filter(code__in=region_codes)}
    for index, stop in enumerate(rows, start=1):
        name, address = (stop.get("name") or "").strip(), (stop.get("address") or "").strip()
        region = regions.get(str(stop.get("region") or "").strip())
        missing = [
            label
            for label, value in (
                (pgettext("stop field", "名称"), name),
                (pgettext("stop field", "地址"), address),
                (pgettext("stop field", "所在地区"), region),
            )
            if not value
        ]
        if missing:
            errors["stops"].append(
                _("第%(n)s站缺少%(fields)s") % {"n": index, "fields": _sep().join(missing)}
            )
            continue
        checked.stops.append(
            {
                "name": name[:200],
                "address": address[:255],
                "region": region,
                "is_own_venue": bool(stop.get("is_own_venue")),
            }
        )
    own = [s for s in checked.stops if s["is_own_venue"]]
    # Other venues count once each, and never the base itself under another stop (plan 四(二)2 asks for
    # the base plus ≥ 2 *other* places): names are compared without spaces, brackets or width.
    own_keys = {_venue_key(s["name"]) for s in own}
    others, seen = [], set()
    for stop in checked.stops:
        key = _venue_key(stop["name"])
        if stop["is_own_venue"]:
            continue
        if key in own_keys:
            errors["stops"].append(_("“%(name)s”与本馆同名，不能算作其他场所") % {"name": stop["name"]})
        elif key in seen:
            errors["stops"].append(_("“%(name)s”重复出现，同一场所只计一次") % {"name": stop["name"]})
        else:
            seen.add(key)
            others.append(stop)
    minimum = int(spec.get("min_other_venues") or 0)
    if spec.get("includes_own_venue", True) and not own and "stops" not in errors:
        errors["stops"].append(_("路线须包含本馆（基地自身）（%(rule)s）") % {"rule": cite(call)})
    if len(own) > 1:
        errors["stops"].append(_("只能有一站标为本馆"))
    if len(others) < minimum:
        errors["stops"].append(
            _("本馆以外至少%(minimum)s家其他场所（%(rule)s），现有%(count)s家")
            % {"minimum": minimum, "rule": cite(call), "count": len(others)}
        )

    images = files.get("images") or []
    max_images = int(spec.get("max_images") or DEFAULT_MAX_IMAGES)
    if not images:
        errors["images"].append(_("请上传路线图片（%(rule)s：图片形式）") % {"rule": cite(call)})
    elif len(images) > max_images:
        errors["images"].append(
            _("平台要求：路线图片最多%(max)s张，现有%(count)s张") % {"max": max_images, "count": len(images)}
        )
    else:
        limit = upload_limits(call)["images"]
        formats = tuple(spec.get("formats") or ("jpeg", "png", "webp"))
        for index, upload in enumerate(images, start=1):
            result = media.check_image(
                upload.path,
                max_bytes=limit,
                max_pixels=int(spec.get("max_image_pixels") or DEFAULT_IMAGE_MAX_PIXELS),
                formats=formats,
            )
            if not result.ok:
                errors["images"].extend(
                    _("第%(n)s张（%(name)s）：%(error)s") % {"n": index, "name": upload.name, "error": e}
                    for e in result.errors
                )
            else:
                checked.images.append((upload, result))


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


def _validate_essay(call, data, files, stops, checked, errors) -> None:
    spec = call.spec or {}
    author = (data.get("author") or "").strip()
    if not author:
        errors["author"].append(_("请填写作者"))
    checked.fields.update(author=author[:200], author_unit=(data.get("author_unit") or "").strip()[:200])
    body = (data.get("body") or "").strip()
    upload = files.get("document")
    if not body and not upload:
        errors["body"].append(_("请填写正文，或上传.docx/.pdf文件"))
        return
    chars = None
    if upload:
        kind = _validate_document(call, upload, "document", errors, required=False)
        if kind is None:
            return
        checked.main, checked.main_ext = upload, kind
        checked.fields["file_format"] = kind
        if kind == "docx":
            try:
                chars = count_chars(docx_text(upload.path))
            except (ValueError, KeyError, zipfile.BadZipFile, OSError):
                errors["document"].append(_("无法读取Word文件正文，请另存为.docx后重新上传"))
                return
        else:
            # Warnings are stored with the entry (like media.py's, in Chinese): data, not interface text.
            checked.warnings.append("PDF文件的字数未自动核验，请评审时留意字数要求")
    else:
        chars = count_chars(body)
        checked.fields["body"] = body
    if chars is not None:
        checked.fields["char_count"] = chars
        low, high = spec.get("min_chars"), spec.get("max_chars")
        where = "document" if upload else "body"
        if low and chars < low:
            errors[where].append(
                _("平台要求：征文不少于%(low)s字，现为%(chars)s字") % {"low": low, "chars": chars}
            )
        if high and chars > high:
            errors[where].append(
                _("平台要求：征文不超过%(high)s字，现为%(chars)s字") % {"high": high, "chars": chars}
            )


def _validate_work_plan(call, data, files, stops, checked, errors) -> None:
    kind = _validate_document(call, files.get("document"), "document", errors, required=True)
    if kind:
        checked.main, checked.main_ext = files["document"], kind
        checked.fields["file_format"] = kind


def _validate_book(call, data, files, stops, checked, errors) -> None:
    required = (
        ("author", _("请填写作者")),
        ("publisher", _("请填写出版社")),
        ("reason", _("请填写推荐理由")),
    )
    for name, message in required:
        value = (data.get(name) or "").strip()
        if not value:
            errors[name].append(message)
        checked.fields[name] = value
    checked.fields["audience"] = (data.get("audience") or "").strip()[:100]
    try:
        checked.fields["isbn"] = normalize_isbn(data.get("isbn") or "")
    except ValueError as error:
        errors["isbn"].append(str(error))
    year = str(data.get("year") or "").strip()
    if not year.isdigit() or not 1900 <= int(year) <= clock.now().year:
        errors["year"].append(_("出版年应为1900—%(year)s之间的年份") % {"year": clock.now().year})
    else:
        checked.fields["year"] = int(year)


def _validate_link(call, data, files, stops, checked, errors) -> None:
    from django.core.validators import URLValidator

    link = (data.get("link") or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(link)
    except ValidationError:
        errors["link"].append(_("请填写以 http:// 或 https:// 开头的作品链接"))
    checked.fields["link"] = link
    kinds = (call.spec or {}).get("product_kinds") or []
    kind = (data.get("product_kind") or "").strip()
    if kinds and kind not in kinds:
        errors["product_kind"].append(
            _("作品类型须为%(kinds)s之一（%(rule)s）") % {"kinds": _sep().join(kinds), "rule": cite(call)}
        )
    checked.fields["product_kind"] = kind


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


def _store(call: Call, organization, user, checked: _Checked, *, submit: bool) -> Entry:
    storage = files_storage()
    saved: list = []
    try:
        with transaction.atomic():
            now = clock.now()
            entry = Entry(
                call=call,
                organization=organization,
                submitted_by=user if getattr(user, "is_authenticated", False) else None,
                status=EntryStatus.SUBMITTED if submit else EntryStatus.DRAFT,
                submitted_at=now if submit else None,
                **checked.fields,
            )
            warnings = list(checked.warnings)
            digests = []
            if checked.main is not None:
                entry.sha256 = sha256_of(checked.main)
                entry.size = checked.main.size
                digests.append(entry.sha256)
            for upload, _check in checked.images:
                digests.append(sha256_of(upload))
            duplicate = _duplicate(digests)
            if duplicate is not None:
                entry.duplicate_of = duplicate
                same_unit = duplicate.organization_id == organization.pk
                who = "本单位" if same_unit else "其他单位"
                warnings.append(
                    f"与{who}已提交的作品 {duplicate.code} 文件相同（SHA-256 一致），已标记为重复"
                )
            isbn = checked.fields.get("isbn")
            if isbn and entry.duplicate_of is None:
                same_book = (
                    Entry.objects.filter(call=call, isbn=isbn)
                    .exclude(status=EntryStatus.WITHDRAWN)
                    .order_by("created")
                    .first()
                )
                if same_book is not None:
                    entry.duplicate_of = same_book
                    warnings.append(
                        f"同一本书（ISBN {format_isbn13(isbn)}）已由作品 {same_book.code} 推荐，已标记为重复"
                    )
            entry.warnings = warnings
            entry.save()
            base = _file_base(call, entry)
            if checked.main is not None:
                entry.file.name = _save(
                    storage, f"{base}/{checked.main_ext}.{checked.main_ext}", checked.main.path, saved
                )
            if checked.poster is not None:
                entry.poster.name = _save(storage, f"{base}/poster.jpg", checked.poster, saved)
            if checked.main is not None or checked.poster is not None:
                entry.save(update_fields=["file", "poster"])
            for order, (upload, result) in enumerate(checked.images):
                ext = {"jpeg": "jpg"}.get(result.format, result.format)
                name = _save(storage, f"{base}/route-{order + 1}.{ext}", upload.path, saved)
                EntryImage.objects.create(
                    entry=entry,
                    order=order,
                    file=name,
                    format=result.format,
                    sha256=upload.sha256,
                    size=upload.size,
                    width=result.width,
                    height=result.height,
                )
            CityWalkStop.objects.bulk_create(
                CityWalkStop(entry=entry, order=i, **s) for i, s in enumerate(checked.stops)
            )
            record(
                "call_entry.submit" if submit else "call_entry.draft",
                actor=user,
                obj=entry,
                data={"call": call.slug, "sha256": entry.sha256, "size": entry.size, "warnings": warnings},
            )
    except BaseException:
        for store, name in saved:
            store.delete(name)
        raise
    return entry


def _duplicate(digests: list[str]) -> Entry | None:
    """The earliest live entry holding a file with one of ``digests`` (main file or route image)."""
    digests = [d for d in digests if d]
    if not digests:
        return None
    live = ~Q(status=EntryStatus.WITHDRAWN)
    return (
        Entry.objects.filter(live)
        .filter(Q(sha256__in=digests) | Q(images__sha256__in=digests))
        .order_by("created", "id")
        .first()
    )


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


# --- the workflow -----------------------------------------------------------------------------

# to_state: the states it may be reached from, and who moves it (unit / manager).
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    EntryStatus.SUBMITTED: (
        (EntryStatus.DRAFT, EntryStatus.SHORTLISTED, EntryStatus.REJECTED),
        "unit_or_manager",
    ),
    EntryStatus.WITHDRAWN: ((EntryStatus.DRAFT, EntryStatus.SUBMITTED), "unit"),
    EntryStatus.SHORTLISTED: (
        (EntryStatus.SUBMITTED, EntryStatus.REJECTED, EntryStatus.PUBLISHED),
        "manager",
    ),
    EntryStatus.REJECTED: ((EntryStatus.SUBMITTED, EntryStatus.SHORTLISTED), "manager"),
    EntryStatus.PUBLISHED: ((EntryStatus.SHORTLISTED,), "manager"),
}
ACTIONS = {
    EntryStatus.SUBMITTED: "call_entry.submit",
    EntryStatus.WITHDRAWN: "call_entry.withdraw",
    EntryStatus.SHORTLISTED: "call_entry.shortlist",
    EntryStatus.REJECTED: "call_entry.reject",
    EntryStatus.PUBLISHED: "call_entry.publish",
}


class TransitionError(ValueError):
    """A workflow step that is not allowed from the entry's state (message in the active language)."""


class ScoreError(ValueError):
    """Points missing or outside 0–100 for a criterion (message in the active language)."""


def transition(entry: Entry, to_state: str, *, actor=None) -> Entry:
    """Move ``entry`` to ``to_state`` and do what follows; returns it.

    - 已提交 (from a draft: the unit submits; the call must be open), 已撤回 (the unit withdraws while
      not yet judged further), 入围 / 未入选 (the manager's shortlist), 已发布 (择优发布: the public
      files are copied to public storage and the entry appears in the galleries); un-publishing
      (已发布 → 入围) deletes the public copies.
    Permissions are checked by the views (``kepuyue.calls.rules``). Writes an audit entry
    ``call_entry.<step>``. Raises ``TransitionError`` when the step is not allowed from the current state.
    """
    to_state = EntryStatus(to_state)
    sources, _who = TRANSITIONS[to_state]
    if entry.status not in sources:
        raise TransitionError(
            _("作品处于“%(current)s”状态，不能改为“%(target)s”")
            % {"current": EntryStatus(entry.status).label, "target": to_state.label}
        )
    if to_state == EntryStatus.SUBMITTED and entry.status == EntryStatus.DRAFT:
        problem = eligibility_problem(entry.call, entry.organization)
        if problem:
            raise TransitionError(problem)
    previous = entry.status
    fields = ["status", "updated"]
    saved: list = []
    try:
        with transaction.atomic():
            entry.status = to_state
            if to_state == EntryStatus.SUBMITTED and previous == EntryStatus.DRAFT:
                entry.submitted_at = clock.now()
                fields.append("submitted_at")
            if to_state == EntryStatus.PUBLISHED:
                _publish_files(entry, saved)
                entry.published_at = clock.now()
                fields += ["published_at", "public_file", "public_poster"]
            if previous == EntryStatus.PUBLISHED:
                fields += ["published_at", "public_file", "public_poster"]
                _unpublish_files(entry)
            entry.save(update_fields=fields)
            record(ACTIONS[to_state], actor=actor, obj=entry, data={"from": previous, "to": to_state})
    except BaseException:
        for store, name in saved:
            store.delete(name)
        entry.status = previous
        raise
    return entry


def _publish_files(entry: Entry, saved: list) -> None:
    """Copy the public files (video, poster, route images; not essays or work plans) to public storage."""
    if entry.call.kind not in (CallKind.VIDEO, CallKind.CITYWALK):
        return
    private = files_storage()
    base = "calls/public/" + _file_base(entry.call, entry).removeprefix("calls/")

    def copy(name: str, target: str) -> str:
        with private.open(name, "rb") as fh:
            stored = default_storage.save(target, File(fh))
        saved.append((default_storage, stored))
        return stored

    if entry.file:
        entry.public_file.name = copy(entry.file.name, f"{base}/{os.path.basename(entry.file.name)}")
    if entry.poster:
        entry.public_poster.name = copy(entry.poster.name, f"{base}/{os.path.basename(entry.poster.name)}")
    for image in entry.images.all():
        image.public_file.name = copy(image.file.name, f"{base}/{os.path.basename(image.file.name)}")
        image.save(update_fields=["public_file"])


def _unpublish_files(entry: Entry) -> None:
    names = [entry.public_file.name, entry.public_poster.name]
    for image in entry.images.all():
        names.append(image.public_file.name)
        image.public_file = ""
        image.save(update_fields=["public_file"])
    entry.public_file = entry.public_poster = ""
    entry.published_at = None
    transaction.on_commit(lambda: [default_storage.delete(n) for n in names if n])


# --- judging ----------------------------------------------------------------------------------


def judges_of(call: Call) -> QuerySet:
    """Accounts holding the judge role for ``call`` (评审专家), by user name."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(role_grants__role="judge", role_grants__call=call)
        .distinct()
        .order_by("username")
    )


def assign_judge(call: Call, judge, *, actor) -> bool:
    """Give ``judge`` the judge role on ``call`` (the joint-action manager's panel); returns ``False``
    when it already had it. Audit: ``call.judge_assign``."""
    from kepuyue.roles.models import Role, RoleGrant

    _grant, created = RoleGrant.objects.get_or_create(
        user=judge,
        role=Role.JUDGE,
        call=call,
        defaults={"granted_by": actor if actor.is_authenticated else None},
    )
    if created:
        record("call.judge_assign", actor=actor, obj=call, data={"judge": judge.get_username()})
    return created


def remove_judge(call: Call, judge, *, actor) -> bool:
    """Take the judge role on ``call`` away from ``judge`` (scores already given stay). Audit:
    ``call.judge_remove``."""
    from kepuyue.roles.models import Role, RoleGrant

    deleted, _rest = RoleGrant.objects.filter(user=judge, role=Role.JUDGE, call=call).delete()
    if deleted:
        record("call.judge_remove", actor=actor, obj=call, data={"judge": judge.get_username()})
    return bool(deleted)


def judgeable_entries(judge, call: Call) -> QuerySet:
    """Entries of ``call`` that ``judge`` may see and score: submitted, shortlisted or published, and never
    those of the judge's own unit (conflict of interest 回避). Empty when ``judge`` is no judge of it."""
    from kepuyue.roles.services import judged_call_ids, organization_of

    if call.pk not in judged_call_ids(judge):
        return Entry.objects.none()
    entries = Entry.objects.filter(call=call, status__in=JUDGEABLE_STATUSES)
    own = organization_of(judge)
    if own is not None:
        entries = entries.exclude(organization=own)
    return entries.order_by("code")


def weighted_total(call: Call, scores: dict) -> float:
    """Σ points × weight / Σ weights over the call's criteria (points 0–100; result 0–100).

    Raises ``ValueError`` when a criterion is missing or a score is outside 0–100.
    """
    criteria = call.criteria or []
    if not criteria:
        raise ValueError(_("本征集未设置评审标准"))
    total_weight = sum(c.get("weight") or 0 for c in criteria)
    if total_weight <= 0:
        raise ValueError(_("本征集评审标准的权重合计为0"))
    total = 0.0
    for criterion in criteria:
        value = scores.get(criterion["slug"])
        if value is None:
            raise ScoreError(_("请为“%(criterion)s”打分") % {"criterion": criterion["name"]})
        value = float(value)
        if not 0 <= value <= 100 or math.isnan(value):
            raise ScoreError(_("“%(criterion)s”的得分须在0—100之间") % {"criterion": criterion["name"]})
        total += value * (criterion.get("weight") or 0)
    return total / total_weight


def score_entry(entry: Entry, judge, scores: dict, comment: str = "") -> Score:
    """Record (or replace) ``judge``'s score of ``entry``: ``scores`` ``{criterion slug: 0–100}``.

    Raises ``PermissionError`` when the entry is not one ``judge`` may score (not a judge of the call,
    own unit, not judgeable) and ``ValueError`` (Chinese) for bad or missing points. Audit:
    ``call_entry.score``.
    """
    if not judgeable_entries(judge, entry.call).filter(pk=entry.pk).exists():
        raise PermissionError(_("无权评审此作品"))
    clean = {
        c["slug"]: float(scores[c["slug"]]) for c in entry.call.criteria if scores.get(c["slug"]) is not None
    }
    total = weighted_total(entry.call, clean)
    with transaction.atomic():
        score, _created = Score.objects.update_or_create(
            entry=entry, judge=judge, defaults={"scores": clean, "total": total, "comment": comment.strip()}
        )
        record("call_entry.score", actor=judge, obj=entry, data={"total": round(total, 2)}, organization=None)
    return score


@dataclass
class EntryResult:
    """One entry's standing: ``mean`` weighted score over its judges (0–100), ``normalised`` the mean of
    its per-judge z-scores (each judge's totals minus that judge's mean, over that judge's standard
    deviation; 0 for a judge with fewer than two scored entries or no spread), ``count`` judges."""

    entry: Entry
    count: int
    mean: float | None
    normalised: float | None


def results(call: Call) -> list[EntryResult]:
    """Every live entry of ``call`` with its scores, best normalised score first (unscored last)."""
    entries = list(
        Entry.objects.filter(call=call, status__in=JUDGEABLE_STATUSES)
        .select_related("organization")
        .order_by("code")
    )
    scores = list(Score.objects.filter(entry__in=entries).values_list("entry_id", "judge_id", "total"))
    by_judge: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for entry_id, judge_id, total in scores:
        by_judge[judge_id].append((entry_id, total))
    z_by_entry: dict[int, list[float]] = defaultdict(list)
    raw_by_entry: dict[int, list[float]] = defaultdict(list)
    for rows in by_judge.values():
        totals = [t for _, t in rows]
        mean = statistics.fmean(totals)
        spread = statistics.pstdev(totals) if len(totals) > 1 else 0.0
        for entry_id, total in rows:
            raw_by_entry[entry_id].append(total)
            z_by_entry[entry_id].append((total - mean) / spread if spread > 1e-9 else 0.0)
    out = [
        EntryResult(
            entry=e,
            count=len(raw_by_entry[e.pk]),
            mean=statistics.fmean(raw_by_entry[e.pk]) if raw_by_entry[e.pk] else None,
            normalised=statistics.fmean(z_by_entry[e.pk]) if z_by_entry[e.pk] else None,
        )
        for e in entries
    ]
    out.sort(key=lambda r: (r.normalised is None, -(r.normalised or 0), -(r.mean or 0), r.entry.code))
    return out


def judge_progress(call: Call) -> list[dict]:
    """Per judge of ``call``: ``{"judge", "scored", "assigned"}`` — entries scored and entries the judge
    may score (own unit's excluded)."""
    rows = []
    for judge in judges_of(call):
        assigned = judgeable_entries(judge, call)
        rows.append(
            {
                "judge": judge,
                "scored": Score.objects.filter(judge=judge, entry__in=assigned).count(),
                "assigned": assigned.count(),
            }
        )
    return rows


# --- public -----------------------------------------------------------------------------------


def published_entries(call: Call) -> QuerySet:
    """Published entries of ``call`` (择优发布), newest first, with their unit and city."""
    return (
        Entry.objects.filter(call=call, status=EntryStatus.PUBLISHED)
        .select_related("organization", "organization__region", "city")
        .order_by("-published_at", "-id")
    )
