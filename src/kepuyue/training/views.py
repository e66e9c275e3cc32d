"""Public pages of the 大讲堂 (plan 六(三)3): the courses, a course with its lessons (offline: enrol through
the activity's registration; online: the live link, then the replay), the replay archive, and the link
hand-off that counts a signed-in viewer. Thin: the rules are :mod:`.services`."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_safe

from kepuyue.campaigns.models import Campaign
from kepuyue.common import clock
from kepuyue.common.pagecache import depends, public_page
from kepuyue.common.preferences import same_site_post
from kepuyue.registrations import services as registrations

from . import services
from .models import Course, Lesson, Mode

#: Replays on one page of the archive (newest first).
REPLAYS_PER_PAGE = 50


def _campaign(slug: str | None = None) -> Campaign:
    campaigns = Campaign.objects.order_by("-starts")
    campaign = campaigns.filter(slug=slug).first() if slug else campaigns.first()
    if campaign is None:
        raise Http404
    return campaign


@require_safe
@public_page
def course_list(request):
    """大讲堂: the current campaign's published courses with their topic, lesson count and attendance.

    Page cache (ADR 0025): ``training:<campaign slug>`` (a course or lesson changed, an attendance
    counted), ``plan``."""
    depends(request, "plan", "catalog")
    campaign = _campaign(request.GET.get("campaign"))
    depends(request, f"training:{campaign.slug}")
    courses = list(services.published_courses(campaign))
    counts = services.attendance(c.pk for c in courses)
    topics = {}
    for course in courses:
        course.attendance = counts[course.pk]
        for theme in course.brand.themes if course.brand_id else []:
            topics.setdefault(theme["slug"], theme["name"])
    topic = request.GET.get("topic", "")[:64]
    if topic in topics:
        courses = [c for c in courses if c.topic == topic]
    return render(
        request,
        "training/course_list.html",
        {"campaign": campaign, "courses": courses, "topics": topics, "topic": topic, "nav": "training"},
    )


@require_safe
@public_page
def course_detail(request, campaign: str, slug: str):
    """A course: its lessons in order, each with what it offers now, and the course's attendance.

    Page cache: ``training:<campaign slug>`` as the list (a lesson's state changes with the clock
    within ``PAGE_CACHE_SECONDS``)."""
    depends(request, "plan", "catalog")
    depends(request, f"training:{campaign}")  # the slug from the URL: no query
    course = get_object_or_404(
        Course.objects.select_related("campaign", "brand", "organizer"),
        campaign__slug=campaign,
        slug=slug,
        published=True,
    )
    lessons = list(
        course.lessons.select_related("activity", "activity__registration_config").order_by(
            "order", "starts_at", "id"
        )
    )
    at = clock.now()
    for lesson in lessons:
        lesson.state = services.lesson_state(lesson, at)
        lesson.link = services.link_for(lesson, at)
        # The 报名参加 button follows the activity's booking rule (ended, window, closed).
        lesson.offer_reason = (
            registrations.offer_reason(lesson.activity, registrations.config_of(lesson.activity), at=at)
            if lesson.activity_id
            else ""
        )
    return render(
        request,
        "training/course_detail.html",
        {
            "course": course,
            "lessons": lessons,
            "attendance": services.attendance([course.pk])[course.pk],
            "nav": "training",
        },
    )


@require_safe
@public_page
def replays(request):
    """回放: ended online lessons with a replay link, newest first, filtered by topic. Page cache: as
    the list."""
    depends(request, "plan", "catalog")
    campaign = _campaign(request.GET.get("campaign"))
    depends(request, f"training:{campaign.slug}")
    lessons = (
        Lesson.objects.filter(
            course__campaign=campaign,
            course__published=True,
            mode=Mode.ONLINE,
            ends_at__lt=clock.now(),
        )
        .exclude(replay_url="")
        .select_related("course", "course__brand")
        .order_by("-ends_at", "-id")
    )
    topic = request.GET.get("topic", "")[:64]
    if topic:
        lessons = lessons.filter(course__topic=topic)
    return render(
        request,
        "training/replays.html",
        {"campaign": campaign, "lessons": lessons[:REPLAYS_PER_PAGE], "topic": topic, "nav": "training"},
    )


@same_site_post
def open_lesson(request, pk: int):
    """Send the viewer to the live or replay link (counted when signed in); a lesson with no link now
    goes back to its course with a message.

    Posted without a CSRF token (the course page is the same for every visitor and cached, ADR
    0025 §1): the worst a forged post can do is count a viewing, and a post from another site is
    refused (:func:`kepuyue.common.preferences.same_site_post`)."""
    lesson = get_object_or_404(Lesson.objects.select_related("course", "course__campaign"), pk=pk)
    if not lesson.course.published:
        raise Http404
    try:
        url = services.open_link(lesson, request.user)
    except LookupError as error:
        messages.info(request, str(error))
        return redirect("training:course", lesson.course.campaign.slug, lesson.course.slug)
    return HttpResponseRedirect(url)
