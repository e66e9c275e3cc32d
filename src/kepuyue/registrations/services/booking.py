"""Booking, the waitlist, cancelling and moving (报名、候补、取消、调整场次).

**Never oversold.** Places are taken by one conditional ``UPDATE`` on the session row —
``booked = booked + n WHERE booked + n <= capacity`` — inside the booking's transaction, and the
database's check constraint refuses any row where ``booked > capacity`` anyway. PostgreSQL locks the
row and re-evaluates the condition for a waiting writer (READ COMMITTED); SQLite runs every write
transaction ``IMMEDIATE`` (settings), one at a time. No read-then-write gap exists for a race to
use. See ``docs/decisions/0011-registrations-concurrency.md``.

**Idempotent.** The booking form carries a random token; a second submission with it returns the
first booking. An account has at most one active individual booking per session (a unique partial
index), so even two different tokens book once.

**Waitlist.** A full session takes waiting parties in order. Each freed place (a cancellation, an
expired offer, a raised capacity) is offered, in the same transaction that freed it, to the first
waiting party that fits; the offer holds the places for ``offer_hours`` (at most until the session
starts), then expires and moves on (:func:`expire_offers`, run every few minutes and before each
booking). With ``offer_hours = 0`` the place is confirmed at once.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connections, router
from django.db.models import F, Q
from django.utils.translation import gettext as _

from kepuyue.accounts import verification
from kepuyue.audit import services as audit
from kepuyue.common import clock
from kepuyue.common.compiled import PreparedRead, PreparedUpdate, insert
from kepuyue.common.events import send_after_commit
from kepuyue.common.writers import serialized_write

from .. import inputs, signals, tickets
from ..models import ACTIVE_STATUSES, HOLDING_STATUSES, Booking, Kind, Session, Status
from . import messaging
from .setup import closed_reason, config_of, consent_notice

MAX_TOKEN = 64
# One write transaction at a time per process on SQLite (kepuyue.common.writers).
_writing = serialized_write


class SessionFull(ValidationError):
    """No places left for this party; ``waitlist`` says whether it may join the waitlist."""

    def __init__(self, message: str, *, waitlist: bool):
        super().__init__(message, code="full")
        self.waitlist = waitlist


class NotVerified(PermissionDenied):
    """The account has proved neither its e-mail address nor its mobile number."""


def new_token() -> str:
    """An idempotency token for a booking form (hidden field)."""
    return secrets.token_urlsafe(24)


def _clean_token(token: str) -> str | None:
    token = (token or "").strip()
    if not token:
        return None
    if len(token) > MAX_TOKEN or not all(ch.isalnum() or ch in "-_" for ch in token) or not token.isascii():
        raise ValidationError(_("提交标识无效，请刷新页面后重试"), code="token")
    return token


_FRESH = "_kepuyue_read_for_booking"
# An activity's long texts, never needed to book (they are most of its row: the description, its HTML
# and the search terms); read only if something asks for them.
ACTIVITY_TEXT = ("activity__description", "activity__description_html", "activity__search_text")
# What booking reads of the activity (the rules, the messages, the events, the pages it answers with);
# its ~30 other columns are not loaded: building the row's model instances is CPU of every booking
# (decision 0031). A field read anyway costs one more query, which the query-count tests would show.
ACTIVITY_USED = {
    "id",
    "title",
    "summary",
    "status",
    "organizer",
    "campaign",
    "starts_at",
    "ends_at",
    "form",
    "venue",
    "online_url",
    "span_class",
}


def _activity_unused() -> tuple[str, ...]:
    from kepuyue.activities.models import Activity

    return tuple(f"activity__{f.name}" for f in Activity._meta.concrete_fields if f.name not in ACTIVITY_USED)


def _session_read(published: bool) -> PreparedRead:
    from kepuyue.activities.models import Status as ActivityStatus

    def build(pk):
        rows = Session.objects.select_related("activity__registration_config", "activity__organizer").defer(
            *_activity_unused()
        )
        if published:
            rows = rows.filter(activity__status=ActivityStatus.PUBLISHED)
        return rows.filter(pk=pk)

    # Compiled once per database (decision 0034): building this three-join SELECT was a quarter of
    # the booking request's CPU.
    return PreparedRead(build, pk=-7_000_000_001)


_SESSION_READS: dict[bool, PreparedRead] = {}


def bookable_session(pk: int, *, published: bool = True) -> Session:
    """The session ``pk`` with its activity, the activity's settings and unit, read now
    (``Session.DoesNotExist`` when there is none, or — ``published`` — when its activity is not
    published). A request that reads it here and passes it to :func:`book` or :func:`book_group` is
    not read twice."""
    read = _SESSION_READS.get(published)
    if read is None:
        read = _SESSION_READS[published] = _session_read(published)
    pk = int(pk)
    # The ORM answers an id beyond the column's range with "no such row"; the compiled read must too
    # (the database would refuse the value: a 500 for a typed URL).
    low, high = connections[router.db_for_read(Session)].ops.integer_field_range(
        Session._meta.pk.get_internal_type()
    )
    session = read.first(pk=pk) if (low is None or pk >= low) and (high is None or pk <= high) else None
    if session is None:
        raise Session.DoesNotExist("Session matching query does not exist.")
    setattr(session, _FRESH, True)
    return session


def _session(session_or_id) -> Session:
    # Read again unless this module read it in this request (bookable_session): the rules must see
    # the settings as they are now, not as a caller loaded them some time ago.
    if isinstance(session_or_id, Session) and session_or_id.__dict__.pop(_FRESH, False):
        return session_or_id
    return bookable_session(getattr(session_or_id, "pk", session_or_id), published=False)


def _take_statement(group: bool) -> PreparedUpdate:
    booked, capacity = ("group_booked", "group_capacity") if group else ("booked", "capacity")

    def build(pk, seats):
        return (
            Session.objects.filter(pk=pk, **{f"{booked}__lte": F(capacity) - seats}),
            {booked: F(booked) + seats},
        )

    return PreparedUpdate(build, pk=-7_000_000_001, seats=-7_000_000_002)


# Compiled once per database (decision 0034).
_TAKE = {False: _take_statement(False), True: _take_statement(True)}


# The counters a refusal shows, as ``refresh_from_db(fields=["booked", "group_booked"])`` reads them,
# compiled once (decision 0036): a race for the last places answers most requests with a refusal.
_COUNTERS = PreparedRead(
    lambda pk: Session.objects.filter(pk=pk).only("booked", "group_booked"), pk=-7_000_000_006
)


def _read_counters(session: Session) -> None:
    fresh = _COUNTERS.first(pk=session.pk)
    if fresh is None:  # deleted meanwhile: as refresh_from_db answers it
        raise Session.DoesNotExist("Session matching query does not exist.")
    session.booked, session.group_booked = fresh.booked, fresh.group_booked


def _take(session_id: int, seats: int, *, group: bool = False) -> bool:
    """Take ``seats`` places of the session if they are free — one conditional UPDATE; ``True`` when taken."""
    return _TAKE[group].run(pk=session_id, seats=seats) == 1


def _release(session_id: int, seats: int, *, group: bool = False) -> None:
    if group:
        Session.objects.filter(pk=session_id, group_booked__gte=seats).update(
            group_booked=F("group_booked") - seats
        )
    else:
        Session.objects.filter(pk=session_id, booked__gte=seats).update(booked=F("booked") - seats)


def _event(signal, booking: Booking, *, actor=None, **extra) -> None:
    send_after_commit(signal, Booking, **signals.booking_keys(booking), actor=actor, **extra)


def active_booking(user, session) -> Booking | None:
    """The account's active individual booking of ``session`` (confirmed, waiting or offered), or ``None``."""
    if user is None or not user.is_authenticated:
        return None
    return Booking.objects.filter(
        user=user, session=session, kind=Kind.INDIVIDUAL, status__in=ACTIVE_STATUSES
    ).first()


