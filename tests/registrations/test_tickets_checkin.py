"""Tickets (codes, signed QR codes) and check-in (duplicates, wrong sessions, offline batches)."""

from __future__ import annotations

import pytest

from kepuyue.registrations import services, tickets
from kepuyue.registrations.models import Booking, CheckIn
from tests.fixtures_registrations import add_session, make_activity, make_member, party


def test_codes_have_a_check_character_and_forgive_typing():
    code = tickets.new_code()
    assert len(code) == 9 and tickets.normalise_code(code) == code
    shown = tickets.display_code(code).lower()
    assert tickets.normalise_code(f"  {shown} ") == code
    assert tickets.normalise_code(code.replace("0", "O").replace("1", "I")) == code
    # Every single wrong character and every swap of neighbours is caught.
    for i in range(9):
        for ch in tickets.ALPHABET:
            if ch != code[i]:
                assert tickets.normalise_code(code[:i] + ch + code[i + 1 :]) is None
    for i in range(8):
        if code[i] != code[i + 1]:
            assert tickets.normalise_code(code[:i] + code[i + 1] + code[i] + code[i + 2 :]) is None


def test_a_tampered_qr_code_is_refused():
    code = tickets.new_code()
    payload = tickets.qr_payload(7, code)
    assert tickets.read(payload).code == code and tickets.read(payload).session_id == 7
    prefix, session_id, body, sig = payload.split(".")
    other = tickets.new_code()
    for forged in (
        f"{prefix}.8.{body}.{sig}",  # another session
        f"{prefix}.{session_id}.{other}.{sig}",  # another code
        f"{prefix}.{session_id}.{body}.{'A' * 16}",  # another signature
        f"{prefix}.{session_id}.{body}.{sig.lower()[:-1]}",
    ):
        assert tickets.read(forged).error == "tampered", forged
    assert tickets.read("KPY1.x.y").error == "format"
    assert tickets.read("not a ticket").error == "format"


def test_the_signature_depends_on_the_secret_key(settings):
    payload = tickets.qr_payload(1, "ABCDEFGH" + tickets.check_character("ABCDEFGH"))
    settings.SECRET_KEY = "another-key-entirely"
    assert tickets.read(payload).error == "tampered"


@pytest.mark.django_db
def test_check_in_flags_duplicates_wrong_sessions_and_invalid_tickets(
    session, activity, member, publisher, clock
):
    other_session = add_session(
        activity, start="2025-09-15 14:00", end="2025-09-15 16:00", capacity=5, label="下午场"
    )
    booking, _ = services.book(session, member, party(name="李雷"))
    qr = tickets.qr_payload(session.pk, booking.code)
    clock("2025-09-15T09:00+08:00")  # at the door: check-in opens 2 h before the start
    first = services.check_in(session, qr, actor=publisher)
    assert first.result == "ok" and first.name == "李*" and first.seats == 1
    again = services.check_in(session, tickets.display_code(booking.code), actor=publisher)
    assert again.result == "duplicate" and again.first_at is not None and "重复签到" in again.message
    wrong = services.check_in(other_session, qr, actor=publisher)
    assert wrong.result == "wrong_session" and "上午场" in wrong.message
    waiting, _ = services.book(other_session, make_member(), party())
    services.cancel(waiting, actor=waiting.user)
    assert services.check_in(other_session, waiting.code, actor=publisher).result == "not_valid"
    assert services.check_in(session, "ZZZZ-ZZZZ-Z", actor=publisher).result == "unknown"
    forged = qr[:-1] + ("A" if qr[-1] != "A" else "B")
    assert services.check_in(session, forged, actor=publisher).result == "tampered"
    assert Booking.objects.get(pk=booking.pk).checked_in_at is not None
    assert CheckIn.objects.count() == 6


