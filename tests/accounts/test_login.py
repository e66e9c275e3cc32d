"""Sign-in: the login page, lock-out after 5 failures (django-axes), idle timeout, forced password change."""

import time

import pytest
from django.urls import reverse

from kepuyue.accounts import services
from kepuyue.accounts.models import Profile
from kepuyue.audit.models import AuditEntry
from tests.accounts.conftest import GOOD_PASSWORD
from tests.fixtures_accounts import STAFF_PASSWORD, create_staff, login_staff

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


@pytest.fixture
def publisher(db):
    from kepuyue.orgs.models import Organization, OrganizationType

    museum, _ = OrganizationType.objects.get_or_create(code="science_museum", defaults={"name": "科技馆"})
    return create_staff("hz-museum", membership=Organization.objects.create(name="杭州科技馆", type=museum))


def post_login(client, username, password, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_login_page_is_chinese_with_labels(client):
    page = client.get(LOGIN).content.decode()
    assert '<label for="id_username">用户名或电子邮箱' in page
    assert '<label for="id_password">密码' in page
    assert 'autocomplete="current-password"' in page


def test_publisher_signs_in_without_two_factor(client, publisher):
    response = post_login(client, "hz-museum", STAFF_PASSWORD)
    assert response.status_code == 302 and response.url == reverse("activities:mine")
    assert client.get(reverse("activities:mine")).status_code == 200
    assert AuditEntry.objects.filter(action="account.login", actor=publisher).exists()


def test_public_account_signs_in_with_its_email_in_any_case(client, applicant):
    response = post_login(client, "WANG@example.org", GOOD_PASSWORD)
    assert response.status_code == 302 and response.url == reverse("accounts:home")


def test_wrong_password_says_so_in_chinese(client, publisher):
    page = post_login(client, "hz-museum", "Wrong-Password-1").content.decode()
    assert "用户名或密码不正确" in page


def test_five_failures_lock_the_account_and_the_sixth_right_password_is_refused(client, publisher):
    for _ in range(4):
        assert post_login(client, "hz-museum", "Wrong-Password-1").status_code == 200
    fifth = post_login(client, "hz-museum", "Wrong-Password-1")
    assert fifth.status_code == 429
    sixth = post_login(client, "hz-museum", STAFF_PASSWORD)
    assert sixth.status_code == 429
    page = sixth.content.decode()
    assert "登录已暂时锁定" in page and "连续 5 次登录失败" in page and "30 分钟" in page
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("activities:mine")).status_code == 302
    assert AuditEntry.objects.filter(action="account.locked_out").exists()
    assert AuditEntry.objects.filter(action="account.login_failed").count() >= 5


def test_lock_out_is_per_user_name_and_address(client, publisher):
    for _ in range(5):
        post_login(client, "hz-museum", "Wrong-Password-1", ip="10.0.0.1")
    assert post_login(client, "hz-museum", STAFF_PASSWORD, ip="10.0.0.1").status_code == 429
    # The same account from another address, and another account from the locked address, still sign in.
    assert post_login(client, "hz-museum", STAFF_PASSWORD, ip="10.0.0.2").status_code == 302
    client.logout()
    create_staff("other-unit")
    assert post_login(client, "other-unit", STAFF_PASSWORD, ip="10.0.0.1").status_code == 302


def test_lock_out_ends_after_the_cool_off(client, publisher):
    from datetime import timedelta

    from axes.models import AccessAttempt

    for _ in range(5):
        post_login(client, "hz-museum", "Wrong-Password-1")
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=31)
    )
    assert post_login(client, "hz-museum", STAFF_PASSWORD).status_code == 302


def age_session(client, seconds: float) -> None:
    session = client.session
    session[services.SEEN_KEY] = time.time() - seconds
    session.save()


