"""Hostile inputs against registrations (issue 12): whatever a registrant, a scanner or a unit sends —
any Unicode, size, number, date, JSON, code or id — the answer is a clear Chinese message or a refusal,
never a 5xx, never a half-written booking, never a place taken for nothing."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from kepuyue.registrations import services, tickets
from kepuyue.registrations.models import Booking, CheckIn, Session
from tests.fixtures_registrations import add_session, make_member, party

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


NASTY_TEXT = [
    "\x00张三",
    "李\u202e四",
    "\ufffe\ufdd0",
    "王" * 5000,
    "<script>alert(1)</script>",
    "=cmd|'/c calc'!A1",
    "\r\n\r\nBcc: evil@example.com",
    "👨‍👩‍👧‍👦" * 10,
    "   ",
]
NASTY_NUMBERS = [
    "-1",
    "1e9",
    "²",
    "١",
    "９９９９９９９",
    "99999999999999999999999",
    "1.5",
    "0x10",
    "NaN",
    " ",
    "三",
]
NASTY_PHONES = [
    "",
    "1381234567",
    "138123456789",
    "+1 415 555 0100",
    "１３８１２３４５６７８",
    "13812345678\x00",
    "²³⁴",
]


def _post_booking(client, session, **data):
    payload = {**party(), "consent": "on", "token": services.new_token(), **data}
    return client.post(reverse("registrations:book", args=[session.pk]), payload)


def _booked(session) -> int:
    return Session.objects.get(pk=session.pk).booked


@pytest.mark.parametrize("name", NASTY_TEXT)
def test_names_of_any_unicode_never_break_a_booking(name, session, member, client):
    client.force_login(member)
    response = _post_booking(client, session, name=name)
    assert response.status_code in (200, 302)
    booking = Booking.objects.filter(user=member).first()
    if booking is not None:
        assert "\x00" not in booking.name and "\ud800" not in booking.name and len(booking.name) <= 64
        assert _booked(session) == booking.seats
    else:
        assert _booked(session) == 0
        assert "姓名" in response.content.decode()


@pytest.mark.parametrize("count", NASTY_NUMBERS)
def test_party_counts_must_be_plain_small_integers(count, session, member, client):
    client.force_login(member)
    response = _post_booking(client, session, adults=count)
    assert response.status_code == 200
    assert "成人人数" in response.content.decode() and _booked(session) == 0


@pytest.mark.parametrize("phone", NASTY_PHONES)
def test_phones_are_mainland_mobiles_or_refused(phone, session, member, client):
    client.force_login(member)
    response = _post_booking(client, session, phone=phone)
    booking = Booking.objects.filter(user=member).first()
    if phone in ("１３８１２３４５６７８", "13812345678\x00"):
        # Full-width digits are digits; NUL is removed by the text layer before anything reads it.
        assert booking is not None and booking.phone == "13812345678"
    else:
        assert booking is None and response.status_code == 200 and "手机号码" in response.content.decode()


def test_a_nul_token_is_cleaned_away_and_books_once(session, member, client):
    client.force_login(member)
    assert _post_booking(client, session, token="\x00").status_code == 302
    assert _post_booking(client, session, token="\x00").status_code == 302
    assert Booking.objects.count() == 1 and _booked(session) == 1


def test_a_huge_name_list_in_a_group_booking_is_refused(session, member, client):
    client.force_login(member)
    response = client.post(
        reverse("registrations:book_group", args=[session.pk]),
        {
            "group_name": "初二(3)班",
            "name": "王老师",
            "phone": "13812345678",
            "headcount": "3",
            "participant_names": "\n".join(["学生"] * 5000),
            "guardian_consent": "on",
            "consent": "on",
            "token": services.new_token(),
        },
    )
    assert response.status_code == 200 and Booking.objects.count() == 0
    assert Session.objects.get(pk=session.pk).group_booked == 0


@pytest.mark.parametrize("token", ["x" * 500, "../../etc", "令牌", "a b", "x" * 65])
def test_forged_tokens_are_refused_with_a_message(token, session, member, client):
    client.force_login(member)
    response = _post_booking(client, session, token=token)
    assert response.status_code == 200 and "提交标识" in response.content.decode()
    assert Booking.objects.count() == 0


@pytest.mark.parametrize(
    "code", ["", "x", "Z" * 200, "KPY1." + "9" * 500, "KPY1.1.ABCDEFGHJ.AAAA", "\x00\x00", "票号", "../"]
)
def test_any_ticket_url_is_a_404(code, member, client):
    client.force_login(member)
    for name in ("registrations:ticket", "registrations:ticket_ics"):
        from django.urls import NoReverseMatch

        try:
            url = reverse(name, args=[code])
        except NoReverseMatch:  # a code the URL pattern cannot hold never reaches the view
            url = None
        if url is not None:
            assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'{"scans": "all"}',
        b'{"scans": [1, 2, 3]}',
        b'{"scans": [{"nonce": "\\u0000", "code": null}]}',
        b'{"scans": [{"nonce": "aaaaaaaa", "code": {"$gt": ""}, "scanned_at": 12}]}',
        b'{"scans": [{"nonce": "bbbbbbbb", "code": "x", "scanned_at": "9999-12-31T23:59:59+14:00"}]}',
        b'{"scans": [{"nonce": "cccccccc", "code": "x", "scanned_at": "0001-01-01T00:00:00"}]}',
        b"\xff\xfe\x00",
        b"[" * 100000,
        b'{"scans": [' + b'{"code":"x"},' * 600 + b'{"code":"x"}]}',
    ],
)
def test_the_sync_endpoint_answers_any_body_without_a_5xx(body, session, publisher, client):
    client.force_login(publisher)
    response = client.post(
        reverse("registrations:checkin_sync", args=[session.pk]), body, content_type="application/json"
    )
    assert response.status_code in (200, 400, 413)
    assert response["Content-Type"].startswith("application/json")


def test_a_huge_sync_body_is_refused_before_it_is_read(session, publisher, client):
    client.force_login(publisher)
    body = json.dumps({"scans": [{"nonce": "n" * 64, "code": "x" * 120}] * 2000}).encode()
    response = client.post(
        reverse("registrations:checkin_sync", args=[session.pk]), body, content_type="application/json"
    )
    assert response.status_code in (400, 413) and CheckIn.objects.count() == 0


def test_a_typed_code_of_any_unicode_is_an_outcome(session, publisher, client):
    client.force_login(publisher)
    for code in NASTY_TEXT + ["KPY1.1.2.3", "kpy1." + "a" * 300]:
        response = client.post(reverse("registrations:checkin", args=[session.pk]), {"code": code})
        assert response.status_code == 200
    assert CheckIn.objects.filter(result__in=["unknown", "tampered"]).count() == CheckIn.objects.count() > 0


def test_a_forged_qr_for_another_session_is_tampered(session, activity, member, publisher):
    other = add_session(activity, start="2025-09-15 14:00", end="2025-09-15 16:00", capacity=5)
    booking, _ = services.book(session, member, party())
    real = tickets.qr_payload(session.pk, booking.code)
    forged = real.replace(f"KPY1.{session.pk}.", f"KPY1.{other.pk}.", 1)
    assert services.check_in(other, forged, actor=publisher).result == "tampered"
    assert Booking.objects.get(pk=booking.pk).checked_in_at is None


@pytest.mark.parametrize(
    "field, value",
    [
        ("capacity", "-5"),
        ("capacity", "99999999"),
        ("capacity", "１０"),
        ("starts_at", "0001-01-01T00:00"),
        ("starts_at", "9999-12-31T23:59"),
        ("starts_at", "2025-02-30T10:00"),
        ("ends_at", "not a date"),
        ("label", "场" * 500),
        ("group_capacity", "²"),
    ],
)
def test_session_forms_refuse_bad_values_with_a_message(field, value, activity, config, publisher, client):
    client.force_login(publisher)
    data = {
        "label": "上午场",
        "starts_at": "2025-09-15T09:00",
        "ends_at": "2025-09-15T11:00",
        "capacity": "10",
        "group_capacity": "0",
    }
    data[field] = value
    response = client.post(reverse("registrations:org_session_new", args=[activity.pk]), data)
    if field == "capacity" and value == "１０":
        assert response.status_code == 302  # full-width digits typed by a Chinese input method are fine
        return
    assert response.status_code == 200 and Session.objects.filter(activity=activity).count() == 0
    assert "errorlist" in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"mode": "evil"},
        {"mode": "external", "external_url": "javascript:alert(1)"},
        {"mode": "external", "external_url": "ftp://example.com"},
        {"mode": "phone", "phone": ""},
        {"mode": "platform", "max_adults": "99"},
        {"mode": "platform", "offer_hours": "100000"},
        {"mode": "platform", "asks_id_number": "on", "id_number_reason": ""},
        {"mode": "platform", "consent_text": "告" * 9000},
        {"mode": "platform", "opens_at": "2025-09-12T10:00", "closes_at": "2025-09-11T10:00"},
    ],
)
def test_settings_refuse_bad_values(data, activity, publisher, client):
    client.force_login(publisher)
    base = {
        "max_adults": "1",
        "max_children": "0",
        "max_group_size": "50",
        "offer_hours": "24",
        "cancel_cutoff_hours": "2",
    }
    response = client.post(reverse("registrations:org_settings", args=[activity.pk]), {**base, **data})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert services.config_of(type(activity).objects.get(pk=activity.pk)) is None


@pytest.mark.parametrize("target", ["", "abc", "-1", "9" * 40, "1e3"])
def test_moving_to_a_nonsense_session_is_a_message(target, session, member, publisher, client):
    booking, _ = services.book(session, member, party())
    client.force_login(publisher)
    response = client.post(reverse("registrations:org_booking_move", args=[booking.pk]), {"to": target})
    assert response.status_code == 302 and Booking.objects.get(pk=booking.pk).session_id == session.pk


def test_another_units_session_cannot_be_the_target_of_a_move(session, member, publisher, other_unit):
    from tests.fixtures_registrations import configure, make_activity

    theirs = make_activity(other_unit)
    configure(theirs)
    foreign = add_session(theirs, capacity=5)
    booking, _ = services.book(session, member, party())
    with pytest.raises(Exception):  # noqa: B017 - ValidationError, and nothing moves
        services.move(booking, foreign, actor=publisher)
    assert Session.objects.get(pk=foreign.pk).booked == 0


def test_message_texts_are_bounded(session, member, publisher, client):
    services.book(session, member, party())
    client.force_login(publisher)
    response = client.post(
        reverse("registrations:org_message", args=[session.activity_id]), {"title": "题" * 100, "body": "x"}
    )
    assert response.status_code == 200 and "标题不能超过" in response.content.decode()


def test_export_query_parameters_are_ignored_when_nonsense(session, member, publisher, client):
    services.book(session, member, party())
    client.force_login(publisher)
    for query in ("?session=abc", "?session=" + "9" * 50, "?full=2", "?session=-1"):
        response = client.get(reverse("registrations:org_export", args=[session.activity_id, "csv"]) + query)
        assert response.status_code == 200
    assert client.get(f"/org/registrations/{session.activity_id}/export.pdf").status_code == 404


def test_bookings_list_filters_ignore_nonsense(session, publisher, client):
    client.force_login(publisher)
    for query in ("?status=%00", "?status=" + "x" * 1000, "?full=yes", "?status[]=1"):
        assert client.get(reverse("registrations:org_bookings", args=[session.pk]) + query).status_code == 200


def test_lone_surrogates_reaching_the_service_are_removed(session, member):
    booking, _ = services.book(session, member, party(name="\ud800张三\udfff"))
    assert booking.name == "张三"


def test_a_booking_is_never_half_written(session, member, monkeypatch):
    """A failure after the place was taken (here: the audit entry) rolls the place back too."""
    from kepuyue.audit import services as audit

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", boom)
    with pytest.raises(RuntimeError):
        services.book(session, member, party())
    assert Booking.objects.count() == 0 and _booked(session) == 0


def test_verification_inputs(client, member, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "verify_send": None, "verify_code": None}
    client.force_login(make_member(verified=False))
    for phone in NASTY_PHONES[1:] + ["1" * 1000]:
        response = client.post(reverse("accounts:verify_contact"), {"action": "phone", "phone": phone})
        assert response.status_code in (200, 302)
    for code in ["", "abc", "１２３４５６", "9" * 1000, "\x00"]:
        response = client.post(reverse("accounts:verify_contact"), {"action": "code", "code": code})
        assert response.status_code == 200
    response = client.get(reverse("accounts:verify_email_link", args=["x" * 3000]))
    assert response.status_code == 302


def test_booking_is_rate_limited(session, member, client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "booking": "3/h"}
    client.force_login(member)
    statuses = [_post_booking(client, session, phone="bad").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
