from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "kepuyue.calls"
    label = "calls"
    verbose_name = "征集作品"
