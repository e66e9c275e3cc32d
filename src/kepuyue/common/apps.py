from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "kepuyue.common"
    label = "common"
    verbose_name = "公共"