# --- the registrant's data ---------------------------------------------------------------------------


def _flag(data, key: str) -> bool:
    value = data.get(key)
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "on", "yes"}
    return bool(value)


def clean_registrant(config, data) -> dict:
    """Check an individual booking's data against the activity's settings; returns the fields of a
    :class:`Booking`. ``data``: ``name``, ``phone``, ``adults``, ``children``, ``minor`` (the registrant
    is under 14: ``phone`` and ``guardian_name`` are then the guardian's), ``guardian_consent``,
    ``consent``, ``id_number`` (only read when the unit asks for it). Raises ``ValidationError`` (dict
    of field → Chinese messages).
    """
    errors: dict[str, list[str]] = {}
    out: dict = {}

    def attempt(key, fn):
        try:
            out[key] = fn()
        except ValidationError as exc:
            errors.setdefault(key, []).extend(exc.messages)

    minor = _flag(data, "minor")
    out["minor"] = minor
    attempt("name", lambda: inputs.text(data.get("name"), label=_("姓名"), max_length=64, required=True))
    phone_label = _("监护人手机号码") if minor else _("手机号码")
    attempt("phone", lambda: inputs.mobile(data.get("phone"), label=phone_label))
    if minor:
        attempt(
            "guardian_name",
            lambda: inputs.text(
                data.get("guardian_name"), label=_("监护人姓名"), max_length=64, required=True
            ),
        )
    else:
        out["guardian_name"] = ""
    attempt(
        "adults",
        lambda: inputs.count(data.get("adults"), label=_("成人人数"), minimum=0, maximum=config.max_adults),
    )
    attempt(
        "children",
        lambda: inputs.count(
            data.get("children"), label=_("未成年人（14岁以下）人数"), minimum=0, maximum=config.max_children
        ),
    )
    if "adults" in out and "children" in out:
        if out["adults"] + out["children"] < 1:
            errors.setdefault("adults", []).append(_("至少 1 人参加"))
        if minor and out["children"] < 1:
            errors.setdefault("children", []).append(_("报名人未满14周岁，请在未成年人人数中计入本人"))
        if not minor and out["adults"] < 1:
            errors.setdefault("adults", []).append(_("成人人数应包括报名人本人"))
    out["guardian_consent"] = _flag(data, "guardian_consent")
    if (minor or out.get("children")) and not out["guardian_consent"]:
        errors.setdefault("guardian_consent", []).append(
            _("未满14周岁的未成年人参加，须由其监护人同意并代为提供个人信息")
        )
    if config.asks_id_number:
        attempt("id_number", lambda: inputs.id_number(data.get("id_number"), label=_("身份证号")))
    else:
        out["id_number"] = ""
    if not _flag(data, "consent"):
        errors.setdefault("consent", []).append(_("请阅读并同意个人信息使用告知"))
    if errors:
        raise ValidationError(errors)
    out["seats"] = out["adults"] + out["children"]
    return out