@pytest.mark.django_db
def test_another_activitys_ticket_is_unknown_here(session, member, publisher, unit):
    from tests.fixtures_registrations import configure

    elsewhere = make_activity(unit, title="另一个活动")
    configure(elsewhere, publisher)
    their = add_session(elsewhere, capacity=5)
    booking, _ = services.book(their, member, party())
    assert services.check_in(session, booking.code, actor=publisher).result == "unknown"


@pytest.mark.django_db
def test_an_offline_batch_synced_twice_counts_once(session, activity, publisher, clock):
    bookings = [services.book(session, make_member(), party())[0] for _ in range(3)]
    clock("2025-09-15T09:20+08:00")  # synced a quarter of an hour after the scans
    scans = [
        {
            "nonce": f"nonce-{i:04d}-abcdef",
            "code": tickets.qr_payload(session.pk, b.code),
            "scanned_at": "2025-09-15T09:05:00+08:00",
        }
        for i, b in enumerate(bookings)
    ]
    scans.append(
        {"nonce": "nonce-dup-abcdef", "code": bookings[0].code, "scanned_at": "2025-09-15T09:06:00+08:00"}
    )
    scans.append({"nonce": "nonce-bad-abcdef", "code": "12345", "scanned_at": "garbage"})
    scans.append("not a mapping")
    first = services.check_in_batch(session, scans, actor=publisher)
    assert [o.result for o in first] == ["ok", "ok", "ok", "duplicate", "unknown", "unknown"]
    again = services.check_in_batch(session, scans[:5], actor=publisher)
    assert [o.result for o in again] == ["ok", "ok", "ok", "duplicate", "unknown"]
    assert CheckIn.objects.count() == 6
    assert Booking.objects.filter(checked_in_at__isnull=False).count() == 3
    # The phone's scan time is kept when plausible.
    assert Booking.objects.get(pk=bookings[0].pk).checked_in_at.isoformat().startswith("2025-09-15T01:05")
    counts = services.session_counts(session)
    assert counts["checked"] == 3 and counts["bookings"] == 3


@pytest.mark.django_db
def test_a_batch_that_is_not_a_list_or_too_long_is_refused(session, publisher):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.check_in_batch(session, {"a": 1}, actor=publisher)
    with pytest.raises(ValidationError):
        services.check_in_batch(session, [{}] * (services.MAX_BATCH + 1), actor=publisher)
    assert CheckIn.objects.count() == 0


@pytest.mark.django_db
def test_no_shows_are_counted_after_the_session(session, member, member2, publisher, clock):
    checked, _ = services.book(session, member, party())
    services.book(session, member2, party())
    clock("2025-09-15T09:00+08:00")  # at the door: check-in opens 2 h before the start
    services.check_in(session, checked.code, actor=publisher)
    assert services.session_counts(session)["no_shows"] == 0
    clock("2025-09-15T12:00+08:00")
    assert services.session_counts(session)["no_shows"] == 1


def test_check_in_is_open_from_two_hours_before_the_start_until_two_hours_after_the_end(
    session, member, publisher, clock
):
    """A ticket typed a day early or days late is refused (attendance feeds the summary and the
    dashboard); a phone's offline scan made during the session counts whenever it is synced."""
    from kepuyue.registrations import tickets

    booking, _ = services.book(session, member, party())
    code = tickets.display_code(booking.code)
    clock("2025-09-14T10:00+08:00")  # the session is 09-15 09:00–11:00
    early = services.check_in(session, code, actor=publisher)
    assert early.result == "too_early" and "09-15 07:00" in early.message
    clock("2025-09-20T10:00+08:00")
    assert services.check_in(session, code, actor=publisher).result == "too_late"
    assert Booking.objects.get(pk=booking.pk).checked_in_at is None
    synced = services.check_in_batch(
        session,
        [{"code": code, "nonce": "scan-at-the-door-1", "scanned_at": "2025-09-15T09:05:00+08:00"}],
        actor=publisher,
    )
    assert [o.result for o in synced] == ["ok"]
    clock("2025-09-15T12:59+08:00")
    assert services.check_in(session, code, actor=publisher).result == "duplicate"


