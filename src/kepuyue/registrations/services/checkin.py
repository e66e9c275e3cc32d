"""Check-in at the door (签到): a scanned QR code or a typed ticket code, one at a time or a batch
synced from a phone that was offline.

Each scan carries a ``nonce`` chosen by the phone; a scan already received (the same nonce) is
answered from its stored :class:`~kepuyue.registrations.models.CheckIn` row and changes nothing, so a
batch sent twice counts once. A booking is checked in at most once (a conditional ``UPDATE``); later
scans of it are flagged as duplicates with the first check-in's time. A ticket of another session of
the activity is flagged with the session it is for; a QR code whose signature does not match is
refused as tampered; anything else is an unknown code (another activity's tickets are never
described). The scan's own time (``scanned_at``, from the phone) is kept, bounded to the last week.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from kepuyue.audit import services as audit
from kepuyue.common import clock
from kepuyue.common.events import send_after_commit

from .. import inputs, signals, tickets
from ..models import Booking, CheckIn, CheckResult, Kind, Session, Status

MAX_BATCH = 500
# The door is open from this long before a session starts until this long after it ends (the scan's
# own time, so a phone that was offline syncs the scans it made during the session any time later).
# A ticket scanned outside is refused: attendance feeds the summary's participant count and the
# dashboard, and a check-in a day early or a week late is not attendance.
CHECKIN_OPENS_BEFORE = timedelta(hours=2)
CHECKIN_CLOSES_AFTER = timedelta(hours=2)
_NONCE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass(frozen=True)
class Outcome:
    """The answer for one scan, as the check-in page shows it (and as JSON)."""

    nonce: str
    result: str
    message: str
    name: str = ""
    seats: int = 0
    kind: str = ""
    code: str = ""
    first_at: datetime | None = None
    other_session: str = ""

    def as_json(self) -> dict:
        return {
            "nonce": self.nonce,
            "result": self.result,
            "ok": self.result == CheckResult.OK,
            "message": self.message,
            "name": self.name,
            "seats": self.seats,
            "kind": self.kind,
            "code": tickets.display_code(self.code) if self.code else "",
            "first_at": self.first_at.isoformat() if self.first_at else None,
            "other_session": self.other_session,
        }


def door_closed(session: Session, at: datetime | None = None) -> bool:
    """Whether check-in at ``session`` is over (:data:`CHECKIN_CLOSES_AFTER` after its end): its tickets
    no longer open the door, so the ticket page stops showing their QR code."""
    return (at or clock.now()) > session.ends_at + CHECKIN_CLOSES_AFTER


def _label(booking: Booking) -> str:
    if booking.kind == Kind.GROUP:
        return booking.group_name or _("团体")
    return inputs.mask_name(booking.name)


def _outcome(row: CheckIn, booking: Booking | None, *, other: Session | None = None) -> Outcome:
    result = row.result
    at_text = ""
    if booking is not None and booking.checked_in_at:
        at_text = f"{booking.checked_in_at.astimezone(clock.BEIJING):%m-%d %H:%M}"
    session = row.session
    opens = (session.starts_at - CHECKIN_OPENS_BEFORE).astimezone(clock.BEIJING)
    messages = {
        CheckResult.OK: _("签到成功"),
        CheckResult.DUPLICATE: _("重复签到：已于 %(t)s 签到") % {"t": at_text},
        CheckResult.WRONG_SESSION: (
            _("不是本场次的票（该票为 %(s)s）") % {"s": str(other)}
            if other
            else _("二维码已作废（场次已调整），请出示新的电子票")
        ),
        CheckResult.NOT_VALID: _("票已取消或尚未确认（候补）"),
        CheckResult.UNKNOWN: _("无效票号：请核对后重新输入"),
        CheckResult.TAMPERED: _("二维码签名无效：疑似伪造或被修改"),
        CheckResult.TOO_EARLY: _("签到尚未开始：开场前 %(h)d 小时起可签到（%(t)s 起）")
        % {"h": CHECKIN_OPENS_BEFORE // timedelta(hours=1), "t": f"{opens:%m-%d %H:%M}"},
        CheckResult.TOO_LATE: _("本场次已结束超过 %(h)d 小时，签到已关闭")
        % {"h": CHECKIN_CLOSES_AFTER // timedelta(hours=1)},
    }
    return Outcome(
        nonce=row.nonce,
        result=result,
        message=str(messages[result]),
        name=_label(booking) if booking is not None and booking.anonymised_at is None else "",
        seats=booking.seats if booking is not None else 0,
        kind=booking.kind if booking is not None else "",
        code=booking.code if booking is not None and result != CheckResult.UNKNOWN else "",
        first_at=booking.checked_in_at if booking is not None and result == CheckResult.DUPLICATE else None,
        other_session=str(other) if other else "",
    )


def _scanned_time(value, now: datetime) -> datetime:
    """The phone's scan time if plausible (the last 7 days, not in the future), else ``now``."""
    moment = (
        value if isinstance(value, datetime) else parse_datetime(str(value or "")[:40]) if value else None
    )
    if (
        moment is None
        or moment.tzinfo is None
        or moment > now + timedelta(minutes=5)
        or moment < now - timedelta(days=7)
    ):
        return now
    return moment


