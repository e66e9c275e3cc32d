from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _repair_index(sender, using, **kwargs):
    from django.db import connections

    from kepuyue.search.schema import ensure_index

    ensure_index(connections[using])


class SearchConfig(AppConfig):
    name = "kepuyue.search"
    label = "search"
    verbose_name = "检索"

    def ready(self):
        # Django's SQLite schema editor drops a table's triggers when it rebuilds the table for an
        # ALTER; put them back after every migrate (see kepuyue.search.schema.ensure_index).
        post_migrate.connect(_repair_index, sender=self, dispatch_uid="kepuyue.search.repair_index")
