"""The dashboard's programme measures from real rows (ADR 0017 measures in the plan file, ADR 0023)."""

from __future__ import annotations

from django.core.cache import cache

from kepuyue.activities.models import Status
from kepuyue.dashboard.measures import target_progress
from kepuyue.specials import services
from kepuyue.specials.models import Play
from tests.activities.factories import bj


def test_film_play_and_volunteer_measures_from_rows(client, plan, films, museum, uni_a, publish):
    def screening(titles, status=Status.PUBLISHED):
        activity = publish(
            museum, brand_slug="science-films", status=status, starts_at=bj("2025-09-15 10:00")
        )
        for title in titles:
            services.link_screening(activity, films[title], actor=None)
        return activity

    screening(["钱学森", "我是医生"])
    screening(["钱学森"])
    screening(["地道战"])
    screening(["火星使命"], status=Status.DRAFT)  # not counted
    play = Play.objects.create(university=uni_a, title="钱学森", scientist="钱学森")
    for _ in range(2):
        services.link_performance(publish(uni_a, ja_slug="universities"), play, actor=None)
    for name in ("王一", "王二", "王三"):
        services.add_volunteer(uni_a, plan, name=name, role="graduate", actor=None)

    progress = {(p.target.joint_action.slug, p.target.slug): p for p in target_progress(plan)}
    assert progress[("science-museums", "scientist-films")].value == 2  # 钱学森, 我是医生
    assert progress[("science-museums", "red-films")].value == 1
    assert progress[("science-museums", "sci-fi-films")].value == 0
    assert progress[("universities", "plays")].value == 2
    assert progress[("universities", "youth")].value == 3
    assert services.programme_figures(plan.pk) == {
        "screenings": 3,
        "films_shown": 3,
        "performances": 2,
        "volunteers": 3,
    }
    cache.clear()
    body = client.get("/dashboard/").content.decode()
    assert 'data-figure="screenings">3 / 3<' in body
    assert 'data-figure="volunteers">3<' in body
    assert 'data-target="universities/youth"' in body and "3 / 1000" in body


def test_brand_pages_link_to_the_programme_pages(client, plan):
    assert 'href="/films/"' in client.get("/brands/kepuyue-2025/science-films/").content.decode()
    assert 'href="/plays/"' in client.get("/brands/kepuyue-2025/scientist-plays/").content.decode()
    assert (
        'href="/lectures/kepuyue-2025/enterprises/"'
        in client.get("/brands/kepuyue-2025/frontier-lectures/").content.decode()
    )
    # The header links /films/ on every page: the brand page's own content does not.
    citywalk = client.get("/brands/kepuyue-2025/citywalk/").content.decode()
    assert "/films/" not in citywalk.split("<main", 1)[1].split("</main>", 1)[0]


def test_the_api_dashboard_is_the_page_with_every_measure(
    client, plan, films, museum, uni_a, publish, settings
):
    """``/api/v1/dashboard`` carries every figure the page shows — the programmes' totals (光影科学梦,
    科学大师剧, 星火馆) and every target whatever its source (screenings, tours, training …) — from the
    page's own computation: with the figures cached, the API reads them without a query of its own."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    activity = publish(museum, brand_slug="science-films", starts_at=bj("2025-09-15 10:00"))
    services.link_screening(activity, films["钱学森"], actor=None)
    services.add_volunteer(uni_a, plan, name="王一", role="graduate", actor=None)
    settings.DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    page = client.get("/dashboard/").content.decode()
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/dashboard").json()
    # The campaign (current campaign lookup) only: the figures are the page's cached ones.
    assert not [q for q in queries if "dashboard_" in q["sql"] or "specials_" in q["sql"]]
    assert body["programmes"] == {"screenings": 1, "films_shown": 1, "performances": 0, "volunteers": 1}
    assert 'data-figure="screenings">1 / 1<' in page
    assert [t["slug"] for t in body["targets"]] == re.findall(r'data-target="([^"]+)"', page)
    sources = {t["source"] for t in body["targets"]}
    assert {"screenings", "performances", "volunteers", "tours", "training", "activities"} <= sources
    youth = next(t for t in body["targets"] if t["slug"] == "universities/youth")
    assert (youth["value"], youth["goal"]) == (1, 1000) and youth["unit"]
    assert body["deadlines"] and all({"day", "title"} == set(d) for d in body["deadlines"])


def test_the_api_dashboard_has_an_etag(client, plan):
    first = client.get("/api/v1/dashboard")
    assert first.status_code == 200 and first["ETag"]
    again = client.get("/api/v1/dashboard", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
