"""``manage.py load_campaign FILE``: load a campaign plan file (``campaigns/<slug>.yaml``)."""

from django.core.management.base import BaseCommand, CommandError

from kepuyue.campaigns.services import CampaignFileError, load_campaign


class Command(BaseCommand):
    help = "导入科普月方案文件（YAML），可重复执行：未改动的条目保持不变，文件中删去的条目会被删除。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="方案文件路径，例如 campaigns/kepuyue-2025.yaml")

    def handle(self, *args, file: str, **options):
        try:
            result = load_campaign(file)
        except CampaignFileError as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(
                f"{file}：{len(exc.errors)} 处错误，未写入任何数据 (nothing was written)"
            ) from None

        campaign = result.campaign
        self.stdout.write(f"{campaign.name}（{campaign.slug}）：{file}")
        if options["verbosity"] >= 1:
            for name, counts in result.by_model.items():
                self.stdout.write(
                    f"  {name}：新增 {counts.created}，更新 {counts.updated}，"
                    f"删除 {counts.deleted}，未变 {counts.unchanged}"
                )
        summary = (
            f"合计：新增 {result.created}，更新 {result.updated}，删除 {result.deleted}，未变 {result.unchanged}"
            f" (created {result.created}, updated {result.updated}, deleted {result.deleted},"
            f" unchanged {result.unchanged})"
        )
        self.stdout.write(self.style.SUCCESS(summary) if result.changed else summary)
