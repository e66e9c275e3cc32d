from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """数据看板: roll-ups of the campaign's figures, the public and staff dashboards."""

    name = "kepuyue.dashboard"
    label = "dashboard"
    verbose_name = "数据看板"

    def ready(self) -> None:
        # Subscriptions (the list of all: docs/architecture.md). Every one runs inside the
        # transaction of the change, so a roll-up commits or rolls back with it.
        from django.db.models.signals import post_delete, post_save

        from kepuyue.activities import signals as activities
        from kepuyue.activities.models import Activity, Summary

        from . import receivers

        activities.activity_moving.connect(
            receivers.activity_moving, dispatch_uid="dashboard.activity_moving"
        )
        activities.activities_imported.connect(
            receivers.activities_imported, dispatch_uid="dashboard.activities_imported"
        )
        # Saves outside the workflow (the admin, fixtures) and summaries (participants reported).
        post_save.connect(receivers.activity_saved, sender=Activity, dispatch_uid="dashboard.activity_saved")
        post_delete.connect(
            receivers.activity_saved, sender=Activity, dispatch_uid="dashboard.activity_deleted"
        )
        post_save.connect(receivers.summary_saved, sender=Summary, dispatch_uid="dashboard.summary_saved")
        post_delete.connect(receivers.summary_saved, sender=Summary, dispatch_uid="dashboard.summary_deleted")
