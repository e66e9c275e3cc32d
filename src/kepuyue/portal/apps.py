from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "kepuyue.portal"
    label = "portal"
    verbose_name = "门户"
