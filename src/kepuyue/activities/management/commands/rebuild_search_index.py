"""``manage.py rebuild_search_index [--recompute]``: rebuild the activity search index."""

from django.core.management.base import BaseCommand

from kepuyue.activities.services import refresh_search_text
from kepuyue.search.services import rebuild_index


class Command(BaseCommand):
    help = "重建活动检索索引（SQLite FTS5 重建 / PostgreSQL REINDEX）；--recompute 先重新分词计算检索词。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--recompute",
            action="store_true",
            help="先按当前分词词典重新计算所有活动的检索词（search_text），例如扩充词典之后",
        )

    def handle(self, *args, recompute=False, **options):
        if recompute:
            updated = refresh_search_text()
            self.stdout.write(f"已重新计算检索词：{updated} 条活动有变化")
        self.stdout.write(self.style.SUCCESS(rebuild_index()))