def clean_group(config, data) -> dict:
    """Check a group booking (团体预约: a school class, an organisation): ``group_name``, ``name`` (the
    contact), ``phone``, ``headcount`` (1..``max_group_size``), optional ``participant_names`` (one per
    line, at most the headcount), ``guardian_consent`` (the contact confirms that minors' guardians
    agreed), ``consent``. Returns :class:`Booking` fields; raises ``ValidationError`` (dict)."""
    errors: dict[str, list[str]] = {}
    out: dict = {}

    def attempt(key, fn):
        try:
            out[key] = fn()
        except ValidationError as exc:
            errors.setdefault(key, []).extend(exc.messages)

    attempt(
        "group_name",
        lambda: inputs.text(data.get("group_name"), label=_("团体/班级名称"), max_length=100, required=True),
    )
    attempt("name", lambda: inputs.text(data.get("name"), label=_("联系人"), max_length=64, required=True))
    attempt("phone", lambda: inputs.mobile(data.get("phone"), label=_("联系人手机号码")))
    attempt(
        "seats",
        lambda: inputs.count(
            data.get("headcount"), label=_("人数"), minimum=1, maximum=config.max_group_size
        ),
    )
    limit = out.get("seats") or config.max_group_size
    attempt(
        "participant_names",
        lambda: "\n".join(
            inputs.name_list(data.get("participant_names"), label=_("参加人名单"), max_names=limit)
        ),
    )
    out["guardian_consent"] = _flag(data, "guardian_consent")
    if not out["guardian_consent"]:
        errors.setdefault("guardian_consent", []).append(
            _("请确认：团体中未满14周岁的未成年人已取得其监护人同意")
        )
    if not _flag(data, "consent"):
        errors.setdefault("consent", []).append(_("请阅读并同意个人信息使用告知"))
    if errors:
        raise ValidationError(errors)
    out.update(adults=0, children=0, minor=False, guardian_name="", id_number="")
    return out


