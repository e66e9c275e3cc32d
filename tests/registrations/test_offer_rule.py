"""No page offers a booking action the rule refuses (fresh tester, issue 17 follow-up): the activity
page's 报名 buttons, the booking block (platform, external, phone), the sessions page, the 大讲堂's
报名参加 and the films' 可在线预约 all follow :func:`kepuyue.registrations.services.offer_reason` —
the activity's end, the registration window, the unit's 停止报名 and the sessions' starts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kepuyue.registrations import services
from tests.activities.factories import bj
from tests.fixtures_registrations import add_session, configure

pytestmark = pytest.mark.django_db


def booking_buttons(html: str, activity) -> int:
    """Booking actions on a page: buttons to the sessions page, to a session's form, or away."""
    sessions = reverse("registrations:sessions", args=[activity.pk])
    return (
        html.count(f'class="button" href="{sessions}"')
        + html.count('id="booking-link"')
        + html.count("/book/")
        + html.count("前往主办单位的报名页面")
        + html.count('href="tel:')
    )


@pytest.fixture
def booked(activity, publisher):
    configure(activity, publisher)
    add_session(activity, start="2025-09-15 09:00", end="2025-09-15 11:00")
    add_session(activity, start="2025-09-16 09:00", end="2025-09-16 11:00")
    activity.refresh_from_db()
    return activity


def pages(client, activity, member=None) -> str:
    if member is not None:
        client.force_login(member)
    detail = client.get(reverse("portal:activity", args=[activity.pk])).content.decode()
    sessions = client.get(reverse("registrations:sessions", args=[activity.pk])).content.decode()
    return detail + sessions


def test_an_open_activity_offers_booking(client, booked, member):
    html = pages(client, booked, member)
    assert booking_buttons(html, booked) >= 3
    assert services.offer_reason(booked, services.config_of(booked)) == ""


@pytest.mark.parametrize(
    ("instant", "reason"),
    [
        ("2025-09-16T17:00+08:00", "活动已结束"),  # the activity's end
        ("2025-09-20T10:00+08:00", "活动已结束"),
        ("2025-09-16T09:30+08:00", "各场次均已开始或停止报名"),  # ongoing, every session started
    ],
)
def test_no_booking_action_once_the_activity_or_its_sessions_are_over(
    client, booked, member, clock, instant, reason
):
    clock(instant)
    html = pages(client, booked, member)
    assert booking_buttons(html, booked) == 0
    assert reason in html


@pytest.mark.parametrize(
    ("window", "reason"),
    [
        ({"opens_at": "2025-09-12 09:00"}, "报名尚未开始"),
        ({"closes_at": "2025-09-09 18:00"}, "报名已截止"),
    ],
)
def test_no_booking_action_outside_the_registration_window(client, booked, member, publisher, window, reason):
    config = services.config_of(booked)
    for field, value in window.items():
        setattr(config, field, bj(value))
    config.save()
    booked.refresh_from_db()
    html = pages(client, booked, member)
    assert booking_buttons(html, booked) == 0
    assert reason in html


def test_closed_by_the_unit_offers_nothing(client, booked, member, publisher):
    services.set_closed(booked, True, actor=publisher, reason="名额已由学校包场")
    booked.refresh_from_db()
    html = pages(client, booked, member)
    assert booking_buttons(html, booked) == 0
    assert "名额已由学校包场" in html


@pytest.mark.parametrize(
    ("mode", "fields"),
    [("external", {"external_url": "https://example.org/signup"}), ("phone", {"phone": "0571-88888888"})],
)
def test_external_and_phone_booking_are_hidden_once_the_activity_ended(
    client, activity, publisher, clock, mode, fields
):
    configure(activity, publisher, mode=mode, **fields)
    activity.refresh_from_db()
    detail = reverse("portal:activity", args=[activity.pk])
    assert booking_buttons(client.get(detail).content.decode(), activity) == 1
    clock("2025-09-17T10:00+08:00")
    html = client.get(detail).content.decode()
    assert booking_buttons(html, activity) == 0
    assert "活动已结束" in html


def test_the_training_course_hides_enrolment_when_the_window_is_shut(client, regions, campaign_2025, clock):
    import io

    from django.core.management import call_command

    from kepuyue.training.models import Course, Mode

    clock("2025-09-10T10:00+08:00")
    call_command("load_sample_training", "--campaign", "kepuyue-2025", stdout=io.StringIO())
    course = Course.objects.get()
    url = reverse("training:course", args=[course.campaign.slug, course.slug])
    assert "报名参加</a>" in client.get(url).content.decode()
    lesson = course.lessons.get(mode=Mode.OFFLINE)
    config = services.config_of(lesson.activity)
    config.closes_at = bj("2025-09-09 18:00")
    config.save()
    html = client.get(url).content.decode()
    assert "报名参加</a>" not in html
    assert "报名已截止" in html


def test_the_films_page_tags_only_screenings_open_for_booking(client, booked, clock):
    from kepuyue.specials.models import Film, Screening

    film = Film.objects.create(title="我是医生", category="scientist")
    Screening.objects.create(activity=booked, film=film)
    assert "可在线预约" in client.get(reverse("specials:film", args=[film.pk])).content.decode()
    config = services.config_of(booked)
    config.opens_at = bj("2025-09-12 09:00")
    config.save()
    assert "可在线预约" not in client.get(reverse("specials:film", args=[film.pk])).content.decode()
