from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "kepuyue.campaigns"
    label = "campaigns"
    verbose_name = "活动方案"
