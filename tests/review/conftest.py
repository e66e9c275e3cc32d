"""A small world for the review tests: the real 2025 plan and regions, units in two provinces and a
national society with a branch, one account per role, and activities in each state.

Scopes: 浙江 (330000) with 杭州 (330100) delegated to a prefecture administrator; 广东 (440000);
中国科学技术史学会 (a national society) and its branch, located in 北京 but reviewed by the society.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

JA = "science-museums"  # 科技馆联合行动: units of type science_museum
OTHER_JA = "science-education-bases"


def login(client, user):
    """Sign ``client`` in as ``user``, with the second factor when the accounts app asks for it."""
    try:
        from tests.fixtures_accounts import login_staff
    except ImportError:
        client.force_login(user)
        return client
    login_staff(client, user)
    return client


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def world(regions, campaign_2025, clock, django_user_model):
    """Units, accounts with roles, and a factory of activities (``world.activity(unit, status)``)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.core.cache import cache

    from kepuyue.activities import services as activities
    from kepuyue.activities.models import Form, Status
    from kepuyue.orgs.models import Membership, Organization
    from kepuyue.regions.models import Region
    from kepuyue.roles.models import Role, RoleGrant

    # Portal cards are cached by activity id and change time; ids repeat between tests and the
    # pinned clock repeats the time, so start each test with an empty cache.
    cache.clear()
    clock("2025-08-15T10:00+08:00")
    plan = campaign_2025
    region = Region.objects.get

    def org(name, type_id, code, parent=None):
        return Organization.objects.create(name=name, type_id=type_id, region=region(pk=code), parent=parent)

    units = SimpleNamespace(
        zj=org("杭州低碳科技馆", "science_museum", "330106"),
        zj2=org("宁波科学探索中心", "science_museum", "330212"),
        hz2=org("杭州市科技馆", "science_museum", "330102"),
        gd=org("广东科学中心", "science_museum", "440106"),
        bj=org("北京科学中心", "science_museum", "110102"),
        soc=org("中国科学技术史学会", "national_society", "110108"),
    )
    units.branch = org("中国科学技术史学会科技馆分会", "science_museum", "110108", parent=units.soc)

    def user(name, *, unit=None, **grant):
        account = django_user_model.objects.create_user(name, password="Kp-Test-2025!x")
        if unit is not None:
            Membership.objects.create(user=account, organization=unit)
        if grant:
            RoleGrant.objects.create(user=account, **grant)
        return account

    ja = plan.joint_actions.get(slug=JA)
    other_ja = plan.joint_actions.get(slug=OTHER_JA)
    users = SimpleNamespace(
        pub_zj=user("pub-zj", unit=units.zj),
        pub_gd=user("pub-gd", unit=units.gd),
        pub_branch=user("pub-branch", unit=units.branch),
        admin_zj=user("admin-zj", role=Role.PLATFORM_ADMIN, region=region(pk="330000")),
        admin_zj2=user("admin-zj-2", role=Role.PLATFORM_ADMIN, region=region(pk="330000")),
        admin_hz=user("admin-hz", role=Role.PLATFORM_ADMIN, region=region(pk="330100")),
        admin_gd=user("admin-gd", role=Role.PLATFORM_ADMIN, region=region(pk="440000")),
        admin_bj=user("admin-bj", role=Role.PLATFORM_ADMIN, region=region(pk="110000")),
        admin_soc=user("admin-soc", role=Role.PLATFORM_ADMIN, organization=units.soc),
        manager=user("manager", role=Role.JOINT_ACTION_MANAGER, joint_action=ja),
        manager_other=user("manager-other", role=Role.JOINT_ACTION_MANAGER, joint_action=other_ja),
        cast=user("cast", role=Role.CAST_ADMIN),
        judge=user("judge", role=Role.JUDGE, call=plan.calls.first()),
        public=user("public"),
    )
    bj_tz = ZoneInfo("Asia/Shanghai")
    counter = iter(range(1, 10_000))

    def activity(unit, status=Status.DRAFT, *, title=None, ja_slug=JA, phone="13812345678"):
        """An activity of ``unit`` moved through the real workflow to ``status``."""
        n = next(counter)
        data = {
            "campaign": plan,
            "joint_action": plan.joint_actions.get(slug=ja_slug),
            # Plan 八(一): a joint action's activity carries a brand (the first of the YAML).
            "brand": plan.joint_actions.get(slug=ja_slug).brands.order_by("order").first(),
            "title": title or f"{unit.name}的科普活动{n}",
            "starts_at": datetime(2025, 9, 10, 9, 0, tzinfo=bj_tz),
            "ends_at": datetime(2025, 9, 10, 17, 0, tzinfo=bj_tz),
            "form": Form.OFFLINE,
            "region": unit.region,
            "venue": "一楼大厅",
            "contact_name": "王老师",
            "contact_phone": phone,
        }
        publisher = Membership.objects.filter(organization=unit).first()
        actor = publisher.user if publisher else None
        item = activities.create_activity(unit, data, actor=actor)
        if status == Status.DRAFT:
            return item
        activities.transition(item, Status.SUBMITTED, actor=actor)
        if status == Status.SUBMITTED:
            return item
        if status == Status.RETURNED:
            return activities.transition(item, Status.RETURNED, actor=users.cast, reason="请补充")
        activities.transition(item, Status.PUBLISHED, actor=users.cast)
        if status == Status.PUBLISHED:
            return item
        return activities.transition(item, Status.WITHDRAWN, actor=actor)

    return SimpleNamespace(plan=plan, ja=ja, other_ja=other_ja, units=units, users=users, activity=activity)
