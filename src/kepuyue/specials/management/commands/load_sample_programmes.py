"""``manage.py load_sample_programmes [--campaign SLUG]``: the programmes' sample data for ``make run``.

- The 光影科学梦 catalogue from ``data/films_books.md`` (as ``load_films``).
- Three screenings at 中国科学技术馆 that the sources report for 2025 (films_books.md, row 2025: 巨幕影院
  《杨振宁：百年科学之路》《与象同行》 and 4D影院《我是医生》《钱学森》 in the 9-02 — 9-30 公益展映, the
  《地道战》专场 on 9-07), published through the workflow; the 4D one gets registration on the platform
  with two sample sessions on 9月13日 (the session times are the sample's, not the source's).
- The exhibition proposals call comes from the campaign file (``innovation-exhibitions``).
- One play of the repertoire, marked 示例 (the sources name no university play): shows the page and
  the dashboard's measure; delete it in the admin.
Idempotent: what exists (by title) is left as it is. Needs the organizations (``import_organizations
data/bases.csv``): without 中国科学技术馆 the screenings are skipped with a note.
"""

from datetime import datetime, time

from django.core.management.base import BaseCommand

from kepuyue.activities.models import Activity, Status
from kepuyue.activities.services import create_activity, transition
from kepuyue.campaigns.models import Brand, Campaign
from kepuyue.common import clock
from kepuyue.orgs.models import Organization
from kepuyue.registrations import services as registrations
from kepuyue.registrations.models import RegistrationConfig
from kepuyue.specials import services
from kepuyue.specials.models import Film, Play

MUSEUM = "中国科学技术馆"
UNIVERSITY = "中国科学技术大学工程科学实验教学中心"


def _at(day: str, hour: int, minute: int = 0) -> datetime:
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, hour, minute, tzinfo=clock.BEIJING)


SCREENINGS = (
    # title, starts, ends, films, bookable
    (
        "中国科技馆全国科普月科学电影公益展映·4D影院",
        _at("2025-09-02", 9),
        _at("2025-09-30", 17),
        ("我是医生", "钱学森"),
        True,
    ),
    (
        "中国科技馆全国科普月科学电影公益展映·巨幕影院",
        _at("2025-09-02", 9),
        _at("2025-09-30", 17),
        ("杨振宁：百年科学之路", "与象同行"),
        False,
    ),
    (
        "中国科技馆周末红色经典展映：《地道战》专场",
        _at("2025-09-07", 14),
        _at("2025-09-07", 16),
        ("地道战",),
        False,
    ),
)


class Command(BaseCommand):
    help = "载入特色活动示例：片库、中国科技馆的几场放映（其中一场可预约）、一个示例大师剧"

    def add_arguments(self, parser):
        parser.add_argument("--campaign", default="kepuyue-2025")

    def handle(self, *args, campaign="kepuyue-2025", **options):
        counts = services.load_films()
        self.stdout.write(
            f"片库：新增 {counts['created']}，更新 {counts['updated']}，未变 {counts['unchanged']}"
        )
        campaign_row = Campaign.objects.filter(slug=campaign).first()
        brand = (
            Brand.objects.filter(joint_action__campaign=campaign_row, slug="science-films")
            .select_related("joint_action")
            .first()
        )
        museum = Organization.objects.filter(name=MUSEUM).select_related("region").first()
        if campaign_row is None or brand is None or museum is None:
            self.stdout.write("没有科普月、“光影科学梦”品牌或中国科学技术馆，跳过示例放映")
            return
        for title, starts, ends, titles, bookable in SCREENINGS:
            activity = Activity.objects.filter(organizer=museum, title=title).first()
            if activity is None:
                activity = create_activity(
                    museum,
                    {
                        "title": title,
                        "joint_action": brand.joint_action,
                        "brand": brand,
                        "starts_at": starts,
                        "ends_at": ends,
                        "venue": "中国科学技术馆",
                        "region": museum.region,
                        "summary": "“光影科学梦”科学电影全国科普场馆巡映（方案 五(三)4）。",
                    },
                )
                transition(activity, Status.SUBMITTED)
                transition(activity, Status.PUBLISHED)
            for film in Film.objects.filter(title__in=titles):
                services.link_screening(activity, film, actor=None)
            if bookable and not RegistrationConfig.objects.filter(activity=activity).exists():
                registrations.save_config(
                    activity,
                    {
                        "mode": "platform",
                        "max_adults": 2,
                        "max_children": 2,
                        "waitlist_enabled": True,
                        "offer_hours": 24,
                        "cancel_cutoff_hours": 2,
                    },
                    actor=None,
                )
                for label, start, end in (
                    ("上午场", time(10, 0), time(11, 0)),
                    ("下午场", time(15, 0), time(16, 0)),
                ):
                    registrations.save_session(
                        activity,
                        {
                            "label": f"9月13日{label}",
                            "starts_at": datetime.combine(
                                _at("2025-09-13", 0).date(), start, tzinfo=clock.BEIJING
                            ),
                            "ends_at": datetime.combine(
                                _at("2025-09-13", 0).date(), end, tzinfo=clock.BEIJING
                            ),
                            "capacity": 40,
                            "group_capacity": 0,
                        },
                        actor=None,
                    )
            self.stdout.write(f"示例放映：{title}")
        university = Organization.objects.filter(name=UNIVERSITY).first()
        if university is not None and not Play.objects.filter(university=university).exists():
            Play.objects.create(
                university=university,
                title="示例剧目（请在后台替换）",
                scientist="（示例）",
                description="示例数据：来源中没有高校科学大师剧的剧目名称，此条只用于演示页面。",
            )
            self.stdout.write(f"示例剧目：{university.name}")
