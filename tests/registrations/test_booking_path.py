"""The booking request's cost stays bounded (issue 12's benchmark targets, decision 0018): its queries do
not grow with the sessions of the activity, the ticket e-mail leaves the request, and a full session
answers with a short page that joins the waitlist in one tap."""

from __future__ import annotations

import re
import threading

import pytest
from django.core import mail
from django.urls import reverse

from kepuyue.common import background
from kepuyue.notifications.services import notify
from kepuyue.registrations import services
from kepuyue.registrations.models import Booking, Status
from kepuyue.registrations.services import messaging, outbox
from tests.fixtures_registrations import add_session, make_member, party

pytestmark = pytest.mark.django_db

# The session and the account (2), the session with its activity and settings, the account's proof of
# contact, the token/double-tap lookup, due waitlist offers, then in one transaction: take the place,
# the booking, the audit entry, the inbox row, the ticket e-mail's outbox row (decision 0031;
# SAVEPOINT/RELEASE in a test's transaction).
BOOKING_QUERIES = 11
# A full session: the same reads, then the refused UPDATE and the counters for the message.
FULL_QUERIES = 11


def _post(client, session, **extra):
    data = {**party(), "consent": "on", "token": services.new_token(), **extra}
    return client.post(reverse("registrations:book", args=[session.pk]), data)


def test_a_booking_request_makes_a_bounded_number_of_queries(
    config, activity, client, django_assert_max_num_queries
):
    for i in range(30):  # the activity's other sessions are never read
        add_session(activity, start=f"2025-09-16 {8 + i % 10:02d}:00", end=f"2025-09-16 {9 + i % 10:02d}:00")
    session = add_session(activity, capacity=5)
    client.force_login(make_member())
    with django_assert_max_num_queries(BOOKING_QUERIES):
        response = _post(client, session)
    assert response.status_code == 302 and "/registrations/ticket/" in response["Location"]
    assert Booking.objects.get(session=session).status == Status.CONFIRMED


@pytest.mark.parametrize("sessions", [1, 30])
def test_the_full_answer_reads_no_other_session(
    config, activity, client, sessions, django_assert_num_queries
):
    for i in range(sessions - 1):
        add_session(activity, start=f"2025-09-16 {8 + i % 10:02d}:00", end=f"2025-09-16 {9 + i % 10:02d}:00")
    full = add_session(activity, capacity=1)
    services.book(full, make_member(), party())
    client.force_login(make_member())
    _post(client, full)  # the first request of a session loads the account's flags
    with django_assert_num_queries(FULL_QUERIES):
        page = _post(client, full).content.decode()
    assert "名额已满" in page


def test_the_full_answer_joins_the_waitlist_with_what_was_typed(config, activity, client):
    full = add_session(activity, capacity=1)
    services.book(full, make_member(), party())
    member = make_member()
    client.force_login(member)
    page = _post(client, full, name="王<小>红", phone="13900001111", adults="2").content.decode()
    assert "可以加入候补" in page and 'name="join_waitlist"' in page and "王&lt;小&gt;红，2 人" in page
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
    assert fields["phone"] == "13900001111" and fields["consent"] == "on" and "minor" not in fields
    fields["name"] = "王<小>红"
    response = client.post(reverse("registrations:book", args=[full.pk]), {**fields, "join_waitlist": "1"})
    assert response.status_code == 302
    waiting = Booking.objects.get(user=member)
    assert (waiting.status, waiting.name, waiting.seats) == (Status.WAITLISTED, "王<小>红", 2)


@pytest.mark.django_db(transaction=True)
def test_the_ticket_email_goes_from_the_background_thread(settings, config, activity, client):
    settings.KEPUYUE_BACKGROUND = "thread"
    session = add_session(activity, capacity=5)
    members = [make_member() for _ in range(3)]
    # The thread waits until the bookings are written: the in-memory SQLite test database locks a
    # table for a reader while another connection writes it (a file database in WAL mode does not).
    release = threading.Event()
    background.defer(release.wait, 20)
    for member in members:
        client.force_login(member)
        assert _post(client, session).status_code == 302
    release.set()
    assert background.drain(20)
    tickets = [m for m in mail.outbox if "电子票" in m.subject]
    assert sorted(m.to[0] for m in tickets) == sorted(m.email for m in members)
    assert all(len(m.attachments) == 2 for m in tickets)  # the QR code PNG and the calendar file


