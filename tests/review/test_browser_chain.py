"""The whole chain of responsibility in headless Chromium on a phone-size screen (issue 4 acceptance):
a publisher submits → the provincial administrator returns it with a reason → the publisher edits
and resubmits → approved → recommended → featured by the joint-action manager → it leads the portal
home. Each person signs in through the real login page (administrators with a TOTP code). The audit
log shows every step. Screenshots: ``test-artifacts/chain-*.png``.
"""

from __future__ import annotations

import pytest

from kepuyue.activities.models import Activity, Status
from kepuyue.audit.models import AuditEntry

pytestmark = pytest.mark.browser

PASSWORD = "Kp-Test-2025!x"  # the world fixture's password


def sign_in(page, base: str, username: str, *, totp_device=None) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("#main form button[type=submit]").first.click()
    page.wait_for_load_state()
    if totp_device is not None:
        from tests.fixtures_accounts import totp_code

        assert "/accounts/two-factor/" in page.url, page.url
        page.fill("input[name=token]", totp_code(totp_device))
        page.locator("#main form button[type=submit]").first.click()
        page.wait_for_load_state()


def shot(page, artifacts_dir, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"chain-{name}.png"), full_page=True)


def new_phone(chromium):
    context = chromium.new_context(
        viewport={"width": 375, "height": 812}, device_scale_factor=2, locale="zh-CN"
    )
    return context, context.new_page()


def test_submit_return_resubmit_approve_recommend_feature_lead_home(
    transactional_db, world, live_server, chromium, artifacts_dir, settings
):
    from tests.fixtures_accounts import totp_device

    settings.KEPUYUE_NOW = "2025-08-15T10:00+08:00"
    base = live_server.url
    users = world.users
    draft = world.activity(world.units.zj, Status.DRAFT, title="低碳生活科普体验日")
    admin_device, manager_device = totp_device(users.admin_zj), totp_device(users.manager)

    publisher_ctx, publisher = new_phone(chromium)
    admin_ctx, admin = new_phone(chromium)
    manager_ctx, manager = new_phone(chromium)
    visitor_ctx, visitor = new_phone(chromium)
    try:
        # 1. The publisher submits the draft.
        sign_in(publisher, base, "pub-zj")
        publisher.goto(f"{base}/org/activities/")
        publisher.get_by_role("button", name="提交审核").first.click()
        publisher.wait_for_load_state()
        assert Activity.objects.get(pk=draft.pk).status == Status.SUBMITTED
        shot(publisher, artifacts_dir, "1-submitted")

        # 2. The provincial administrator (TOTP) returns it with a reason.
        sign_in(admin, base, "admin-zj", totp_device=admin_device)
        admin.goto(f"{base}/org/review/")
        shot(admin, artifacts_dir, "2-queue")
        admin.get_by_role("link", name="低碳生活科普体验日").click()
        admin.get_by_label("联系方式有误").check()
        admin.fill("textarea[name=note]", "请填写完整的联系电话")
        admin.get_by_role("button", name="退回修改").click()
        admin.wait_for_load_state()
        assert Activity.objects.get(pk=draft.pk).status == Status.RETURNED
        shot(admin, artifacts_dir, "3-returned")

        # 3. The publisher reads the reason, edits and resubmits.
        publisher.goto(f"{base}/org/activities/{draft.pk}/")
        assert "请填写完整的联系电话" in publisher.content()
        shot(publisher, artifacts_dir, "4-reason")
        publisher.goto(f"{base}/org/activities/{draft.pk}/edit/")
        publisher.fill("input[name=contact_phone]", "0571-88888888")
        publisher.get_by_role("button", name="保存并提交审核").click()
        publisher.wait_for_load_state()
        activity = Activity.objects.get(pk=draft.pk)
        assert activity.status == Status.SUBMITTED and activity.contact_phone == "0571-88888888"

        # 4. Approved, then recommended.
        admin.goto(f"{base}/org/review/{draft.pk}/")
        admin.get_by_role("button", name="通过并发布").click()
        admin.wait_for_load_state()
        assert Activity.objects.get(pk=draft.pk).status == Status.PUBLISHED
        admin.goto(f"{base}/org/review/published/")
        admin.get_by_role("button", name="推荐").first.click()
        admin.wait_for_load_state()
        assert Activity.objects.get(pk=draft.pk).recommended_at is not None
        shot(admin, artifacts_dir, "5-recommended")

        # 5. The joint-action manager (TOTP) features it.
        sign_in(manager, base, "manager", totp_device=manager_device)
        manager.goto(f"{base}/org/review/featuring/")
        manager.get_by_role("button", name="重点呈现").first.click()
        manager.wait_for_load_state()
        assert Activity.objects.get(pk=draft.pk).featured_at is not None
        shot(manager, artifacts_dir, "6-featured")

        # 6. It leads the portal home.
        visitor.goto(f"{base}/")
        first_card = visitor.locator(".activity-card .card__link").first
        assert first_card.inner_text() == "低碳生活科普体验日"
        box = first_card.bounding_box()
        assert box is not None and box["y"] < visitor.locator("#ja-title").bounding_box()["y"]
        assert visitor.evaluate("document.documentElement.scrollWidth") <= 375
        shot(visitor, artifacts_dir, "7-home")
    finally:
        for context in (publisher_ctx, admin_ctx, manager_ctx, visitor_ctx):
            context.close()

    steps = list(
        AuditEntry.objects.filter(object_type="activities.activity", object_id=str(draft.pk))
        .order_by("at", "id")
        .values_list("action", "actor_name")
    )
    assert steps == [
        ("activity.create", "pub-zj"),
        ("activity.submit", "pub-zj"),
        ("activity.return", "admin-zj"),
        ("activity.update", "pub-zj"),
        ("activity.resubmit", "pub-zj"),
        ("activity.approve", "admin-zj"),
        ("activity.recommend", "admin-zj"),
        ("activity.feature", "manager"),
    ]
    assert all(ip == "127.0.0.1" for ip in AuditEntry.objects.exclude(ip=None).values_list("ip", flat=True))
