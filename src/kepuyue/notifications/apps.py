from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kepuyue.notifications"
    label = "notifications"
    verbose_name = "通知"
