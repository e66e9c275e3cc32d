"""``manage.py import_activities FILE [--organization NAME_OR_ID] [--campaign SLUG] [--dry-run]
[--default-organizer NAME_OR_ID]``, ``import_activities --retry JOB_ID`` and
``import_activities --recover-stale``: validate and import a 重点科普活动信息表 through the same path
as the staff pages, and print the same row-by-row report (outcome, every error and warning).

``--dry-run`` stores nothing: no job, no copy of the file, no activity (issue 11 point 7).
"""

import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from kepuyue.activities import importing
from kepuyue.activities.models import ImportJob
from kepuyue.common.text import int_or_none


def _organization(value: str, option: str):
    from kepuyue.orgs.models import Organization

    found = Organization.objects.filter(name=value).first()
    pk = int_or_none(value, min_value=1)
    if found is None and pk is not None:
        found = Organization.objects.filter(pk=pk).first()
    if found is None:
        raise CommandError(f"{option}：找不到单位 {value}")
    return found


class Command(BaseCommand):
    help = "导入重点科普活动信息表（.xlsx/.csv）：逐行校验，导入有效行，逐行列出结果、错误和提醒。"

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help=".xlsx 或 .csv 文件")
        parser.add_argument(
            "--organization",
            help="按单位导入（名称或编号）：活动归该单位、保存为草稿；不填则为管理员导入（按主办单位名称归属，直接发布）",
        )
        parser.add_argument(
            "--default-organizer",
            help="管理员导入：主办单位为空的行归入此单位（名称或编号），而不是作为错误",
        )
        parser.add_argument("--campaign", help="科普月标识（如 kepuyue-2025），默认当前科普月")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入任何数据（也不保存文件）")
        parser.add_argument("--retry", type=int, metavar="JOB_ID", help="重试一次中断的导入（按导入编号）")
        parser.add_argument(
            "--recover-stale", action="store_true", help="把长时间无进展的导入标记为“失败，可重试”"
        )

    def handle(self, *args, **options):
        from kepuyue.campaigns.models import Campaign

        if options["recover_stale"]:
            count = importing.recover_stale()
            self.stdout.write(f"已将 {count} 个中断的导入标记为可重试")
            return
        campaign = None
        if options["campaign"]:
            campaign = Campaign.objects.filter(slug=options["campaign"]).first()
            if campaign is None:
                raise CommandError(f"找不到科普月：{options['campaign']}")
        if options["retry"] is not None:
            return self.retry(options["retry"], campaign)
        if not options["file"]:
            raise CommandError("请指定要导入的文件（或 --retry JOB_ID、--recover-stale）")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        organization = (
            _organization(options["organization"], "--organization") if options["organization"] else None
        )
        default = None
        if options["default_organizer"]:
            if organization is not None:
                raise CommandError("--default-organizer 只用于管理员导入（不能与 --organization 同用）")
            default = _organization(options["default_organizer"], "--default-organizer")
        job = ImportJob(organization=organization, default_organizer=default, original_name=path.name[:255])
        started = time.perf_counter()
        if options["dry_run"]:
            job = importing.validate_import(job, campaign=campaign, path=path)
        else:
            with path.open("rb") as handle:
                job.file.save(path.name, File(handle), save=False)
                job.save()
            job = importing.commit_import(job, campaign=campaign)
        self.finish(job, time.perf_counter() - started, dry_run=options["dry_run"], name=path.name)

    def retry(self, pk: int, campaign) -> None:
        job = ImportJob.objects.filter(pk=pk).first()
        if job is None:
            raise CommandError(f"找不到导入：{pk}")
        try:
            step = importing.retry_import(job)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        started = time.perf_counter()
        job = (importing.commit_import if step == "commit" else importing.validate_import)(
            job, campaign=campaign
        )
        self.finish(job, time.perf_counter() - started, dry_run=step != "commit", name=job.original_name)

    def finish(self, job: ImportJob, seconds: float, *, dry_run: bool, name: str) -> None:
        if job.state == ImportJob.State.FAILED:
            raise CommandError(f"{name}：{job.error}")
        for line in importing.report_lines(job):
            self.stdout.write(line)
        self.stdout.write(importing.counts_line(job))
        if dry_run:
            failed = len(importing.failed_rows(job))
            self.stdout.write(f"校验 {job.total} 行：可导入 {job.valid_rows} 行，失败 {failed} 行（未写入）")
        else:
            self.stdout.write(importing.summary_line(job))
        failed_numbers = {row for row, _issues in importing.failed_rows(job)}
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
