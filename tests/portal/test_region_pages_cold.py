"""Region pages answer cold (issue 9 class 7: ≤ 100 ms at 500,000 activities, ADR 0015): they build
no region match index, read the division's lineage and children in one indexed query each, count
at most 1,001 index entries, and their query count does not grow with the activities."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kepuyue.activities.models import Status
from kepuyue.portal import views_activities
from kepuyue.regions import services as regions
from kepuyue.regions.models import Region
from tests.activities.factories import ActivityFactory

from .test_activities import XIHU, titles, world  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def test_region_page_builds_no_region_index(client, world):  # noqa: F811
    regions.invalidate_index()
    cache.clear()
    response = client.get("/region/330106/")
    assert response.status_code == 200
    assert regions._index is None
    html = response.content.decode()
    assert 'href="/region/330000/"' in html and 'href="/region/330100/"' in html  # the lineage


def test_region_page_lineage_of_a_county_under_a_grouping_row(client, world):  # noqa: F811
    Region.objects.get_or_create(
        code="110000", defaults={"name": "北京市", "level": 1, "province_code": "110000"}
    )
    Region.objects.get_or_create(
        code="110100",
        defaults={
            "name": "市辖区",
            "level": 2,
            "parent_id": "110000",
            "province_code": "110000",
            "full_name": "北京市市辖区",
        },
    )
    Region.objects.get_or_create(
        code="110101",
        defaults={
            "name": "东城区",
            "level": 3,
            "parent_id": "110100",
            "province_code": "110000",
            "full_name": "北京市东城区",
        },
    )
    html = client.get("/region/110101/").content.decode()
    assert 'href="/region/110000/"' in html and 'href="/region/110100/"' in html


def test_region_page_query_count_does_not_grow_with_activities(client, world):  # noqa: F811
    cache.clear()
    client.get("/region/330000/")
    cache.clear()
    with CaptureQueriesContext(connection) as one:
        assert client.get("/region/330000/").status_code == 200
    region = Region.objects.get(code=XIHU[2][0])
    for n in range(12):
        ActivityFactory(
            joint_action=world["ai"].joint_action,
            region=region,
            title=f"又一场活动{n}",
            status=Status.PUBLISHED,
            starts_at=world["ai"].starts_at,
            ends_at=world["ai"].ends_at,
        )
    cache.clear()
    with CaptureQueriesContext(connection) as more:
        response = client.get("/region/330000/")
    assert len(titles(response)) == views_activities.REGION_PAGE_LIMIT
    assert len(more.captured_queries) <= len(one.captured_queries) + 1  # + the capped count


def test_region_page_count_is_capped(client, world, monkeypatch):  # noqa: F811
    monkeypatch.setattr(views_activities, "REGION_PAGE_LIMIT", 1)
    monkeypatch.setattr(views_activities, "REGION_COUNT_CAP", 1)
    cache.clear()
    html = client.get("/region/330000/").content.decode()
    assert "超过 1 项活动" in html
