"""Creating and changing draft activities: the fields applied, the region chain codes, the search
text and the poster file (stored under a random name; nothing left behind on failure)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from kepuyue.audit import services as audit
from kepuyue.common.events import send_after_commit
from kepuyue.common.images import without_metadata
from kepuyue.search.segment import index_text
from kepuyue.search.services import search_text_for

from .. import signals
from ..models import Activity, Form, Status
from .display import bits
from .validation import (
    BIT_FIELDS,
    POSTER_MAX_PIXELS,
    VALUE_FIELDS,
    _raise,
    _region_of,
    as_beijing,
    check_poster,
    clean_texts,
    validate_activity,
)


def region_codes(region) -> tuple[str, str, str]:
    """``(province_code, prefecture_code, county_code)`` of a region's chain; empty strings where
    the region is coarser (a province gives ``("330000", "", "")``)."""
    if region is None:
        return "", "", ""
    if region.level == 1:
        return region.code, "", ""
    if region.level == 2:
        return region.province_code, region.code, ""
    return region.province_code, region.parent_id or "", region.code


def compute_search_text(activity: Activity) -> str:
    """``Activity.search_text``: segmented words of title, summary, organizer name and venue."""
    return index_text(activity.title, activity.summary, activity.organizer.name, activity.venue)


def _apply(activity: Activity, data: Mapping) -> None:
    activity.joint_action = data.get("joint_action")
    if activity.joint_action is not None:
        activity.campaign_id = activity.joint_action.campaign_id
    else:
        activity.campaign = data["campaign"]
    activity.key_task = data.get("key_task")
    activity.brand = data.get("brand")
    if activity.key_task is None and activity.brand is not None and activity.brand.key_task_id:
        activity.key_task_id = activity.brand.key_task_id
    texts, _errors = clean_texts(data)  # validated before: no errors here
    for name, value in texts.items():
        setattr(activity, name, value)
    for name in VALUE_FIELDS:
        if name in data:
            setattr(activity, name, data.get(name))
    for name in BIT_FIELDS:
        if name in data:
            setattr(activity, name, bits(data.get(name)))
    activity.starts_at = as_beijing(data["starts_at"])
    activity.ends_at = as_beijing(data["ends_at"])
    activity.form = data.get("form") or Form.OFFLINE
    region, _message = _region_of(data)
    activity.region = region
    activity.province_code, activity.prefecture_code, activity.county_code = region_codes(region)


def _store_poster(activity: Activity, upload) -> str:
    """Write the poster under a random name, upright and without EXIF (GPS, camera; issue 9 class 8:
    ``kepuyue.common.images``; WebP becomes JPEG); returns the stored name."""
    check_poster(upload)
    try:
        clean = without_metadata(upload, max_pixels=POSTER_MAX_PIXELS)
    except (ValueError, OSError, SyntaxError, EOFError):
        raise ValidationError({"poster": _("海报只能是 JPEG、PNG 或 WebP 图片（按文件内容识别）")}) from None
    activity.poster.save(f"{uuid.uuid4().hex}.{clean.extension}", ContentFile(clean.content), save=False)
    return activity.poster.name


def _save_with_poster(activity: Activity, data: Mapping, *, is_new: bool) -> Activity:
    poster = data.get("poster")
    old_poster = activity.poster.name if activity.poster else ""
    stored = ""
    try:
        with transaction.atomic():
            if isinstance(poster, UploadedFile):
                stored = _store_poster(activity, poster)
            elif poster is False and old_poster:  # the form's "clear" box
                activity.poster = ""
            activity.search_text = compute_search_text(activity)
            activity.full_clean(exclude=["poster", "organizer", "search_text"], validate_unique=False)
            activity.save()
    except Exception:
        # A failed save leaves no file behind.
        if stored:
            activity.poster.storage.delete(stored)
            activity.poster = old_poster
        raise
    if old_poster and activity.poster.name != old_poster:
        storage = activity.poster.storage
        transaction.on_commit(lambda: storage.delete(old_poster))
    return activity


def create_activity(organization, data: Mapping, *, actor=None) -> Activity:
    """Create a draft activity (草稿) of ``organization`` from ``data`` (keys as in
    :func:`validate_activity`, plus the free texts, ``audiences``/``topics``/``special_areas`` as
    bit sets or lists of bits, ``expected_participants``, ``science_workers``, ``contact_*``).

    Sets the campaign from the joint action (else from ``data["campaign"]``: a campaign-wide
    activity 全国科普月活动), the region chain codes from the region, and
    ``search_text``. The poster is stored under a random name with the sniffed extension; if saving
    fails no file is left behind. ``actor`` is the user acting (for the audit trail). Sends
    ``activity_changed`` (``created=True``) once committed.
    Raises ``ValidationError`` (a dict of field → Chinese messages).
    """
    _raise(validate_activity(data))
    activity = Activity(organizer=organization, status=Status.DRAFT)
    _apply(activity, data)
    _save_with_poster(activity, data, is_new=True)
    audit.record("activity.create", actor=actor, obj=activity)
    send_after_commit(
        signals.activity_changed, Activity, **signals.activity_keys(activity), actor=actor, created=True
    )
    return activity


EDITABLE_STATUSES = frozenset({Status.DRAFT, Status.RETURNED})


def update_activity(activity: Activity, data: Mapping, *, actor=None, from_source: bool = False) -> Activity:
    """Change a draft or returned activity with ``data`` (as in :func:`create_activity`; a poster of
    ``False`` removes it). The old poster file is deleted once the change is committed; then
    ``activity_changed`` (``created=False``) is sent.

    ``from_source=True`` also changes a published activity: a copy pulled from another platform's
    change feed (``manage.py pull_exchange``, issue 16) follows its source, which reviewed it there.
    Every rule still applies.

    Raises ``ValidationError``: a dict of field → messages for bad data, or a plain Chinese message
    when the activity is submitted, published or withdrawn (those are changed through the review).
    """
    if activity.status not in EDITABLE_STATUSES and not (from_source and activity.status == Status.PUBLISHED):
        raise ValidationError(
            _("活动“%(title)s”状态为“%(status)s”，只有草稿或已退回的活动可以修改")
            % {"title": activity.title, "status": Status(activity.status).label}
        )
    _raise(validate_activity(data))
    _apply(activity, data)
    _save_with_poster(activity, data, is_new=False)
    audit.record("activity.update", actor=actor, obj=activity)
    send_after_commit(
        signals.activity_changed, Activity, **signals.activity_keys(activity), actor=actor, created=False
    )
    return activity


def refresh_search_text(ids: Iterable[int] | None = None, *, batch_size: int = 2000) -> int:
    """Recompute ``Activity.search_text`` for the activities ``ids`` (all when ``None``).

    Use it after a change the activity rows do not see, e.g. an organization renamed or the
    segmentation dictionary extended. Rows whose text is unchanged are not written; the index
    follows the written rows by itself (triggers on SQLite, the expression index on
    PostgreSQL). Returns the number of activities updated.
    """
    queryset = Activity.objects.select_related("organizer").only(
        "id", "title", "summary", "venue", "search_text", "organizer__name"
    )
    if ids is not None:
        ids = sorted(set(ids))
    updated = 0
    last_id = 0
    while True:
        if ids is None:
            batch = list(queryset.filter(id__gt=last_id).order_by("id")[:batch_size])
        else:
            chunk, ids = ids[:batch_size], ids[batch_size:]
            batch = list(queryset.filter(id__in=chunk).order_by("id")) if chunk else []
        if not batch:
            return updated
        last_id = batch[-1].id
        changed = []
        for activity in batch:
            text = search_text_for(activity)
            if text != activity.search_text:
                activity.search_text = text
                changed.append(activity)
        if changed:
            with transaction.atomic():
                Activity.objects.bulk_update(changed, ["search_text"])
            updated += len(changed)