# --- booking ---------------------------------------------------------------------------------------


# The same read for an individual booking with its token, compiled once (decision 0034).
_EXISTING = PreparedRead(
    lambda token, user_id, session_id: Booking.objects.filter(
        Q(token=token)
        | Q(user_id=user_id, session_id=session_id, kind=Kind.INDIVIDUAL, status__in=ACTIVE_STATUSES)
    )[:2],
    token="~kepuyue-placeholder-token~",  # noqa: S106 - a placeholder, not a secret
    user_id=-7_000_000_004,
    session_id=-7_000_000_005,
)


def _existing(token: str | None, user, session_id: int, kind: str) -> Booking | None:
    """The booking this form (token) or this account (one active individual booking per session)
    already made, in one query; a token of another account is refused."""
    if token and kind == Kind.INDIVIDUAL:  # the individual form's case, read on every refusal
        rows = _EXISTING.all(token=token, user_id=user.pk, session_id=session_id)
    else:
        mine = Q(user=user, session_id=session_id, kind=Kind.INDIVIDUAL, status__in=ACTIVE_STATUSES)
        if kind != Kind.INDIVIDUAL:
            mine = Q(pk__in=[])
        query = (Q(token=token) | mine) if token else mine
        rows = Booking.objects.filter(query)[:2]
    found = sorted(rows, key=lambda b: b.token != token)
    if not found:
        return None
    if token and found[0].token == token and found[0].user_id != user.pk:
        raise ValidationError(_("提交标识无效，请刷新页面后重试"), code="token")
    return found[0]


def _check_open(session: Session, user, at: datetime) -> None:
    config = config_of(session.activity)
    reason = closed_reason(config, session, at)
    if reason:
        raise ValidationError(reason, code="closed")
    if not verification.contact_verified(user):
        raise NotVerified(_("请先验证您的电子邮箱或手机号码，再报名活动"))


def book(session, user, data, *, token: str = "", join_waitlist: bool = False) -> tuple[Booking, bool]:
    """Book ``session`` for ``user`` (a verified public account) and their party.

    ``data``: see :func:`clean_registrant`. ``token``: the form's idempotency key. ``join_waitlist``:
    when the session is full, wait for a place instead of being refused.

    Returns ``(booking, created)``: a confirmed booking, a waiting one (``status == "waitlisted"``), or
    — with ``created`` False — the booking this token or this account already holds for the session
    (a double tap books once). Raises ``ValidationError`` (Chinese: window, closed, data) —
    :class:`SessionFull` when no place is left and the party does not (or may not) wait — and
    :class:`NotVerified` for an account without a proved e-mail or phone. Sends
    ``registration_created`` after commit; the ticket is mailed.
    """
    token = _clean_token(token)
    session = _session(session)
    try:
        now = clock.now()
        _check_open(session, user, now)
        config = config_of(session.activity)
        cleaned = clean_registrant(config, data)
        if session.booked + cleaned["seats"] > session.capacity:
            # Offers past their time free their places first — only worth a query when the session
            # looks full as read in this request (otherwise the tick moves them on, decision 0031).
            expire_offers(session=session, at=now)
        return _create(
            session, user, cleaned, token=token, kind=Kind.INDIVIDUAL, join_waitlist=join_waitlist, now=now
        )
    except (ValidationError, PermissionDenied):
        # A double tap (or a second tab) answers with the booking made already, whatever else now
        # refuses it: the window closed since, the session filled since (0031: read only on refusal).
        found = _existing(token, user, session.pk, Kind.INDIVIDUAL)
        if found is not None:
            return found, False
        raise


