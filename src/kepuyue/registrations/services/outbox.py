"""The ticket e-mail outbox 电子票邮件发件箱 (decision 0031): ticket e-mails survive a killed server.

**Written with the booking.** :func:`queue` adds a :class:`~..models.TicketEmail` row inside the
transaction of the change that calls for a ticket (a booking confirmed, a waitlist offer confirmed, a
move): the row commits or rolls back with it. After the commit the row's booking id is handed to the
background work (``kepuyue.common.background``: a Celery worker with a broker, else the background
process beside the server, decision 0028) to send it at once — that hand-over is only a hint now: if
the process is killed before it sends, the row is still there.

**Drained at least once, sent once.** :func:`deliver` claims due rows with one conditional ``UPDATE``
(``state = pending`` and ``next_attempt_at <= now``: the claim pushes ``next_attempt_at`` a lease
ahead and writes the drain's own ``claim`` token), so two drains — the worker's hint and a sweep, two
processes — never take the same row. It sends each claimed ticket and marks it ``sent``; a failure
puts it back with an exponential backoff (1, 2, 4 … minutes, at most 6 hours) until
:data:`MAX_ATTEMPTS`. A drain that dies between sending and marking leaves its rows claimed; they
come due again when the lease runs out and are sent again (at least once — the same ``Message-ID``
lets a mail server or client drop the copy). A row whose booking is no longer confirmed, or whose
account has no address, is ``skipped``.

**Swept.** :func:`sweep` sends every due row: the background process runs it when it starts (rows a
dead process left) and every minute; Celery beat runs it with ``registrations-tick``; and so does
``manage.py registrations_tick``. It also deletes finished rows after :data:`KEEP_DAYS`.

Times here are real time (``timezone.now``), not the campaign clock: a pinned clock must not stop
retries.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.core import mail
from django.core.mail.utils import DNS_NAME
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from kepuyue.common import background
from kepuyue.common.compiled import PreparedRead
from kepuyue.common.writers import serialized_write

from ..models import Booking, Status, TicketEmail, TicketEmailState

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 6 * 3600
# How long a drain holds the rows it claimed: past it, rows not marked are due again (their drain died).
LEASE = timedelta(minutes=5)
BATCH = 100
KEEP_DAYS = 30
SWEEP_SECONDS = 60  # the background process's sweep interval


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: 1, 2, 4 … minutes, at most 6 hours."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


_INSERT = (
    "INSERT INTO registrations_ticketemail (booking_id, state, attempts, next_attempt_at, claim, created, error)"
    " VALUES (%s, %s, 0, %s, '', %s, '')"
)


def queue(booking: Booking) -> None:
    """Call inside the transaction that confirmed (or moved) ``booking``: its ticket e-mail is written
    to the outbox with it, and after the commit handed to the background work to be sent at once."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        # One plain INSERT: the row has no defaults, signals or validation to run, and the ORM's
        # ``create()`` (building the statement, ``save()``'s steps, ``RETURNING``) cost the booking
        # request ~0.4 ms of CPU for it.
        cursor.execute(_INSERT, [booking.pk, TicketEmailState.PENDING.value, now, now])
    booking_id = booking.pk
    transaction.on_commit(lambda: _hand_over(booking_id))


def _hand_over(booking_id: int) -> None:
    from ..tasks import send_ticket_email_task
    from .messaging import send_ticket_emails

    background.enqueue(send_ticket_email_task, booking_id, batch=send_ticket_emails)


def _claim(rows) -> str | None:
    """Claim the due pending rows among ``rows`` (a queryset) for this drain; the claim's token, or
    ``None`` when there was nothing to take."""
    now = timezone.now()
    ids = list(
        rows.filter(state=TicketEmailState.PENDING, next_attempt_at__lte=now).values_list("pk", flat=True)[
            :BATCH
        ]
    )
    if not ids:
        return None
    token = secrets.token_hex(16)
    with serialized_write():
        taken = TicketEmail.objects.filter(
            pk__in=ids, state=TicketEmailState.PENDING, next_attempt_at__lte=now
        ).update(claim=token, next_attempt_at=now + LEASE, attempts=F("attempts") + 1)
    return token if taken else None


# Long fields the ticket e-mail never reads, left out of its query.
_NOT_IN_THE_EMAIL = (
    "activity__description",
    "activity__description_html",
    "activity__search_text",
    "consent",
)

# A drain's claimed rows with their bookings, sessions, activities, units and accounts: one query (it
# was two, the rows then their bookings), its SQL compiled once per database (decision 0034): building
# this four-join SELECT cost ~0.8 ms of CPU per drain, more than the e-mail's QR code now.
_CLAIMED = PreparedRead(
    lambda token: TicketEmail.objects.filter(claim=token, state=TicketEmailState.PENDING)
    .select_related("booking__session", "booking__activity__organizer", "booking__user")
    .defer(*(f"booking__{name}" for name in _NOT_IN_THE_EMAIL))
    .order_by("id"),
    token="~kepuyue-placeholder-claim~",  # noqa: S106 - a placeholder, not a secret
)


