import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from kepuyue.accounts.models import Profile

pytestmark = pytest.mark.django_db


def test_ensure_admin_creates_superuser_with_printed_password():
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    password = re.search(r"密码：\s+(\S+)", out.getvalue()).group(1)
    assert len(password) >= 12
    # django-axes (the first backend) needs the request: it counts failures per user name and address.
    user = authenticate(RequestFactory().post("/accounts/login/"), username="admin", password=password)
    assert user is not None and user.is_superuser and user.is_staff


def test_ensure_admin_password_is_an_initial_one():
    call_command("ensure_admin", stdout=StringIO())
    assert Profile.objects.get(user__username="admin").must_change_password


def test_ensure_admin_second_run_keeps_existing_password():
    call_command("ensure_admin", stdout=StringIO())
    hashed = get_user_model().objects.get(username="admin").password
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    assert "已存在" in out.getvalue()
    assert "密码：" not in out.getvalue()
    assert get_user_model().objects.get(username="admin").password == hashed
    assert get_user_model().objects.count() == 1
