"""Fixtures of the open API tests: the real plan and regions, two units with publishers, tokens,
and published activities made through the services (as the pages make them)."""

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

BJ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def fresh_cache():
    """Cached reads (the API's and the dashboard's) never carry over from another test."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def plan(regions, campaign_2025, clock):
    clock("2025-08-15T10:00+08:00")
    return campaign_2025


@pytest.fixture
def unit(plan):
    from kepuyue.orgs.models import Organization

    return Organization.objects.create(name="杭州科技馆", type_id="science_museum", region_id="330106")


@pytest.fixture
def other_unit(plan):
    from kepuyue.orgs.models import Organization

    return Organization.objects.create(name="宁波科技馆", type_id="science_museum", region_id="330203")


@pytest.fixture
def publisher(unit, django_user_model):
    from kepuyue.orgs.models import Membership

    user = django_user_model.objects.create_user("hz-staff", password="pw-unit-staff-1")
    Membership.objects.create(user=user, organization=unit)
    return user


@pytest.fixture
def other_publisher(other_unit, django_user_model):
    from kepuyue.orgs.models import Membership

    user = django_user_model.objects.create_user("nb-staff", password="pw-unit-staff-2")
    Membership.objects.create(user=user, organization=other_unit)
    return user


@pytest.fixture
def token(publisher):
    """``(ApiToken, secret)`` of the Hangzhou unit."""
    from kepuyue.api.tokens import create_token

    return create_token(publisher, name="浙江省系统", kind="unit")


@pytest.fixture
def other_token(other_publisher):
    from kepuyue.api.tokens import create_token

    return create_token(other_publisher, name="宁波系统", kind="unit")


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def activity_payload(**overrides) -> dict:
    """A valid activity of the science-museums joint action, as the API takes it."""
    data = {
        "joint_action": "science-museums",
        "brand": "science-nights",  # plan 八(一): a joint action's activity carries a brand
        "title": "走进科技馆：人工智能体验日",
        "summary": "面向青少年的人工智能互动体验",
        "starts_at": "2025-09-15T09:00:00+08:00",
        "ends_at": "2025-09-15T17:00:00+08:00",
        "form": "offline",
        "region_code": "330106",
        "venue": "杭州科技馆一楼",
        "audiences": [1, "公众"],
        "topics": ["人工智能"],
        "contact_phone": "13812345678",
    }
    data.update(overrides)
    return data


def make_activity(organization, *, publish: bool = True, **overrides):
    """An activity created (and published) through the services, as the unit's pages do."""
    from kepuyue.activities import services
    from kepuyue.activities.models import Status
    from kepuyue.campaigns.models import Brand, JointAction

    starts = overrides.pop("starts_at", datetime(2025, 9, 15, 9, 0, tzinfo=BJ))
    data = {
        "joint_action": JointAction.objects.get(slug="science-museums"),
        "campaign": None,
        "title": "科技馆之夜",
        "starts_at": starts,
        "ends_at": starts.replace(hour=17),
        "form": "offline",
        "region_code": "330106",
        "contact_phone": "13812345678",
        **overrides,
    }
    data["campaign"] = data["joint_action"].campaign
    if "brand" not in data and data["joint_action"] is not None:
        # Plan 八(一): a joint action's activity carries a brand (the first of the YAML, unless given).
        data["brand"] = Brand.objects.filter(joint_action=data["joint_action"]).order_by("order").first()
    activity = services.create_activity(organization, data)
    if publish:
        services.transition(activity, Status.SUBMITTED)
        services.transition(activity, Status.PUBLISHED)
    return activity
