"""Activity summaries 活动总结 (issue 4 item 5): after its activity, a unit reports what happened.

A summary holds a text, the actual number of participants, video and news links (http/https only)
and up to nine photos. Only the organizing unit reports, only on its own *published* activity
(``activities.summarize_activity`` in ``kepuyue.roles.rules``), and only once the activity has
ended (campaign clock). It is due ``review.summary_due_days`` days after the activity's last
Beijing day (campaign YAML; 15 in 2025), until the end of that day; a later one is accepted and
marked late. The public activity page shows it.

Photos are checked by their content (Pillow; the file name and the browser's type are ignored),
turned upright by their EXIF orientation, scaled down to at most :data:`PHOTO_MAX_EDGE` pixels,
stripped of EXIF (GPS, camera) by re-encoding, and stored under a random name. Every photo is
decoded and re-encoded in memory before any file is written, and a failed save deletes the files
it wrote, so a refused upload leaves nothing behind.
"""

from __future__ import annotations

import io
import uuid
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from kepuyue.audit import services as audit
from kepuyue.common import clock
from kepuyue.common.events import send_after_commit
from kepuyue.common.text import clean_text, parse_int

from . import signals
from .models import Activity, Status, Summary, SummaryPhoto
from .services import beijing_day

MAX_PHOTOS = 9
MAX_LINKS = 5
MAX_TEXT = 5000
MAX_PARTICIPANTS = 10_000_000
PHOTO_MAX_BYTES = 10 * 1024 * 1024
# Like the poster: 25 megapixels covers any camera photo and keeps a decoded image under ~100 MB.
PHOTO_MAX_PIXELS = 25_000_000
# The longer edge of a stored photo, in pixels: sharp on a phone and a laptop, ~200–400 KB.
PHOTO_MAX_EDGE = 1600
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP")
DEFAULT_DUE_DAYS = 15

_url_validator = URLValidator(schemes=["http", "https"])


# --- dates ----------------------------------------------------------------------------------------


def due_days(campaign) -> int:
    """Days after an activity's end within which its summary is due (YAML ``review.summary_due_days``)."""
    return int((campaign.review or {}).get("summary_due_days", DEFAULT_DUE_DAYS))


def summary_due(activity: Activity) -> datetime:
    """When the summary of ``activity`` is due: the end (23:59:59.999999 Beijing) of the day
    ``summary_due_days`` after the activity's last Beijing day (an activity ending on Sep 10 with
    15 days is due by Sep 25)."""
    return clock.end_of_day(beijing_day(activity.ends_at) + timedelta(days=due_days(activity.campaign)))


def has_ended(activity: Activity, at: datetime | None = None) -> bool:
    """Whether ``activity`` is over at ``at`` (default: the campaign clock)."""
    return (at or clock.now()) > activity.ends_at


def summary_of(activity: Activity) -> Summary | None:
    """The activity's summary with its photos, or ``None``."""
    return Summary.objects.filter(activity=activity).prefetch_related("photos").first()


def loaded_summary(activity: Activity) -> Summary | None:
    """The summary of an activity read with ``select_related("summary_report")`` (no query), or
    ``None`` when it has none."""
    try:
        return activity.summary_report
    except Summary.DoesNotExist:
        return None


def attendance(activity: Activity) -> int | None:
    """How many people higher apps counted at ``activity`` (``signals.attendance_requested``: the
    registrations app answers with the people checked in), or ``None`` when none counts. Offered as
    the summary's participant count; a failing receiver is logged and ignored."""
    counts = [
        value
        for _receiver, value in signals.attendance_requested.send_robust(Activity, activity=activity)
        if isinstance(value, int) and not isinstance(value, bool)
    ]
    return sum(counts) if counts else None


def due_without_summary(campaign, at: datetime | None = None) -> QuerySet[Activity]:
    """Published activities of ``campaign`` that have ended by ``at`` and have no summary yet
    (those the summary reminders are about)."""
    return Activity.objects.filter(
        campaign=campaign,
        status=Status.PUBLISHED,
        ends_at__lt=at or clock.now(),
        summary_report__isnull=True,
    )


# --- photos ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessedPhoto:
    """A photo ready to store: the re-encoded bytes, its extension (``jpg``/``webp``) and size (px)."""

    content: bytes
    extension: str
    width: int
    height: int


