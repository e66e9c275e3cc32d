"""Registrations fixtures (registered in ``tests/conftest.py``'s ``pytest_plugins``): a published
activity of a unit, its registration settings, sessions, verified public accounts, the clock pinned
before the activity (2025-09-10 10:00 Beijing). Helpers: :func:`make_activity`, :func:`configure`,
:func:`add_session`, :func:`make_member`, :func:`party`.

    from tests.fixtures_registrations import add_session, make_member, party
"""

from __future__ import annotations

import pytest

NOW = "2025-09-10T10:00+08:00"


@pytest.fixture
def now(clock):
    return clock(NOW)


@pytest.fixture
def unit(db):
    from tests.activities.factories import OrganizationFactory

    return OrganizationFactory(name="杭州科技馆")


@pytest.fixture
def other_unit(db):
    from tests.activities.factories import OrganizationFactory

    return OrganizationFactory(name="宁波科技馆")


@pytest.fixture
def publisher(unit, django_user_model):
    from kepuyue.orgs.models import Membership

    user = django_user_model.objects.create_user("hz-staff", "hz-staff@example.org", "pw-unit-staff-1")
    Membership.objects.create(user=user, organization=unit)
    return user


@pytest.fixture
def other_publisher(other_unit, django_user_model):
    from kepuyue.orgs.models import Membership

    user = django_user_model.objects.create_user("nb-staff", "nb-staff@example.org", "pw-unit-staff-1")
    Membership.objects.create(user=user, organization=other_unit)
    return user


def make_activity(organizer, **kwargs):
    from kepuyue.activities.models import Status
    from tests.activities.factories import ActivityFactory, bj

    return ActivityFactory(
        organizer=organizer,
        status=kwargs.pop("status", Status.PUBLISHED),
        starts_at=kwargs.pop("starts_at", bj("2025-09-15 09:00")),
        ends_at=kwargs.pop("ends_at", bj("2025-09-16 17:00")),
        venue=kwargs.pop("venue", "杭州科技馆一楼"),
        **kwargs,
    )


@pytest.fixture
def activity(unit, now):
    return make_activity(unit, title="科学之夜：走进实验室")


def configure(activity, actor=None, **overrides):
    from kepuyue.registrations import services

    data = {
        "mode": "platform",
        "max_adults": 2,
        "max_children": 2,
        "groups_enabled": True,
        "max_group_size": 40,
        "waitlist_enabled": True,
        "offer_hours": 24,
        "cancel_cutoff_hours": 2,
    }
    data.update(overrides)
    return services.save_config(activity, data, actor=actor)


@pytest.fixture
def config(activity, publisher):
    return configure(activity, publisher)


def add_session(
    activity, start="2025-09-15 09:00", end="2025-09-15 11:00", capacity=10, group_capacity=0, label=""
):
    from kepuyue.registrations import services
    from tests.activities.factories import bj

    return services.save_session(
        activity,
        {
            "label": label,
            "starts_at": bj(start),
            "ends_at": bj(end),
            "capacity": capacity,
            "group_capacity": group_capacity,
        },
        actor=None,
    )


@pytest.fixture
def session(config, activity):
    return add_session(activity, capacity=10, group_capacity=30, label="上午场")


_counter = {"n": 0}


def make_member(name: str | None = None, *, verified: bool = True, phone: str = ""):
    """A public account; ``verified``: its e-mail address proved."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from kepuyue.accounts.models import Profile

    _counter["n"] += 1
    name = name or f"member{_counter['n']}"
    email = f"{name}@example.com"
    user = get_user_model().objects.create_user(email, email, "Pw-member-2025")
    Profile.objects.create(
        user=user,
        phone=phone,
        verified_email=email if verified else "",
        email_verified_at=timezone.now() if verified else None,
    )
    return user


@pytest.fixture
def member(db):
    return make_member("alice")


@pytest.fixture
def member2(db):
    return make_member("bob")


def party(**overrides) -> dict:
    data = {"name": "张小明", "phone": "13812345678", "adults": "1", "children": "0", "consent": True}
    data.update(overrides)
    return data