def book_group(session, user, data, *, token: str = "") -> tuple[Booking, bool]:
    """Book ``session`` for a group (团体预约) from its own group places (``group_capacity``); groups
    do not wait (they arrange another session with the unit). ``data``: see :func:`clean_group`.
    Returns ``(booking, created)`` like :func:`book`; raises the same errors."""
    token = _clean_token(token)
    session = _session(session)
    try:
        now = clock.now()
        _check_open(session, user, now)
        config = config_of(session.activity)
        if not config.groups_enabled or session.group_capacity == 0:
            raise ValidationError(_("本场次不接受团体预约"), code="no_groups")
        cleaned = clean_group(config, data)
        return _create(session, user, cleaned, token=token, kind=Kind.GROUP, join_waitlist=False, now=now)
    except (ValidationError, PermissionDenied):
        found = _existing(token, user, session.pk, Kind.GROUP)
        if found is not None:
            return found, False
        raise


def _create(session, user, cleaned, *, token, kind, join_waitlist, now) -> tuple[Booking, bool]:
    config = config_of(session.activity)
    group = kind == Kind.GROUP
    for _attempt in range(3):
        try:
            with _writing():
                if _take(session.pk, cleaned["seats"], group=group):
                    status = Status.CONFIRMED
                elif not group and join_waitlist and config.waitlist_enabled:
                    status = Status.WAITLISTED
                else:
                    _read_counters(session)  # the form shows them
                    left = session.group_available if group else session.available
                    wanted = {"n": left, "m": cleaned["seats"]}
                    if group:
                        message = _("团体名额不足：剩余 %(n)d 个，本次预约 %(m)d 人") % wanted
                    elif left > 0:
                        # Places left, but fewer than the party: "full" would contradict the count.
                        message = _("剩余名额不足：本场次只剩 %(n)d 个名额，您报名 %(m)d 人") % wanted
                    else:
                        message = _("本场次名额已满")
                    if not group and config.waitlist_enabled:
                        message += _("，可以加入候补")
                    raise SessionFull(message, waitlist=not group and config.waitlist_enabled)
                booking = insert(
                    Booking(
                        session=session,
                        activity=session.activity,
                        user=user,
                        kind=kind,
                        status=status,
                        code=tickets.new_code(),
                        token=token,
                        consent=consent_notice(config),
                        created_at=now,
                        confirmed_at=now if status == Status.CONFIRMED else None,
                        **cleaned,
                    )
                )
                booking.session = session
                audit.record(
                    "registration.book" if not group else "registration.book_group",
                    actor=user,
                    obj=booking,
                    organization=session.activity.organizer,
                    data={"session": session.pk, "status": status, "seats": booking.seats},
                )
                if status == Status.CONFIRMED:
                    messaging.booked(booking)
                else:
                    messaging.waitlisted(booking)
                _event(signals.registration_created, booking, actor=user)
            return booking, True
        except IntegrityError:
            found = _existing(token, user, session.pk, kind)
            if found is not None:
                return found, False
            # Otherwise a ticket code collided (40 random bits): try again with a new one.
    raise ValidationError(_("报名暂时无法完成，请稍后重试"), code="retry")


# --- the waitlist --------------------------------------------------------------------------------------


