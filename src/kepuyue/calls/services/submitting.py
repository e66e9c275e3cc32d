"""Submitting an entry: validate it by its kind, then store its files and row together (or nothing)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kepuyue.audit.services import record
from kepuyue.campaigns.models import Call, CallKind
from kepuyue.common import clock
from kepuyue.common.events import send_after_commit
from kepuyue.common.images import CleanImage

from .. import media, signals
from ..models import CityWalkStop, EntrantRole, Entry, EntryImage, EntryStatus
from .book_list import _validate_book, format_isbn13
from .citywalk import _validate_citywalk
from .core import (
    Upload,
    _file_base,
    _save,
    _sep,
    cite,
    eligibility_problem,
    files_storage,
    individual_fields,
    individual_problem,
    sha256_of,
)
from .essay import _validate_essay
from .link import _validate_link
from .video import _validate_video
from .work_plan import _validate_work_plan

# --- submitting -------------------------------------------------------------------------------


@dataclass
class _Checked:
    """What validation found out, to be stored: fields for the entry, files to save, images."""

    fields: dict = field(default_factory=dict)
    main: Upload | None = None
    main_ext: str = ""
    poster: Path | None = None
    # (the upload, its check, the image re-encoded without metadata: what is stored)
    images: list[tuple[Upload, media.ImageCheck, CleanImage]] = field(default_factory=list)
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
    keep_on_error: bool = False,
) -> Entry:
    """Validate and store one entry of ``organization`` to ``call``; returns the saved ``Entry``.

    ``data``: the form's text fields (``title``, ``theme``, ``description``, and per kind ``city``
    (region code), ``author``, ``author_unit``, ``body``, ``publisher``, ``year``, ``isbn``, ``audience``,
    ``reason``, ``link``, ``product_kind``); anything else (``organization``, ``status`` …) is ignored.
    ``files``: ``{"video": Upload}``, ``{"images": [Upload, …]}`` or ``{"document": Upload}``.
    ``stops`` (CityWalk): ``[{"name", "address", "region" (code), "is_own_venue"}]`` in route order.
    ``submit``: ``False`` keeps it as a draft (草稿), else it is submitted (已提交) and
    ``entry_moved`` (``kepuyue.calls.signals``, ``from_state=""``) is sent once committed.

    Raises ``ValidationError`` whose ``message_dict`` maps each field to Chinese messages naming the
    rule (and its plan section); then no row and no file is left behind. The temporary files of
    ``files`` are moved (or copied and removed) into private storage on success and removed on a
    validation failure — unless ``keep_on_error``: then a ``ValidationError`` leaves them where they are, for
    the caller to keep those whose field was not refused (issue 11 point 3).
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
    except ValidationError:
        if keep_on_error:
            uploads = []
        raise
    finally:
        for upload in uploads:
            Path(upload.path).unlink(missing_ok=True)
        if checked is not None and checked.poster is not None:
            checked.poster.unlink(missing_ok=True)


