from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "kepuyue.search"
    label = "search"
    verbose_name = "检索"