def offer_next(session, *, at: datetime | None = None) -> list[Booking]:
    """Offer the session's free places to waiting parties in order, each to the first that fits; call
    inside the transaction that freed them. Returns the bookings offered (or confirmed, when the
    activity's offers are valid 0 hours). Nothing happens once the session has started or without a
    waitlist."""
    at = at or clock.now()
    session = Session.objects.select_related("activity__registration_config", "activity__organizer").get(
        pk=getattr(session, "pk", session)
    )
    config = config_of(session.activity)
    if config is None or not config.waitlist_enabled or at >= session.starts_at:
        return []
    free = session.capacity - session.booked
    if free <= 0:
        return []
    done = []
    waiting = Booking.objects.filter(
        session=session, kind=Kind.INDIVIDUAL, status=Status.WAITLISTED
    ).order_by("created_at", "id")
    for booking in waiting.select_related("activity__organizer", "activity__campaign", "user")[:500]:
        if free <= 0:
            break
        if booking.seats > free or not _take(session.pk, booking.seats):
            continue
        free -= booking.seats
        booking.session = session
        if config.offer_hours == 0:
            Booking.objects.filter(pk=booking.pk).update(
                status=Status.CONFIRMED, offered_at=at, confirmed_at=at
            )
            booking.status, booking.offered_at, booking.confirmed_at = Status.CONFIRMED, at, at
            messaging.promoted(booking)
            _event(signals.waitlist_promoted, booking)
        else:
            expires = min(at + timedelta(hours=config.offer_hours), session.starts_at)
            Booking.objects.filter(pk=booking.pk).update(
                status=Status.OFFERED, offered_at=at, offer_expires_at=expires
            )
            booking.status, booking.offered_at, booking.offer_expires_at = Status.OFFERED, at, expires
            messaging.offered(booking)
            _event(signals.waitlist_offered, booking, offer_expires_at=expires)
        audit.record(
            "registration.offer",
            obj=booking,
            organization=session.activity.organizer,
            data={"session": session.pk, "status": booking.status, "seats": booking.seats},
        )
        done.append(booking)
    return done


def expire_offers(*, session=None, at: datetime | None = None) -> int:
    """Expire the waitlist offers not confirmed in time (of ``session``, or all): their places go to the
    next waiting party. Returns how many expired. Each in its own transaction; safe to run at once in
    several processes (a row is expired once)."""
    at = at or clock.now()
    due = Booking.objects.filter(status=Status.OFFERED, offer_expires_at__lte=at)
    if session is not None:
        due = due.filter(session_id=getattr(session, "pk", session))
    count = 0
    for pk in list(due.values_list("pk", flat=True)[:1000]):
        with _writing():
            booking = (
                Booking.objects.select_for_update(of=("self",))
                .select_related("session", "activity__organizer", "activity__campaign")
                .filter(pk=pk, status=Status.OFFERED, offer_expires_at__lte=at)
                .first()
            )
            if booking is None:
                continue
            updated = Booking.objects.filter(pk=pk, status=Status.OFFERED).update(
                status=Status.EXPIRED, cancelled_at=at
            )
            if not updated:
                continue
            booking.status = Status.EXPIRED
            _release(booking.session_id, booking.seats)
            audit.record("registration.offer_expired", obj=booking, data={"session": booking.session_id})
            messaging.expired(booking)
            _event(signals.registration_cancelled, booking, from_status=Status.OFFERED, reason="expired")
            offer_next(booking.session_id, at=at)
            count += 1
    return count


def confirm_offer(booking: Booking, user) -> Booking:
    """The waiting party accepts the place offered: the booking is confirmed (its places were already
    held). Raises ``PermissionDenied`` for another account's booking, ``ValidationError`` when there is
    no open offer (expired: the place has moved on). Sends ``waitlist_promoted``; mails the ticket."""
    if booking.user_id != getattr(user, "pk", None):
        raise PermissionDenied(_("只能确认自己的候补"))
    now = clock.now()
    expire_offers(session=booking.session_id, at=now)
    with _writing():
        rows = Booking.objects.filter(pk=booking.pk, status=Status.OFFERED, offer_expires_at__gt=now).update(
            status=Status.CONFIRMED, confirmed_at=now
        )
        booking = Booking.objects.select_related("session", "activity__organizer", "activity__campaign").get(
            pk=booking.pk
        )
        if not rows:
            raise ValidationError(_("没有待确认的候补名额（可能已过期并递补给下一位）"), code="no_offer")
        audit.record(
            "registration.offer_confirm", actor=user, obj=booking, data={"session": booking.session_id}
        )
        messaging.booked(booking)
        _event(signals.waitlist_promoted, booking, actor=user)
    return booking


# --- cancelling and moving ---------------------------------------------------------------------------


def session_started(session: Session, at: datetime | None = None) -> bool:
    """Whether ``session`` has started (or ended): its bookings are history from then on."""
    return session.starts_at <= (at or clock.now())


