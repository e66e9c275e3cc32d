"""A platform administrator's first sign-in in headless Chromium on a phone: password, then the
authenticator enrolment (QR code), then the review page. Screenshots in ``test-artifacts/``."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.fixtures_accounts import STAFF_PASSWORD, create_staff, totp_code

pytestmark = pytest.mark.browser


def test_platform_admin_signs_in_and_enrols_totp_on_a_phone(
    transactional_db, regions, live_server, phone_page, artifacts_dir
):
    create_staff("zj-admin", role="platform_admin", region="330000")
    page = phone_page
    page.goto(f"{live_server.url}/accounts/applications/")
    page.wait_for_url(lambda url: "/accounts/login/?next=" in url)
    page.get_by_label("用户名或电子邮箱").fill("zj-admin")
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.screenshot(path=str(artifacts_dir / "accounts-login.png"), full_page=True)
    page.get_by_role("button", name="登录").click()

    page.wait_for_url(lambda url: "/accounts/two-factor/setup/" in url)
    assert page.locator(".qr svg").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir / "accounts-totp-enrol.png"), full_page=True)
    device = TOTPDevice.objects.get(user__username="zj-admin", confirmed=False)
    page.get_by_label("验证码").fill(totp_code(device))
    page.get_by_role("button", name="完成绑定").click()

    page.wait_for_url("**/accounts/applications/")
    assert page.get_by_role("heading", name="单位入驻审核").is_visible()
    page.screenshot(path=str(artifacts_dir / "accounts-review-list.png"), full_page=True)
    assert TOTPDevice.objects.get(user__username="zj-admin").confirmed
