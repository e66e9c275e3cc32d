from django.apps import AppConfig


class RolesConfig(AppConfig):
    name = "kepuyue.roles"
    label = "roles"
    verbose_name = "角色与管辖范围"

    def ready(self) -> None:
        from . import rules  # noqa: F401  (registers the permissions)
