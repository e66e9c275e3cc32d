"""Where a film is showing (五(三)4): public pages by film, by province and date, upcoming first; venues
flagged 长征路沿线; screenings linked by the unit to its own activities only; bounded queries."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kepuyue.activities.models import Status
from kepuyue.specials import services
from kepuyue.specials.models import LongMarchVenue, Screening
from tests.activities.factories import bj, region_chain

ZHEJIANG = ("330000", "浙江省")
XIHU = (ZHEJIANG, ("330100", "杭州市"), ("330106", "西湖区"))


@pytest.fixture
def screening(films, museum, publish):
    def make(
        film_title="钱学森", *, day="2025-09-15", hour=14, status=Status.PUBLISHED, organizer=None, **kw
    ):
        activity = publish(
            organizer or museum,
            brand_slug="science-films",
            title=f"{film_title} 放映 {day}",
            starts_at=bj(f"{day} {hour:02d}:00"),
            ends_at=bj(f"{day} {hour + 2:02d}:00"),
            status=status,
            **kw,
        )
        services.link_screening(activity, films[film_title], actor=None)
        return activity

    return make


def test_showings_list_upcoming_first_then_ended(screening):
    ended = screening(day="2025-09-07")
    later = screening(day="2025-09-20")
    sooner = screening(day="2025-09-12")
    screening(day="2025-09-13", status=Status.DRAFT)  # not public
    order = [s.activity_id for s in services.showings()]
    assert order == [sooner.pk, later.pk, ended.pk]


def test_showings_by_film_province_and_date(screening, films):
    region = region_chain(*XIHU)
    in_zj = screening(day="2025-09-15", region=region)
    screening(day="2025-09-15")
    other_film = screening("地道战", day="2025-09-15", region=region)
    assert {s.activity_id for s in services.showings(province="330000")} == {in_zj.pk, other_film.pk}
    assert [s.activity_id for s in services.showings(film=films["地道战"])] == [other_film.pk]
    from datetime import date

    assert len(services.showings(day=date(2025, 9, 15))) == 3
    assert len(services.showings(day=date(2025, 9, 16))) == 0


def test_film_page_shows_where_it_is_showing_and_long_march_venues(client, screening, films, museum):
    LongMarchVenue.objects.create(organization=museum, note="遵义")
    screening(day="2025-09-20")
    response = client.get(f"/films/{films['钱学森'].pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "钱学森 放映 2025-09-20" in body and "长征路沿线" in body
    assert "地道战 放映" not in body


def test_film_tour_page_filters_and_refuses_bad_input_clearly(client, screening, films):
    screening(day="2025-09-20")
    ok = client.get("/films/", {"film": films["钱学森"].pk, "province": "", "date": "2025-09-20"})
    assert ok.status_code == 200 and "钱学森 放映 2025-09-20" in ok.content.decode()
    bad = client.get("/films/", {"province": "33", "date": "2025-13-45", "film": "x"})
    text = bad.content.decode()
    assert bad.status_code == 400
    assert "请选择省份" in text and "没有这部影片" in text and "不是有效日期" in text


def test_film_tour_page_has_the_course_pack_link(client, films, settings):
    settings.KEPUYUE_FILM_COURSE_PACK_URL = "https://example.org/pack.zip"
    body = client.get("/films/").content.decode()
    assert 'href="https://example.org/pack.zip"' in body and "电影课程资源包" in body


def test_public_pages_carry_nothing_per_visitor(client, screening, films, museum_staff):
    screening(day="2025-09-20")
    anonymous = client.get("/films/").content.decode()
    assert "csrfmiddlewaretoken" not in anonymous.split("<main", 1)[1]


@pytest.mark.parametrize("url", ["/films/", "/films/{film}/", "/films/?province=330000&date=2025-09-15"])
def test_film_pages_query_count_does_not_grow_with_rows(
    client, screening, films, url, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = url.format(film=films["钱学森"].pk)
    region = region_chain(*XIHU)

    def count():
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    screening(day="2025-09-15", region=region)
    one = count()
    for day in ("2025-09-15", "2025-09-16"):
        screening(day=day, region=region)
    three = count()
    assert one == three, (url, one, three)
    with django_assert_max_num_queries(8):
        client.get(url)


def test_unit_links_only_its_own_activities(client, screening, films, museum_staff, museum, publish, plan):
    from kepuyue.orgs.models import Organization

    other = Organization.objects.create(name="别的科技馆", type_id="science_museum")
    theirs = publish(other, brand_slug="science-films")
    mine = publish(museum, brand_slug="science-films")
    client.force_login(museum_staff)
    assert (
        client.post(
            "/org/programmes/screenings/", {"activity": theirs.pk, "film": films["谷魂"].pk}
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/org/programmes/screenings/", {"activity": mine.pk, "film": films["谷魂"].pk}
        ).status_code
        == 302
    )
    assert Screening.objects.filter(activity=mine, film=films["谷魂"]).exists()
    assert not Screening.objects.filter(activity=theirs).exists()
    foreign = services.link_screening(theirs, films["谷魂"], actor=None)
    assert client.post(f"/org/programmes/screenings/{foreign.pk}/delete/").status_code == 404
    assert client.get("/org/programmes/screenings/").status_code == 200


def test_screenings_staff_list_query_count(client, screening, museum_staff, django_assert_max_num_queries):
    client.force_login(museum_staff)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    screening(day="2025-09-15")
    with CaptureQueriesContext(connection) as one:
        client.get("/org/programmes/screenings/")
    screening(day="2025-09-16")
    screening(day="2025-09-17")
    with CaptureQueriesContext(connection) as three:
        client.get("/org/programmes/screenings/")
    assert len(one) == len(three)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(film=st.text(max_size=30), province=st.text(max_size=10), day=st.text(max_size=20))
def test_film_tour_filters_never_fail(client, films, film, province, day):
    response = client.get("/films/", {"film": film, "province": province, "date": day})
    assert response.status_code in (200, 400)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(activity=st.text(max_size=12), film=st.text(max_size=12))
def test_screening_form_never_fails(client, films, museum_staff, activity, film):
    client.force_login(museum_staff)
    response = client.post("/org/programmes/screenings/", {"activity": activity, "film": film})
    assert response.status_code in (302, 400, 404)
