"""The programmes' public pages under the page cache (issue 17 §1, ADR 0025): a change makes exactly
the pages that show it stale — tours, films, plays, volunteers, unit pages, the 大讲堂, resources,
calls, the quiz and the activity calendar — and the others stay cached."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kepuyue.activities.models import Activity, Status
from kepuyue.activities.services import transition
from kepuyue.common import pagecache
from tests.portal.test_public_pages import site  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(site):  # noqa: F811
    from kepuyue.calls.models import Entry, EntryStatus
    from kepuyue.quiz.models import Round
    from kepuyue.specials.models import Film, Play
    from kepuyue.tours.models import Tour, TourStatus
    from kepuyue.training.models import Course

    pagecache.clear_local()
    tour = Tour.objects.filter(status=TourStatus.PUBLISHED).first()
    film = Film.objects.order_by("pk").first()
    play = Play.objects.first()
    course = Course.objects.filter(published=True).first()
    quiz_round = Round.objects.first()
    call = site.calls.first()
    urls = {
        "tours": "/tours/",
        "tour": f"/tours/{tour.pk}/",
        "films": "/films/",
        "film": f"/films/{film.pk}/",
        "plays": "/plays/",
        "volunteers": "/volunteers/",
        "unit-play": f"/units/{play.university_id}/",
        "training": "/training/",
        "course": reverse("training:course", args=[course.campaign.slug, course.slug]),
        "replays": "/training/replays/",
        "resources": "/resources/",
        "guide": "/guide/",
        "calendar": "/activities/calendar/?month=2025-09",
        "calls": "/calls/",
        "call": reverse("calls:results", args=[site.slug, call.slug]),
        "quiz": "/quiz/",
        "round": f"/quiz/{quiz_round.slug}/",
    }
    objects = {"tour": tour, "film": film, "play": play, "course": course, "round": quiz_round, "call": call}
    objects["entry_model"] = (Entry, EntryStatus)
    return urls, objects


def warm(client, urls) -> None:
    for name, url in urls.items():
        assert client.get(url).status_code == 200, name
        assert client.get(url)["X-Page-Cache"] == "hit", name


def stale(client, urls) -> set[str]:
    return {name for name, url in urls.items() if client.get(url)["X-Page-Cache"] == "miss"}


def test_a_tour_edited_makes_its_page_and_the_list_stale(client, pages, django_capture_on_commit_callbacks):
    urls, objects = pages
    warm(client, urls)
    tour = objects["tour"]
    with django_capture_on_commit_callbacks(execute=True):
        tour.title = "科普大篷车新线路"
        tour.save()
    assert stale(client, urls) == {"tours", "tour"}
    assert "科普大篷车新线路" in client.get(urls["tour"]).content.decode()


def test_a_film_or_a_screening_makes_the_film_pages_stale(client, pages, django_capture_on_commit_callbacks):
    urls, objects = pages
    warm(client, urls)
    film = objects["film"]
    with django_capture_on_commit_callbacks(execute=True):
        film.description = "新的简介"
        film.save()
    assert stale(client, urls) == {"films", "film"}


def test_a_play_and_a_volunteer_make_their_pages_and_the_university_stale(
    client, pages, django_capture_on_commit_callbacks
):
    from kepuyue.specials.models import Volunteer

    urls, objects = pages
    warm(client, urls)
    play = objects["play"]
    with django_capture_on_commit_callbacks(execute=True):
        play.description = "新的剧情"
        play.save()
    assert stale(client, urls) == {"plays", "unit-play"}
    with django_capture_on_commit_callbacks(execute=True):
        Volunteer.objects.create(
            campaign=objects["course"].campaign, university=play.university, name="张三", role="student"
        )
    assert stale(client, urls) == {"volunteers", "unit-play"}
    assert "1" in client.get(urls["volunteers"]).content.decode()


def test_a_lesson_changed_or_a_viewing_counted_makes_the_training_pages_stale(
    client, pages, django_capture_on_commit_callbacks, django_user_model
):
    from kepuyue.training import services
    from kepuyue.training.models import Mode

    urls, objects = pages
    warm(client, urls)
    lesson = objects["course"].lessons.filter(mode=Mode.ONLINE).first()
    with django_capture_on_commit_callbacks(execute=True):
        lesson.title = "新的一讲"
        lesson.save()
    assert stale(client, urls) == {"training", "course", "replays"}
    viewer = django_user_model.objects.create_user("viewer", "v@example.org", "pw-viewer-1")
    with django_capture_on_commit_callbacks(execute=True):
        services.open_link(lesson, viewer)
    assert stale(client, urls) == {"training", "course", "replays"}


def test_a_download_or_a_new_resource_makes_the_resources_page_stale(
    client, pages, django_capture_on_commit_callbacks
):
    from kepuyue.resources import services
    from kepuyue.resources.models import Resource

    urls, _objects = pages
    warm(client, urls)
    resource = Resource.objects.filter(hidden=False).first()
    with django_capture_on_commit_callbacks(execute=True):
        services.count_download(resource)
    assert stale(client, urls) == {"resources"}
    with django_capture_on_commit_callbacks(execute=True):
        resource.title = "新的宣传海报"
        resource.save()
    assert stale(client, urls) == {"resources"}


def test_publishing_an_activity_makes_the_calendar_stale_not_the_programmes(
    client, pages, django_capture_on_commit_callbacks
):
    urls, _objects = pages
    draft = Activity.objects.filter(status=Status.PUBLISHED).order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        transition(draft, Status.WITHDRAWN, reason="测试")
    warm(client, urls)
    with django_capture_on_commit_callbacks(execute=True):
        draft.refresh_from_db()
        draft.status = Status.PUBLISHED
        draft.save()
    # Films and plays list screenings and performances of any activity of the campaign.
    expected = {"calendar", "films", "film", "plays"}
    if str(draft.organizer_id) in urls["unit-play"]:
        expected.add("unit-play")
    assert stale(client, urls) == expected


def test_an_entry_and_a_quiz_round_make_their_pages_stale(client, pages, django_capture_on_commit_callbacks):
    from kepuyue.quiz.models import Round

    urls, objects = pages
    warm(client, urls)
    quiz_round: Round = objects["round"]
    with django_capture_on_commit_callbacks(execute=True):
        quiz_round.save()
    assert stale(client, urls) == {"quiz", "round"}


def test_a_signed_in_visitor_gets_the_course_page_private(client, pages, django_user_model):
    urls, _objects = pages
    user = django_user_model.objects.create_user("farmer", "f@example.org", "pw-farmer-1")
    client.force_login(user)
    response = client.get(urls["course"])
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert "X-Page-Cache" not in response
