from django.apps import AppConfig


class ToursConfig(AppConfig):
    name = "kepuyue.tours"
    label = "tours"
    verbose_name = "流动科普巡展"
