"""``manage.py load_sample_registrations [--campaign SLUG]``: give a few sample activities registration
on the platform, so that anyone can try booking, the waitlist and check-in after ``make run``.

Takes the first three published on-site activities of the campaign that start after 10 September
(the README's demo clock is ``KEPUYUE_NOW=2025-09-10T10:00+08:00``): two sessions each on their first
day, the first activity's morning session nearly full (4 of 5 places taken by sample registrants),
group bookings on the second, a waitlist on all. Idempotent: an activity that already has
registration settings is left as it is (a unit may have changed them), and sample bookings are made
once. Sample registrants are accounts without a password or e-mail address (nobody can sign in as
them; no mail is sent).
"""

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.test.utils import override_settings
from django.utils import timezone

from kepuyue.activities.models import Activity, Form, Status
from kepuyue.campaigns.models import Campaign
from kepuyue.common import clock
from kepuyue.registrations import services
from kepuyue.registrations.models import Booking, RegistrationConfig

SAMPLE_PREFIX = "sample-registrant-"
FIRST_DAY = datetime(2025, 9, 11, tzinfo=clock.BEIJING)


def _registrant(n: int):
    from kepuyue.accounts.models import Profile

    user, created = get_user_model().objects.get_or_create(username=f"{SAMPLE_PREFIX}{n}")
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    Profile.objects.update_or_create(
        user=user, defaults={"phone": f"1390000{n:04d}", "phone_verified_at": timezone.now()}
    )
    return user


class Command(BaseCommand):
    help = "为几个示例活动开放平台报名（含接近满员的场次），便于试用报名、候补和签到"

    def add_arguments(self, parser):
        parser.add_argument("--campaign", default="kepuyue-2025")

    def handle(self, *args, campaign="kepuyue-2025", **options):
        campaign_row = Campaign.objects.filter(slug=campaign).first()
        if campaign_row is None:
            self.stdout.write(f"没有科普月 {campaign}，跳过示例报名")
            return
        activities = list(
            Activity.objects.filter(
                campaign=campaign_row, status=Status.PUBLISHED, form=Form.OFFLINE, starts_at__gte=FIRST_DAY
            )
            .select_related("organizer")
            .order_by("starts_at", "id")[:3]
        )
        for index, activity in enumerate(activities):
            if RegistrationConfig.objects.filter(activity=activity).exists():
                self.stdout.write(f"已有报名设置，未改动：{activity.title[:40]}")
                continue
            day = activity.starts_at.astimezone(clock.BEIJING).date()
            services.save_config(
                activity,
                {
                    "mode": "platform",
                    "max_adults": 2,
                    "max_children": 2,
                    "groups_enabled": index == 1,
                    "max_group_size": 50,
                    "waitlist_enabled": True,
                    "offer_hours": 24,
                    "cancel_cutoff_hours": 2,
                },
                actor=None,
            )
            sessions = []
            for label, start, end, capacity in (
                ("上午场", time(9, 30), time(11, 30), 5 if index == 0 else 30),
                ("下午场", time(14, 0), time(16, 0), 30),
            ):
                sessions.append(
                    services.save_session(
                        activity,
                        {
                            "label": label,
                            "starts_at": datetime.combine(day, start, tzinfo=clock.BEIJING),
                            "ends_at": datetime.combine(day, end, tzinfo=clock.BEIJING),
                            "capacity": capacity,
                            "group_capacity": 40 if index == 1 else 0,
                        },
                        actor=None,
                    )
                )
            if index == 0 and not Booking.objects.filter(session=sessions[0]).exists():
                # Booked by the campaign clock of a week before, when the window was open.
                before = (sessions[0].starts_at - timedelta(days=7)).isoformat()
                with override_settings(KEPUYUE_NOW=before):
                    for n, (name, adults) in enumerate(
                        (("示例报名人甲", 2), ("示例报名人乙", 1), ("示例报名人丙", 1)), 1
                    ):
                        services.book(
                            sessions[0],
                            _registrant(n),
                            {
                                "name": name,
                                "phone": f"1390000{n:04d}",
                                "adults": adults,
                                "children": 0,
                                "consent": True,
                            },
                        )
            self.stdout.write(f"已开放报名：{activity.title[:40]}（{day:%m-%d}，{len(sessions)} 个场次）")