def is_history(booking: Booking, at: datetime | None = None) -> bool:
    """Whether ``booking`` is history that no change to its activity may rewrite (计划 §12 报名): it was
    checked in, or its session has already started. Withdrawing or returning the activity, changing or
    moving sessions leave such bookings — their status, attendance and the summary's participant
    count — as they were."""
    return booking.checked_in_at is not None or session_started(booking.session, at)


def changeable_bookings(queryset, at: datetime | None = None):
    """The rows of ``queryset`` a bulk change may still touch: active, not checked in, of a session not
    yet started (the database form of ``not is_history``)."""
    return queryset.filter(
        status__in=ACTIVE_STATUSES,
        checked_in_at__isnull=True,
        session__starts_at__gt=at or clock.now(),
    )


def cancel_upcoming(activity, *, actor, reason: str, why: str) -> list[Booking]:
    """Cancel every active booking of ``activity``'s sessions that have not started (the unit's bulk
    cancellation: withdrawal 撤回, return 退回), release their places and tell their holders with
    ``reason``. History — checked-in bookings and those of sessions already started — is left exactly
    as it was (:func:`is_history`), and nobody is told about an event already past. Call inside the
    change's transaction. Returns the bookings cancelled."""
    now = clock.now()
    bookings = list(
        changeable_bookings(Booking.objects.filter(activity=activity), now)
        .select_for_update(of=("self",))
        .select_related("session", "activity__organizer", "activity__campaign", "user")
        .order_by("pk")
    )
    if not bookings:
        return []
    Booking.objects.filter(pk__in=[b.pk for b in bookings]).update(
        status=Status.CANCELLED, cancelled_at=now, cancel_reason=why
    )
    released: dict[tuple[int, bool], int] = {}
    for booking in bookings:
        if booking.status in HOLDING_STATUSES:
            key = (booking.session_id, booking.kind == Kind.GROUP)
            released[key] = released.get(key, 0) + booking.seats
    for (session_id, group), seats in released.items():
        _release(session_id, seats, group=group)
    for booking in bookings:
        was = booking.status
        booking.status = Status.CANCELLED
        booking.cancelled_at = now
        booking.cancel_reason = why
        messaging.cancelled(booking, by_unit=True, reason=reason)
        _event(signals.registration_cancelled, booking, actor=actor, from_status=was, reason=why)
    return bookings


def cancel_deadline(booking: Booking) -> datetime:
    """Until when the holder may cancel a confirmed booking: the session's start minus the cut-off."""
    config = config_of(booking.activity)
    hours = config.cancel_cutoff_hours if config is not None else 0
    return booking.session.starts_at - timedelta(hours=hours)


def can_cancel(booking: Booking, at: datetime | None = None) -> bool:
    """Whether the holder may cancel now: waiting and offered ones always, confirmed ones until the
    cut-off."""
    if booking.status in (Status.WAITLISTED, Status.OFFERED):
        return True
    return booking.status == Status.CONFIRMED and (at or clock.now()) <= cancel_deadline(booking)


def cancel_refusal(booking: Booking, at: datetime | None = None) -> ValidationError | None:
    """Why the holder may not cancel ``booking`` now (``None``: they may) — the one reason shown by the
    cancel page before it asks and by :func:`cancel` itself: a session that has started or ended is
    said to be so (fresh try: an ended session's booking was refused "within 2 hours of the start")."""
    at = at or clock.now()
    if booking.status not in ACTIVE_STATUSES:
        return ValidationError(_("该报名已取消或已失效"), code="inactive")
    if booking.checked_in_at is not None:
        return ValidationError(_("已签到的报名不能取消"), code="checked_in")
    if can_cancel(booking, at):
        return None
    if session_started(booking.session, at):
        return ValidationError(_("本场次已开始或已结束，不能再取消"), code="started")
    return ValidationError(
        _("开场前 %(h)d 小时内不能在线取消，如有变化请联系主办单位")
        % {"h": config_of(booking.activity).cancel_cutoff_hours},
        code="cutoff",
    )


