"""Recommendation 推荐: quotas per scope and joint action from the YAML, the plan's deadline (八(二):
8月20日前), CAST reopening, featuring, and two administrators recommending at the same moment."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from kepuyue.activities.models import Activity, Status
from kepuyue.audit.models import AuditEntry
from kepuyue.common import clock as campaign_clock
from kepuyue.review import services as review
from kepuyue.review.models import QuotaUse, Recommendation

from .conftest import JA, login

pytestmark = pytest.mark.django_db


def set_quota(campaign, province: int, prefecture: int = 1) -> None:
    campaign.review = {**campaign.review, "quotas": {"province": province, "prefecture": prefecture}}
    campaign.review["joint_action_quotas"] = {}
    campaign.save()


def test_quotas_come_from_the_campaign_yaml(world):
    plan = world.plan
    assert review.quota(plan, world.ja, "province") == 10
    assert review.quota(plan, world.ja, "national_society") == 5
    bases = plan.joint_actions.get(slug="science-education-bases")
    assert review.quota(plan, bases, "province") == 20  # joint_action_quotas override
    assert "活动信息不完整（时间、地点或主办单位缺失）" in review.return_reasons(plan)


def test_quota_is_shared_by_a_scope_and_refused_when_used_up(world):
    set_quota(world.plan, province=2)
    a, b, c = (world.activity(world.units.zj, Status.PUBLISHED) for _ in range(3))
    review.recommend(a, actor=world.users.admin_zj)
    review.recommend(b, actor=world.users.admin_zj2)  # a second administrator of 浙江: same quota
    with pytest.raises(ValidationError) as refused:
        review.recommend(c, actor=world.users.admin_zj)
    assert "浙江省" in refused.value.messages[0] and "名额（2个）已用完" in refused.value.messages[0]
    assert QuotaUse.objects.get(scope="region:330000").used == 2
    assert Activity.objects.get(pk=c.pk).recommended_at is None
    rows = {(r.scope, r.joint_action.slug): r for r in review.quota_table(world.users.admin_zj, world.plan)}
    assert rows[("region:330000", JA)].used == 2 and rows[("region:330000", JA)].left == 0


def test_prefecture_administrator_uses_its_own_quota(world):
    set_quota(world.plan, province=5, prefecture=1)
    a = world.activity(world.units.hz2, Status.PUBLISHED)
    b = world.activity(world.units.hz2, Status.PUBLISHED)
    review.recommend(a, actor=world.users.admin_hz)
    with pytest.raises(ValidationError, match="名额"):
        review.recommend(b, actor=world.users.admin_hz)
    review.recommend(b, actor=world.users.admin_zj)  # the province still has places
    assert QuotaUse.objects.get(scope="region:330100").used == 1
    assert QuotaUse.objects.get(scope="region:330000").used == 1


def test_only_published_activities_of_a_joint_action_in_scope(world):
    submitted = world.activity(world.units.zj, Status.SUBMITTED)
    with pytest.raises(PermissionDenied):
        review.recommend(submitted, actor=world.users.admin_zj)
    gd = world.activity(world.units.gd, Status.PUBLISHED)
    with pytest.raises(PermissionDenied):
        review.recommend(gd, actor=world.users.admin_zj)
    with pytest.raises(PermissionDenied):
        review.recommend(gd, actor=world.users.cast)  # CAST features; administrators recommend


def test_recommending_twice_is_refused_and_uses_no_second_place(world):
    activity = world.activity(world.units.zj, Status.PUBLISHED)
    review.recommend(activity, actor=world.users.admin_zj)
    activity.refresh_from_db()
    with pytest.raises(ValidationError, match="已被推荐"):
        review.recommend(activity, actor=world.users.admin_zj2)
    assert QuotaUse.objects.get(scope="region:330000").used == 1


def test_the_deadline_closes_recommendations_and_cast_can_reopen(world, clock):
    activity = world.activity(world.units.zj, Status.PUBLISHED)
    clock("2025-08-20T23:59:59+08:00")
    assert review.recommendations_open(world.plan)
    clock("2025-08-21T00:00:01+08:00")
    assert not review.recommendations_open(world.plan)
    with pytest.raises(ValidationError) as closed:
        review.recommend(activity, actor=world.users.admin_zj)
    assert "2025年08月20日 23:59" in closed.value.messages[0] and "八(二)" in closed.value.messages[0]
    with pytest.raises(PermissionDenied):
        review.reopen_recommendations(
            world.plan, actor=world.users.admin_zj, until=campaign_clock.now() + timedelta(days=2)
        )
    review.reopen_recommendations(
        world.plan, actor=world.users.cast, until=campaign_clock.now() + timedelta(days=2)
    )
    review.recommend(activity, actor=world.users.admin_zj)
    assert AuditEntry.objects.filter(action="campaign.reopen_recommendations").exists()
    clock("2025-08-24T00:00+08:00")
    assert not review.recommendations_open(world.plan)


def test_withdrawing_a_recommendation_frees_its_place(world):
    set_quota(world.plan, province=1)
    a, b = (world.activity(world.units.zj, Status.PUBLISHED) for _ in range(2))
    review.recommend(a, actor=world.users.admin_zj)
    with pytest.raises(PermissionDenied):
        review.withdraw_recommendation(a, actor=world.users.admin_gd)
    review.withdraw_recommendation(a, actor=world.users.admin_zj2)
    review.recommend(b, actor=world.users.admin_zj)
    assert QuotaUse.objects.get(scope="region:330000").used == 1


def test_featuring_needs_the_joint_action_manager_and_leads_the_home_page(world, client):
    plain = world.activity(world.units.zj, Status.PUBLISHED, title="普通的活动")
    star = world.activity(world.units.zj, Status.PUBLISHED, title="被重点呈现的活动")
    with pytest.raises(PermissionDenied):
        review.feature(star, actor=world.users.manager)  # not recommended yet
    review.recommend(star, actor=world.users.admin_zj)
    star.refresh_from_db()
    for outsider in (world.users.manager_other, world.users.admin_zj):
        with pytest.raises(PermissionDenied):
            review.feature(star, actor=outsider)
    review.feature(star, actor=world.users.manager)
    home = client.get("/").content.decode()
    assert "重点活动" in home
    assert home.index("被重点呈现的活动") < home.index('id="ja-title"')
    # Upcoming activities follow the featured ones (issue 11.6).
    assert home.index("被重点呈现的活动") < home.index("普通的活动")
    zone = client.get(f"/campaigns/{world.plan.slug}/zones/{JA}/").content.decode()
    assert zone.index("被重点呈现的活动") < zone.index('id="overview-title"')
    review.unfeature(star, actor=world.users.manager)
    home = client.get("/").content.decode()
    # No longer first: listed among the upcoming ones in start order (same start: plain came first).
    assert "重点活动与近期活动" not in home
    assert home.index("普通的活动") < home.index("被重点呈现的活动")
    assert plain.pk


def test_recommend_and_feature_over_http(world, client):
    activity = world.activity(world.units.zj, Status.PUBLISHED)
    login(client, world.users.admin_zj)
    page = client.get("/org/review/published/").content.decode()
    assert activity.title in page and "推荐名额" in page
    client.post(f"/org/review/{activity.pk}/recommend/", {"note": "特色鲜明"})
    assert Recommendation.objects.get(activity=activity).note == "特色鲜明"
    login(client, world.users.manager)
    assert activity.title in client.get("/org/review/featuring/").content.decode()
    client.post(f"/org/review/{activity.pk}/feature/")
    assert Activity.objects.get(pk=activity.pk).featured_at is not None


def test_after_the_deadline_the_page_says_so(world, client, clock):
    world.activity(world.units.zj, Status.PUBLISHED)
    clock("2025-08-25T10:00+08:00")
    login(client, world.users.admin_zj)
    page = client.get("/org/review/published/").content.decode()
    assert "推荐已截止" in page


@pytest.mark.django_db(transaction=True)
def test_two_administrators_recommending_at_once_never_exceed_the_quota(world):
    """Eight recommendations race for three places of one scope: exactly three win, none is lost."""
    if connection.vendor != "postgresql":
        # The SQLite test database lives in memory with a shared cache, where writers get "table is
        # locked" at once instead of waiting; the file database of the embedded default serialises
        # writers (IMMEDIATE transactions). The race that matters is PostgreSQL's.
        pytest.skip("concurrent writers are tested on PostgreSQL")
    set_quota(world.plan, province=3)
    activities = [world.activity(world.units.zj, Status.PUBLISHED) for _ in range(8)]
    admins = [world.users.admin_zj, world.users.admin_zj2]
    barrier = threading.Barrier(len(activities))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        from django.contrib.auth import get_user_model

        try:
            actor = get_user_model().objects.get(pk=admins[i % 2].pk)
            activity = Activity.objects.select_related("campaign", "joint_action").get(pk=activities[i].pk)
            barrier.wait(timeout=30)
            review.recommend(activity, actor=actor)
            result = "ok"
        except ValidationError as exc:
            result = "refused" if "名额" in exc.messages[0] else f"error: {exc.messages}"
        except Exception as exc:  # noqa: BLE001 — a lost recommendation must show up in the assertion
            result = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(activities))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * 5, outcomes
    assert Recommendation.objects.count() == 3
    assert QuotaUse.objects.get(scope="region:330000").used == 3
    assert Activity.objects.filter(recommended_at__isnull=False).count() == 3


def test_withdrawing_a_recommended_and_featured_activity_frees_its_place(world):
    from kepuyue.activities import services as activities

    set_quota(world.plan, province=1)
    star = world.activity(world.units.zj, Status.PUBLISHED)
    review.recommend(star, actor=world.users.admin_zj)
    star.refresh_from_db()
    review.feature(star, actor=world.users.manager)
    activities.transition(star, Status.WITHDRAWN, actor=world.users.pub_zj, reason="场地关闭")
    star.refresh_from_db()
    assert star.recommended_at is None and star.featured_at is None
    assert not Recommendation.objects.filter(activity=star).exists()
    assert QuotaUse.objects.get(scope="region:330000").used == 0
    review.recommend(
        world.activity(world.units.zj, Status.PUBLISHED), actor=world.users.admin_zj
    )  # place free
    assert AuditEntry.objects.filter(action="activity.unrecommend", data__why="withdrawn").exists()
