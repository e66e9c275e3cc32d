"""``manage.py purge_exports``: delete export files past their retention and end stale export jobs."""

from django.core.management.base import BaseCommand

from kepuyue.activities import export_jobs


class Command(BaseCommand):
    help = "删除过期的导出文件，并将中断的导出任务标记为失败（每天运行一次）"

    def handle(self, *args, **options):
        deleted, failed = export_jobs.purge()
        self.stdout.write(f"已删除过期导出 {deleted} 个，标记中断任务 {failed} 个")
