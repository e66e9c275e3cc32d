"""Fixtures of the programmes' tests: the 2025 plan loaded, the film catalogue seeded, units and their
accounts (a museum, two universities), and a helper publishing activities of the plan's joint actions."""

from __future__ import annotations

import pytest

from tests.activities.factories import ActivityFactory, bj

NOW = "2025-09-10T10:00+08:00"


@pytest.fixture
def plan(db, campaign_2025, clock):
    clock(NOW)
    return campaign_2025


@pytest.fixture
def films(plan):
    from kepuyue.specials import services

    services.load_films()
    from kepuyue.specials.models import Film

    return {f.title: f for f in Film.objects.all()}


def _unit(name, type_id, region=None):
    from kepuyue.orgs.models import Organization

    return Organization.objects.create(name=name, type_id=type_id, region=region)


def _account(django_user_model, username, unit):
    from kepuyue.orgs.models import Membership

    user = django_user_model.objects.create_user(username, f"{username}@example.org", "pw-unit-staff-1")
    Membership.objects.create(user=user, organization=unit)
    return user


@pytest.fixture
def museum(plan):
    return _unit("某市科技馆", "science_museum")


@pytest.fixture
def uni_a(plan):
    return _unit("甲大学", "university")


@pytest.fixture
def uni_b(plan):
    return _unit("乙大学", "university")


@pytest.fixture
def museum_staff(django_user_model, museum):
    return _account(django_user_model, "museum-staff", museum)


@pytest.fixture
def uni_a_staff(django_user_model, uni_a):
    return _account(django_user_model, "uni-a-staff", uni_a)


@pytest.fixture
def uni_b_staff(django_user_model, uni_b):
    return _account(django_user_model, "uni-b-staff", uni_b)


@pytest.fixture
def cast_admin(django_user_model):
    return django_user_model.objects.create_superuser("cast-admin", "cast@example.org", "pw-cast-admin-1")


@pytest.fixture
def publish(plan):
    """``publish(organizer, joint_action_slug, brand_slug=None, **fields)``: a published activity."""
    from kepuyue.activities.models import Status
    from kepuyue.campaigns.models import Brand, JointAction

    def make(organizer, ja_slug="science-museums", brand_slug=None, **fields):
        ja = JointAction.objects.get(campaign=plan, slug=ja_slug)
        brand = Brand.objects.get(joint_action=ja, slug=brand_slug) if brand_slug else None
        fields.setdefault("starts_at", bj("2025-09-15 14:00"))
        fields.setdefault("ends_at", fields["starts_at"])
        return ActivityFactory(
            joint_action=ja,
            brand=brand,
            organizer=organizer,
            status=fields.pop("status", Status.PUBLISHED),
            **fields,
        )

    return make
