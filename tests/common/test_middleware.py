import pytest

pytestmark = pytest.mark.django_db


def test_chinese_first_ignores_browser_english(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.headers["Content-Language"] == "zh-hans"


def test_chinese_first_follows_the_language_switch(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.headers["Content-Language"] == "en"


@pytest.mark.parametrize("path", ["/", "/activities/", "/campaigns/"])
def test_public_pages_answer_head(client, path):
    assert client.head(path).status_code == 200


def test_staff_pages_send_anonymous_visitors_to_a_login_page(client):
    response = client.get("/org/activities/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")
    assert client.get(response.url).status_code == 200
