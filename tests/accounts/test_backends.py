"""The account of each request (decision 0036): Django's model backend with a compiled read — the
same user, the same refusals, and sessions signed in under Django's backend path still signed in."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kepuyue.accounts.backends import LEGACY_PATH, PATH, ModelBackend

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(db):
    return User.objects.create_user("member", "m@example.cn", "Kexue-Puji-2025")


def fields(user):
    return {f.attname: getattr(user, f.attname) for f in User._meta.concrete_fields}


def test_get_user_reads_the_row_django_reads(member):
    ours, django = ModelBackend().get_user(str(member.pk)), DjangoModelBackend().get_user(str(member.pk))
    assert type(ours) is User and fields(ours) == fields(django)
    assert ours.get_session_auth_hash() == django.get_session_auth_hash()


def test_get_user_refuses_what_django_refuses(member):
    member.is_active = False
    member.save()
    for user_id in (str(member.pk), str(member.pk + 1000), "2147483648", "-99999999999", member.pk):
        assert ModelBackend().get_user(user_id) is None
        assert DjangoModelBackend().get_user(user_id) is None
    with pytest.raises(ValueError):
        DjangoModelBackend().get_user("x1")
    with pytest.raises(ValueError):
        ModelBackend().get_user("x1")


def test_get_user_builds_no_sql(member):
    ModelBackend().get_user(str(member.pk))  # compiled on first use
    from django.db.models.sql.compiler import SQLCompiler

    compiled = []
    original = SQLCompiler.as_sql
    SQLCompiler.as_sql = lambda self, *a, **k: compiled.append(1) or original(self, *a, **k)
    try:
        with CaptureQueriesContext(connection) as queries:
            assert ModelBackend().get_user(str(member.pk)).pk == member.pk
    finally:
        SQLCompiler.as_sql = original
    assert len(queries) == 1 and compiled == []


def test_session_of_the_old_backend_stays_signed_in_and_is_renamed(client, member):
    client.force_login(member)
    session = client.session
    assert session[BACKEND_SESSION_KEY] == PATH
    session[BACKEND_SESSION_KEY] = LEGACY_PATH  # signed in before decision 0036
    session.save()
    page = client.get("/accounts/")
    assert page.status_code == 200 and page.wsgi_request.user == member
    assert client.session[BACKEND_SESSION_KEY] == PATH
    assert client.get("/accounts/").wsgi_request.user == member


def test_session_hash_still_verified(client, member):
    client.force_login(member)
    session = client.session
    session[HASH_SESSION_KEY] = "0" * 64  # a password changed elsewhere
    session.save()
    response = client.get("/accounts/")
    assert not response.wsgi_request.user.is_authenticated
    assert SESSION_KEY not in client.session


def test_sign_in_names_this_backend(client, member):
    response = client.post("/accounts/login/", {"username": "member", "password": "Kexue-Puji-2025"})
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == PATH
