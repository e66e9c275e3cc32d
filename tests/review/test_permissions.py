"""The permission matrix: every role × every action, on same-scope and other-scope activities.

Two layers: the predicates themselves (``kepuyue.roles.rules``) for the full table, and the HTTP
views for guessing another unit's ids in URLs and posts, extra posted fields, exports and revoking.
"""

from __future__ import annotations

import pytest

from kepuyue.activities.models import Activity, Status
from kepuyue.audit.models import AuditEntry
from kepuyue.review import services as review
from kepuyue.roles.models import RoleGrant
from kepuyue.roles.rules import check

from .conftest import login

pytestmark = pytest.mark.django_db

# Action → (permission, state of the target activity).
ACTIONS = {
    "view_draft": ("activities.view_activity", Status.DRAFT),
    "view_submitted": ("activities.view_activity", Status.SUBMITTED),
    "edit": ("activities.change_activity", Status.DRAFT),
    "submit": ("activities.submit_activity", Status.RETURNED),
    "review": ("activities.review_activity", Status.SUBMITTED),
    "recommend": ("activities.recommend_activity", Status.PUBLISHED),
    "feature": ("activities.feature_activity", "recommended"),
    "view_phone": ("activities.view_phone", Status.SUBMITTED),
    "summarize": ("activities.summarize_activity", Status.PUBLISHED),
    "withdraw": ("activities.withdraw_activity", Status.PUBLISHED),
    "export": ("activities.export_activities", None),
    "view_audit": ("audit.view_auditentry", None),
    "reopen": ("roles.reopen_recommendations", None),
}

# What each role may do to an activity of 杭州低碳科技馆 (a science museum in 杭州, 浙江) in the
# science-museums joint action. Everything not listed must be refused.
EXPECTED = {
    "pub_zj": {
        "view_draft",
        "view_submitted",
        "edit",
        "submit",
        "view_phone",
        "summarize",
        "withdraw",
        "export",
    },
    "pub_gd": {"export"},  # another unit: only its own exports
    "admin_zj": {"view_submitted", "review", "recommend", "view_phone", "export"},
    "admin_hz": {"view_submitted", "review", "recommend", "view_phone", "export"},  # delegated prefecture
    "admin_gd": {"export"},  # another province
    "admin_bj": {"export"},
    "admin_soc": {"export"},  # a national society's administrator: only its own tree
    "manager": {"view_submitted", "feature", "view_phone", "export"},  # manages science-museums
    "manager_other": {"export"},
    "cast": {"view_submitted", "review", "feature", "view_phone", "export", "view_audit", "reopen"},
    "judge": set(),
    "public": set(),
}


@pytest.fixture
def targets(world):
    """One activity of 杭州低碳科技馆 in each state the actions need."""
    made = {}
    for state in {state for _perm, state in ACTIONS.values() if state}:
        if state == "recommended":
            activity = world.activity(world.units.zj, Status.PUBLISHED)
            review.recommend(activity, actor=world.users.admin_zj)
            made[state] = activity
        else:
            made[state] = world.activity(world.units.zj, state)
    return made


def test_every_role_and_action_on_a_same_scope_and_other_scope_activity(world, targets):
    problems = []
    for role, allowed in EXPECTED.items():
        user = getattr(world.users, role)
        for action, (perm, state) in ACTIONS.items():
            obj = targets[state] if state else None
            got = check(user, perm, obj)
            if got != (action in allowed):
                problems.append(f"{role} {action}: expected {action in allowed}, got {got}")
    assert problems == []


def test_anonymous_may_do_nothing(world, targets):
    from django.contrib.auth.models import AnonymousUser

    for perm, state in ACTIONS.values():
        assert not check(AnonymousUser(), perm, targets[state] if state else None)


def test_society_administrator_covers_its_branches_and_the_province_does_not(world):
    branch_activity = world.activity(world.units.branch, Status.SUBMITTED)
    assert check(world.users.admin_soc, "activities.review_activity", branch_activity)
    # The branch sits in 北京, but national societies review their own tree (plan 八(二)).
    assert not check(world.users.admin_bj, "activities.review_activity", branch_activity)
    beijing = world.activity(world.units.bj, Status.SUBMITTED)
    assert check(world.users.admin_bj, "activities.review_activity", beijing)
    assert not check(world.users.admin_soc, "activities.review_activity", beijing)


