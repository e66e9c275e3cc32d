"""Dashboard fixtures: the 2025 plan, the real regions, units of the types the measures name."""

import pytest

from kepuyue.regions.models import Region


@pytest.fixture
def plan(regions, campaign_2025, clock):
    clock("2025-09-10T10:00+08:00")
    return campaign_2025


@pytest.fixture
def counties(plan):
    """Six real counties: three in two prefectures of Zhejiang, three of Yunnan."""
    zj = list(Region.objects.filter(province_code="330000", level=3).order_by("code"))
    yn = list(Region.objects.filter(province_code="530000", level=3).order_by("code"))
    hangzhou = [r for r in zj if r.code.startswith("3301")][:2]
    ningbo = [r for r in zj if r.code.startswith("3302")][:1]
    return [*hangzhou, *ningbo, *yn[:3]]


@pytest.fixture
def publish():
    """Create an activity and move it through the workflow to published; returns it."""
    from kepuyue.activities.models import Status
    from kepuyue.activities.services import transition
    from tests.activities.factories import ActivityFactory

    def make(**fields):
        activity = ActivityFactory(status=Status.DRAFT, **fields)
        transition(activity, Status.SUBMITTED)
        transition(activity, Status.PUBLISHED)
        return activity

    return make


@pytest.fixture
def museum(plan):
    """A science museum (科技馆) publishing activities."""
    from kepuyue.orgs.models import Organization

    return Organization.objects.create(name="测试科技馆", type_id="science_museum")


@pytest.fixture(autouse=True)
def uncached_dashboard(settings):
    """Figures computed on every request (ids repeat between tests; the cache would outlive them)."""
    settings.DASHBOARD_CACHE_SECONDS = 0
