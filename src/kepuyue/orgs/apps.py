from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "kepuyue.orgs"
    label = "orgs"
    verbose_name = "组织"
