"""``manage.py load_sample_tours [--campaign SLUG]``: one published sample tour so the tour pages
and the dashboard's 百县 / 千车 / 万里行 show something (run by ``make data``; idempotent).

江西省科技馆's sample caravan through 吉安 and 赣州 (old revolutionary areas, declared as such);
the operating unit comes from ``data/bases.csv``. A second run changes nothing."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kepuyue.campaigns.models import Campaign
from kepuyue.orgs.models import Organization
from kepuyue.regions.models import Region
from kepuyue.tours import services
from kepuyue.tours.models import Tour, Vehicle

OPERATOR = "江西省科技馆"
VEHICLE = {"kind": "caravan", "name": "江西科普大篷车（示例）", "plate": "赣A12345", "model": "Ⅱ型"}
TITLE = "科普大篷车红色老区行（示例）"
REVOLUTIONARY = 1 << 1
# (day, county code, venue kind, venue)
STOPS = (
    ("2025-09-15", "360881", "school", "井冈山市示例小学"),
    ("2025-09-16", "360881", "barracks", "井冈山市示例营区"),
    ("2025-09-18", "360732", "village", "兴国县示例村"),
    ("2025-09-19", "360731", "community", "于都县示例社区"),
    ("2025-09-20", "360781", "government", "瑞金市示例机关"),
)


class Command(BaseCommand):
    help = "载入一条示例巡展（科普大篷车，含 5 个站点），可重复运行"

    def add_arguments(self, parser):
        parser.add_argument("--campaign", default="kepuyue-2025")

    @transaction.atomic
    def handle(self, *args, campaign, **options):
        campaign_row = Campaign.objects.filter(slug=campaign).first()
        if campaign_row is None:
            raise CommandError(f"没有科普月“{campaign}”，请先运行 load_campaign")
        operator = Organization.objects.filter(name=OPERATOR).first()
        if operator is None:
            self.stdout.write(
                f"示例巡展：没有单位“{OPERATOR}”（先运行 import_organizations data/bases.csv），跳过"
            )
            return
        vehicle = Vehicle.objects.filter(plate=VEHICLE["plate"]).first() or services.save_vehicle(
            operator, actor=None, province=Region.objects.get(pk="360000"), **VEHICLE
        )
        tour = Tour.objects.filter(campaign=campaign_row, operator=operator, title=TITLE).first()
        if tour is None:
            brand = services.tour_brands(campaign_row).filter(slug="science-caravans").first()
            tour = services.save_tour(
                operator,
                actor=None,
                campaign=campaign_row,
                vehicle=vehicle,
                title=TITLE,
                brand=brand,
                summary="示例数据：科普大篷车进学校、进军营、进乡村、进社区、进机关，走进井冈山、兴国、于都、瑞金。",
            )
        stops = []
        for day, code, kind, venue in STOPS:
            given = services.StopInput(
                date=date.fromisoformat(day),
                region=Region.objects.get(pk=code),
                venue_kind=kind,
                venue=venue,
                special_areas=REVOLUTIONARY,
            )
            checked, problems = services.check_stop(tour, given)
            if problems:
                raise CommandError(f"示例站点 {day} {code}：{'；'.join(problems)}")
            stops.append(checked)
        added, _skipped = services.add_stops(tour, stops, actor=None, source="sample")
        if tour.status != "published":
            services.set_published(tour, True, actor=None)
        tour.refresh_from_db()
        self.stdout.write(
            f"示例巡展：{tour.title}，新增站点 {added}，共 {tour.stop_count} 站、{tour.county_count} 个县、{tour.distance_km} 公里"
        )
