"""Staff lists stay bounded at 500,000 activities (issue 9 class 7, ADR 0015): their query counts do
not grow with the rows, counts are capped ("10,000+"), pages past the cap are not served, and the
admin change lists count no more than the cap."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kepuyue.activities.models import Activity, Status
from kepuyue.common import paging

from .conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    settings.RATELIMIT_ENABLE = False


def recommend_all(world, actor):
    from kepuyue.review import services

    for activity in Activity.objects.filter(status=Status.PUBLISHED, recommended_at__isnull=True):
        services.recommend(activity, actor=actor)


LISTS = [
    # (label, who, url, status of the rows that fill it)
    ("queue", "admin_zj", "/org/review/", Status.SUBMITTED),
    ("queue of CAST", "cast", "/org/review/", Status.SUBMITTED),
    ("published", "admin_zj", "/org/review/published/", Status.PUBLISHED),
    ("published of CAST", "cast", "/org/review/published/", Status.PUBLISHED),
    ("featuring", "manager", "/org/review/featuring/", "recommended"),
    ("unit's own", "pub_zj", "/org/activities/", Status.DRAFT),
]


@pytest.mark.parametrize(("label", "who", "url", "status"), LISTS, ids=[row[0] for row in LISTS])
def test_staff_list_query_count_does_not_grow_with_rows(
    client, world, django_assert_num_queries, label, who, url, status
):
    def add(n):
        for _ in range(n):
            world.activity(world.units.zj, Status.PUBLISHED if status == "recommended" else status)
        if status == "recommended":
            recommend_all(world, world.users.admin_zj)

    add(1)
    login(client, getattr(world.users, who))
    assert client.get(url).status_code == 200  # warm the session
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    add(2)
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(url)
    assert page.status_code == 200
    # A list of 3 shows 3 (the page is read ids first, then the rows: nothing dropped).
    shown = Activity.objects.filter(
        organizer=world.units.zj, status=Status.PUBLISHED if status == "recommended" else status
    )
    body = page.content.decode()
    assert all(a.title in body for a in shown)


def test_audit_log_query_count_does_not_grow(client, world, django_assert_num_queries):
    world.activity(world.units.zj, Status.PUBLISHED)
    login(client, world.users.cast)
    client.get("/org/review/audit/")
    with CaptureQueriesContext(connection) as one:
        client.get("/org/review/audit/")
    for _ in range(3):
        world.activity(world.units.zj, Status.PUBLISHED)
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get("/org/review/audit/").status_code == 200


def test_queue_count_is_capped_and_says_so(client, world, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 2)
    monkeypatch.setattr(paging.BoundedPaginator.__init__, "__kwdefaults__", {"cap": 2})
    for _ in range(4):
        world.activity(world.units.zj, Status.SUBMITTED)
    login(client, world.users.admin_zj)
    body = client.get("/org/review/").content.decode()
    assert "待审核 2+ 项（请用筛选缩小范围）" in body


def test_page_past_the_cap_is_the_last_page_within_it(world):
    for _ in range(5):
        world.activity(world.units.zj, Status.PUBLISHED)
    rows = Activity.objects.order_by("id")
    paginator = paging.BoundedPaginator(rows, 2, cap=3)
    assert (paginator.count, paginator.capped, paginator.count_label) == (3, True, "3+")
    assert paginator.num_pages == 2
    page = paginator.get_page(99)
    assert page.number == 2
    assert [a.pk for a in page] == [rows[2].pk]  # the third row: OFFSET never passes the cap
    exact = paging.BoundedPaginator(rows, 2, cap=10)
    assert (exact.count, exact.capped, exact.count_label) == (5, False, "5")
    assert [a.pk for a in exact.page(1)] == [a.pk for a in rows[:2]]


def test_bounded_paginator_keeps_the_order_and_the_joins(world, django_assert_num_queries):
    for _ in range(3):
        world.activity(world.units.zj, Status.PUBLISHED)
    rows = Activity.objects.select_related("organizer").order_by("-id")
    with django_assert_num_queries(3):  # capped count, ids, rows with their organizer
        page = paging.BoundedPaginator(rows, 2).page(1)
        names = [a.organizer.name for a in page]
    assert [a.pk for a in page] == list(rows.values_list("pk", flat=True)[:2])
    assert names == [world.units.zj.name] * 2


def test_bounded_paginator_on_a_plain_list():
    paginator = paging.BoundedPaginator(list(range(7)), 3, cap=5)
    assert (paginator.count, paginator.capped) == (5, True)
    assert list(paginator.page(2)) == [3, 4]


ADMIN_LISTS = [
    "/admin/activities/activity/",
    "/admin/activities/activity/?status__exact=published",
    "/admin/activities/activity/?q=%E7%A7%91%E6%99%AE",
    "/admin/orgs/organization/",
    "/admin/auth/user/",
    "/admin/calls/entry/",
    "/admin/activities/exportjob/",
]


@pytest.mark.parametrize("url", ADMIN_LISTS)
def test_admin_change_list_query_count_does_not_grow(client, world, django_assert_num_queries, url):
    from kepuyue.orgs.models import Organization

    admin = get_user_model().objects.create_superuser("root", password="Kp-Root-2025!x")
    world.activity(world.units.zj, Status.PUBLISHED)
    login(client, admin)
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(3):
        world.activity(world.units.zj, Status.PUBLISHED)
        Organization.objects.create(name=f"又一个科技馆{n}", type_id="science_museum")
        get_user_model().objects.create_user(f"more-{n}")
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get(url).status_code == 200


def test_admin_change_list_counts_no_more_than_the_cap(client, world, monkeypatch):
    monkeypatch.setattr(paging.BoundedPaginator.__init__, "__kwdefaults__", {"cap": 2})
    for _ in range(4):
        world.activity(world.units.zj, Status.PUBLISHED)
    admin = get_user_model().objects.create_superuser("root", password="Kp-Root-2025!x")
    login(client, admin)
    response = client.get("/admin/activities/activity/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 2
    assert response.context["cl"].full_result_count is None  # no second COUNT of the table


def test_admin_activity_search_uses_the_full_text_index(client, world):
    wanted = world.activity(world.units.zj, Status.PUBLISHED, title="丰镇湿地观鸟科普讲座")
    other = world.activity(world.units.zj, Status.PUBLISHED, title="天文观测之夜")
    admin = get_user_model().objects.create_superuser("root", password="Kp-Root-2025!x")
    login(client, admin)
    found = client.get("/admin/activities/activity/", {"q": "观鸟"})
    assert found.status_code == 200
    assert list(found.context["cl"].result_list) == [wanted]
    by_id = client.get("/admin/activities/activity/", {"q": str(other.pk)})
    assert list(by_id.context["cl"].result_list) == [other]
    assert client.get("/admin/activities/activity/", {"q": "\x00" + "观" * 500}).status_code == 200
