from django.apps import AppConfig


class GuideConfig(AppConfig):
    name = "kepuyue.guide"
    label = "guide"
    verbose_name = "操作指南"
