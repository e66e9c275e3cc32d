"""Ticket e-mails survive a killed server (issue 12, decision 0031): the outbox row is written in the
booking's transaction; a drain claims it, sends it and marks it sent; a failure is retried with a
backoff; a sweep — what the background process runs when it starts and every minute — sends what a
dead process left, exactly once."""

from __future__ import annotations

import smtplib
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from kepuyue.common import background
from kepuyue.registrations import services
from kepuyue.registrations.models import TicketEmail, TicketEmailState
from kepuyue.registrations.services import outbox
from kepuyue.registrations.tasks import send_ticket_email_task, tick_task
from tests.fixtures_registrations import add_session, make_member, party

pytestmark = pytest.mark.django_db


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("connection refused")


class DownBackend(BaseEmailBackend):
    """A mail server that cannot even be reached: opening the connection fails."""

    def open(self):
        raise ConnectionRefusedError("no route")

    def send_messages(self, messages):  # pragma: no cover - never reached
        raise AssertionError("sent without a connection")


def tickets():
    return [m for m in mail.outbox if "电子票" in m.subject]


@pytest.fixture
def killed(monkeypatch):
    """The process dies before the e-mail goes: the after-commit hand-over never runs."""
    monkeypatch.setattr(outbox, "_hand_over", lambda booking_id: None)


def test_a_booking_killed_before_its_email_is_sent_once_after_the_restart(config, activity, killed):
    session = add_session(activity, capacity=5)
    member = make_member()
    booking, _ = services.book(session, member, party())
    row = TicketEmail.objects.get(booking=booking)
    assert row.state == TicketEmailState.PENDING and tickets() == []
    assert outbox.sweep in background._sweeps  # registered by the app: run at the process's start
    background.run_sweeps()  # the new process starts
    assert [m.to for m in tickets()] == [[member.email]]
    row.refresh_from_db()
    assert (row.state, row.attempts) == (TicketEmailState.SENT, 1) and row.done_at is not None
    background.run_sweeps()  # and a minute later, and the old hand-over arriving late: nothing twice
    assert services.messaging.send_ticket_email(booking.pk) is False
    assert send_ticket_email_task(booking.pk) is False
    assert len(tickets()) == 1
    assert (
        tickets()[0].extra_headers["Message-ID"]
        == f"<kepuyue-ticket-{row.pk}-{booking.code}@{mail.DNS_NAME}>"
    )


@pytest.mark.django_db(transaction=True)
def test_a_new_process_sweeps_when_its_background_thread_starts(
    settings, config, activity, killed, monkeypatch
):
    settings.KEPUYUE_BACKGROUND = "thread"
    session = add_session(activity, capacity=5)
    booking, _ = services.book(session, make_member(), party())
    assert tickets() == []
    monkeypatch.setattr(background, "_started_in", None)  # as in a freshly started worker process
    release = threading.Event()
    background.defer(release.wait, 20)  # the first job starts the thread, which sweeps first
    release.set()
    assert background.drain(20)
    assert len(tickets()) == 1
    assert TicketEmail.objects.get(booking=booking).state == TicketEmailState.SENT


def test_the_email_is_sent_right_after_the_commit_when_nothing_dies(
    config, activity, django_capture_on_commit_callbacks
):
    session = add_session(activity, capacity=5)
    with django_capture_on_commit_callbacks(execute=True):
        booking, _ = services.book(session, make_member(), party())
    assert len(tickets()) == 1
    assert TicketEmail.objects.get(booking=booking).state == TicketEmailState.SENT
    assert outbox.sweep() == 0 and len(tickets()) == 1


def test_a_rolled_back_booking_leaves_no_outbox_row(config, activity):
    session = add_session(activity, capacity=5)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.book(session, make_member(), party())
        raise RuntimeError("rolled back")
    assert not TicketEmail.objects.exists()


def test_a_failed_send_is_retried_with_a_backoff_then_given_up(settings, config, activity, killed):
    session = add_session(activity, capacity=5)
    booking, _ = services.book(session, make_member(), party())
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    started = timezone.now()
    assert outbox.sweep() == 0
    row = TicketEmail.objects.get(booking=booking)
    assert (row.state, row.attempts, row.claim) == (TicketEmailState.PENDING, 1, "")
    assert "SMTPServerDisconnected" in row.error
    assert started + timedelta(seconds=59) <= row.next_attempt_at <= timezone.now() + timedelta(seconds=61)
    assert outbox.sweep() == 0  # not due yet: no second try a moment later
    assert TicketEmail.objects.get(pk=row.pk).attempts == 1
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 10, 20)] == [60, 120, 240, 21600, 21600]

    TicketEmail.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())  # its time has come
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the server is back
    assert outbox.sweep() == 1 and len(tickets()) == 1
    row.refresh_from_db()
    assert (row.state, row.attempts, row.error) == (TicketEmailState.SENT, 2, "")

    other, _ = services.book(session, make_member(), party())
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    TicketEmail.objects.filter(booking=other).update(attempts=outbox.MAX_ATTEMPTS - 1)
    outbox.sweep()
    last = TicketEmail.objects.get(booking=other)
    assert (last.state, last.next_attempt_at) == (TicketEmailState.FAILED, None)


