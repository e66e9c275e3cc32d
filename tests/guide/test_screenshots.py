"""The operation guide's screenshots (plan 八(二)), made by the browser at 390 px so they never go stale.

Every run opens each page of ``kepuyue.guide.pages.SHOTS`` as its role, checks it answered and shows no
error, and writes the PNG into ``test-artifacts/guide/`` (never into ``var/``); with
``KEPUYUE_GUIDE_SCREENSHOTS=update`` it also writes them into ``src/kepuyue/guide/static/guide/img/``, to be
committed and reviewed as an image diff. Deterministic inputs: the pinned campaign clock, fixed names, a
390×844 viewport at device scale 1, animations off, the system's Noto CJK font.
"""

from __future__ import annotations

import os
import shutil

import pytest

from kepuyue.guide import pages
from tests.fixtures_accounts import create_staff, login_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "Kepuyue-Guide-2025!"


def _accounts(campaign):
    from kepuyue.campaigns.models import Call
    from kepuyue.orgs.models import Membership, Organization
    from kepuyue.resources.models import Resource

    museums = campaign.joint_actions.get(slug="science-museums")
    unit = Organization.objects.create(name="杭州科技馆", type_id="science_museum", region_id="330106")
    publisher = create_staff("guide-unit", password=PASSWORD)
    Membership.objects.create(user=publisher, organization=unit)
    Resource.objects.create(
        campaign=campaign,
        joint_action=museums,
        kind="pack",
        title="科学运动会",
        plan_ref="五(三)3(1)",
        description="中国科技馆“科学之夜”主场活动面向全国科技馆联动共享的科普资源。",
    )
    return {
        "unit": publisher,
        "platform-admin": create_staff(
            "guide-admin", role="platform_admin", region="330000", password=PASSWORD
        ),
        "manager": create_staff(
            "guide-manager", role="joint_action_manager", joint_action=museums, password=PASSWORD
        ),
        "judge": create_staff("guide-judge", role="judge", call=Call.objects.first(), password=PASSWORD),
        "public": None,
    }


def _sign_in(context, base, user):
    """A signed-in, TOTP-verified session (as ``login_staff`` makes it) handed to the browser as its cookie."""
    from django.conf import settings
    from django.test import Client

    client = login_staff(Client(), user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])


def test_guide_screenshots(chromium, live_server, regions, campaign_2025, settings, artifacts_dir):
    settings.KEPUYUE_NOW = "2025-08-15T10:00+08:00"
    users = _accounts(campaign_2025)
    out = artifacts_dir / "guide"
    out.mkdir(exist_ok=True)
    update = os.environ.get("KEPUYUE_GUIDE_SCREENSHOTS") == "update"
    contexts = {}
    try:
        for name, role, path, _label in pages.SHOTS:
            if role not in contexts:
                context = chromium.new_context(
                    viewport={"width": 390, "height": 844},
                    device_scale_factor=1,
                    locale="zh-CN",
                    reduced_motion="reduce",
                )
                if users[role] is not None:
                    _sign_in(context, live_server.url, users[role])
                page = context.new_page()
                contexts[role] = (context, page)
            page = contexts[role][1]
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status == 200, (name, path, response and response.status)
            assert "/accounts/login" not in page.url, (name, page.url)
            target = out / name
            page.screenshot(path=str(target), full_page=False, animations="disabled", caret="hide")
            if update:
                shutil.copyfile(target, pages.IMAGES / name)
    finally:
        for context, _page in contexts.values():
            context.close()
    assert sorted(p.name for p in out.glob("*.png")) >= sorted(n for n, *_r in pages.SHOTS)
