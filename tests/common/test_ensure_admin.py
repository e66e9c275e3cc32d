import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_ensure_admin_creates_superuser_with_printed_password():
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    password = re.search(r"密码：\s+(\S+)", out.getvalue()).group(1)
    assert len(password) >= 12
    user = authenticate(username="admin", password=password)
    assert user is not None and user.is_superuser and user.is_staff


def test_ensure_admin_second_run_keeps_existing_password():
    call_command("ensure_admin", stdout=StringIO())
    hashed = get_user_model().objects.get(username="admin").password
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    assert "已存在" in out.getvalue()
    assert "密码：" not in out.getvalue()
    assert get_user_model().objects.get(username="admin").password == hashed
    assert get_user_model().objects.count() == 1