def test_two_drains_never_take_the_same_row_and_a_dead_drains_rows_come_back(config, activity, killed):
    session = add_session(activity, capacity=5)
    booking, _ = services.book(session, make_member(), party())
    first = outbox._claim(TicketEmail.objects.all())
    assert first is not None and outbox._claim(TicketEmail.objects.all()) is None
    assert outbox.sweep() == 0 and tickets() == []  # claimed by a drain that is (say) still sending
    # That drain died after claiming: once its lease has run out the row is due again, and sent once.
    TicketEmail.objects.filter(claim=first).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert outbox.sweep() == 1 and len(tickets()) == 1
    assert TicketEmail.objects.get(booking=booking).attempts == 2


def test_a_booking_cancelled_before_its_email_goes_is_skipped(config, activity, killed):
    session = add_session(activity, capacity=5)
    member = make_member()
    booking, _ = services.book(session, member, party())
    services.cancel(booking, actor=member)
    assert outbox.sweep() == 0 and tickets() == []
    assert TicketEmail.objects.get(booking=booking).state == TicketEmailState.SKIPPED


def test_a_moved_booking_gets_its_new_ticket_once(config, activity, publisher, killed):
    first = add_session(activity, capacity=5)
    second = add_session(activity, capacity=5, start="2025-09-16 09:00", end="2025-09-16 10:00")
    member = make_member()
    booking, _ = services.book(first, member, party())
    services.move(booking, second, actor=publisher)  # two rows due for one booking: one e-mail
    assert outbox.sweep() == 1 and len(tickets()) == 1
    assert set(TicketEmail.objects.values_list("state", flat=True)) == {TicketEmailState.SENT}


def test_the_tick_command_and_task_send_what_is_due_and_forget_old_rows(config, activity, killed):
    session = add_session(activity, capacity=5)
    services.book(session, make_member(), party())
    call_command("registrations_tick", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert len(tickets()) == 1
    services.book(session, make_member(), party())
    assert tick_task()["tickets"] == 1
    TicketEmail.objects.update(done_at=timezone.now() - timedelta(days=outbox.KEEP_DAYS + 1))
    outbox.sweep()
    assert not TicketEmail.objects.exists() and outbox.pending_count() == 0


def test_an_unreachable_mail_server_puts_the_whole_batch_back_for_later(settings, config, activity, killed):
    session = add_session(activity, capacity=5)
    for _ in range(3):
        services.book(session, make_member(), party())
    settings.EMAIL_BACKEND = f"{__name__}.DownBackend"
    assert outbox.sweep() == 0
    rows = list(TicketEmail.objects.all())
    assert [(r.state, r.attempts, r.claim) for r in rows] == [(TicketEmailState.PENDING, 1, "")] * 3
    assert all("ConnectionRefusedError" in r.error and r.next_attempt_at > timezone.now() for r in rows)
    assert outbox.pending_count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_worker_beside_the_background_process_leaves_the_sweep_to_it(
    settings, config, activity, killed, monkeypatch, tmp_path
):
    settings.KEPUYUE_BACKGROUND = "thread"
    # A worker of `kepuyue.serve`: the background process's socket is named (here: gone, so jobs run
    # on the worker's own thread) — the worker must not pull the e-mails back into itself.
    monkeypatch.setenv(background.SOCKET_ENV, str(tmp_path / "gone.sock"))
    monkeypatch.setattr(background, "_started_in", None)
    session = add_session(activity, capacity=5)
    booking, _ = services.book(session, make_member(), party())  # its events start the thread
    done = []
    background.defer(done.append, 1)
    assert background.drain(20) and done == [1]
    assert TicketEmail.objects.get(booking=booking).state == TicketEmailState.PENDING, [
        (m.subject, m.extra_headers) for m in mail.outbox
    ]
    assert tickets() == []


@pytest.mark.django_db(transaction=True)
def test_sending_right_after_the_commit_in_the_same_thread_does_not_wait_on_itself(
    settings, config, activity
):
    """Inline (no broker, no background process): the e-mail is drained by an after-commit hook still
    inside the booking's write block, and the drain writes too — on SQLite that block's lock is taken
    again by the same thread (it deadlocked before the lock was made re-entrant)."""
    settings.KEPUYUE_BACKGROUND = "inline"
    session = add_session(activity, capacity=5)
    member = make_member()
    done = []
    worker = threading.Thread(
        target=lambda: done.append(services.book(session, member, party())[0]), daemon=True
    )
    worker.start()
    worker.join(30)
    assert done, "the booking never returned"
    assert len(tickets()) == 1
    assert TicketEmail.objects.get(booking=done[0]).state == TicketEmailState.SENT


def test_a_batch_of_ticket_emails_costs_the_same_queries_as_one(config, activity, killed):
    """The claim, one read of the rows with their bookings, sessions, activities, units and accounts,
    the mark: nothing per e-mail (a field the e-mail reads but the query left out would show here)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    session = add_session(activity, capacity=10)
    ids = [services.book(session, make_member(), party())[0].pk for _ in range(4)]
    with CaptureQueriesContext(connection) as one:
        assert outbox.deliver(ids[:1]) == 1
    with CaptureQueriesContext(connection) as three:
        assert outbox.deliver(ids[1:]) == 3
    assert len(three) == len(one)
    reads = [q["sql"] for q in one if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(reads) == 2  # the due rows' ids (the claim), then the claimed rows with all they need
    assert len(tickets()) == 4
