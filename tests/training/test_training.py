"""中国农技协乡村振兴大讲堂 (issue 14, plan 六(三)3): courses of offline and online lessons; offline
enrolment and check-in are the registrations app's; attendance per course and on the dashboard (a
``training`` measure in the campaign YAML)."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kepuyue.registrations import services as registrations
from kepuyue.registrations import tickets
from kepuyue.training import services
from kepuyue.training.management.commands.load_sample_training import SLUG
from kepuyue.training.models import Course, Lesson, Mode, Viewing
from tests.fixtures_registrations import make_member, party


@pytest.fixture
def sample(regions, campaign_2025, clock):
    """The sample course of ``make run`` (the demo clock: 2025-09-10 10:00)."""
    clock("2025-09-10T10:00+08:00")
    call_command("load_sample_training", "--campaign", "kepuyue-2025", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Course.objects.get(slug=SLUG)


def offline(course):
    return course.lessons.get(mode=Mode.OFFLINE)


def test_the_sample_course_has_an_offline_lesson_with_registration_and_an_online_replay(sample, client):
    lesson = offline(sample)
    assert lesson.activity.status == "published"
    assert lesson.activity.registration_config.mode == "platform"
    page = client.get(reverse("training:course", args=["kepuyue-2025", SLUG])).content.decode()
    assert "田间课堂" in page and reverse("registrations:sessions", args=[lesson.activity_id]) in page
    assert "观看回放" in page  # lesson 1 ended on 9月8日
    assert "直播开始前30分钟开放入口" in page  # lesson 3 on 9月20日
    assert "农业生产" in page  # the topic's name from the YAML
    call_command("load_sample_training", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Course.objects.count() == 1 and Lesson.objects.count() == 3


def test_a_farmer_enrols_through_the_activity_and_the_check_in_counts_for_the_course(sample, clock):
    lesson = offline(sample)
    session = lesson.activity.registration_sessions.get()
    farmer = make_member("farmer")
    booking, _ = registrations.book(session, farmer, party(name="李大山"))
    assert services.attendance([sample.pk])[sample.pk] == {"offline": 0, "online": 0, "total": 0}
    clock("2025-09-16T09:40+08:00")
    outcome = registrations.check_in(session, tickets.qr_payload(session.pk, booking.code), actor=None)
    assert outcome.result == "ok"
    assert services.attendance([sample.pk])[sample.pk] == {"offline": 1, "online": 0, "total": 1}


def test_online_links_open_when_they_should_and_each_viewer_counts_once(sample, clock, client):
    first, third = sample.lessons.filter(mode=Mode.ONLINE).order_by("order")
    viewer = make_member("viewer")
    assert services.open_link(first, viewer) == first.replay_url
    assert services.open_link(first, viewer) == first.replay_url
    with pytest.raises(LookupError):
        services.open_link(third, viewer)  # 9月20日: not yet
    clock("2025-09-20T19:05+08:00")
    assert services.open_link(third, viewer) == third.live_url
    assert Viewing.objects.count() == 2
    assert services.attendance([sample.pk])[sample.pk]["online"] == 2
    # Anonymous viewers are sent on but not counted; the hand-off is a POST.
    response = client.post(reverse("training:open", args=[third.pk]))
    assert response.status_code == 302 and response["Location"] == third.live_url
    assert client.get(reverse("training:open", args=[third.pk])).status_code == 405
    assert Viewing.objects.count() == 2


def test_the_dashboard_counts_attendance_from_the_yaml_measure(sample, client):
    from kepuyue.dashboard.measures import target_progress

    viewer = make_member("viewer2")
    services.open_link(sample.lessons.get(order=1), viewer)
    [progress] = [p for p in target_progress(sample.campaign) if p.target.slug == "lecture-attendance"]
    assert (progress.value, progress.percent, progress.status_text) == (1, None, "1人次")
    page = client.get(reverse("dashboard:public")).content.decode()
    assert "大讲堂参训人次" in page and "方案未定数量" in page


def test_lesson_rules(sample):
    lesson = offline(sample)
    lesson.activity = None
    lesson.live_url = "https://example.org/x"
    problems = services.lesson_problems(lesson)
    assert set(problems) == {"activity", "live_url"}
    online = Lesson(
        course=sample,
        mode=Mode.ONLINE,
        title="x",
        lecturer="y",
        starts_at=lesson.starts_at,
        ends_at=lesson.starts_at,
        live_url="",
        replay_url="",
    )
    assert services.lesson_problems(online) == {"live_url": ["线上讲次须填写直播链接或回放链接"]}
    online.live_url = "javascript:alert(1)"
    with pytest.raises(ValidationError):
        online.clean()


def test_unpublished_courses_are_404(sample, client):
    Course.objects.update(published=False)
    assert client.get(reverse("training:course", args=["kepuyue-2025", SLUG])).status_code == 404
    lesson = sample.lessons.get(order=1)
    assert client.post(reverse("training:open", args=[lesson.pk])).status_code == 404
    assert SLUG not in client.get(reverse("training:index")).content.decode()
    assert "设施蔬菜病虫害" not in client.get(reverse("training:replays")).content.decode()


def _more_courses(sample, n):
    for i in range(n):
        course = Course.objects.create(
            campaign=sample.campaign,
            brand=sample.brand,
            organizer=sample.organizer,
            slug=f"c{i}",
            title=f"课程{i}",
            topic="food-processing",
            published=True,
        )
        Lesson.objects.create(
            course=course,
            title=f"讲{i}",
            lecturer="专家",
            mode=Mode.ONLINE,
            starts_at=sample.lessons.get(order=1).starts_at,
            ends_at=sample.lessons.get(order=1).ends_at,
            replay_url=f"https://example.org/r/{i}",
        )
        services.open_link(course.lessons.get(), make_member(f"v{i}"))


@pytest.mark.parametrize("extra", [0, 2])
def test_list_pages_query_counts(sample, client, django_assert_num_queries, extra):
    _more_courses(sample, extra)
    # campaign, courses, offline lessons, check-ins, viewings
    with django_assert_num_queries(5):
        page = client.get(reverse("training:index")).content.decode()
    assert page.count('class="card course"') == 1 + extra
    with django_assert_num_queries(2):  # campaign, replays with their courses
        page = client.get(reverse("training:replays")).content.decode()
    assert page.count('class="card replay"') == 1 + extra
    with django_assert_num_queries(5):  # course, lessons, offline lessons, check-ins, viewings
        client.get(reverse("training:course", args=["kepuyue-2025", SLUG]))
    page = client.get(reverse("training:index") + "?topic=food-processing").content.decode()
    assert page.count('class="card course"') == extra


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(topic=st.text(max_size=80), campaign=st.text(max_size=80))
def test_list_pages_never_fail_on_any_query(sample, client, topic, campaign):
    for name in ("training:index", "training:replays"):
        response = client.get(
            reverse(name), {"topic": topic.replace("\x00", ""), "campaign": campaign.replace("\x00", "")}
        )
        assert response.status_code in (200, 404)
