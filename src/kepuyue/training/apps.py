from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "kepuyue.training"
    label = "training"
    verbose_name = "中国农技协乡村振兴大讲堂"
