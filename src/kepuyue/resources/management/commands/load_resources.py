"""``manage.py load_resources FILE``: the resources a plan describes (``data/resources/<campaign>.yaml``),
upserted by slug; idempotent. Entries carry descriptions only: files are uploaded on the staff page."""

from __future__ import annotations

import yaml
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kepuyue.campaigns.models import Brand, Campaign, JointAction
from kepuyue.common.text import clean_text
from kepuyue.resources.models import Kind, Resource


class Command(BaseCommand):
    help = "导入方案中的宣传资源条目（说明，无文件；按 slug 更新，可重复运行）"

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        try:
            with open(file, encoding="utf-8") as fh:
                spec = yaml.safe_load(fh) or {}
        except (OSError, yaml.YAMLError) as error:
            raise CommandError(f"无法读取 {file}：{error}") from None
        campaign = Campaign.objects.filter(slug=spec.get("campaign")).first()
        if campaign is None:
            raise CommandError(f"科普月“{spec.get('campaign')}”尚未导入（manage.py load_campaign）")
        created = updated = unchanged = 0
        with transaction.atomic():
            for number, item in enumerate(spec.get("resources") or [], start=1):
                where = f"resources[{number - 1}]"
                action = None
                if item.get("joint_action"):
                    action = JointAction.objects.filter(campaign=campaign, slug=item["joint_action"]).first()
                    if action is None:
                        raise CommandError(f"{where}.joint_action：没有联合行动“{item['joint_action']}”")
                brand = None
                if item.get("brand"):
                    brand = Brand.objects.filter(joint_action=action, slug=item["brand"]).first()
                    if brand is None:
                        raise CommandError(f"{where}.brand：联合行动中没有品牌活动“{item['brand']}”")
                if item.get("kind") not in Kind.values:
                    raise CommandError(f"{where}.kind：应为 {'、'.join(Kind.values)}")
                values = {
                    "joint_action": action,
                    "brand": brand,
                    "kind": item["kind"],
                    "title": clean_text(item.get("title"), max_length=200, label="title"),
                    "description": clean_text(item.get("description"), max_length=2000, label="description"),
                    "plan_ref": clean_text(item.get("plan_ref"), max_length=32, label="plan_ref"),
                }
                row = Resource.objects.filter(campaign=campaign, slug=item["slug"]).first()
                if row is None:
                    Resource.objects.create(campaign=campaign, slug=item["slug"], **values)
                    created += 1
                elif any(getattr(row, k) != v for k, v in values.items()):
                    for k, v in values.items():
                        setattr(row, k, v)
                    row.save()
                    updated += 1
                else:
                    unchanged += 1
        self.stdout.write(f"宣传资源：新增 {created}，更新 {updated}，未变 {unchanged}")
