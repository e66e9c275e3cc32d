"""Batched upsert of a unit's drafts by external id (按外部编号批量新增或更新): the write side of the open
API's ``POST /api/v1/org/activities/bulk`` (issue 16 §2, decision 0032).

The same rules as :func:`~.editing.create_activity` / :func:`~.editing.update_activity` — every
message of :func:`~.validation.validate_activity`, the model's own field checks, the texts cleaned as
``save()`` cleans them, the description rendered — but written the way the Excel import writes
(:mod:`kepuyue.activities.importing.writing`): one multi-row ``INSERT`` (``COPY`` on PostgreSQL) for
the new rows, one ``bulk_update`` for the changed ones, one multi-row insert of their audit entries,
and one ``activities_imported`` event in the transaction for the roll-ups, the change feed and the
page cache. The per-item path cost ~25 queries and a savepoint per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepuyue.audit import services as audit
from kepuyue.common.events import send_in_transaction

from .. import signals
from ..models import Activity, Status
from .editing import EDITABLE_STATUSES, _apply, compute_search_text
from .validation import _raise, validate_activity

# Fields a model check would look up row by row (foreign keys: one query each) or that the batch
# sets itself; the rules above already checked what the unit sent for them.
_NOT_CHECKED = [
    "poster",
    "organizer",
    "search_text",
    "campaign",
    "joint_action",
    "key_task",
    "brand",
    "region",
    "import_job",
]
# Columns a bulk update writes: every field the API's data can change, and what follows from them.
UPDATED_COLUMNS = [
    "campaign",
    "joint_action",
    "key_task",
    "brand",
    "title",
    "summary",
    "description",
    "description_html",
    "description_digest",
    "co_organizers",
    "venue",
    "online_url",
    "contact_name",
    "contact_phone",
    "external_id",
    "starts_at",
    "ends_at",
    "form",
    "region",
    "province_code",
    "prefecture_code",
    "county_code",
    "latitude",
    "longitude",
    "audiences",
    "topics",
    "special_areas",
    "expected_participants",
    "science_workers",
    "book_signing",
    "search_text",
    "updated",
]


@dataclass
class Item:
    """One activity of a batch: the unit's ``external_id``, the service data (as for
    :func:`~.editing.create_activity`) and, for a known id, the ``existing`` activity.
    :func:`upsert_drafts` fills ``result`` (``created`` / ``updated`` / ``unchanged`` / ``error``),
    ``activity`` and ``errors`` (field → Chinese messages)."""

    external_id: str
    data: Mapping | None
    existing: Activity | None = None
    result: str = "error"
    activity: Activity | None = None
    errors: dict = field(default_factory=dict)


def _check(activity: Activity, data: Mapping) -> None:
    """The rules and the model's own checks of one row (lengths, URL, number bounds) as
    ``_save_with_poster`` runs them; raises ``ValidationError`` (field → messages)."""
    _raise(validate_activity(data))
    _apply(activity, data)
    # No ``clean_instance`` (what ``save()`` runs): ``_apply`` set every text from ``clean_texts``,
    # the same cleaning, and the other text columns are the services' own values. It was a quarter
    # of a 500-item request (profile in BENCHMARKS.md).
    activity.full_clean(exclude=_NOT_CHECKED, validate_unique=False, validate_constraints=False)


def upsert_drafts(organization, items: Sequence[Item], *, actor=None, unchanged=None) -> dict:
    """Create or update the unit's drafts of ``items`` in one transaction of bulk statements.

    An item without ``existing`` becomes a new draft (草稿); one with ``existing`` updates it if it is
    a draft or returned (``EDITABLE_STATUSES``; otherwise the service's refusal, as on the pages),
    or is ``unchanged`` when ``unchanged(existing, data)`` says nothing would change (a re-sent
    batch, also for a published activity). Each item succeeds or fails alone: a refused item gets
    its Chinese messages per field and writes nothing. An item with ``data`` ``None`` keeps the
    ``errors`` the caller gave it.

    Writes: the rows (multi-row ``INSERT``/``COPY``, then ``bulk_update``), an ``activity.create`` /
    ``activity.update`` audit entry per written row (as the single-item services write), and sends
    ``activities_imported`` in the transaction (dashboard roll-ups, change feed, page cache). Drafts
    are not public, so nothing is announced to webhooks (as for ``create_activity``).

    Returns the counts ``{"created", "updated", "unchanged", "failed"}``; raises ``IntegrityError``
    when another request wrote one of the external ids meanwhile (the caller retries or refuses).
    """
    from kepuyue.activities.importing.writing import insert_rows

    now = timezone.now()
    new: list[Item] = []
    changed: list[Item] = []
    for item in items:
        if item.data is None:
            continue
        try:
            current = item.existing
            if current is not None and unchanged is not None and unchanged(current, item.data):
                item.result, item.activity = "unchanged", current
                continue
            if current is not None and current.status not in EDITABLE_STATUSES:
                raise ValidationError(
                    _("活动“%(title)s”状态为“%(status)s”，只有草稿或已退回的活动可以修改")
                    % {"title": current.title, "status": Status(current.status).label}
                )
            activity = (
                current if current is not None else Activity(organizer=organization, status=Status.DRAFT)
            )
            activity.organizer = organization
            _check(activity, item.data)
            activity.refresh_description_html()
            activity.search_text = compute_search_text(activity)
            item.activity = activity
            (changed if current is not None else new).append(item)
        except ValidationError as exc:
            item.errors = exc.message_dict if hasattr(exc, "error_dict") else {"request": list(exc.messages)}
            item.activity = None
    with transaction.atomic():
        if new:
            columns = [f for f in Activity._meta.concrete_fields if not f.primary_key and not f.generated]
            insert_rows(
                Activity,
                [{f.attname: f.get_prep_value(getattr(i.activity, f.attname)) for f in columns} for i in new],
                now=now,
            )
            ids = dict(
                Activity.objects.filter(
                    organizer=organization, external_id__in=[i.activity.external_id for i in new]
                ).values_list("external_id", "pk")
            )
            for item in new:
                item.activity.pk = item.activity.id = ids[item.activity.external_id]
                item.activity.created = item.activity.updated = now
                item.activity._state.adding = False
                item.result = "created"
        if changed:
            for item in changed:
                item.activity.updated = now
                item.result = "updated"
            Activity.objects.bulk_update([i.activity for i in changed], UPDATED_COLUMNS, batch_size=200)
        written = new + changed
        if written:
            audit.record_many(
                [("activity.create" if i in new else "activity.update", i.activity) for i in written],
                actor=actor,
            )
            send_in_transaction(
                signals.activities_imported,
                Activity,
                organizer_ids=[organization.pk],
                since=now,
                activity_ids=[i.activity.pk for i in written],
            )
    counts = {"created": len(new), "updated": len(changed), "unchanged": 0, "failed": 0}
    for item in items:
        if item.result == "unchanged":
            counts["unchanged"] += 1
        elif item.result == "error":
            counts["failed"] += 1
    return counts
