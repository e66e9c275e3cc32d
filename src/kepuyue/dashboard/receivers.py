"""Subscriptions of the dashboard (数据看板) to the activities' events and saves, all in the
transaction of the change (``docs/architecture.md``): each calls :func:`.rollups.sync`."""

from __future__ import annotations

from . import rollups


def activity_moving(sender, activity_id, **kwargs) -> None:
    """``activity_moving`` (in transaction): published, withdrawn … — count or uncount it."""
    rollups.sync([activity_id])


def activities_imported(sender, organizer_ids, since, activity_ids=None, **kwargs) -> None:
    """``activities_imported`` (in transaction): rows the importer's bulk writes touched — the
    ``activity_ids`` it names, else every row of these units written at ``since``."""
    from kepuyue.activities.models import Activity

    if activity_ids is not None:
        rollups.sync(activity_ids)
        return
    rollups.sync(
        Activity.objects.filter(organizer_id__in=organizer_ids, updated=since).values_list("pk", flat=True)
    )


def activity_saved(sender, instance, **kwargs) -> None:
    """``post_save``/``post_delete`` of an activity: edits outside the workflow (admin, fixtures)."""
    if instance.pk is not None:
        rollups.sync([instance.pk])


def summary_saved(sender, instance, **kwargs) -> None:
    """``post_save``/``post_delete`` of a summary: the participants it reports."""
    rollups.sync([instance.activity_id])
