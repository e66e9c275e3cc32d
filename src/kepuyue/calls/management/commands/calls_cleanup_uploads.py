"""Remove expired tus uploads and stray upload temporaries (run hourly from cron or a Celery beat)."""

from django.core.management.base import BaseCommand

from kepuyue.calls import uploads


class Command(BaseCommand):
    help = "删除已过期的未完成上传（tus）和遗留的上传临时文件"

    def handle(self, *args, **options):
        removed = uploads.cleanup_expired()
        self.stdout.write(f"已删除 {removed} 个过期上传")
