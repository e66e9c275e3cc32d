"""The shared page cache of the public pages (issue 17 §1, ADR 0025): every invalidation rule —
a change makes exactly the pages that show it stale, the others stay cached — and what a CDN sees
(no cookie, ETag/304, Cache-Control), and signed-in visitors' own header.

``X-Page-Cache`` says ``hit`` or ``miss`` for a cached page; changes go through the services (their
after-commit events run inside ``django_capture_on_commit_callbacks``).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from kepuyue.activities.models import Status
from kepuyue.activities.services import transition
from kepuyue.common import pagecache
from tests.activities.factories import ActivityFactory, BrandFactory, JointActionFactory, bj, region_chain

pytestmark = pytest.mark.django_db

HZ = (("330000", "浙江省"), ("330100", "杭州市"), ("330106", "西湖区"))
NB = (("330000", "浙江省"), ("330200", "宁波市"), ("330203", "海曙区"))


@pytest.fixture(autouse=True)
def cached(settings, clock):
    clock("2025-09-10T10:00+08:00")
    settings.PAGE_CACHE_ENABLED = True


@pytest.fixture
def world(db):
    """Two joint actions with a brand each, two counties, one published activity in each pair."""
    ja1 = JointActionFactory(slug="ja-one", number=1, name="第一联合行动")
    ja2 = JointActionFactory(slug="ja-two", number=2, name="第二联合行动", campaign=ja1.campaign)
    b1 = BrandFactory(joint_action=ja1, slug="brand-one", name="品牌一")
    b2 = BrandFactory(joint_action=ja2, slug="brand-two", name="品牌二")
    hz, nb = region_chain(*HZ), region_chain(*NB)
    x = ActivityFactory(
        joint_action=ja1,
        brand=b1,
        region=hz,
        title="西湖星空观测",
        status=Status.PUBLISHED,
        starts_at=bj("2025-09-15 09:00"),
    )
    y = ActivityFactory(
        joint_action=ja2,
        brand=b2,
        region=nb,
        title="海曙机器人课堂",
        status=Status.PUBLISHED,
        starts_at=bj("2025-09-16 09:00"),
    )
    campaign = ja1.campaign
    pages = {
        "home": "/",
        "list": "/activities/",
        "search": "/activities/?q=星空",
        "list-hz": "/activities/?county=330106",
        "list-nb": "/activities/?county=330203",
        "list-b1": "/activities/?brand=brand-one",
        "list-ja2": "/activities/?joint_action=ja-two",
        "detail-x": f"/activities/{x.pk}/",
        "detail-y": f"/activities/{y.pk}/",
        "zone-1": reverse("portal:zone", args=[campaign.slug, "ja-one"]),
        "zone-2": reverse("portal:zone", args=[campaign.slug, "ja-two"]),
        "brand-1": reverse("portal:brand", args=[campaign.slug, "brand-one"]),
        "brand-2": reverse("portal:brand", args=[campaign.slug, "brand-two"]),
        "region-hz": "/region/330106/",
        "region-nb": "/region/330203/",
    }
    return {"ja1": ja1, "ja2": ja2, "b1": b1, "b2": b2, "hz": hz, "nb": nb, "x": x, "y": y, "pages": pages}


def warm(client, pages) -> None:
    for name, url in pages.items():
        first = client.get(url)
        assert first.status_code == 200, name
        assert client.get(url)["X-Page-Cache"] == "hit", name


def stale(client, pages) -> set[str]:
    """The pages re-rendered now (then cached again)."""
    return {name for name, url in pages.items() if client.get(url)["X-Page-Cache"] == "miss"}


def test_a_page_is_rendered_once_then_served_from_the_cache(client, world, django_assert_num_queries):
    url = world["pages"]["list"]
    assert client.get(url)["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        response = client.get(url)
    assert response["X-Page-Cache"] == "hit"
    assert "西湖星空观测" in response.content.decode()


def test_a_new_build_never_serves_the_previous_builds_pages(client, world, settings, monkeypatch, clock):
    """A deploy (another ``KEPUYUE_RELEASE``, or static files with another manifest hash) starts from
    its own pages: a page cached by the previous build names the old hashed ``/static/`` files."""
    from django.contrib.staticfiles.storage import staticfiles_storage

    url = world["pages"]["list"]
    assert client.get(url)["X-Page-Cache"] == "miss"
    assert client.get(url)["X-Page-Cache"] == "hit"
    settings.PAGE_CACHE_RELEASE = "next"
    pagecache._build.cache_clear()
    assert client.get(url)["X-Page-Cache"] == "miss"
    assert client.get(url)["X-Page-Cache"] == "hit"
    monkeypatch.setattr(staticfiles_storage, "manifest_hash", "0123abcd", raising=False)
    pagecache._build.cache_clear()
    assert client.get(url)["X-Page-Cache"] == "miss"
    monkeypatch.undo()
    settings.PAGE_CACHE_RELEASE = ""
    pagecache._build.cache_clear()
    assert client.get(url)["X-Page-Cache"] == "hit"  # the first build's page again
    clock("2025-09-11T10:00+08:00")  # a restart with another pinned clock (a rehearsal)
    assert client.get(url)["X-Page-Cache"] == "miss"


def test_publishing_makes_exactly_its_pages_stale(client, world, django_capture_on_commit_callbacks):
    warm(client, world["pages"])
    fresh = ActivityFactory(
        joint_action=world["ja1"],
        brand=world["b1"],
        region=world["hz"],
        title="西湖星空夜话",
        status=Status.DRAFT,
    )
    with django_capture_on_commit_callbacks(execute=True):
        transition(fresh, Status.SUBMITTED)
    assert stale(client, world["pages"]) == set()  # a submitted activity shows nowhere
    with django_capture_on_commit_callbacks(execute=True):
        transition(fresh, Status.PUBLISHED)
    assert stale(client, world["pages"]) == {
        "home",
        "list",
        "search",
        "list-hz",
        "list-b1",
        "zone-1",
        "brand-1",
        "region-hz",
    }
    assert "西湖星空夜话" in client.get(world["pages"]["list-hz"]).content.decode()


def test_withdrawing_makes_its_pages_stale_and_its_page_gone(
    client, world, django_capture_on_commit_callbacks
):
    warm(client, world["pages"])
    with django_capture_on_commit_callbacks(execute=True):
        transition(world["y"], Status.WITHDRAWN, reason="主办方取消")
    assert client.get(world["pages"]["detail-y"]).status_code == 404
    pages = {k: v for k, v in world["pages"].items() if k != "detail-y"}
    # A search may match any activity of the campaign: it holds the campaign's version.
    assert stale(client, pages) == {
        "home",
        "list",
        "search",
        "list-nb",
        "list-ja2",
        "zone-2",
        "brand-2",
        "region-nb",
    }


def test_returning_a_submitted_activity_changes_no_public_page(
    client, world, django_capture_on_commit_callbacks
):
    draft = ActivityFactory(joint_action=world["ja1"], region=world["hz"], status=Status.DRAFT)
    warm(client, world["pages"])
    with django_capture_on_commit_callbacks(execute=True):
        transition(draft, Status.SUBMITTED)
        transition(draft, Status.RETURNED, reason="请补充地点")
    assert stale(client, world["pages"]) == set()


def test_featuring_makes_home_zone_and_its_pages_stale(client, world, django_capture_on_commit_callbacks):
    from kepuyue.activities.signals import activity_keys
    from kepuyue.common.events import send_after_commit
    from kepuyue.review import signals

    warm(client, world["pages"])
    # The event review.services.feature sends (its permission rules are tested in tests/review).
    with django_capture_on_commit_callbacks(execute=True):
        send_after_commit(
            signals.activity_featured, type(world["x"]), **activity_keys(world["x"]), actor=None
        )
    assert stale(client, world["pages"]) == {
        "home",
        "list",
        "search",
        "list-hz",
        "list-b1",
        "detail-x",
        "zone-1",
        "brand-1",
        "region-hz",
    }


def test_an_edit_that_moves_an_activity_stales_the_old_and_the_new_places(
    client, world, django_capture_on_commit_callbacks
):
    warm(client, world["pages"])
    x = world["x"]
    with django_capture_on_commit_callbacks(execute=True):
        x.title = "西湖星空观测（改期）"
        x.region, x.county_code, x.prefecture_code = world["nb"], "330203", "330200"
        x.save()
    gone_stale = stale(client, world["pages"])
    assert {"detail-x", "list-hz", "region-hz", "list-nb", "region-nb", "home", "list"} <= gone_stale
    assert "detail-y" not in gone_stale
    assert "西湖星空观测（改期）" in client.get(world["pages"]["detail-x"]).content.decode()


def test_a_summary_stales_only_the_activity_page(client, world, django_capture_on_commit_callbacks):
    from kepuyue.activities import signals
    from kepuyue.common.events import send_after_commit

    warm(client, world["pages"])
    with django_capture_on_commit_callbacks(execute=True):
        send_after_commit(
            signals.summary_submitted,
            type(world["x"]),
            **signals.activity_keys(world["x"]),
            actor=None,
            summary=None,
            created=True,
        )
    assert stale(client, world["pages"]) == {"detail-x"}


def test_booking_settings_stale_the_activity_page_but_bookings_do_not(
    client, world, django_capture_on_commit_callbacks, django_user_model
):
    from kepuyue.orgs.models import Membership
    from kepuyue.registrations import services
    from tests.fixtures_registrations import add_session, configure, make_member, party

    x = world["x"]
    x.starts_at, x.ends_at = bj("2025-09-15 09:00"), bj("2025-09-16 17:00")
    x.save()
    staff = django_user_model.objects.create_user("pc-staff", "pc@example.org", "pw-unit-staff-1")
    Membership.objects.create(user=staff, organization=x.organizer)
    warm(client, world["pages"])
    with django_capture_on_commit_callbacks(execute=True):
        configure(x, actor=staff)
        session = add_session(x)
    assert stale(client, world["pages"]) == {"detail-x"}
    assert f'data-session="{session.pk}"' in client.get(world["pages"]["detail-x"]).content.decode()

    # A booking changes the free places, which the page fetches from the availability JSON.
    with django_capture_on_commit_callbacks(execute=True):
        services.book(session, make_member("pc-member"), party())
    assert stale(client, world["pages"]) == set()
    availability = client.get(reverse("registrations:availability", args=[x.pk]))
    assert availability.status_code == 200
    assert "X-Page-Cache" not in availability


def test_plan_changes_stale_every_page_showing_the_plan(client, world, django_capture_on_commit_callbacks):
    warm(client, world["pages"])
    with django_capture_on_commit_callbacks(execute=True):
        world["b1"].name = "品牌一（新名）"
        world["b1"].save()
    assert stale(client, world["pages"]) == set(world["pages"])
    assert "品牌一（新名）" in client.get(world["pages"]["brand-1"]).content.decode()


def test_anonymous_pages_set_no_cookie_and_carry_cdn_headers(client, world):
    for name, url in world["pages"].items():
        for _ in range(2):
            response = client.get(url)
            assert not response.cookies, name
            assert "csrfmiddlewaretoken" not in response.content.decode(), name
            control = response["Cache-Control"]
            assert "public" in control and "max-age=0" in control and "must-revalidate" in control, name
            assert response["ETag"].startswith('"'), name
            assert "Accept-Language" in response["Vary"], name


def test_etag_answers_304_until_the_page_changes(client, world, django_capture_on_commit_callbacks):
    url = world["pages"]["detail-y"]
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        transition(world["y"], Status.WITHDRAWN, reason="取消")
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 404
    list_url = world["pages"]["list"]
    etag = client.get(list_url)["ETag"]
    assert client.get(list_url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        transition(world["x"], Status.WITHDRAWN, reason="取消")
    response = client.get(list_url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response["ETag"] != etag


def test_signed_in_visitors_get_their_own_header_never_the_cached_page(client, world, django_user_model):
    url = world["pages"]["list"]
    anonymous = client.get(url).content.decode()
    assert reverse("accounts:login") in anonymous
    user = django_user_model.objects.create_user("reader", "r@example.org", "pw-reader-long-1")
    client.force_login(user)
    response = client.get(url)
    body = response.content.decode()
    assert "X-Page-Cache" not in response
    assert reverse("accounts:home") in body and "我的账号" in body
    assert "private" in response["Cache-Control"]
    client.logout()
    client.cookies.clear()
    assert client.get(url)["X-Page-Cache"] == "hit"


def test_large_text_and_language_are_cached_apart(client, world, settings):
    url = world["pages"]["home"]
    plain = client.get(url)
    client.cookies["kepuyue_large_text"] = "1"
    large = client.get(url)
    assert large["X-Page-Cache"] == "miss" and 'class="large-text"' in large.content.decode()
    assert 'class="large-text"' not in plain.content.decode()
    del client.cookies["kepuyue_large_text"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(url)
    assert english["X-Page-Cache"] == "miss" and english["Content-Language"] == "en"
    del client.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert client.get(url)["X-Page-Cache"] == "hit"


def test_preference_forms_work_without_a_token_but_refuse_other_sites(world):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("portal:large_text"), {"large_text": "1", "next": "/activities/"})
    assert response.status_code == 302 and response["Location"] == "/activities/"
    assert response.cookies["kepuyue_large_text"].value == "1"
    response = strict.post(reverse("portal:language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    for headers in ({"HTTP_ORIGIN": "https://evil.example"}, {"HTTP_SEC_FETCH_SITE": "cross-site"}):
        response = strict.post(reverse("portal:large_text"), {"large_text": "1"}, **headers)
        assert response.status_code == 403
        assert not response.cookies
    # A real state change keeps Django's CSRF check.
    assert strict.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 403


def test_a_plan_relation_change_stales_the_plan_pages(client, world, django_capture_on_commit_callbacks):
    """A joint action's participant types (a many-to-many field: no row of the joint action is saved)."""
    from tests.activities.factories import OrganizationTypeFactory

    kind = OrganizationTypeFactory()
    before = pagecache.versions("plan")["plan"]
    with django_capture_on_commit_callbacks(execute=True):
        world["b1"].joint_action.participant_types.add(kind)
    after_add = pagecache.versions("plan")["plan"]
    assert after_add != before
    with django_capture_on_commit_callbacks(execute=True):
        world["b1"].joint_action.participant_types.clear()
    assert pagecache.versions("plan")["plan"] != after_add


