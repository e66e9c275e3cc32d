"""Fixtures of the registrations tests live in ``tests/fixtures_registrations.py`` (shared with
``tests/hostile``); here only what every test of this folder gets: media in a temporary folder and an
empty SMS outbox."""

from __future__ import annotations

import os

import pytest

from tests.fixtures_registrations import (  # noqa: F401
    add_session,
    configure,
    make_activity,
    make_member,
    party,
)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def sms_outbox():
    from kepuyue.common import sms

    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()
