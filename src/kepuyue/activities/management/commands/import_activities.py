"""``manage.py import_activities FILE [--organization NAME_OR_ID] [--campaign SLUG] [--dry-run]``:
validate and import a 重点科普活动信息表 through the same path as the staff pages."""

import time
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from kepuyue.activities import importing
from kepuyue.activities.models import ImportJob


class Command(BaseCommand):
    help = "导入重点科普活动信息表（.xlsx/.csv）：校验每一行，导入有效行，列出失败行及原因。"

    def add_arguments(self, parser):
        parser.add_argument("file", help=".xlsx 或 .csv 文件")
        parser.add_argument(
            "--organization",
            help="按单位导入（名称或编号）：活动归该单位、保存为草稿；不填则为管理员导入（按主办单位名称归属，直接发布）",
        )
        parser.add_argument("--campaign", help="科普月标识（如 kepuyue-2025），默认当前科普月")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")

    def handle(self, *args, **options):
        from kepuyue.campaigns.models import Campaign
        from kepuyue.orgs.models import Organization

        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        organization = None
        if options["organization"]:
            value = options["organization"]
            organization = Organization.objects.filter(name=value).first()
            if organization is None and value.isdigit():
                organization = Organization.objects.filter(pk=int(value)).first()
            if organization is None:
                raise CommandError(f"找不到单位：{value}")
        campaign = None
        if options["campaign"]:
            campaign = Campaign.objects.filter(slug=options["campaign"]).first()
            if campaign is None:
                raise CommandError(f"找不到科普月：{options['campaign']}")
        with path.open("rb") as handle:
            job = ImportJob(organization=organization, original_name=path.name[:255])
            job.file.save(path.name, File(handle), save=False)
            job.save()
        started = time.perf_counter()
        if options["dry_run"]:
            job = importing.validate_import(job, campaign=campaign)
        else:
            job = importing.commit_import(job, campaign=campaign)
        seconds = time.perf_counter() - started
        if job.state == ImportJob.State.FAILED:
            raise CommandError(f"{path.name}：{job.error}")
        failed = importing.failed_rows(job)
        if options["dry_run"]:
            self.stdout.write(
                f"校验 {job.total} 行：可导入 {job.valid_rows} 行，失败 {len(failed)} 行（未写入）"
            )
        else:
            self.stdout.write(importing.summary_line(job))
        for row, issues in failed:
            reasons = "；".join(
                f"{i['column']}：{i['reason']}" if i["column"] else i["reason"] for i in issues
            )
            self.stdout.write(f"  第 {row} 行：{reasons}")
        failed_numbers = {row for row, _issues in failed}
        campaign_wide = sorted(
            {
                i["row"]
                for i in job.report
                if i["level"] == importing.WARNING
                and i["reason"].startswith(importing.CAMPAIGN_WIDE_WARNING)
                and i["row"] not in failed_numbers
            }
        )
        if campaign_wide:
            shown = "、".join(str(row) for row in campaign_wide[:30]) + (
                "…" if len(campaign_wide) > 30 else ""
            )
            self.stdout.write(
                f"{importing.CAMPAIGN_WIDE_WARNING}：{len(campaign_wide)} 行（第 {shown} 行；请核对是否属于某一联合行动）"
            )
        rate = job.total / seconds if seconds else 0
        self.stderr.write(f"{job.total} 行，用时 {seconds:.1f} 秒（{rate:,.0f} 行/秒）")
