"""Class 5 of issue 9: every query parameter, path number and header that holds a number or a date.
Unicode digits (``²`` ``①`` ``٣`` pass ``str.isdigit()`` and crash ``int()``), far dates
(``0001-01-01`` overflows once shifted to UTC), NUL (PostgreSQL refuses it) and huge numbers are
ignored with a message or refused with a 4xx — never a 5xx."""

from __future__ import annotations

import pytest

from .conftest import login, no_server_error

pytestmark = pytest.mark.django_db

BAD_NUMBERS = ["²", "①", "٣", "፩", "Ⅻ", "-1", "0", "1.5", "9" * 30, "\x00", "1\x00", "%", "١٢"]
BAD_DATES = [
    "0001-01-01",
    "9999-12-31",
    "1899-12-31",
    "2101-01-01",
    "99999-01-01",
    "²⁰²⁵-09-15",
    "2025-02-30",
    "2025-09-15\x00x",
]


@pytest.mark.parametrize("value", BAD_DATES)
@pytest.mark.parametrize("name", ["from", "to"])
def test_public_list_far_or_malformed_dates_ignored_with_message(client, world, published, name, value):
    response = client.get("/activities/", {name: value})
    assert response.status_code == 200
    html = response.content.decode()
    assert "已忽略" in html


@pytest.mark.parametrize("value", BAD_NUMBERS)
@pytest.mark.parametrize("name", ["page", "audience", "topic", "province", "city", "county", "cursor"])
def test_public_list_number_parameters(client, world, published, name, value):
    response = client.get("/activities/", {name: value})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"joint_action": "\x00"},
        {"brand": "a\x00b"},
        {"q": "\x00" * 10},
        {"sort": "relevance\x00"},
        {"phase": "①"},
        {"campaign": "\x00"},
        {"form": "\x00offline"},
        {"from": "2025-09-30", "to": "2025-09-01"},
        {"page": "2", "cursor": "x" * 5000},
    ],
)
def test_public_list_other_parameters(client, world, published, params):
    no_server_error(client.get("/activities/", params))


@pytest.mark.parametrize(
    "query", ["q=%ED%A0%80", "q=%FF%FE", "page=%C2%B2", "from=%00", "audience=%E2%91%A0"]
)
def test_public_list_raw_bytes(client, world, published, query):
    no_server_error(client.get(f"/activities/?{query}"))


@pytest.mark.parametrize(
    "path",
    [
        "/activities/99999999999999999999/",
        "/activities/99999999999999999999.ics",
        "/region/٣٣٠٠٠٠/",
        "/region/330000%00/",
        "/calls/entries/%00/",
        "/org/activities/99999999999999999999/",
    ],
)
def test_paths_with_huge_numbers_or_controls(client, world, published, path):
    login(client, world.users.pub_zj)
    response = client.get(path)
    assert response.status_code in (400, 404)


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_inbox_page_and_mark_read(client, world, value):
    login(client, world.users.pub_zj)
    assert client.get("/inbox/", {"page": value}).status_code == 200
    response = client.post("/inbox/read/", {"id": [value, "1"]})
    assert response.status_code == 302


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_review_queue_waiting_page_and_bulk_ids(client, world, value):
    login(client, world.users.admin_zj)
    assert client.get("/org/review/", {"waiting": value, "page": value, "region": value}).status_code == 200
    response = client.post("/org/review/bulk-approve/", {"ids": [value]})
    assert response.status_code == 302


@pytest.mark.parametrize("value", BAD_DATES)
def test_audit_log_dates(client, world, value):
    login(client, world.users.cast)
    response = client.get("/org/review/audit/", {"since": value, "until": value})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["²", "①", "0", "31", "\x00", "9" * 30])
def test_reopen_days(client, world, value):
    login(client, world.users.cast)
    response = client.post("/org/review/reopen/", {"days": value}, follow=True)
    assert response.status_code == 200
    assert "天数" in response.content.decode() or "重新开放" in response.content.decode()


@pytest.mark.parametrize("value", ["²", "①", "\x00"])
def test_summary_remove_photo_ids(client, world, value, clock):
    from kepuyue.activities.models import Status

    activity = world.activity(world.units.zj, Status.PUBLISHED)
    clock("2025-09-12T10:00+08:00")
    login(client, world.users.pub_zj)
    response = client.post(
        f"/org/activities/{activity.pk}/summary/",
        {"text": "总结\x00", "participants": value, "remove_photo": [value]},
    )
    assert response.status_code == 200  # the form again, with the participants' message
    assert "实际参与人数" in response.content.decode()


@pytest.mark.parametrize("url", ["/films/?film=²", "/films/?film=①", "/tours/?page=²", "/tours/?page=٣"])
def test_digits_int_refuses_are_not_a_server_error(client, url):
    """``"²".isdigit()`` is true but ``int("²")`` raises: such parameters are ignored, never a 500."""
    assert client.get(url).status_code < 500
