"""Class 5 of issue 9 on the calls for works: tus byte-count headers and the entry form's texts."""

from __future__ import annotations

import pytest

from tests.calls.conftest import base, plan, staff, storages  # noqa: F401 - fixtures
from tests.calls.test_uploads import NEW_ROUTE, TUS_CREATE, tus_create, tus_headers

pytestmark = pytest.mark.django_db

BAD_COUNTS = ["²", "①", "٣", "１０", "-1", "1.0", "1e3", "9" * 40, " ", "0x10"]


@pytest.fixture
def unit_client(client, staff):  # noqa: F811
    client.force_login(staff)
    return client


@pytest.mark.parametrize("value", BAD_COUNTS)
def test_tus_upload_length_refused(unit_client, value):
    response = unit_client.post(TUS_CREATE, **tus_headers(upload_length=value))
    assert response.status_code in (400, 413), response.content
    assert "Upload-Length" in response.content.decode() or response.status_code == 413


@pytest.mark.parametrize("value", BAD_COUNTS)
def test_tus_upload_offset_refused(unit_client, value, storages):  # noqa: F811
    url = tus_create(unit_client, 10)
    response = unit_client.generic(
        "PATCH", url, b"x", content_type="application/offset+octet-stream", **tus_headers(upload_offset=value)
    )
    assert response.status_code in (400, 409), response.content


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("title", "题" * 201, "作品名称不能超过 200 个字符"),
        ("description", "简" * 5001, ""),  # refused; the route form shows no description field
        ("stop-0-name", "站" * 201, "第 1 站不能超过 200 个字符"),
    ],
)
def test_entry_texts_over_limit_refused_without_leftover(unit_client, field, value, message, storages):  # noqa: F811
    from kepuyue.calls.models import Entry

    response = unit_client.post(NEW_ROUTE, {"title": "植物之旅", "city": "330100", field: value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Entry.objects.exists()


def test_entry_title_control_characters_cleaned(unit_client):
    response = unit_client.post(NEW_ROUTE, {"title": "植物\x00之旅\r\n", "city": "330100"})
    assert response.status_code == 400  # no images or stops: refused with messages, never a 5xx
