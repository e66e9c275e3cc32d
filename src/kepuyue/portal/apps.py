from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "kepuyue.portal"
    label = "portal"
    verbose_name = "门户"

    def ready(self):
        # The page cache's version bumps on the lower apps' events (ADR 0025).
        from . import receivers

        receivers.connect()
