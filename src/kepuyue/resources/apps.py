from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "kepuyue.resources"
    label = "resources"
    verbose_name = "宣传资源"
