from django.apps import AppConfig


class SpecialsConfig(AppConfig):
    name = "kepuyue.specials"
    label = "specials"
    verbose_name = "特色活动（光影科学梦、科学大师剧、星火馆志愿者、线上讲座）"
