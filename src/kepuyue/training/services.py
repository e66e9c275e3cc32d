"""The 大讲堂's rules (plan 六(三)3 以线上线下相结合的方式开展……农业技术培训): what a lesson offers now (a
booking, a live link, a replay), the checks on a lesson, and attendance (参训人次) per course.

Attendance of an offline lesson is the check-ins (``registrations.CheckIn``, result ``ok``) on the
bookings of its activity — the same count as the registrations measure of the dashboard; of an online
lesson, the distinct signed-in people who opened its live or replay link (:class:`~.models.Viewing`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from kepuyue.common import clock

from .models import Course, Lesson, Mode, Viewing

#: The live link is shown from this long before a lesson starts (people join early).
LIVE_EARLY = timedelta(minutes=30)


def published_courses(campaign):
    """The campaign's published courses, brand and organizer joined (one query)."""
    return (
        Course.objects.filter(campaign=campaign, published=True)
        .select_related("brand", "organizer")
        .order_by("title", "id")
    )


def lesson_state(lesson: Lesson, at=None) -> str:
    """``upcoming`` (未开始), ``live`` (from :data:`LIVE_EARLY` before the start to the end) or ``ended``."""
    at = at or clock.now()
    if at > lesson.ends_at:
        return "ended"
    if at >= lesson.starts_at - LIVE_EARLY:
        return "live"
    return "upcoming"


def link_for(lesson: Lesson, at=None) -> tuple[str, str] | None:
    """The online link to offer now: ``("live", url)`` while live, ``("replay", url)`` once ended (when a
    replay is set), else ``None``. Offline lessons have none (their enrolment is the activity's)."""
    if lesson.mode != Mode.ONLINE:
        return None
    state = lesson_state(lesson, at)
    if state == "live" and lesson.live_url:
        return ("live", lesson.live_url)
    if state == "ended" and lesson.replay_url:
        return ("replay", lesson.replay_url)
    return None


def open_link(lesson: Lesson, user, at=None) -> str:
    """The URL to send ``user`` to for ``lesson`` now, recording a :class:`Viewing` for a signed-in
    person (once per lesson and kind). Raises ``LookupError`` when the lesson offers no link now."""
    link = link_for(lesson, at)
    if link is None:
        raise LookupError(_("本讲当前没有可观看的链接"))
    kind, url = link
    if getattr(user, "is_authenticated", False):
        try:
            with transaction.atomic():
                Viewing.objects.get_or_create(
                    lesson=lesson, user=user, kind=kind, defaults={"at": at or clock.now()}
                )
        except IntegrityError:  # the same person twice at once: counted once
            pass
    return url


def lesson_problems(lesson: Lesson) -> dict[str, list[str]]:
    """What is wrong with a lesson before it is saved (the admin's ``clean``): ``{field: [messages]}``.

    An offline lesson needs an activity of the course's campaign with registration on the platform
    (enrolment and check-in are the activity's); an online one a live or a replay link (https or http
    only), and no activity. The end is not before the start."""
    problems: dict[str, list[str]] = defaultdict(list)
    if lesson.starts_at and lesson.ends_at and lesson.ends_at < lesson.starts_at:
        problems["ends_at"].append(_("结束时间早于开始时间"))
    if lesson.mode == Mode.OFFLINE:
        if lesson.activity_id is None:
            problems["activity"].append(_("线下讲次须选择一项开放报名的活动（报名与签到在活动中进行）"))
        elif lesson.course_id and lesson.activity.campaign_id != lesson.course.campaign_id:
            problems["activity"].append(_("活动须属于本课程所在的科普月"))
        if lesson.live_url or lesson.replay_url:
            problems["live_url"].append(_("线下讲次不填直播或回放链接"))
    elif lesson.mode == Mode.ONLINE:
        if lesson.activity_id is not None:
            problems["activity"].append(_("线上讲次不关联线下活动"))
        if not (lesson.live_url or lesson.replay_url):
            problems["live_url"].append(_("线上讲次须填写直播链接或回放链接"))
        for name in ("live_url", "replay_url"):
            url = getattr(lesson, name)
            if url and urlsplit(url).scheme not in ("https", "http"):
                problems[name].append(_("链接须以 https:// 或 http:// 开头"))
    return dict(problems)


def attendance(course_ids) -> dict[int, dict[str, int]]:
    """参训人次 per course: ``{course_id: {"offline": n, "online": m, "total": n + m}}`` in two queries
    whatever the number of courses. An activity shared by two lessons of one course counts once."""
    from kepuyue.registrations.models import CheckIn

    course_ids = list(course_ids)
    out = {pk: {"offline": 0, "online": 0, "total": 0} for pk in course_ids}
    if not course_ids:
        return out
    pairs = set(
        Lesson.objects.filter(course_id__in=course_ids, mode=Mode.OFFLINE).values_list(
            "course_id", "activity_id"
        )
    )
    if pairs:
        by_activity = dict(
            CheckIn.objects.filter(booking__activity_id__in={a for _c, a in pairs}, result="ok")
            .values("booking__activity_id")
            .annotate(n=Count("id"))
            .values_list("booking__activity_id", "n")
        )
        for course_id, activity_id in pairs:
            out[course_id]["offline"] += by_activity.get(activity_id, 0)
    for row in (
        Viewing.objects.filter(lesson__course_id__in=course_ids)
        .values("lesson__course_id", "lesson_id")
        .annotate(n=Count("user", distinct=True))
    ):
        out[row["lesson__course_id"]]["online"] += row["n"]
    for row in out.values():
        row["total"] = row["offline"] + row["online"]
    return out


def campaign_attendance(campaign_id: int, brand_ids: list[int] | None = None) -> int:
    """All published courses' attendance in a campaign (optionally of some brands): the dashboard's
    ``training`` measure (``campaigns.schema.measures``)."""
    courses = Course.objects.filter(campaign_id=campaign_id, published=True)
    if brand_ids is not None:
        courses = courses.filter(brand_id__in=brand_ids)
    return sum(row["total"] for row in attendance(courses.values_list("pk", flat=True)).values())