def process_photo(upload) -> ProcessedPhoto:
    """Check and re-encode one uploaded photo.

    Accepts JPEG, PNG and WebP by content (sniffed with Pillow), at most 10 MB and 25 megapixels;
    decompression bombs are refused. The photo is turned upright by its EXIF orientation, scaled so
    its longer edge is at most :data:`PHOTO_MAX_EDGE` px (never enlarged), and re-encoded without
    any metadata: JPEG (quality 85), or WebP when it has transparency.

    Raises ``ValidationError`` with a Chinese message naming the file.
    """
    name = getattr(upload, "name", "") or _("照片")
    size = getattr(upload, "size", None)
    if size is not None and size > PHOTO_MAX_BYTES:
        raise ValidationError(
            _("照片“%(name)s”过大（%(mb).1f MB），不能超过 10 MB") % {"name": name, "mb": size / 1024 / 1024}
        )
    if size == 0:
        raise ValidationError(_("照片“%(name)s”是空文件") % {"name": name})
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and raises at twice that; both are refusals here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload, formats=list(PHOTO_FORMATS)) as image:
                width, height = image.size
                if width * height > PHOTO_MAX_PIXELS:
                    raise ValidationError(
                        _("照片“%(name)s”像素过多（%(w)d×%(h)d），不能超过 2500 万像素")
                        % {"name": name, "w": width, "h": height}
                    )
                image.load()
                picture = ImageOps.exif_transpose(image)
    except ValidationError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ValidationError(_("照片“%(name)s”尺寸异常（疑似压缩炸弹），已拒绝") % {"name": name}) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ValidationError(
            _("照片“%(name)s”不是可读的 JPEG、PNG 或 WebP 图片（按文件内容识别）") % {"name": name}
        ) from None
    finally:
        upload.seek(0)
    picture.thumbnail((PHOTO_MAX_EDGE, PHOTO_MAX_EDGE), Image.Resampling.LANCZOS)
    transparent = picture.mode in ("RGBA", "LA", "PA") or (
        picture.mode == "P" and "transparency" in picture.info
    )
    out = io.BytesIO()
    if transparent:
        picture.convert("RGBA").save(out, format="WEBP", quality=85, method=4)
        extension = "webp"
    else:
        picture.convert("RGB").save(out, format="JPEG", quality=85, optimize=True, progressive=True)
        extension = "jpg"
    return ProcessedPhoto(out.getvalue(), extension, picture.width, picture.height)


# --- links and fields -----------------------------------------------------------------------------


def clean_links(value: str | Iterable[str], *, label: str) -> list[str]:
    """Links from a list or from text with one per line (blank lines skipped, duplicates dropped):
    each an http(s) URL of at most 500 characters, at most :data:`MAX_LINKS`.

    Raises ``ValidationError`` (Chinese messages naming ``label``, e.g. 视频链接).
    """
    items = value.splitlines() if isinstance(value, str) else list(value or [])
    links: list[str] = []
    errors: list[str] = []
    if sum(1 for item in items if str(item).strip()) > MAX_LINKS * 2:
        raise ValidationError(_("%(label)s最多 %(n)d 个") % {"label": label, "n": MAX_LINKS})
    for item in items:
        link = clean_text(item)
        if not link or link in links:
            continue
        try:
            if len(link) > 500:
                raise ValidationError("too long")
            _url_validator(link)
        except ValidationError:
            errors.append(
                _("%(label)s“%(url)s”不是有效的网址（应以 http:// 或 https:// 开头）")
                % {"label": label, "url": link[:100]}
            )
            continue
        links.append(link)
    if len(links) > MAX_LINKS:
        errors.append(_("%(label)s最多 %(n)d 个") % {"label": label, "n": MAX_LINKS})
    if errors:
        raise ValidationError(errors)
    return links


