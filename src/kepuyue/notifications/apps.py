from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kepuyue.notifications"
    label = "notifications"
    verbose_name = "通知"

    def ready(self) -> None:
        # Subscriptions to lower apps' events (the list of all: docs/architecture.md).
        from kepuyue.activities import signals as activities
        from kepuyue.review import signals as review

        from . import events

        activities.activity_moved.connect(events.activity_moved, dispatch_uid="notifications.activity_moved")
        review.activity_recommended.connect(
            events.activity_recommended, dispatch_uid="notifications.activity_recommended"
        )
        review.activity_featured.connect(
            events.activity_featured, dispatch_uid="notifications.activity_featured"
        )
