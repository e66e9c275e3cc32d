"""The public change feed (变更流, ``GET /api/v1/changes?since=<cursor>``): every time an activity
becomes, stays or stops being public, a row with a growing sequence number. A reader keeps the
last ``next`` it got and asks again from there; each item says ``upsert`` (the activity as it is
now, published) or ``delete`` (withdrawn or deleted since), so applying the items in order gives
the source's public state — another platform (``manage.py pull_exchange``), a provincial site, a
search engine.

Rows are written in the transaction of the change where the change has one: a save of a published
activity (``post_save``, so admin edits and fixtures count), a save or deletion of one the feed has
named before (``post_save`` / ``post_delete``: an admin unpublishing it is a "delete"), a move to or
from ``published`` (``activity_moving``, in the transaction), and the importer's bulk writes, which
send no model signals (``activities_imported``, in the transaction: one multi-row insert per batch
of the published rows it wrote). Recommendation and featuring (after-commit events of ``review``)
add a row once committed. Activities published before the feed existed were given a row by the
migration ``0002_backfill_changes``. Sequence numbers are handed out when rows are
inserted, not when their transactions commit: the feed only serves rows older than
``API_CHANGES_SETTLE_SECONDS`` (5) so that a slower transaction's row is not skipped by a reader
that already went past it.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from kepuyue.activities.models import Activity, Status
from kepuyue.common.bulk import insert_rows
from kepuyue.common.pagecache import bump

from .models import ActivityChange, ChangeFeedPurge

MAX_LIMIT = 200


#: The page-cache version (``common.pagecache``) that moves with every feed row once it commits: the
#: API's read cache keys on it (``core.latest_change``), so a cached read costs no database query.
VERSION = "api-changes"


def moved() -> None:
    """Bump :data:`VERSION` now and again when the current transaction commits. Every writer of feed
    rows below calls it. The bump after the commit is the one that matters: a read between the two
    may have cached the old rows under the first new version. The first makes the writing
    transaction's own later reads (and a test's, which never commits) see the change; after a rollback
    it only costs one cache miss."""
    bump(VERSION)
    transaction.on_commit(lambda: bump(VERSION), robust=True)


def record(activity_id: int) -> None:
    ActivityChange.objects.create(activity_id=activity_id)
    moved()


def _named_before(activity_id: int) -> bool:
    return ActivityChange.objects.filter(activity_id=activity_id).exists()


def _saved(sender, instance, created=False, **kwargs):
    if instance.status == Status.PUBLISHED or (not created and _named_before(instance.pk)):
        record(instance.pk)


def _deleted(sender, instance, **kwargs):
    if instance.status == Status.PUBLISHED or _named_before(instance.pk):
        record(instance.pk)


def _imported(sender, organizer_ids, since, activity_ids=None, **kwargs):
    """The importer's bulk writes (no model signals): a row for each published activity of the batch
    (``activity_ids``, the rows it wrote; else those of ``organizer_ids`` written at ``since``). An
    import of a unit writes drafts: no row."""
    if activity_ids is not None:
        rows = Activity.objects.filter(pk__in=list(activity_ids))
    else:
        rows = Activity.objects.filter(organizer_id__in=organizer_ids, updated=since)
    ids = rows.filter(status=Status.PUBLISHED).order_by("pk").values_list("pk", flat=True)
    # Multi-row INSERTs in id order (sequence numbers follow it), not bulk_create's model instances
    # and per-field preparation: 10,000 rows cost 2 s of an import's commit (issue 17 point 4).
    insert_rows(ActivityChange, [{"activity_id": pk} for pk in ids], now=timezone.now())
    moved()


def _moving(sender, activity_id, to_state, from_state="", **kwargs):
    if Status.PUBLISHED in (str(to_state), str(from_state)):
        record(activity_id)


def _review(sender, activity_id, **kwargs):
    record(activity_id)


def connect() -> None:
    from kepuyue.activities import signals as activity_signals
    from kepuyue.review import signals as review_signals

    post_save.connect(_saved, sender=Activity, dispatch_uid="api.changes.saved")
    post_delete.connect(_deleted, sender=Activity, dispatch_uid="api.changes.deleted")
    activity_signals.activity_moving.connect(_moving, dispatch_uid="api.changes.moving")
    activity_signals.activities_imported.connect(_imported, dispatch_uid="api.changes.imported")
    for signal in (
        review_signals.activity_recommended,
        review_signals.activity_unrecommended,
        review_signals.activity_featured,
        review_signals.activity_unfeatured,
    ):
        signal.connect(_review, dispatch_uid=f"api.changes.{id(signal)}")


def backfill(activity_model=Activity, change_model=ActivityChange, *, using: str = "default") -> int:
    """Give every published activity the feed has never named a row (one ``INSERT … SELECT``, in id
    order): activities written before the feed existed or by a bulk path that sends no signal
    (``seed_demo``). Idempotent; returns how many rows it added."""
    from django.db import connections

    activities = activity_model._meta.db_table
    feed = change_model._meta.db_table
    connection = connections[using]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(feed)} (activity_id, at) "  # noqa: S608 - table names from the models
            f"SELECT a.id, %s FROM {quote(activities)} a WHERE a.status = %s AND NOT EXISTS "
            f"(SELECT 1 FROM {quote(feed)} c WHERE c.activity_id = a.id) ORDER BY a.id",
            [timezone.now(), Status.PUBLISHED.value],
        )
        added = cursor.rowcount
    if added:
        moved()
    return added


# --- retention (decision 0032) -------------------------------------------------------------------


def retention_days() -> int:
    return int(getattr(settings, "API_CHANGES_RETENTION_DAYS", 400))


def purge(now=None, *, slice_size: int = 5000) -> int:
    """Delete every feed row older than ``API_CHANGES_RETENTION_DAYS`` (400), in sequence order, in
    slices of ``slice_size`` rows (never a long lock). The latest row of an activity that is still
    published is **re-appended** first (a new row, a new sequence number): reading from 0 stays a full
    sync, and no row older than the window is left. Superseded rows and tombstones (deletion records)
    simply go. The highest sequence number removed is recorded (:class:`ChangeFeedPurge`): a cursor
    below it is older than the window — it may have missed a purged deletion — and gets a 410
    (:func:`expired`), telling the reader to resync from 0. A reader that keeps up sees the re-appended
    rows as ``upsert`` of activities it already has (idempotent), once per window.

    Returns how many rows were deleted. Run daily by Celery beat or ``manage.py purge_changes``.
    """
    cutoff = (now or timezone.now()) - timedelta(days=retention_days())
    deleted, after, floor = 0, 0, 0
    while True:
        rows = list(
            ActivityChange.objects.filter(id__gt=after, at__lt=cutoff)
            .order_by("id")
            .values_list("id", "activity_id")[:slice_size]
        )
        if not rows:
            break
        after = floor = rows[-1][0]
        activity_ids = {a for _i, a in rows}
        latest = dict(
            ActivityChange.objects.filter(activity_id__in=activity_ids)
            .values("activity_id")
            .annotate(latest=Max("id"))
            .values_list("activity_id", "latest")
        )
        public = set(
            Activity.objects.filter(pk__in=activity_ids, status=Status.PUBLISHED).values_list("pk", flat=True)
        )
        again = sorted(a for i, a in rows if latest[a] == i and a in public)
        with transaction.atomic():
            ActivityChange.objects.bulk_create([ActivityChange(activity_id=a) for a in again], batch_size=500)
            deleted += ActivityChange.objects.filter(pk__in=[i for i, _a in rows]).delete()[0]
    if floor:
        ChangeFeedPurge.objects.create(up_to=floor, deleted=deleted)
        moved()
    return deleted


def horizon() -> int:
    """The highest sequence number the retention removed (0: none yet)."""
    return ChangeFeedPurge.objects.order_by("-up_to").values_list("up_to", flat=True).first() or 0


def expired(since: int) -> bool:
    """Whether cursor ``since`` is older than the retained window (below the last purge): its reader
    may have missed a deletion that was purged and must resync (read from 0, the full state, and drop
    what it no longer finds). ``0`` never expires."""
    return since > 0 and since < horizon()


def expired_body() -> dict:
    """The 410's error body (Chinese, with what to do)."""
    from django.utils.translation import gettext as _

    from .core import error_body

    return error_body(
        _(
            "变更流游标已过期：早于保留期（%(days)d 天）的删除记录已清理，请从 since=0 重新完整同步，"
            "并删除本地不再出现的活动"
        )
        % {"days": retention_days()},
        "cursor_expired",
        {"since": [_("游标已过期，请从 0 重新同步")]},
    )


def settle_seconds() -> int:
    return int(getattr(settings, "API_CHANGES_SETTLE_SECONDS", 5))


def page(since: int, limit: int) -> tuple[list[tuple[int, int, Activity | None]], int, bool]:
    """``(items, next, more)``: ``items`` are ``(seq, activity_id, published activity or None)``, one
    per activity (its latest row in the page), in sequence order. Three queries."""
    limit = max(1, min(limit, MAX_LIMIT))
    horizon = timezone.now() - timedelta(seconds=settle_seconds())
    rows = list(
        ActivityChange.objects.filter(id__gt=since, at__lte=horizon)
        .order_by("id")
        .values_list("id", "activity_id")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    latest: dict[int, int] = {}
    for seq, activity_id in rows:
        latest[activity_id] = seq
    activities = (
        Activity.objects.filter(pk__in=latest, status=Status.PUBLISHED)
        .select_related("campaign", "joint_action", "brand", "organizer", "region")
        .in_bulk()
    )
    items = sorted(((seq, pk, activities.get(pk)) for pk, seq in latest.items()), key=lambda item: item[0])
    next_seq = rows[-1][0] if rows else since
    return items, next_seq, more
