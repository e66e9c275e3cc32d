from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "kepuyue.activities"
    label = "activities"
    verbose_name = "活动"

    def ready(self) -> None:
        from . import rules  # noqa: F401  (registers the activities.* permissions)
