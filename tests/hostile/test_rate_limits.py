"""Rate limits (issue 9, class 9b): sign-in, sign-up, applications, password reset, resumable upload
creation, search and exports refuse the request over the limit with a Chinese 429 (plain text for tus,
JSON for clients asking for it), with ``Retry-After``; forged forwarding headers do not reset the count."""

import base64

import pytest

from tests.fixtures_accounts import create_staff, login_staff
from tests.review.conftest import world  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def limit(settings, name: str, rate: str | None):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, name: rate}


def assert_refused(response, *, page: bool = True):
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    if page:
        assert "操作过于频繁" in response.content.decode()


def repeat(n: int, send):
    """``n`` requests that must pass, then the one over the limit (returned)."""
    for _ in range(n):
        response = send()
        assert response.status_code < 500 and response.status_code != 429, response.status_code
    return send()


def test_login_attempts_per_address(client, settings):
    limit(settings, "login", "3/h")
    over = repeat(3, lambda: client.post("/accounts/login/", {"username": "x", "password": "Wrong-Pass-1"}))
    assert_refused(over)
    assert client.get("/accounts/login/").status_code == 200  # reading the page is not counted


@pytest.mark.parametrize("forged", ["1.1.1.1", "2.2.2.2, 3.3.3.3", "garbage", "", "::1"])
def test_forged_forwarded_for_does_not_reset_the_count(client, settings, forged):
    limit(settings, "login", "2/h")
    settings.TRUSTED_PROXIES = ["127.0.0.0/8"]
    client.post("/accounts/login/", {"username": "x", "password": "y"}, REMOTE_ADDR="203.0.113.5")
    client.post("/accounts/login/", {"username": "x", "password": "y"}, REMOTE_ADDR="203.0.113.5")
    over = client.post(
        "/accounts/login/",
        {"username": "x", "password": "y"},
        REMOTE_ADDR="203.0.113.5",
        HTTP_X_FORWARDED_FOR=forged,
    )
    assert_refused(over)


def test_behind_the_proxy_each_client_counts_alone(client, settings):
    limit(settings, "login", "2/h")
    settings.TRUSTED_PROXIES = ["127.0.0.0/8"]

    def post(ip):
        return client.post(
            "/accounts/login/",
            {"username": "x", "password": "y"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=ip,
        )

    assert_refused(repeat(2, lambda: post("203.0.113.1")))
    assert post("203.0.113.2").status_code == 200


def test_signup_per_address(client, settings):
    limit(settings, "signup", "2/h")
    over = repeat(2, lambda: client.post("/accounts/signup/", {"email": "not-an-email"}))
    assert_refused(over)


def test_unit_applications_per_account(client, settings, regions):
    limit(settings, "apply", "2/h")
    client.force_login(create_staff("applicant"))
    assert_refused(repeat(2, lambda: client.post("/accounts/apply/", {"name": ""})))


def test_password_reset_per_address(client, settings):
    limit(settings, "password_reset", "2/h")
    over = repeat(2, lambda: client.post("/accounts/password/reset/", {"identifier": "nobody@example.cn"}))
    assert_refused(over)


def test_password_reset_per_target_from_many_addresses(client, settings):
    limit(settings, "password_reset_target", "2/h")
    addresses = iter(["203.0.113.1", "203.0.113.2", "203.0.113.3"])
    over = repeat(
        2,
        lambda: client.post(
            "/accounts/password/reset/", {"identifier": "victim@example.cn"}, REMOTE_ADDR=next(addresses)
        ),
    )
    assert_refused(over)


def test_reset_links_tried_per_address(client, settings):
    limit(settings, "password_reset_confirm", "3/h")
    assert_refused(repeat(3, lambda: client.get("/accounts/reset/MQ/bad-token/")))


def test_search_per_address_but_not_plain_browsing(client, settings, campaign_2025):
    limit(settings, "search", "2/h")
    for _ in range(4):
        assert client.get("/activities/").status_code == 200
    assert_refused(repeat(2, lambda: client.get("/activities/", {"q": "机器人"})))


def test_json_clients_get_json(client, settings):
    limit(settings, "search", "1/h")
    client.get("/activities/", {"q": "科学"})
    over = client.get("/activities/", {"q": "科学"}, HTTP_ACCEPT="application/json")
    assert over.status_code == 429 and "操作过于频繁" in over.json()["error"]


def test_a_limit_set_off_never_refuses(client, settings):
    limit(settings, "signup", None)
    for _ in range(25):  # above the default 20/h
        assert client.post("/accounts/signup/", {"email": "x"}).status_code == 200


def test_unit_export_per_account(client, settings, world):  # noqa: F811
    limit(settings, "export", "1/h")
    client.force_login(world.users.pub_zj)
    assert_refused(repeat(1, lambda: client.get("/org/activities/export.csv")))


def test_staff_exports_per_account(client, settings, world):  # noqa: F811
    limit(settings, "export", "2/h")
    login_staff(client, world.users.cast)
    assert client.get("/org/review/export.csv").status_code == 200
    assert client.get("/org/review/audit/", {"format": "csv"}).status_code == 200
    assert_refused(client.get("/org/review/export.xlsx"))
    assert_refused(client.get("/org/review/audit/", {"format": "csv"}))


def test_resumable_upload_creation_per_account(client, settings, regions, campaign_2025, clock, tmp_path):
    from kepuyue.orgs.models import Organization

    clock("2025-08-15T10:00+08:00")
    settings.CALLS_UPLOAD_TEMP_DIR = tmp_path
    limit(settings, "upload_create", "2/h")
    base = Organization.objects.create(name="压测基地", type_id="science_education_base", region_id="330106")
    client.force_login(create_staff("base-staff", membership=base))
    csrf = "a" * 32
    client.cookies["csrftoken"] = csrf
    meta = "filename " + base64.b64encode(b"v.mp4").decode()

    def create():
        return client.post(
            "/calls/tus/kepuyue-2025/science-treasure-videos/",
            HTTP_TUS_RESUMABLE="1.0.0",
            HTTP_UPLOAD_LENGTH="1000",
            HTTP_UPLOAD_METADATA=meta,
            HTTP_X_CSRFTOKEN=csrf,
        )

    first = create()
    assert first.status_code == 201, first.content
    create()
    over = create()
    assert over.status_code == 429 and over["Content-Type"].startswith("text/plain")
    assert "过于频繁" in over.content.decode() and int(over["Retry-After"]) == 3600