def test_a_code_typed_in_full_width_is_read(session, member, publisher, clock):
    """A Chinese input method types full-width letters, digits and dashes (fresh try: refused)."""
    from kepuyue.registrations import tickets

    booking, _ = services.book(session, member, party())
    typed = tickets.display_code(booking.code).translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert tickets.normalise_code(typed) == booking.code
    clock("2025-09-15T09:00+08:00")
    assert services.check_in(session, typed, actor=publisher).result == "ok"


def test_a_scan_sent_at_once_is_an_online_check_in_and_a_queued_one_offline(
    session, activity, publisher, clock
):
    """The phone sends every scan through the sync endpoint, connected or not (fresh try: every
    check-in made online was stored as 离线签到). Offline means the scan waited for a connection: the
    phone says so, or it reached the server more than a minute after it was made."""
    bookings = [services.book(session, make_member(), party())[0] for _ in range(4)]
    clock("2025-09-15T09:10+08:00")
    sent = services.check_in_batch(
        session,
        [
            # scanned and sent within seconds: online
            {
                "nonce": "scan-online-0001",
                "code": bookings[0].code,
                "scanned_at": "2025-09-15T09:09:58+08:00",
            },
            # the phone queued it without a connection (said so), sent seconds later
            {
                "nonce": "scan-flagged-0002",
                "code": bookings[1].code,
                "scanned_at": "2025-09-15T09:09:50+08:00",
                "offline": True,
            },
            # waited a quarter of an hour in the phone's queue; the phone says nothing (older page)
            {
                "nonce": "scan-queued-0003",
                "code": bookings[2].code,
                "scanned_at": "2025-09-15T08:55:00+08:00",
            },
        ],
        actor=publisher,
    )
    assert [o.result for o in sent] == ["ok", "ok", "ok"]
    stored = dict(CheckIn.objects.values_list("nonce", "offline"))
    assert stored == {"scan-online-0001": False, "scan-flagged-0002": True, "scan-queued-0003": True}
    # "offline" must be the JSON true: a string is not taken as the phone's word
    another = bookings[3]
    services.check_in_batch(
        session,
        [
            {
                "nonce": "scan-string-0004",
                "code": another.code,
                "scanned_at": "2025-09-15T09:10:00+08:00",
                "offline": "yes",
            }
        ],
        actor=publisher,
    )
    assert CheckIn.objects.get(nonce="scan-string-0004").offline is False


def test_a_scan_the_phone_sent_at_once_is_online_and_timed_by_the_server(session, publisher, clock):
    """Fresh try: a phone whose clock ran 3 minutes slow had its online check-ins stored as 离线签到 at
    its own (wrong) time. The phone's word decides; an online scan takes the server's time, an
    offline one keeps the phone's."""
    online, queued = (services.book(session, make_member(), party())[0] for _ in range(2))
    clock("2025-09-15T09:30+08:00")
    services.check_in_batch(
        session,
        [
            {
                "nonce": "slow-clock-online1",
                "code": online.code,
                "scanned_at": "2025-09-15T09:27:00+08:00",
                "offline": False,
            },
            {
                "nonce": "queued-offline-002",
                "code": queued.code,
                "scanned_at": "2025-09-15T09:05:00+08:00",
                "offline": True,
            },
        ],
        actor=publisher,
    )
    rows = {c.nonce: c for c in CheckIn.objects.all()}
    assert rows["slow-clock-online1"].offline is False and rows["queued-offline-002"].offline is True
    assert rows["slow-clock-online1"].scanned_at.isoformat().startswith("2025-09-15T01:30")
    assert Booking.objects.get(pk=online.pk).checked_in_at.isoformat().startswith("2025-09-15T01:30")
    assert Booking.objects.get(pk=queued.pk).checked_in_at.isoformat().startswith("2025-09-15T01:05")
