from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "kepuyue.calls"
    label = "calls"
    verbose_name = "征集作品"

    def ready(self) -> None:
        from . import rules  # noqa: F401  (registers the calls.* permissions)