def test_prefecture_administrator_sees_only_its_prefecture(world):
    ningbo = world.activity(world.units.zj2, Status.SUBMITTED)
    assert check(world.users.admin_zj, "activities.review_activity", ningbo)
    assert not check(world.users.admin_hz, "activities.review_activity", ningbo)


def test_superuser_flag_does_not_bypass_object_rules(world, targets):
    world.users.cast.is_superuser = True
    world.users.cast.save()
    assert not check(world.users.cast, "activities.change_activity", targets[Status.DRAFT])
    assert not check(world.users.cast, "activities.view_activity", targets[Status.DRAFT])


# --- over HTTP ------------------------------------------------------------------------------------


def _status(activity: Activity) -> str:
    return Activity.objects.values_list("status", flat=True).get(pk=activity.pk)


def test_guessing_another_units_ids_in_urls_gives_404_and_changes_nothing(world, client):
    draft = world.activity(world.units.zj, Status.DRAFT)
    submitted = world.activity(world.units.zj, Status.SUBMITTED)
    login(client, world.users.pub_gd)
    assert client.get(f"/org/activities/{draft.pk}/").status_code == 404
    assert client.get(f"/org/activities/{draft.pk}/edit/").status_code == 404
    assert client.post(f"/org/activities/{draft.pk}/edit/", {"title": "改掉"}).status_code == 404
    assert client.post(f"/org/activities/{draft.pk}/submit/").status_code == 404
    assert client.get(f"/org/review/{draft.pk}/").status_code == 404
    assert client.post(f"/org/review/{submitted.pk}/approve/").status_code == 404
    assert _status(draft) == Status.DRAFT and _status(submitted) == Status.SUBMITTED
    assert Activity.objects.get(pk=draft.pk).title == draft.title


def test_other_province_administrator_cannot_see_or_act(world, client):
    submitted = world.activity(world.units.zj, Status.SUBMITTED)
    published = world.activity(world.units.zj, Status.PUBLISHED)
    login(client, world.users.admin_gd)
    assert client.get(f"/org/review/{submitted.pk}/").status_code == 404
    for url in (f"/org/review/{submitted.pk}/approve/", f"/org/review/{submitted.pk}/return/"):
        assert client.post(url, {"note": "x"}).status_code == 404
    assert client.post(f"/org/review/{published.pk}/recommend/").status_code == 404
    assert client.post(f"/org/review/{published.pk}/feature/").status_code == 404
    assert _status(submitted) == Status.SUBMITTED
    assert Activity.objects.get(pk=published.pk).recommended_at is None
    queue = client.get("/org/review/")
    assert submitted.title not in queue.content.decode()


def test_drafts_stay_with_their_unit_even_for_the_scope_administrator(world, client):
    draft = world.activity(world.units.zj, Status.DRAFT)
    login(client, world.users.admin_zj)
    assert client.get(f"/org/review/{draft.pk}/").status_code == 404


def test_same_scope_administrator_sees_the_full_phone_and_others_the_masked_one(world, client):
    submitted = world.activity(world.units.zj, Status.SUBMITTED, phone="13812345678")
    login(client, world.users.admin_zj)
    page = client.get(f"/org/review/{submitted.pk}/").content.decode()
    assert "13812345678" in page
    published = world.activity(world.units.zj, Status.PUBLISHED, phone="13812345678")
    public = client.get(f"/activities/{published.pk}/").content.decode()
    assert "138****5678" in public and "13812345678" not in public


