"""Signing in and the account of each request (decision 0036).

:class:`ModelBackend` is Django's model backend with one change: the account read that
``django.contrib.auth.get_user`` asks of it on *every* signed-in request is compiled once per
process (``kepuyue.common.compiled``) instead of being built by the ORM anew — ~10 % of a booking
request's CPU went into building ``SELECT … FROM auth_user WHERE id = %s``. The same row, the same
instance, the same ``is_active`` rule (``user_can_authenticate``); passwords, permissions and the
session-hash check (``get_session_auth_hash``) are Django's, unchanged.

Sessions signed in before this backend name Django's (``LEGACY_PATH``): :func:`upgrade_session`,
called by :class:`AuthenticationMiddleware` before the account is read, renames it once (one session
write), so nobody is signed out by the change.
"""

from __future__ import annotations

from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.auth.middleware import get_user
from django.db import connections, router
from django.utils.functional import SimpleLazyObject

from kepuyue.common.compiled import PreparedRead

PATH = "kepuyue.accounts.backends.ModelBackend"
LEGACY_PATH = "django.contrib.auth.backends.ModelBackend"

# The placeholder stays inside auth_user.id's range (an integer column): beyond it the ORM folds the
# filter into "no rows" and there is nothing to compile.
_ACCOUNT = PreparedRead(lambda pk: get_user_model()._default_manager.filter(pk=pk), pk=-2_000_000_011)


class ModelBackend(DjangoModelBackend):
    """Django's ``ModelBackend``; :meth:`get_user` reads the account through a compiled ``SELECT``."""

    def get_user(self, user_id):
        model = get_user_model()
        # As ``_default_manager.get(pk=user_id)``: the session's text id prepared by the field (a
        # non-number raises as the ORM raises), an id beyond the column's range is no such row.
        pk = model._meta.pk.get_prep_value(user_id)
        low, high = connections[router.db_for_read(model)].ops.integer_field_range(
            model._meta.pk.get_internal_type()
        )
        if pk is None or (low is not None and pk < low) or (high is not None and pk > high):
            return None
        user = _ACCOUNT.first(pk=pk)
        return user if user is not None and self.user_can_authenticate(user) else None


def upgrade_session(session) -> None:
    """A session signed in through Django's backend names this one from now on (one write)."""
    if session.get(BACKEND_SESSION_KEY) == LEGACY_PATH:
        session[BACKEND_SESSION_KEY] = PATH


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's middleware; the lazy ``request.user`` first renames a session's old backend."""

    def process_request(self, request):
        super().process_request(request)

        def user():
            if not hasattr(request, "_cached_user"):
                upgrade_session(request.session)
            return get_user(request)

        request.user = SimpleLazyObject(user)
