"""TOTP two-factor (django-otp) for superusers, CAST, joint-action managers and platform administrators."""

import re

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from kepuyue.audit.models import AuditEntry
from tests.fixtures_accounts import STAFF_PASSWORD, create_staff, login_staff, totp_code, totp_device

pytestmark = pytest.mark.django_db
REVIEW = "/accounts/applications/"


def sign_in(client, username):
    return client.post("/accounts/login/", {"username": username, "password": STAFF_PASSWORD, "next": REVIEW})


def test_platform_admin_enrols_with_a_qr_code_then_reaches_staff_pages(client, zj_admin):
    response = sign_in(client, "zj-admin")
    assert response.status_code == 302 and response.url.startswith("/accounts/two-factor/setup/?next=")
    assert client.get(REVIEW).url.startswith("/accounts/two-factor/setup/")  # refused until enrolled

    page = client.get(response.url).content.decode()
    assert "<svg" in page and "绑定身份验证器" in page
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    device = TOTPDevice.objects.get(user=zj_admin, confirmed=False)
    from base64 import b32encode

    assert secret.replace(" ", "") == b32encode(device.bin_key).decode().rstrip("=")

    wrong = client.post(response.url, {"token": "000000" if totp_code(device) != "000000" else "111111"})
    assert "验证码不正确" in wrong.content.decode()
    # django-otp then refuses codes for a moment (1 s, doubling with each wrong code).
    throttled = client.post(response.url, {"token": totp_code(device)})
    assert "验证码错误次数过多" in throttled.content.decode()
    device.refresh_from_db()
    device.throttle_reset()
    done = client.post(response.url, {"token": totp_code(device)})
    assert done.status_code == 302 and done.url == REVIEW
    assert client.get(REVIEW).status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEntry.objects.filter(action="account.totp_enrol", actor=zj_admin).exists()


def test_enrolled_admin_types_the_code_after_the_password(client, zj_admin):
    device = totp_device(zj_admin)
    response = sign_in(client, "zj-admin")
    assert response.url.startswith("/accounts/two-factor/?next=")
    assert client.get(REVIEW).url.startswith("/accounts/two-factor/")
    bad = client.post(response.url, {"token": "12345"})
    assert "6 位数字" in bad.content.decode()
    ok = client.post(response.url, {"token": totp_code(device)})
    assert ok.status_code == 302 and ok.url == REVIEW
    assert client.get(REVIEW).status_code == 200


def test_a_used_code_is_not_accepted_twice(client, zj_admin):
    device = totp_device(zj_admin)
    code = totp_code(device)
    sign_in(client, "zj-admin")
    assert client.post("/accounts/two-factor/", {"token": code}).status_code == 302
    client.post("/accounts/logout/")
    sign_in(client, "zj-admin")
    response = client.post("/accounts/two-factor/", {"token": code})
    assert response.status_code == 200 and "验证码不正确" in response.content.decode()


@pytest.mark.parametrize("role", ["cast_admin", "platform_admin", "superuser"])
def test_admin_roles_are_refused_without_a_verified_session(client, regions, role):
    if role == "superuser":
        user = create_staff("root", superuser=True)
    elif role == "platform_admin":
        user = create_staff("admin", role=role, region="330000")
    else:
        user = create_staff("admin", role=role)
    client.force_login(user)
    for url in [REVIEW, "/admin/", reverse("accounts:home")]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/two-factor/" in response.url, url
    login_staff(client, user)
    assert client.get(REVIEW).status_code == 200


def test_admin_site_requires_totp_for_superusers(client):
    root = create_staff("root", superuser=True)
    client.force_login(root)
    assert client.get("/admin/").url.startswith("/accounts/two-factor/setup/?next=%2Fadmin%2F")
    login_staff(client, root)
    assert client.get("/admin/").status_code == 200


def test_admin_login_page_sends_to_the_accounts_login(client):
    response = client.get("/admin/login/?next=/admin/orgs/")
    assert response.status_code == 302 and response.url == "/accounts/login/?next=%2Fadmin%2Forgs%2F"


def test_publisher_and_public_accounts_need_no_totp(client, applicant):
    client.force_login(applicant)
    assert client.get(reverse("accounts:home")).status_code == 200


def test_a_role_granted_after_sign_in_asks_for_totp_within_a_minute(client, regions, applicant):
    import time

    from kepuyue.accounts import services
    from kepuyue.roles.models import RoleGrant

    client.force_login(applicant)
    RoleGrant.objects.create(user=applicant, role="platform_admin", region_id="330000")
    session = client.session
    session[services.SEEN_KEY] = time.time() - services.REFRESH_SECONDS - 1
    session.save()
    assert "/accounts/two-factor/" in client.get(reverse("accounts:home")).url


def _full_width(digits: str) -> str:
    return "".join(chr(ord(d) + 0xFEE0) for d in digits)


def test_the_authenticator_code_may_be_typed_full_width_or_spaced(client, zj_admin):
    """Sign-in's second step and enrolment take ``７４０１７４`` and ``740 174`` as ``740174``."""
    device = TOTPDevice.objects.create(user=zj_admin, name="test", confirmed=False)
    response = sign_in(client, "zj-admin")
    assert response.url.startswith("/accounts/two-factor/setup/")
    done = client.post(response.url, {"token": _full_width(totp_code(device))})
    assert done.status_code == 302 and done.url == REVIEW
    device.refresh_from_db()
    assert device.confirmed
    client.post("/accounts/logout/")
    device.throttle_reset()
    response = sign_in(client, "zj-admin")
    assert response.url.startswith("/accounts/two-factor/?next=")
    code = totp_code(device, drift=1)  # the current one was used: the next step's code is valid too
    ok = client.post(response.url, {"token": f"{code[:3]}\u3000{code[3:]}"})
    assert ok.status_code == 302 and ok.url == REVIEW


def test_a_malformed_authenticator_code_costs_no_try(client, zj_admin):
    device = totp_device(zj_admin)
    response = sign_in(client, "zj-admin")
    bad = client.post(response.url, {"token": "１２３"})
    assert "6 位数字" in bad.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 0
    assert client.post(response.url, {"token": totp_code(device)}).status_code == 302