def test_extra_posted_fields_are_ignored(world, client):
    draft = world.activity(world.units.zj, Status.DRAFT)
    login(client, world.users.pub_zj)
    from kepuyue.activities.services import activity_data

    data = {k: v for k, v in activity_data(draft).items() if isinstance(v, str | int) and v is not None}
    post = {
        "title": "改过的标题",
        "joint_action": draft.joint_action.slug,
        "brand": draft.brand_id,
        "starts_at": "2025-09-10T09:00",
        "ends_at": "2025-09-10T17:00",
        "form": "offline",
        "region": draft.region_id,
        "venue": "一楼大厅",
        "contact_name": "王老师",
        "contact_phone": "13812345678",
        # fields that must never be applied from a post
        "organization": world.units.gd.pk,
        "organizer": world.units.gd.pk,
        "status": "published",
        "recommended": "1",
        "recommended_at": "2025-08-15T10:00",
        "featured_at": "2025-08-15T10:00",
        "is_staff": "1",
        "is_superuser": "1",
    }
    assert data  # the draft has data at all
    response = client.post(f"/org/activities/{draft.pk}/edit/", post)
    assert response.status_code in (200, 302)
    draft.refresh_from_db()
    world.users.pub_zj.refresh_from_db()
    assert draft.organizer_id == world.units.zj.pk
    assert draft.status == Status.DRAFT
    assert draft.recommended_at is None and draft.featured_at is None
    assert not world.users.pub_zj.is_staff and not world.users.pub_zj.is_superuser


def test_extra_fields_on_review_posts_are_ignored(world, client):
    submitted = world.activity(world.units.zj, Status.SUBMITTED)
    login(client, world.users.admin_zj)
    client.post(
        f"/org/review/{submitted.pk}/approve/",
        {"status": "withdrawn", "organizer": world.units.gd.pk, "featured_at": "2025-08-15", "is_staff": "1"},
    )
    submitted.refresh_from_db()
    world.users.admin_zj.refresh_from_db()
    assert submitted.status == Status.PUBLISHED
    assert submitted.organizer_id == world.units.zj.pk and submitted.featured_at is None
    assert not world.users.admin_zj.is_staff


def test_a_revoked_role_stops_working_on_the_very_next_request(world, client):
    first = world.activity(world.units.zj, Status.SUBMITTED)
    second = world.activity(world.units.zj, Status.SUBMITTED)
    login(client, world.users.admin_zj)
    assert client.post(f"/org/review/{first.pk}/approve/").status_code == 302
    assert _status(first) == Status.PUBLISHED
    RoleGrant.objects.filter(user=world.users.admin_zj).delete()
    assert client.get(f"/org/review/{second.pk}/").status_code == 404
    assert client.post(f"/org/review/{second.pk}/approve/").status_code == 404
    assert client.get("/org/review/").status_code == 403
    assert _status(second) == Status.SUBMITTED


def test_a_removed_membership_stops_publishing_at_once(world, client):
    draft = world.activity(world.units.zj, Status.DRAFT)
    login(client, world.users.pub_zj)
    assert client.get(f"/org/activities/{draft.pk}/").status_code == 200
    world.users.pub_zj.membership.delete()
    assert client.get(f"/org/activities/{draft.pk}/").status_code in (403, 404)
    assert client.post(f"/org/activities/{draft.pk}/submit/").status_code in (403, 404)
    assert _status(draft) == Status.DRAFT


def test_scope_export_lists_only_the_scope_with_full_phones_and_is_audited(world, client):
    mine = world.activity(world.units.zj, Status.SUBMITTED, title="浙江的活动", phone="13811112222")
    world.activity(world.units.gd, Status.SUBMITTED, title="广东的活动")
    world.activity(world.units.zj, Status.DRAFT, title="浙江的草稿")
    login(client, world.users.admin_zj)
    response = client.get("/org/review/export.csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "浙江的活动" in body and "13811112222" in body
    assert "广东的活动" not in body and "浙江的草稿" not in body
    entry = AuditEntry.objects.get(action="export.activities")
    assert entry.actor == world.users.admin_zj and entry.data["rows"] == 1
    assert entry.ip == "127.0.0.1"
    assert mine.pk


def test_people_without_a_staff_role_cannot_export(world, client):
    for name in ("judge", "public"):
        login(client, getattr(world.users, name))
        assert client.get("/org/review/export.csv").status_code == 403


def test_only_cast_reads_the_audit_log(world, client):
    for name in ("admin_zj", "manager", "pub_zj"):
        login(client, getattr(world.users, name))
        assert client.get("/org/review/audit/").status_code == 403
    login(client, world.users.cast)
    assert client.get("/org/review/audit/").status_code == 200
