"""The review desk (审核台): queue filters and waiting days, next with the filter kept, bulk approval,
return reasons from the YAML, and the unit's view of what happened."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kepuyue.activities.models import Activity, Status
from kepuyue.common import clock as campaign_clock

from .conftest import OTHER_JA, login

pytestmark = pytest.mark.django_db


def age(activity, days: int) -> None:
    Activity.objects.filter(pk=activity.pk).update(submitted_at=campaign_clock.now() - timedelta(days=days))


def test_queue_is_oldest_first_with_days_waiting_and_filters(world, client):
    old = world.activity(world.units.zj, Status.SUBMITTED, title="等了五天的活动")
    age(old, 5)
    new = world.activity(world.units.zj2, Status.SUBMITTED, title="今天提交的活动")
    bases = world.activity(world.units.zj, Status.SUBMITTED, title="基地联合行动活动", ja_slug=OTHER_JA)
    age(bases, 2)
    login(client, world.users.admin_zj)
    page = client.get("/org/review/").content.decode()
    assert page.index("等了五天的活动") < page.index("基地联合行动活动") < page.index("今天提交的活动")
    assert "5 天" in page
    only_museums = client.get("/org/review/", {"joint_action": "science-museums"}).content.decode()
    assert "基地联合行动活动" not in only_museums and "等了五天的活动" in only_museums
    hangzhou = client.get("/org/review/", {"region": "330100"}).content.decode()
    assert "等了五天的活动" in hangzhou and "今天提交的活动" not in hangzhou  # 宁波 is not 杭州
    waiting = client.get("/org/review/", {"waiting": "3"}).content.decode()
    assert "等了五天的活动" in waiting and "基地联合行动活动" not in waiting
    assert new.pk


def test_next_keeps_the_queue_filter(world, client):
    first = world.activity(world.units.zj, Status.SUBMITTED, title="第一项")
    age(first, 4)
    outside = world.activity(world.units.zj, Status.SUBMITTED, title="另一联合行动", ja_slug=OTHER_JA)
    age(outside, 3)
    second = world.activity(world.units.zj, Status.SUBMITTED, title="第二项")
    age(second, 2)
    login(client, world.users.admin_zj)
    query = "joint_action=science-museums"
    response = client.post(f"/org/review/{first.pk}/approve/", {"go": "next", "query": query})
    assert response.status_code == 302
    assert response["Location"] == f"/org/review/{second.pk}/?{query}"
    detail = client.get(response["Location"]).content.decode()
    assert "第二项" in detail
    response = client.post(f"/org/review/{second.pk}/approve/", {"go": "next", "query": query})
    assert response["Location"] == f"/org/review/?{query}"  # the filtered queue is empty now
    assert Activity.objects.get(pk=outside.pk).status == Status.SUBMITTED


def test_bulk_approve_publishes_what_is_in_scope_and_reports_the_rest(world, client):
    a = world.activity(world.units.zj, Status.SUBMITTED)
    b = world.activity(world.units.zj2, Status.SUBMITTED)
    foreign = world.activity(world.units.gd, Status.SUBMITTED)
    login(client, world.users.admin_zj)
    response = client.post("/org/review/bulk-approve/", {"ids": [a.pk, b.pk, foreign.pk]}, follow=True)
    page = response.content.decode()
    assert "已通过 2 项" in page and f"活动 {foreign.pk} 未通过" in page
    statuses = dict(Activity.objects.values_list("pk", "status"))
    assert statuses[a.pk] == statuses[b.pk] == Status.PUBLISHED
    assert statuses[foreign.pk] == Status.SUBMITTED


def test_return_needs_a_reason_and_the_unit_sees_it(world, client):
    activity = world.activity(world.units.zj, Status.SUBMITTED)
    login(client, world.users.admin_zj)
    page = client.get(f"/org/review/{activity.pk}/").content.decode()
    assert "活动信息不完整（时间、地点或主办单位缺失）" in page  # predefined reasons from the YAML
    client.post(f"/org/review/{activity.pk}/return/", {})
    assert Activity.objects.get(pk=activity.pk).status == Status.SUBMITTED
    client.post(
        f"/org/review/{activity.pk}/return/",
        {"reasons": ["联系方式有误", "不在列表里的原因"], "note": "电话少一位"},
    )
    assert Activity.objects.get(pk=activity.pk).status == Status.RETURNED
    login(client, world.users.pub_zj)
    mine = client.get(f"/org/activities/{activity.pk}/").content.decode()
    assert "联系方式有误；电话少一位" in mine and "不在列表里的原因" not in mine
    assert "admin-zj" in mine and "待审核 → 已退回" in mine


def test_resubmitted_activity_returns_to_the_queue(world, client):
    activity = world.activity(world.units.zj, Status.RETURNED)
    login(client, world.users.pub_zj)
    client.post(f"/org/activities/{activity.pk}/submit/")
    assert Activity.objects.get(pk=activity.pk).status == Status.SUBMITTED
    login(client, world.users.admin_zj)
    assert activity.title in client.get("/org/review/").content.decode()


def test_the_staff_menu_follows_the_role(world, client):
    login(client, world.users.admin_zj)
    menu = client.get("/org/review/").content.decode()
    assert 'href="/org/review/"' in menu and 'href="/org/review/audit/"' not in menu
    assert 'href="/org/activities/new/"' not in menu  # not a publisher
    login(client, world.users.cast)
    assert 'href="/org/review/audit/"' in client.get("/org/review/").content.decode()


def test_the_unit_withdraws_a_published_activity_and_it_leaves_the_portal(world, client):
    activity = world.activity(world.units.zj, Status.PUBLISHED, title="将被撤回的活动")
    draft = world.activity(world.units.zj, Status.DRAFT)
    assert client.get(f"/activities/{activity.pk}/").status_code == 200
    login(client, world.users.pub_gd)
    assert client.post(f"/org/activities/{activity.pk}/withdraw/").status_code == 404  # another unit
    login(client, world.users.pub_zj)
    client.post(f"/org/activities/{draft.pk}/withdraw/")
    assert Activity.objects.get(pk=draft.pk).status == Status.DRAFT  # only published ones
    client.post(f"/org/activities/{activity.pk}/withdraw/", {"reason": "场地临时关闭"})
    assert Activity.objects.get(pk=activity.pk).status == Status.WITHDRAWN
    assert "场地临时关闭" in client.get(f"/org/activities/{activity.pk}/").content.decode()
    client.logout()
    assert client.get(f"/activities/{activity.pk}/").status_code == 404


def test_each_role_lands_on_its_desk_after_signing_in(world, client):
    from tests.fixtures_accounts import totp_device  # noqa: F401  (TOTP is asked after the password)

    for name, desk in (
        ("pub_zj", "/org/activities/"),
        ("admin_zj", "/org/review/"),
        ("manager", "/org/review/featuring/"),
    ):
        user = getattr(world.users, name)
        login(client, user)
        from django.test import RequestFactory

        from kepuyue.accounts.views import _next

        request = RequestFactory().get("/accounts/login/")
        request.user = user
        assert _next(request) == desk, name


def test_an_administrator_without_admin_rights_is_sent_to_the_desk_not_the_login(world, client):
    login(client, world.users.admin_zj)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/org/review/"
    assert "后台管理仅供平台超级管理员使用" in response.content.decode()
