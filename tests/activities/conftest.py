"""Fixtures of the activities tests: the real plan and regions, a unit with a staff account."""

import os

import pytest

# Playwright (browser tests elsewhere in the suite) keeps an event loop in the main thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded posters and import files go to a temporary directory (one per test)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


@pytest.fixture
def plan(regions, campaign_2025, clock):
    """The 2025 plan and the real regions, the clock pinned inside the campaign's preparation."""
    clock("2025-08-15T10:00+08:00")
    return campaign_2025


@pytest.fixture
def action(plan):
    """The joint action lookup: ``action("science-museums")``."""

    def get(slug: str):
        return plan.joint_actions.get(slug=slug)

    return get


@pytest.fixture
def unit(plan):
    """A science museum (科技馆) that publishes activities."""
    from kepuyue.orgs.models import Organization

    return Organization.objects.create(name="杭州科技馆", type_id="science_museum")


@pytest.fixture
def staff(unit, django_user_model):
    """A staff account of ``unit``."""
    from kepuyue.orgs.models import Membership

    user = django_user_model.objects.create_user("unit-staff", password="pw-unit-staff-1")
    Membership.objects.create(user=user, organization=unit)
    return user


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client
