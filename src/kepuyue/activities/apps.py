from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "kepuyue.activities"
    label = "activities"
    verbose_name = "活动"
