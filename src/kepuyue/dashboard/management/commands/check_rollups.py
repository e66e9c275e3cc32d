"""``manage.py check_rollups [--campaign SLUG]``: compare the roll-ups with a recount (drift check).

Exits 1 and lists the differences when they drifted (e.g. after edits made directly in the
database); ``rebuild_rollups`` repairs them.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from kepuyue.campaigns.models import Campaign
from kepuyue.dashboard import rollups

MAX_LINES = 50


class Command(BaseCommand):
    help = "检查数据看板的汇总计数与重新计数是否一致"

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help="科普月标识；不写则检查全部")

    def handle(self, *args, campaign=None, **options):
        campaign_id = None
        if campaign:
            found = Campaign.objects.filter(slug=campaign).first()
            if found is None:
                raise CommandError(f"没有标识为“{campaign[:64]}”的科普月")
            campaign_id = found.pk
        problems = rollups.check(campaign_id)
        if not problems:
            self.stdout.write("汇总计数与重新计数一致")
            return
        for line in problems[:MAX_LINES]:
            self.stdout.write(line)
        if len(problems) > MAX_LINES:
            self.stdout.write(f"……另有 {len(problems) - MAX_LINES} 处不一致")
        self.stderr.write(f"汇总计数有 {len(problems)} 处不一致：请运行 manage.py rebuild_rollups")
        sys.exit(1)