def _clean(data) -> tuple[dict, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    text = ""
    try:
        text = clean_text(data.get("text"), multiline=True, max_length=MAX_TEXT, label=_("活动总结"))
        if not text:
            errors["text"] = [_("总结：必须填写")]
    except ValidationError as exc:
        errors["text"] = exc.messages
    cleaned["text"] = text
    participants = data.get("participants")
    try:
        participants = parse_int(participants, min_value=0, max_value=MAX_PARTICIPANTS)
    except ValidationError:
        errors["participants"] = [_("实际参与人数：请填写 0 到 1000 万之间的整数")]
    cleaned["participants"] = participants
    for key, label in (("video_links", _("视频链接")), ("news_links", _("新闻报道链接"))):
        try:
            cleaned[key] = clean_links(data.get(key) or [], label=label)
        except ValidationError as exc:
            errors[key] = exc.messages
    return cleaned, errors


# --- the service ----------------------------------------------------------------------------------


def submit_summary(
    activity: Activity,
    data,
    *,
    actor,
    photos: Sequence = (),
    remove_photo_ids: Iterable[int] = (),
) -> Summary:
    """Submit (or correct) the summary of ``activity``; returns the saved :class:`Summary`.

    ``data``: a mapping with ``text`` (required, ≤ 5,000 characters), ``participants`` (integer
    0..10,000,000), ``video_links`` and ``news_links`` (lists, or text with one URL per line; http
    or https; at most 5 each). ``photos``: uploaded files to add; ``remove_photo_ids``: ids of this
    summary's photos to delete. At most 9 photos in all.

    The first submission sets ``submitted_at`` and ``late`` (after :func:`summary_due`); a
    correction keeps them. Writes the audit entry ``activity.summary`` in the same transaction and
    sends ``summary_submitted`` (``kepuyue.activities.signals``) once it commits.
    Removed photos' files are deleted once the change is committed; if saving fails, no new file
    is left.

    Raises ``PermissionDenied`` unless ``actor`` publishes for the activity's unit and the activity
    is published (``activities.summarize_activity``); ``ValidationError`` (Chinese messages,
    a dict of field → messages) before the activity has ended or for bad data.
    """
    from kepuyue.roles.rules import check

    if not check(actor, "activities.summarize_activity", activity):
        raise PermissionDenied(_("只有主办单位可以为已发布的活动提交总结"))
    now = clock.now()
    if not has_ended(activity, now):
        raise ValidationError(
            _("活动结束后才能提交总结（活动结束时间：%(end)s）")
            % {"end": activity.ends_at.astimezone(clock.BEIJING).strftime("%Y-%m-%d %H:%M")}
        )
    cleaned, errors = _clean(data)
    existing = Summary.objects.filter(activity=activity).first()
    removing = set(int(pk) for pk in remove_photo_ids or ())
    kept = list(existing.photos.exclude(pk__in=removing).values_list("pk", flat=True)) if existing else []
    photos = [p for p in photos or () if p]
    if len(kept) + len(photos) > MAX_PHOTOS:
        errors.setdefault("photos", []).append(
            _("照片最多 %(max)d 张（已有 %(kept)d 张，本次上传 %(new)d 张）")
            % {"max": MAX_PHOTOS, "kept": len(kept), "new": len(photos)}
        )
    processed: list[ProcessedPhoto] = []
    for upload in photos:
        try:
            processed.append(process_photo(upload))
        except ValidationError as exc:
            errors.setdefault("photos", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)

    stored: list[str] = []
    storage = SummaryPhoto._meta.get_field("image").storage
    try:
        with transaction.atomic():
            first = existing is None
            summary = existing or Summary(
                activity=activity, submitted_at=now, submitted_by=actor, due_at=summary_due(activity)
            )
            if first:
                summary.late = now > summary.due_at
            for key, value in cleaned.items():
                setattr(summary, key, value)
            summary.save()
            removed = list(summary.photos.filter(pk__in=removing))
            removed_names = [p.image.name for p in removed]
            SummaryPhoto.objects.filter(pk__in=[p.pk for p in removed]).delete()
            position = max((p.position for p in summary.photos.all()), default=-1) + 1
            for offset, photo in enumerate(processed):
                row = SummaryPhoto(
                    summary=summary, position=position + offset, width=photo.width, height=photo.height
                )
                row.image.save(
                    f"{uuid.uuid4().hex}.{photo.extension}", ContentFile(photo.content), save=False
                )
                stored.append(row.image.name)
                row.save()
            audit.record(
                "activity.summary",
                actor=actor,
                obj=activity,
                data={
                    "first": first,
                    "late": summary.late,
                    "participants": summary.participants,
                    "photos": summary.photos.count(),
                    "added": len(processed),
                    "removed": len(removed_names),
                },
            )
            send_after_commit(
                signals.summary_submitted,
                Activity,
                **signals.activity_keys(activity),
                actor=actor,
                summary=summary,
                created=first,
            )
    except Exception:
        for name in stored:
            storage.delete(name)
        raise
    for name in removed_names:
        transaction.on_commit(lambda name=name: storage.delete(name))
    return summary
