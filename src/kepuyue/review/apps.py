from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "kepuyue.review"
    label = "review"
    verbose_name = "审核与推荐"
