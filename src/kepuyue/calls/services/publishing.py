"""The entry workflow (draft → submitted → shortlisted → published, withdrawn, rejected) and
publishing: public copies of the files, the published entries."""

from __future__ import annotations

import os

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kepuyue.audit.services import record
from kepuyue.campaigns.models import Call, CallKind
from kepuyue.common import clock
from kepuyue.common.events import send_after_commit

from .. import signals
from ..models import Entry, EntryStatus
from .core import _file_base, eligibility_problem, files_storage

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


def transition(entry: Entry, to_state: str, *, actor=None) -> Entry:
    """Move ``entry`` to ``to_state`` and do what follows; returns it.

    - 已提交 (from a draft: the unit submits; the call must be open), 已撤回 (the unit withdraws while
      not yet judged further), 入围 / 未入选 (the manager's shortlist), 已发布 (择优发布: the public
      files are copied to public storage and the entry appears in the galleries); un-publishing
      (已发布 → 入围) deletes the public copies.
    Permissions are checked by the views (``kepuyue.calls.rules``). Writes an audit entry
    ``call_entry.<step>`` and sends ``entry_moved`` (``kepuyue.calls.signals``) once committed. Raises ``TransitionError`` when the step is not allowed from the current state.
    """
    to_state = EntryStatus(to_state)
    sources, _who = TRANSITIONS[to_state]
    if entry.status not in sources:
        raise TransitionError(
            _("作品处于“%(current)s”状态，不能改为“%(target)s”")
            % {"current": EntryStatus(entry.status).label, "target": to_state.label}
        )
    if to_state == EntryStatus.SUBMITTED and entry.status == EntryStatus.DRAFT:
        problem = eligibility_problem(entry.call, entry.organization) if entry.person_id is None else None
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
                _check_selects(entry)
                _publish_files(entry, saved)
                entry.published_at = clock.now()
                fields += ["published_at", "public_file", "public_poster"]
            if previous == EntryStatus.PUBLISHED:
                fields += ["published_at", "public_file", "public_poster"]
                _unpublish_files(entry)
            entry.save(update_fields=fields)
            record(ACTIONS[to_state], actor=actor, obj=entry, data={"from": previous, "to": to_state})
            send_after_commit(
                signals.entry_moved,
                Entry,
                **signals.entry_keys(entry),
                from_state=str(previous),
                to_state=str(to_state),
                actor=actor,
            )
    except BaseException:
        for store, name in saved:
            store.delete(name)
        entry.status = previous
        raise
    return entry


def _check_selects(entry: Entry) -> None:
    """择优 N (the call's ``spec["selects"]``, e.g. 五(三)1 “优选3套”): refuse to publish one more.

    The call's row is locked first (``FOR UPDATE`` on PostgreSQL; SQLite has one writer at a time),
    so two managers publishing the last place at once cannot both succeed."""
    selects = (entry.call.spec or {}).get("selects")
    if not selects:
        return
    Call.objects.select_for_update().filter(pk=entry.call_id).values_list("pk", flat=True).first()
    published = (
        Entry.objects.filter(call_id=entry.call_id, status=EntryStatus.PUBLISHED).exclude(pk=entry.pk).count()
    )
    if published >= selects:
        raise TransitionError(
            _("本征集择优发布 %(n)d 项，已发布 %(n)d 项；请先撤下一项再发布") % {"n": selects}
        )


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


# --- public -----------------------------------------------------------------------------------


def published_entries(call: Call) -> QuerySet:
    """Published entries of ``call`` (择优发布), newest first, with their unit and city."""
    return (
        Entry.objects.filter(call=call, status=EntryStatus.PUBLISHED)
        .select_related("organization", "organization__region", "city", "entrant_province")
        .order_by("-published_at", "-id")
    )
