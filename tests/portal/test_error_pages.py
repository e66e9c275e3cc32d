"""Error pages speak Chinese to the public and never mention DEBUG."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_csrf_failure_page_is_chinese_and_plain():
    client = Client(enforce_csrf_checks=True)
    # Django's own language switch still needs a token (the header's display preferences do not:
    # tests/portal/test_page_cache.py).
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "页面已过期" in body
    assert "DEBUG" not in body


def test_server_error_page_is_chinese(client, settings):
    from django.template.loader import render_to_string

    body = render_to_string("500.html")
    assert "服务暂时不可用" in body


def test_forbidden_page_shows_the_reason(client, django_user_model):
    user = django_user_model.objects.create_user("staff-without-unit", password="Xy-long-enough-1")
    client.force_login(user)
    response = client.get("/org/activities/")
    assert response.status_code == 403
    assert "没有权限" in response.content.decode()