# A scan that reaches the server later than this after the phone made it waited in the phone's queue
# (no connection): it counts as an offline check-in (离线签到) when the phone does not say itself.
OFFLINE_AFTER = timedelta(seconds=60)


def check_in(
    session: Session, raw: str, *, actor, nonce: str = "", scanned_at=None, offline: bool | None = False
) -> Outcome:
    """Check one ticket in at ``session``: ``raw`` is the QR payload or a typed code. ``nonce`` makes
    the call idempotent (generated when empty). ``offline``: whether the scan was made without a
    connection; ``None`` decides by the times — a scan received more than :data:`OFFLINE_AFTER`
    after it was made waited offline. Returns an :class:`Outcome`; never raises for bad input (it is
    an outcome). Sends ``checked_in`` after commit on success."""
    now = clock.now()
    nonce = nonce if isinstance(nonce, str) and _NONCE.match(nonce) else uuid.uuid4().hex
    stored = CheckIn.objects.select_related("session", "booking__session").filter(nonce=nonce).first()
    if stored is not None:
        other = (
            stored.booking.session
            if stored.result == CheckResult.WRONG_SESSION
            and stored.booking
            and stored.booking.session_id != stored.session_id
            else None
        )
        return _outcome(stored, stored.booking, other=other)
    scanned = tickets.read(raw if isinstance(raw, str) else "")
    when = _scanned_time(scanned_at, now)
    if offline is None:  # the phone did not say (a page from before it did): the times tell
        offline = now - when > OFFLINE_AFTER
    elif not offline:  # sent at once: the server's clock (a phone's may be minutes off)
        when = now
    booking = None
    other = None
    if scanned.error == "tampered":
        result = CheckResult.TAMPERED
    elif scanned.code is None:
        result = CheckResult.UNKNOWN
    else:
        booking = (
            Booking.objects.select_related("session")
            .filter(code=scanned.code, activity_id=session.activity_id)
            .first()
        )
        if booking is None:
            result = CheckResult.UNKNOWN
        elif booking.session_id != session.pk or (
            scanned.session_id is not None and scanned.session_id != booking.session_id
        ):
            # A QR code of a session the booking was moved from is stale: refused like a wrong one.
            result = CheckResult.WRONG_SESSION
            # None: the booking is for this session but the QR code names the one it was moved from.
            other = booking.session if booking.session_id != session.pk else None
        elif booking.status != Status.CONFIRMED:
            result = CheckResult.NOT_VALID
        elif booking.checked_in_at is not None:
            result = CheckResult.DUPLICATE
        elif when < session.starts_at - CHECKIN_OPENS_BEFORE:
            result = CheckResult.TOO_EARLY
        elif when > session.ends_at + CHECKIN_CLOSES_AFTER:
            result = CheckResult.TOO_LATE
        else:
            result = CheckResult.OK
    try:
        with transaction.atomic():
            if result == CheckResult.OK:
                rows = Booking.objects.filter(
                    pk=booking.pk, checked_in_at__isnull=True, status=Status.CONFIRMED
                ).update(checked_in_at=when, checked_in_by=actor)
                if rows:
                    booking.checked_in_at = when
                else:  # checked in meanwhile by another phone
                    result = CheckResult.DUPLICATE
                    booking.refresh_from_db(fields=["checked_in_at"])
            row = CheckIn.objects.create(
                session=session,
                booking=booking,
                code=(raw or "")[:120] if isinstance(raw, str) else "",
                nonce=nonce,
                result=result,
                scanned_at=when,
                received_at=now,
                offline=offline,
                by=actor,
            )
            if result == CheckResult.OK:
                booking.activity = session.activity
                send_after_commit(
                    signals.checked_in,
                    Booking,
                    **signals.booking_keys(booking),
                    actor=actor,
                    checkin_id=row.pk,
                    offline=offline,
                )
    except IntegrityError:
        # The same nonce arrived twice at once: answer from the row the other request wrote.
        stored = CheckIn.objects.select_related("session", "booking__session").get(nonce=nonce)
        return _outcome(stored, stored.booking)
    return _outcome(row, booking, other=other)


