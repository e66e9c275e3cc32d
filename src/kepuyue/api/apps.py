from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kepuyue.api"
    label = "api"
    verbose_name = "开放接口"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import changes, receivers

        receivers.connect()
        changes.connect()
