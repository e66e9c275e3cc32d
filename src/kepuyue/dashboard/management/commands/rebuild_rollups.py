"""``manage.py rebuild_rollups [--campaign SLUG]``: recount the dashboard's roll-ups from scratch."""

import time

from django.core.management.base import BaseCommand, CommandError

from kepuyue.campaigns.models import Campaign
from kepuyue.dashboard import rollups


class Command(BaseCommand):
    help = "从头重新统计数据看板的汇总计数（可只统计一届科普月）"

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help="科普月标识，例如 kepuyue-2025；不写则统计全部")

    def handle(self, *args, campaign=None, **options):
        campaign_id = None
        if campaign:
            found = Campaign.objects.filter(slug=campaign).first()
            if found is None:
                raise CommandError(f"没有标识为“{campaign[:64]}”的科普月")
            campaign_id = found.pk
        started = time.perf_counter()
        counted = rollups.rebuild(campaign_id)
        self.stdout.write(f"已重新统计 {counted} 个已发布活动，用时 {time.perf_counter() - started:.1f} 秒")