def deliver(booking_ids=None, *, limit: int = 1000) -> int:
    """Send the due ticket e-mails (of these bookings, or all); returns how many were sent. Safe to
    run at once in several threads and processes (each row is claimed by one)."""
    from .messaging import ticket_message

    rows = TicketEmail.objects.all()
    if booking_ids is not None:
        rows = rows.filter(booking_id__in=list(booking_ids)[:500])
    sent_total = 0
    while limit > 0:
        token = _claim(rows.order_by("next_attempt_at", "id"))
        if token is None:
            break
        claimed = _CLAIMED.all(token=token)
        limit -= len(claimed)
        bookings = {row.booking_id: row.booking for row in claimed}
        sent, skipped, failed = [], [], []
        due = []
        for row in claimed:
            booking = bookings.get(row.booking_id)
            if (
                booking is None
                or booking.status != Status.CONFIRMED
                or not (booking.user and booking.user.email)
            ):
                skipped.append(row.pk)
            else:
                due.append((row, booking))
        mailer = mail.get_connection()
        try:
            if due:
                mailer.open()  # one connection for the batch (an SMTP server down fails them all, retried)
        except Exception as exc:  # noqa: BLE001 - any backend error: try again later
            failed = [(row, f"{exc.__class__.__name__}: {exc}"[:300]) for row, _booking in due]
            due = []
        done_for: set[int] = set()  # a booking with two due rows (moved twice) gets one e-mail
        try:
            for row, booking in due:
                if booking.pk in done_for:
                    sent.append(row.pk)
                    continue
                try:
                    message = ticket_message(booking, message_id=_message_id(row, booking))
                    ok = bool(mailer.send_messages([message]))
                    error = "" if ok else "邮件后端未发送"
                except Exception as exc:  # noqa: BLE001 - any backend error: try again later
                    ok, error = False, f"{exc.__class__.__name__}: {exc}"[:300]
                if ok:
                    done_for.add(booking.pk)
                    sent.append(row.pk)
                else:
                    logger.warning(
                        "电子票邮件发送失败（报名 %s，第 %d 次）：%s", booking.pk, row.attempts, error
                    )
                    failed.append((row, error))
        finally:
            try:
                mailer.close()
            except Exception:  # noqa: BLE001 - the e-mails went; a failed QUIT changes nothing
                logger.warning("关闭邮件连接失败", exc_info=True)
        sent_total += len(done_for)  # e-mails, not rows
        _record(token, sent, skipped, failed)
        if booking_ids is not None and len(claimed) < BATCH:
            break
    return sent_total


def _message_id(row: TicketEmail, booking: Booking) -> str:
    """The same for every try of one row: a copy sent again after a crash is recognisably the same
    message."""
    return f"<kepuyue-ticket-{row.pk}-{booking.code}@{DNS_NAME}>"


def _record(token: str, sent: list[int], skipped: list[int], failed: list) -> None:
    now = timezone.now()
    with serialized_write():
        mine = TicketEmail.objects.filter(claim=token, state=TicketEmailState.PENDING)
        if sent:
            mine.filter(pk__in=sent).update(state=TicketEmailState.SENT, done_at=now, error="")
        if skipped:
            mine.filter(pk__in=skipped).update(state=TicketEmailState.SKIPPED, done_at=now)
        for row, error in failed:
            final = row.attempts >= MAX_ATTEMPTS
            mine.filter(pk=row.pk).update(
                state=TicketEmailState.FAILED if final else TicketEmailState.PENDING,
                next_attempt_at=None if final else now + backoff(row.attempts),
                done_at=now if final else None,
                claim="",
                error=error,
            )
            if final:
                logger.error("电子票邮件多次发送失败，已放弃（报名 %s）：%s", row.booking_id, error)


def sweep() -> int:
    """Send every due ticket e-mail — rows a killed process left, retries whose time has come — and
    delete finished rows older than :data:`KEEP_DAYS`. Returns how many were sent."""
    sent = deliver()
    old = timezone.now() - timedelta(days=KEEP_DAYS)
    if TicketEmail.objects.filter(~Q(state=TicketEmailState.PENDING), done_at__lt=old).exists():
        with serialized_write():
            TicketEmail.objects.filter(~Q(state=TicketEmailState.PENDING), done_at__lt=old).delete()
    return sent


def pending_count() -> int:
    """Ticket e-mails not sent yet (due or waiting for a retry): for the health page and tests."""
    return TicketEmail.objects.filter(state=TicketEmailState.PENDING).count()
