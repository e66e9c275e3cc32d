"""``manage.py load_sample_training [--campaign SLUG]``: one sample 大讲堂 course so anyone can try it after
``make run`` (demo clock 2025-09-10): an offline lesson on 9月16日 whose activity takes bookings on the
platform (enrol, ticket, check-in), an online lesson already given with a replay, and an online lesson
to come with a live link. Idempotent: a course that exists is left as it is.
"""

from datetime import datetime

from django.core.management.base import BaseCommand

from kepuyue.activities import services as activities
from kepuyue.activities.models import Status
from kepuyue.campaigns.models import Brand, Campaign
from kepuyue.common import clock
from kepuyue.orgs.models import Organization, OrganizationType
from kepuyue.registrations import services as registrations
from kepuyue.training.models import Course, Lesson, Mode

SLUG = "tianjian-ketang-2025"


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=clock.BEIJING)


class Command(BaseCommand):
    help = "载入一门示例“乡村振兴大讲堂”课程（线下讲次可报名，线上讲次有直播与回放）"

    def add_arguments(self, parser):
        parser.add_argument("--campaign", default="kepuyue-2025")

    def handle(self, *args, campaign="kepuyue-2025", **options):
        row = Campaign.objects.filter(slug=campaign).first()
        brand = (
            Brand.objects.filter(joint_action__campaign=row, slug="rural-lecture-hall").first()
            if row
            else None
        )
        if brand is None:
            self.stdout.write(f"没有科普月 {campaign} 或其“乡村振兴大讲堂”品牌，跳过示例课程")
            return
        if Course.objects.filter(campaign=row, slug=SLUG).exists():
            self.stdout.write("示例大讲堂课程已存在，未改动")
            return
        kind, _ = OrganizationType.objects.get_or_create(
            code="rural_association", defaults={"name": "农技协"}
        )
        unit, _ = Organization.objects.get_or_create(
            name="浙江省农村专业技术协会（示例）", defaults={"type": kind, "region_id": "330000"}
        )
        ja = brand.joint_action
        activity = activities.create_activity(
            unit,
            {
                "joint_action": ja,
                "brand": brand,
                "key_task": ja.key_tasks.filter(slug="farm-services").first(),
                "title": "乡村振兴大讲堂·田间课堂：设施蔬菜绿色高效种植",
                "summary": "农业专家走进田间地头，现场讲解设施蔬菜绿色高效种植技术并答疑。",
                "venue": "余杭区径山镇农业科技示范园",
                "starts_at": bj(2025, 9, 16, 9, 30),
                "ends_at": bj(2025, 9, 16, 11, 30),
                "region_code": "330110",
                "form": "offline",
            },
        )
        activities.transition(activity, Status.SUBMITTED)
        activities.transition(activity, Status.PUBLISHED)
        registrations.save_config(
            activity,
            {
                "mode": "platform",
                "max_adults": 2,
                "max_children": 0,
                "groups_enabled": False,
                "max_group_size": 50,
                "waitlist_enabled": True,
                "offer_hours": 24,
                "cancel_cutoff_hours": 2,
            },
            actor=None,
        )
        registrations.save_session(
            activity,
            {
                "label": "上午场",
                "starts_at": bj(2025, 9, 16, 9, 30),
                "ends_at": bj(2025, 9, 16, 11, 30),
                "capacity": 40,
                "group_capacity": 0,
            },
            actor=None,
        )
        course = Course.objects.create(
            campaign=row,
            brand=brand,
            organizer=unit,
            slug=SLUG,
            title="设施农业绿色高效生产系列课程",
            summary="三讲：线上讲政策与技术要点，线下到示范园看、问、练。",
            topic="farming",
            published=True,
        )
        Lesson.objects.bulk_create(
            [
                Lesson(
                    course=course,
                    order=1,
                    title="设施蔬菜病虫害绿色防控",
                    lecturer="王研究员（示例）",
                    lecturer_title="省农业科学院植物保护研究所",
                    mode=Mode.ONLINE,
                    starts_at=bj(2025, 9, 8, 19, 30),
                    ends_at=bj(2025, 9, 8, 21, 0),
                    live_url="https://example.org/dajiangtang/live/1",
                    replay_url="https://example.org/dajiangtang/replay/1",
                ),
                Lesson(
                    course=course,
                    order=2,
                    title="田间课堂：设施蔬菜绿色高效种植",
                    lecturer="李农艺师（示例）",
                    lecturer_title="县农业技术推广中心",
                    mode=Mode.OFFLINE,
                    starts_at=activity.starts_at,
                    ends_at=activity.ends_at,
                    activity=activity,
                ),
                Lesson(
                    course=course,
                    order=3,
                    title="农产品初加工与品牌营销",
                    lecturer="陈教授（示例）",
                    lecturer_title="农业大学食品科学学院",
                    mode=Mode.ONLINE,
                    starts_at=bj(2025, 9, 20, 19, 30),
                    ends_at=bj(2025, 9, 20, 21, 0),
                    live_url="https://example.org/dajiangtang/live/3",
                ),
            ]
        )
        self.stdout.write(f"已载入示例大讲堂课程：{course.title}（3 讲，其中 1 讲线下可报名）")