def check_in_batch(session: Session, items, *, actor) -> list[Outcome]:
    """Sync the scans a phone sent — at once when it is online, queued while it was not: ``items``
    is a list of ``{"nonce", "code", "scanned_at", "offline"}`` (at most :data:`MAX_BATCH`). The
    phone's ``offline`` (JSON ``true``/``false``) decides: an offline scan keeps the phone's scan time,
    an online one is timed by the server. A scan without it (an older page) is offline when it arrives
    more than :data:`OFFLINE_AFTER` after it was made. Returns one :class:`Outcome` per item, in order; an
    item that is not a mapping gets an ``unknown`` outcome. Raises ``ValidationError`` for a batch that
    is not a list or is too long (nothing is checked in then). Audited once per batch."""
    if not isinstance(items, list):
        raise ValidationError(_("签到数据格式不正确"))
    if len(items) > MAX_BATCH:
        raise ValidationError(_("一次最多同步 %(n)d 条签到") % {"n": MAX_BATCH})
    outcomes = []
    for item in items:
        if not isinstance(item, dict):
            item = {}
        outcomes.append(
            check_in(
                session,
                item.get("code") if isinstance(item.get("code"), str) else "",
                actor=actor,
                nonce=item.get("nonce") if isinstance(item.get("nonce"), str) else "",
                scanned_at=item.get("scanned_at"),
                offline=item["offline"] if isinstance(item.get("offline"), bool) else None,
            )
        )
    if outcomes:
        audit.record(
            "registration.checkin_sync",
            actor=actor,
            obj=session.activity,
            data={
                "session": session.pk,
                "items": len(outcomes),
                "ok": sum(o.result == CheckResult.OK for o in outcomes),
            },
        )
    return outcomes


def session_counts(session: Session) -> dict:
    """Bookings, people, check-ins, waiting and no-shows of a session (one query)."""
    now = clock.now()
    totals = Booking.objects.filter(session=session).aggregate(
        bookings=Count("pk", filter=Q(status=Status.CONFIRMED)),
        people=Sum("seats", filter=Q(status=Status.CONFIRMED)),
        checked=Count("pk", filter=Q(status=Status.CONFIRMED, checked_in_at__isnull=False)),
        checked_people=Sum("seats", filter=Q(status=Status.CONFIRMED, checked_in_at__isnull=False)),
        waiting=Count("pk", filter=Q(status=Status.WAITLISTED)),
        offered=Count("pk", filter=Q(status=Status.OFFERED)),
    )
    totals = {key: value or 0 for key, value in totals.items()}
    totals["no_shows"] = totals["bookings"] - totals["checked"] if now > session.ends_at else 0
    return totals


def attendance(activity) -> int | None:
    """People checked in across the activity's sessions, or ``None`` when it does not register on
    the platform (the answer to ``activities.signals.attendance_requested``)."""
    if not Session.objects.filter(activity=activity).exists():
        return None
    total = Booking.objects.filter(
        activity=activity, status=Status.CONFIRMED, checked_in_at__isnull=False
    ).aggregate(n=Sum("seats"))["n"]
    return total or 0
