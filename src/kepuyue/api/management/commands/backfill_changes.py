"""``manage.py backfill_changes``: a change-feed row for every published activity the feed has never
named (after a bulk load that sends no signals, such as ``seed_demo``). Idempotent."""

from django.core.management.base import BaseCommand

from kepuyue.api import changes


class Command(BaseCommand):
    help = "为变更流补记从未记录过的已发布活动（批量生成数据之后运行；可重复运行）"

    def handle(self, *args, **options):
        added = changes.backfill()
        self.stdout.write(f"变更流补记 {added} 条已发布活动")