def test_versions_are_created_once_and_bumped_to_a_new_value():
    first = pagecache.versions("activity:1")["activity:1"]
    assert pagecache.versions("activity:1")["activity:1"] == first
    pagecache.bump("activity:1")
    assert pagecache.versions("activity:1")["activity:1"] != first


@pytest.mark.parametrize("page_cache", [True, False])
def test_the_plan_part_of_zone_and_home_is_read_again_after_a_plan_change(
    client, world, settings, django_capture_on_commit_callbacks, page_cache
):
    """``pagecache.remember``: the zone's and the home's plan rows are read once per process while
    the ``plan`` version holds — with the page cache on or off — and again after any plan change."""
    settings.PAGE_CACHE_ENABLED = page_cache
    zone, home = world["pages"]["zone-1"], world["pages"]["home"]
    first_zone = _queries(client, zone)
    first_home = _queries(client, home)
    # Another address of the same page (not cached yet): the view runs, the plan is not re-read.
    assert _queries(client, zone + "?again=1") <= first_zone - 9
    assert _queries(client, home + "?again=1") <= first_home - 3
    with django_capture_on_commit_callbacks(execute=True):
        world["b1"].name = "品牌一（改名）"
        world["b1"].save()
        world["ja1"].name = "第一联合行动（改名）"
        world["ja1"].save()
    assert "品牌一（改名）" in client.get(zone).content.decode()
    assert "第一联合行动（改名）" in client.get(home).content.decode()


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_remember_keeps_a_value_while_its_versions_hold():
    from django.test import RequestFactory

    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    def ask():
        return pagecache.remember(RequestFactory().get("/"), "k", compute, "plan")

    assert (ask(), ask()) == (1, 1)
    pagecache.bump("catalog")  # another name: still the same
    assert ask() == 1
    pagecache.bump("plan")
    assert (ask(), ask()) == (2, 2)
