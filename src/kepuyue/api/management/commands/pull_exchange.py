"""``manage.py pull_exchange <base URL> --organization <id>``: read another Kepuyue platform's
change feed and publish its activities here under a local organization (``kepuyue.api.exchange``).
Idempotent: run it from cron; conflicts and refused activities are listed, nothing is applied twice."""

import urllib.error

from django.core.management.base import BaseCommand, CommandError

from kepuyue.api.exchange import pull
from kepuyue.orgs.models import Organization


class Command(BaseCommand):
    help = "拉取另一平台的活动变更流并同步到本平台（按来源编号更新，保留来源）"

    def add_arguments(self, parser):
        parser.add_argument("base_url", help="来源平台地址，如 https://www.kepuchina.cn")
        parser.add_argument("--organization", required=True, type=int, help="本地发布单位的编号")
        parser.add_argument("--max-pages", type=int, default=1000)

    def handle(self, *args, base_url, organization, max_pages, **options):
        found = Organization.objects.filter(pk=organization).first()
        if found is None:
            raise CommandError(f"没有编号为 {organization} 的单位")
        try:
            report = pull(base_url, found, max_pages=max_pages)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise CommandError(f"无法读取 {base_url} 的变更流：{exc}") from None
        for problem in report.problems:
            self.stderr.write(problem)
        self.stdout.write(report.summary())