def submit_individual_entry(call: Call, *, user, data: dict, files: dict | None = None) -> Entry:
    """Validate and store one person's essay (个人投稿, plan 六(三)4) to a call open to individuals.

    ``data``: the essay's fields as for :func:`submit_entry` (``title``, ``theme``, ``body`` …) with the
    entrant's identity: ``author`` (name, always), and as the call asks ``author_unit`` (所在单位),
    ``entrant_role`` (one of :class:`~kepuyue.calls.models.EntrantRole`) and ``entrant_province`` (a
    province code). The entry belongs to the person (``Entry.person``), not to a unit; it is submitted at
    once and then judged and published (择优发布) like a unit's. Raises ``ValidationError`` with
    Chinese messages per field; nothing is stored then.
    """
    from kepuyue.regions.models import Level, Region

    files = files or {}
    uploads = [u for value in files.values() for u in (value if isinstance(value, list) else [value]) if u]
    try:
        problem = individual_problem(call, user)
        if problem:
            raise ValidationError({"__all__": [problem]})
        asked = individual_fields(call) or ()
        errors: dict[str, list[str]] = defaultdict(list)
        identity: dict = {}
        if "unit" in asked:
            unit = (data.get("author_unit") or "").strip()
            if not unit:
                errors["author_unit"].append(_("请填写所在单位"))
            elif len(unit) > 200:
                errors["author_unit"].append(_("所在单位不超过200字"))
        if "role" in asked:
            role = (data.get("entrant_role") or "").strip()
            if role not in EntrantRole.values:
                errors["entrant_role"].append(
                    _("请选择身份：%(roles)s") % {"roles": _sep().join(str(r.label) for r in EntrantRole)}
                )
            identity["entrant_role"] = role
        if "province" in asked:
            code = (data.get("entrant_province") or "").strip()
            province = (
                Region.objects.filter(code=code, level=Level.PROVINCE).first()
                if code.isascii() and code.isdigit() and len(code) == 6
                else None
            )
            if province is None:
                errors["entrant_province"].append(_("请选择所在省份"))
            identity["entrant_province"] = province
        text = {k: v for k, v in data.items() if k in ("title", "theme", "description", "author", "body")}
        if "unit" in asked:
            text["author_unit"] = data.get("author_unit") or ""
        try:
            checked = _validate(call, text, files, [])
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                errors[key].extend(messages)
            checked = None
        if errors:
            raise ValidationError(dict(errors))
        checked.fields.update(identity)
        return _store(call, None, user, checked, submit=True, person=user)
    finally:
        for upload in uploads:
            Path(upload.path).unlink(missing_ok=True)


# The form fields that carry files: a pre-check (before the upload) says nothing about them.
FILE_FIELDS = ("video", "images", "document")


def precheck_entry(
    call: Call, *, organization, data: dict, stops: list[dict] | None = None, pending: tuple[str, ...] = ()
) -> dict[str, list[str]]:
    """Check an entry's form fields *before* its files are uploaded (issue 11 point 3: a valid video must
    never be thrown away because the title or theme is missing). The same rules as :func:`submit_entry`, on
    the same ``data`` and ``stops``, with the file fields left out: returns ``{field: [Chinese messages]}``,
    empty when the form may be sent. ``pending``: the file fields about to be uploaded (an essay's
    ``document`` stands in for its body)."""
    problem = eligibility_problem(call, organization)
    if problem:
        return {"__all__": [problem]}
    try:
        checked = _validate(call, data, {}, stops or [])
    except ValidationError as error:
        errors = {k: v for k, v in error.message_dict.items() if k not in FILE_FIELDS}
        if "document" in pending and call.kind == CallKind.ESSAY and not (data.get("body") or "").strip():
            errors.pop("body", None)
        return errors
    if checked.poster is not None:  # pragma: no cover - no file, no poster
        checked.poster.unlink(missing_ok=True)
    return {}


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


def _store(call: Call, organization, user, checked: _Checked, *, submit: bool, person=None) -> Entry:
    storage = files_storage()
    saved: list = []
    try:
        with transaction.atomic():
            now = clock.now()
            entry = Entry(
                call=call,
                organization=organization,
                person=person,
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
            for upload, _check, _clean in checked.images:
                digests.append(sha256_of(upload))
            duplicate = _duplicate(digests)
            # The submitter learns only that the file is known (issue 9 class 8): never another unit's entry
            # code. The call's managers and judges see which entry it repeats (``duplicate_of``) on their pages.
            if duplicate is not None:
                entry.duplicate_of = duplicate
                warnings.append(_("该文件已被提交过，已标记为重复"))
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
                        _("同一本书（ISBN %(isbn)s）已被推荐过，已标记为重复") % {"isbn": format_isbn13(isbn)}
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
            for order, (upload, _result, clean) in enumerate(checked.images):
                name = storage.save(f"{base}/route-{order + 1}.{clean.extension}", ContentFile(clean.content))
                saved.append((storage, name))
                EntryImage.objects.create(
                    entry=entry,
                    order=order,
                    file=name,
                    format=clean.format,
                    # The digest of what was submitted (duplicates are found by it); the size of what is kept.
                    sha256=upload.sha256 or sha256_of(upload),
                    size=len(clean.content),
                    width=clean.width,
                    height=clean.height,
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
            if submit:
                send_after_commit(
                    signals.entry_moved,
                    Entry,
                    **signals.entry_keys(entry),
                    from_state="",
                    to_state=str(entry.status),
                    actor=user,
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