@pytest.mark.django_db(transaction=True)
def test_ticket_emails_queued_together_go_in_one_batch(settings, config, activity, monkeypatch):
    settings.KEPUYUE_BACKGROUND = "thread"
    session = add_session(activity, capacity=5)
    with monkeypatch.context() as m:  # booked, their outbox rows written, nothing handed over yet
        m.setattr(outbox, "_hand_over", lambda booking_id: None)
        bookings = [services.book(session, make_member(), party())[0] for _ in range(3)]
    assert mail.outbox == []
    batches = []
    real = messaging.send_ticket_emails

    def spy(ids):
        batches.append(list(ids))
        return real(ids)

    from kepuyue.registrations import tasks

    release = threading.Event()
    background.defer(release.wait, 20)  # the thread waits while the three are queued
    for booking in bookings:
        background.enqueue(tasks.send_ticket_email_task, booking.pk, batch=spy)
    release.set()
    assert background.drain(20)
    assert batches == [[b.pk for b in bookings]] and len(mail.outbox) == 3
    # The Celery task of one booking: its outbox row is sent already, so nothing goes twice (0031).
    assert tasks.send_ticket_email_task(bookings[0].pk) is False and len(mail.outbox) == 3


def test_a_failing_background_job_is_logged_and_the_queue_goes_on(settings, caplog):
    settings.KEPUYUE_BACKGROUND = "thread"
    done = []

    def boom():
        raise RuntimeError("boom")

    background.defer(boom)
    background.defer(done.append, 1)
    assert background.drain(20) and done == [1]
    assert "后台任务失败" in caplog.text


def test_notify_takes_loaded_accounts_without_reading_them_again(django_assert_num_queries):
    active, inactive = make_member(), make_member()
    inactive.is_active = False
    with django_assert_num_queries(1):  # the one inbox row
        written = notify([active, inactive], "registration.booked", "标题", "正文", email=False)
    assert [n.user for n in written] == [active]


def test_the_booking_pages_never_load_an_activity_field_left_out(config, activity, client):
    """The session is read with only the activity's columns booking uses (decision 0031): a page that
    touched another one would read the activity again, one query per field."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    session = add_session(activity, capacity=1)
    client.force_login(make_member())
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("registrations:book", args=[session.pk])).status_code == 200
        assert _post(client, session).status_code == 302  # booked
        client.force_login(make_member())
        assert "名额已满" in _post(client, session).content.decode()  # the full answer
    again = [
        q["sql"]
        for q in queries
        if 'FROM "activities_activity" WHERE "activities_activity"."id" =' in q["sql"]
    ]
    assert again == []


def test_the_booking_request_compiles_none_of_its_own_statements(config, activity, client, monkeypatch):
    """Decision 0034: the session read, the proof of contact, the conditional UPDATE and the booking,
    audit and inbox INSERTs run SQL compiled once; the ORM compiles none of them per request (it did,
    ~22 % of the request's CPU)."""
    from django.db.models.sql import compiler

    compiled = []
    for cls in (compiler.SQLCompiler, compiler.SQLInsertCompiler, compiler.SQLUpdateCompiler):
        original = cls.as_sql

        def as_sql(self, *args, _original=original, **kwargs):
            compiled.append(self.query.model._meta.db_table)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "as_sql", as_sql)
    session = add_session(activity, capacity=5)
    client.force_login(make_member())
    assert _post(client, session).status_code == 302  # the first booking of the process compiles them
    client.force_login(make_member())
    compiled.clear()
    assert _post(client, session).status_code == 302
    hot = {
        "registrations_session",
        "registrations_booking",
        "audit_auditentry",
        "notifications_notification",
        "accounts_profile",
    }
    assert not hot & set(compiled), compiled
    assert Booking.objects.filter(session=session, status=Status.CONFIRMED).count() == 2


def test_a_session_id_beyond_the_column_is_a_404_not_a_500(config, activity, client):
    client.force_login(make_member())
    for pk in (2**31, 2**63, 10**20):
        response = client.post(reverse("registrations:book", args=[pk]), {**party(), "consent": "on"})
        assert response.status_code == 404