def test_staff_session_ends_after_30_idle_minutes(client, publisher):
    client.force_login(publisher)
    age_session(client, 29 * 60)
    assert client.get(reverse("activities:mine")).status_code == 200
    age_session(client, 31 * 60)
    response = client.get(reverse("activities:mine"), follow=True)
    assert response.redirect_chain[0][0].startswith(f"{LOGIN}?next=")
    assert "您已超过 30 分钟未操作" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_request_keeps_the_session_alive(client, publisher):
    client.force_login(publisher)
    age_session(client, 25 * 60)
    client.get(reverse("activities:mine"))  # seen again now
    session = client.session
    assert time.time() - session[services.SEEN_KEY] < 5


def test_public_session_lasts_longer(client, applicant, settings):
    client.force_login(applicant)
    age_session(client, 31 * 60)
    assert client.get(reverse("accounts:home")).status_code == 200
    age_session(client, (settings.KEPUYUE_PUBLIC_IDLE_MINUTES + 1) * 60)
    assert client.get(reverse("accounts:home")).status_code == 302


def test_logout_needs_a_post(client, publisher):
    client.force_login(publisher)
    assert client.get("/accounts/logout/").status_code == 200
    assert "_auth_user_id" in client.session
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session


def test_account_created_in_the_admin_must_change_its_password(client, admin_client):
    response = admin_client.post(
        "/admin/auth/user/add/",
        {
            "username": "new-unit-staff",
            "password1": "Initial-Pass-2025",
            "password2": "Initial-Pass-2025",
            "usable_password": "true",
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "0",
            "profile-MIN_NUM_FORMS": "0",
            "profile-MAX_NUM_FORMS": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Profile.objects.get(user__username="new-unit-staff").must_change_password

    response = post_login(client, "new-unit-staff", "Initial-Pass-2025")
    assert response.url.startswith("/accounts/password/?next=")
    # Every page leads to the password change until the password is changed.
    for url in [reverse("accounts:home"), "/org/activities/", "/accounts/applications/"]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/password/"), url
    page = client.get("/accounts/password/").content.decode()
    assert "初始密码" in page

    weak = client.post(
        "/accounts/password/",
        {"old_password": "Initial-Pass-2025", "new_password1": "abcdefgh", "new_password2": "abcdefgh"},
    )
    assert "密码须至少包含大写字母、小写字母、数字、符号中的 3 类。" in weak.content.decode()
    same = client.post(
        "/accounts/password/",
        {
            "old_password": "Initial-Pass-2025",
            "new_password1": "Initial-Pass-2025",
            "new_password2": "Initial-Pass-2025",
        },
    )
    assert same.status_code == 200 and "新密码不能与当前密码相同" in same.content.decode()
    assert client.get(reverse("accounts:home")).status_code == 302  # still forced to change
    done = client.post(
        "/accounts/password/",
        {
            "old_password": "Initial-Pass-2025",
            "new_password1": "Own-Choice-77",
            "new_password2": "Own-Choice-77",
        },
    )
    assert done.status_code == 302
    assert client.get(reverse("accounts:home")).status_code == 200
    profile = Profile.objects.get(user__username="new-unit-staff")
    assert not profile.must_change_password and profile.password_changed_at is not None
    assert AuditEntry.objects.filter(action="account.password_change").exists()


def test_admin_password_reset_makes_it_an_initial_password_again(admin_client, db):
    user = create_staff("reset-me")
    response = admin_client.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": "Reset-Pass-2025", "password2": "Reset-Pass-2025", "usable_password": "true"},
    )
    assert response.status_code == 302
    assert Profile.objects.get(user=user).must_change_password


def test_superuser_gets_totp_before_the_initial_password(client, db):
    admin = create_staff("root", superuser=True)
    services.require_password_change(admin)
    response = post_login(client, "root", STAFF_PASSWORD)
    assert response.url.startswith("/accounts/two-factor/setup/")
    assert client.get("/accounts/password/").url.startswith("/accounts/two-factor/setup/")
    login_staff(client, admin)
    assert client.get("/admin/").url.startswith("/accounts/password/")
