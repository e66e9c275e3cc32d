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


def test_a_refused_request_logs_one_line_without_a_traceback(rf):
    """A 403 (PermissionDenied) is a warning line, not a 20-line traceback that reads like a crash;
    a 500 keeps its traceback."""
    import io
    import logging

    from django.core.exceptions import PermissionDenied
    from django.http import HttpResponse
    from django.utils.log import log_response

    [console] = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    stream, console.stream = console.stream, io.StringIO()
    try:
        for status in (403, 500):
            try:
                raise PermissionDenied("不是你的") if status == 403 else RuntimeError("坏了")
            except Exception as exc:  # noqa: BLE001 - the exception Django logs
                log_response(
                    "Answer %s",
                    status,
                    response=HttpResponse(status=status),
                    request=rf.get("/x/"),
                    exception=exc,
                )
        text = console.stream.getvalue()
    finally:
        console.stream = stream
    forbidden, _, server_error = text.partition("Answer 500")
    assert "Answer 403" in forbidden and "Traceback" not in forbidden
    assert "Traceback" in server_error and "RuntimeError: 坏了" in server_error