def cancel(
    booking: Booking, *, actor, by_unit: bool = False, reason: str = "", deleting: bool = False
) -> Booking:
    """Cancel a booking (取消报名): by its holder (until the cut-off for a confirmed one) or by the unit
    (any time, with a reason the holder reads). Freed places are offered to the waitlist in the same
    transaction. ``deleting``: the holder deletes their data (PIPL), which cancels even past the
    cut-off, silently. Returns the booking. Raises ``PermissionDenied`` (another account's booking) or
    ``ValidationError`` (already cancelled; past the cut-off). Sends ``registration_cancelled``."""
    reason = inputs.text(reason, label=_("取消原因"), max_length=200)
    if not by_unit and booking.user_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("只能取消自己的报名"))
    now = clock.now()
    with _writing():
        locked = (
            Booking.objects.select_for_update(of=("self",))
            .select_related(
                "session", "activity__organizer", "activity__campaign", "activity__registration_config"
            )
            .get(pk=booking.pk)
        )
        if locked.status not in ACTIVE_STATUSES:
            raise ValidationError(_("该报名已取消或已失效"), code="inactive")
        if not by_unit and not deleting and (refusal := cancel_refusal(locked, now)) is not None:
            raise refusal
        if locked.checked_in_at is not None:
            raise ValidationError(_("已签到的报名不能取消"), code="checked_in")
        if by_unit and not deleting and session_started(locked.session, now):
            raise ValidationError(_("场次已开始或已结束，报名记录不能再取消"), code="started")
        was = locked.status
        locked.status = Status.CANCELLED
        locked.cancelled_at = now
        why = "deleted" if deleting else "unit" if by_unit else "member"
        locked.cancel_reason = reason or why
        locked.save(update_fields=["status", "cancelled_at", "cancel_reason"])
        if was in HOLDING_STATUSES:
            _release(locked.session_id, locked.seats, group=locked.kind == Kind.GROUP)
        audit.record(
            "registration.cancel_by_unit" if by_unit else "registration.cancel",
            actor=actor,
            obj=locked,
            data={"session": locked.session_id, "from": was, "seats": locked.seats, "reason": reason},
        )
        if not deleting:
            messaging.cancelled(locked, by_unit=by_unit, reason=reason)
        _event(signals.registration_cancelled, locked, actor=actor, from_status=was, reason=why)
        if was in HOLDING_STATUSES and locked.kind == Kind.INDIVIDUAL:
            offer_next(locked.session_id, at=now)
    return locked


def move(booking: Booking, to_session: Session, *, actor) -> Booking:
    """Move a confirmed booking to another session of the same activity (调整场次), by the unit: the
    places are taken there (or ``ValidationError``: not enough) and freed here (offered to this
    session's waitlist). The holder is told and gets the new ticket (the QR code names the session,
    so the old one is refused at the door). Sends ``registration_moved``."""
    now = clock.now()
    with _writing():
        locked = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("session", "activity__organizer", "activity__campaign")
            .get(pk=booking.pk)
        )
        target = Session.objects.get(pk=to_session.pk)
        if target.activity_id != locked.activity_id:
            raise ValidationError(_("只能调整到同一活动的其他场次"))
        if target.pk == locked.session_id:
            raise ValidationError(_("已在该场次"))
        if locked.status != Status.CONFIRMED:
            raise ValidationError(_("只有已报名（确认）的报名可以调整场次"))
        if locked.checked_in_at is not None:
            raise ValidationError(_("已签到的报名不能调整场次"))
        if session_started(locked.session, now):
            raise ValidationError(_("场次已开始或已结束，不能调整场次"))
        if session_started(target, now):
            raise ValidationError(_("目标场次已开始或已结束"))
        group = locked.kind == Kind.GROUP
        if not _take(target.pk, locked.seats, group=group):
            raise ValidationError(_("目标场次名额不足"))
        old_when = messaging.when_text(locked)
        source = locked.session_id
        _release(source, locked.seats, group=group)
        locked.session = target
        locked.save(update_fields=["session"])
        target.activity = locked.activity
        audit.record(
            "registration.move",
            actor=actor,
            obj=locked,
            data={"from": source, "to": target.pk, "seats": locked.seats},
        )
        messaging.moved(locked, old_when=old_when)
        _event(signals.registration_moved, locked, actor=actor, from_session_id=source)
        if not group:
            offer_next(source, at=now)
    return locked
