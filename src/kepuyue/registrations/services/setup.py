"""Registration settings and sessions (报名设置与场次), the registration window and the public
availability of an activity's sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from kepuyue.activities.models import Activity
from kepuyue.activities.models import Status as ActivityStatus
from kepuyue.audit import services as audit
from kepuyue.common import clock
from kepuyue.common.events import send_after_commit

from .. import inputs, signals
from ..models import Booking, Mode, RegistrationConfig, Session, Status

MAX_SESSIONS = 200
MAX_CAPACITY = 100_000
MAX_PARTY = 20
MAX_GROUP = 500
MAX_OFFER_HOURS = 168
MAX_CUTOFF_HOURS = 720
_url = URLValidator(schemes=["http", "https"])


def config_of(activity: Activity) -> RegistrationConfig | None:
    """The activity's registration settings (read from ``select_related`` when loaded), or ``None``."""
    try:
        return activity.registration_config
    except RegistrationConfig.DoesNotExist:
        return None


def retention_days() -> int:
    """Days after an activity when its registrants' personal data is deleted (setting
    ``KEPUYUE_REGISTRATION_RETENTION_DAYS``, default 180)."""
    return int(getattr(settings, "REGISTRATION_RETENTION_DAYS", 180))


def consent_notice(config: RegistrationConfig) -> str:
    """The notice a registrant agrees to (个人信息使用告知): the platform's standard sentence (what is
    collected, why, for how long), and the unit's own text after it."""
    activity = config.activity
    collected = _("姓名、手机号码")
    if config.asks_id_number:
        collected = _("姓名、手机号码和身份证号（理由：%(reason)s）") % {"reason": config.id_number_reason}
    notice = _(
        "%(org)s将收集您填写的%(what)s，仅用于本活动的报名、入场核验和活动通知，不作他用；"
        "活动结束 %(days)d 天后自动删除。您可以随时在“我的活动”中查看或删除您的报名信息。"
    ) % {"org": activity.organizer.name, "what": collected, "days": retention_days()}
    if config.consent_text.strip():
        notice += "\n" + config.consent_text.strip()
    return notice


# --- settings ------------------------------------------------------------------------------------


def _hours(data, key: str, label: str, default: int, maximum: int) -> int:
    value = data.get(key, default)
    return inputs.count(
        value if value not in (None, "") else default, label=label, minimum=0, maximum=maximum
    )


def save_config(activity: Activity, data, *, actor) -> RegistrationConfig:
    """Create or change the registration settings of ``activity`` from ``data`` (a mapping with the
    :class:`RegistrationConfig` field names; check boxes as booleans). Returns the saved settings.

    Rules: an external link must be http(s); a phone mode needs a phone; the window's end after its
    start; at most 20 people per booking, 500 per group; an ID number only with a stated reason
    (PIPL minimisation); offers valid 0–168 hours (0: a freed place is confirmed at once); cut-off
    0–720 hours. Raises ``ValidationError`` with a dict of field → Chinese messages. Audited
    (``registration.settings``); sends ``registration_settings_changed`` after commit.
    """
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}

    def attempt(key, fn):
        try:
            cleaned[key] = fn()
        except ValidationError as exc:
            errors.setdefault(key, []).extend(exc.messages)

    mode = data.get("mode") or Mode.NONE
    if mode not in Mode.values:
        errors["mode"] = [_("请选择报名方式")]
    cleaned["mode"] = mode
    attempt(
        "external_url", lambda: inputs.text(data.get("external_url"), label=_("外部报名链接"), max_length=500)
    )
    if mode == Mode.EXTERNAL:
        try:
            _url(cleaned.get("external_url") or "")
        except ValidationError:
            errors.setdefault("external_url", []).append(_("请填写以 http:// 或 https:// 开头的报名链接"))
    attempt("phone", lambda: inputs.phone(data.get("phone"), label=_("报名电话"), max_length=64))
    if mode == Mode.PHONE and not cleaned.get("phone"):
        errors.setdefault("phone", []).append(_("电话报名须填写报名电话"))
    cleaned["opens_at"] = data.get("opens_at") or None
    cleaned["closes_at"] = data.get("closes_at") or None
    if cleaned["opens_at"] and cleaned["closes_at"] and cleaned["closes_at"] <= cleaned["opens_at"]:
        errors.setdefault("closes_at", []).append(_("报名截止时间应晚于开始时间"))
    attempt("max_adults", lambda: _hours(data, "max_adults", _("每单成人上限"), 1, MAX_PARTY))
    attempt("max_children", lambda: _hours(data, "max_children", _("每单未成年人上限"), 0, MAX_PARTY))
    if not errors.get("max_adults") and not errors.get("max_children"):
        if cleaned["max_adults"] + cleaned["max_children"] < 1:
            errors.setdefault("max_adults", []).append(_("每单至少 1 人"))
        elif cleaned["max_adults"] + cleaned["max_children"] > MAX_PARTY:
            errors.setdefault("max_children", []).append(_("每单最多 %(n)d 人") % {"n": MAX_PARTY})
    cleaned["groups_enabled"] = bool(data.get("groups_enabled"))
    attempt("max_group_size", lambda: _hours(data, "max_group_size", _("团体人数上限"), 50, MAX_GROUP))
    if cleaned["groups_enabled"] and cleaned.get("max_group_size") == 0:
        errors.setdefault("max_group_size", []).append(_("团体人数上限至少为 1"))
    cleaned["asks_id_number"] = bool(data.get("asks_id_number"))
    attempt(
        "id_number_reason",
        lambda: inputs.text(data.get("id_number_reason"), label=_("收集身份证号的理由"), max_length=200),
    )
    if cleaned["asks_id_number"] and not cleaned.get("id_number_reason"):
        errors.setdefault("id_number_reason", []).append(
            _("收集身份证号须说明理由（如生产线安全管理规定），否则请勿收集（个人信息最小化）")
        )
    attempt(
        "consent_text",
        lambda: inputs.text(
            data.get("consent_text"), label=_("个人信息使用告知"), max_length=2000, multiline=True
        ),
    )
    cleaned["waitlist_enabled"] = bool(data.get("waitlist_enabled"))
    attempt("offer_hours", lambda: _hours(data, "offer_hours", _("候补确认时限"), 24, MAX_OFFER_HOURS))
    attempt(
        "cancel_cutoff_hours",
        lambda: _hours(data, "cancel_cutoff_hours", _("取消截止"), 2, MAX_CUTOFF_HOURS),
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        config, created = RegistrationConfig.objects.select_for_update().get_or_create(activity=activity)
        before = {key: getattr(config, key) for key in cleaned} if not created else {}
        for key, value in cleaned.items():
            setattr(config, key, value)
        config.save()
        changed = sorted(key for key in cleaned if created or before.get(key) != cleaned[key])
        audit.record(
            "registration.settings",
            actor=actor,
            obj=activity,
            data={"mode": config.mode, "changed": changed},
        )
        _settings_changed(activity, actor)
    return config


def _settings_changed(activity: Activity, actor) -> None:
    send_after_commit(
        signals.registration_settings_changed,
        Session,
        activity=activity,
        activity_id=activity.pk,
        campaign_id=activity.campaign_id,
        organizer_id=activity.organizer_id,
        actor=actor,
    )


def set_closed(activity: Activity, closed: bool, *, actor, reason: str = "") -> RegistrationConfig:
    """Stop (``closed=True``) or reopen registration for the whole activity; audited. Reopening an
    activity that is not published is refused (``ValidationError``)."""
    reason = inputs.text(reason, label=_("停止报名原因"), max_length=200)
    if not closed and activity.status != ActivityStatus.PUBLISHED:
        raise ValidationError(_("活动未发布（或已撤回），不能重新开放报名"))
    with transaction.atomic():
        config, _created = RegistrationConfig.objects.select_for_update().get_or_create(activity=activity)
        config.closed = closed
        config.closed_reason = reason if closed else ""
        config.save(update_fields=["closed", "closed_reason", "updated"])
        audit.record(
            "registration.close" if closed else "registration.reopen",
            actor=actor,
            obj=activity,
            data={"reason": reason},
        )
        _settings_changed(activity, actor)
    return config


# --- sessions ---------------------------------------------------------------------------------------


def _session_values(activity: Activity, data) -> tuple[dict, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    values: dict = {}
    try:
        values["label"] = inputs.text(data.get("label"), label=_("场次名称"), max_length=60)
    except ValidationError as exc:
        errors["label"] = exc.messages
    starts, ends = data.get("starts_at"), data.get("ends_at")
    if not isinstance(starts, datetime):
        errors["starts_at"] = [_("请填写场次开始时间")]
    if not isinstance(ends, datetime):
        errors["ends_at"] = [_("请填写场次结束时间")]
    if isinstance(starts, datetime) and isinstance(ends, datetime):
        if ends <= starts:
            errors["ends_at"] = [_("场次结束时间应晚于开始时间")]
        elif ends - starts > timedelta(days=31):
            errors["ends_at"] = [_("一个场次不能超过 31 天")]
        # A session lies within the activity's days (Beijing), so the public sees consistent times.
        first = clock.start_of_day(activity.starts_at.astimezone(clock.BEIJING).date())
        last = clock.end_of_day(activity.ends_at.astimezone(clock.BEIJING).date())
        if starts < first or ends > last:
            errors.setdefault("starts_at", []).append(
                _("场次须在活动时间内（%(a)s 至 %(b)s）")
                % {"a": f"{first:%Y-%m-%d}", "b": f"{activity.ends_at.astimezone(clock.BEIJING):%Y-%m-%d}"}
            )
    values["starts_at"], values["ends_at"] = starts, ends
    for key, label in (("capacity", _("名额")), ("group_capacity", _("团体名额"))):
        try:
            values[key] = inputs.count(data.get(key), label=label, minimum=0, maximum=MAX_CAPACITY)
        except ValidationError as exc:
            errors[key] = exc.messages
    if not errors and values["capacity"] + values["group_capacity"] == 0:
        errors["capacity"] = [_("名额和团体名额不能都为 0")]
    return values, errors


def save_session(activity: Activity, data, *, actor, session: Session | None = None) -> Session:
    """Add a session to ``activity`` or change ``session``: ``data`` holds ``label``,
    ``starts_at``/``ends_at`` (aware datetimes), ``capacity`` and ``group_capacity`` (whole numbers).

    The times of a session that has started are history and cannot change (``ValidationError``).
    A capacity below the places already taken is refused (cancel or move bookings first); a raised
    capacity offers the new places to the waitlist at once. Raises ``ValidationError`` (dict of field
    → Chinese messages). Audited; ``registration_settings_changed`` after commit.
    """
    from .booking import offer_next

    values, errors = _session_values(activity, data)
    if session is None and Session.objects.filter(activity=activity).count() >= MAX_SESSIONS:
        errors.setdefault("starts_at", []).append(_("每个活动最多 %(n)d 个场次") % {"n": MAX_SESSIONS})
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if session is None:
            session = Session.objects.create(activity=activity, **values)
            action = "registration.session_add"
        else:
            locked = Session.objects.select_for_update().get(pk=session.pk, activity=activity)
            if values["capacity"] < locked.booked:
                raise ValidationError(
                    {"capacity": [_("名额不能少于已报名人数（%(n)d）") % {"n": locked.booked}]}
                )
            if values["group_capacity"] < locked.group_booked:
                raise ValidationError(
                    {
                        "group_capacity": [
                            _("团体名额不能少于已预约人数（%(n)d）") % {"n": locked.group_booked}
                        ]
                    }
                )
            if locked.starts_at <= clock.now() and (
                values["starts_at"] != locked.starts_at or values["ends_at"] != locked.ends_at
            ):
                # A started session is history (booking.is_history): its times stay as they were.
                raise ValidationError({"starts_at": [_("场次已开始或已结束，不能修改时间")]})
            for key, value in values.items():
                setattr(locked, key, value)
            locked.save()
            session = locked
            action = "registration.session_change"
            offer_next(session)
        audit.record(
            action,
            actor=actor,
            obj=activity,
            data={
                "session": session.pk,
                "capacity": session.capacity,
                "group_capacity": session.group_capacity,
                "starts_at": session.starts_at.isoformat(),
            },
        )
        _settings_changed(activity, actor)
    return session


def delete_session(session: Session, *, actor) -> None:
    """Delete a session that has never had a booking; otherwise refused (``ValidationError``): close it
    instead (its bookings stay, their holders are told by the unit)."""
    with transaction.atomic():
        if Booking.objects.filter(session=session).exists():
            raise ValidationError(_("该场次已有报名记录，不能删除；可停止本场报名"))
        activity = session.activity
        audit.record("registration.session_delete", actor=actor, obj=activity, data={"session": session.pk})
        session.delete()
        _settings_changed(activity, actor)


def set_session_closed(session: Session, closed: bool, *, actor) -> None:
    """Stop or reopen registration for one session; audited."""
    with transaction.atomic():
        Session.objects.filter(pk=session.pk).update(closed=closed)
        audit.record(
            "registration.session_close" if closed else "registration.session_reopen",
            actor=actor,
            obj=session.activity,
            data={"session": session.pk},
        )
        _settings_changed(session.activity, actor)


# --- the window and the public availability --------------------------------------------------------


def closed_reason(config: RegistrationConfig | None, session: Session, at: datetime | None = None) -> str:
    """Why ``session`` cannot be booked now (a Chinese sentence), or ``""`` when it can (capacity
    aside). Checks, in order: the activity is published, registers on the platform, is not closed
    by its unit, the session is not closed, the window is open and the session has not started."""
    at = at or clock.now()
    activity = session.activity
    if activity.status != ActivityStatus.PUBLISHED:
        return _("活动未发布或已撤回，不能报名")
    if config is None or config.mode != Mode.PLATFORM:
        return _("本活动不在平台报名")
    if config.closed:
        return _("主办单位已停止报名") + (f"：{config.closed_reason}" if config.closed_reason else "")
    if session.closed:
        return _("本场次已停止报名")
    if config.opens_at and at < config.opens_at:
        return _("报名尚未开始（%(t)s 开始）") % {
            "t": f"{config.opens_at.astimezone(clock.BEIJING):%Y-%m-%d %H:%M}"
        }
    if config.closes_at and at > config.closes_at:
        return _("报名已截止")
    if at >= session.starts_at:
        return _("本场次已开始，报名已截止")
    return ""


@dataclass(frozen=True)
class SessionAvailability:
    """What every visitor may know about a session: the same for everyone, no personal state."""

    session: Session
    available: int
    group_available: int
    open: bool
    reason: str
    waitlist: bool

    @property
    def full(self) -> bool:
        return self.session.capacity > 0 and self.available == 0

    @property
    def few(self) -> bool:
        """Few places left (at most 10 % and at most 10): the page says “余位紧张”."""
        return 0 < self.available <= max(1, min(10, self.session.capacity // 10))

    def as_json(self) -> dict:
        session = self.session
        return {
            "id": session.pk,
            "label": session.label,
            "starts_at": session.starts_at.isoformat(),
            "ends_at": session.ends_at.isoformat(),
            "capacity": session.capacity,
            "available": self.available,
            "group_capacity": session.group_capacity,
            "group_available": self.group_available,
            "open": self.open,
            "full": self.full,
            "few": self.few,
            "waitlist": self.waitlist,
            "reason": self.reason,
        }


def sessions_of(activity: Activity):
    """The activity's sessions in time order (a queryset)."""
    return Session.objects.filter(activity=activity).order_by("starts_at", "id")


def availability(activity: Activity, config: RegistrationConfig | None = None, at: datetime | None = None):
    """Every session of ``activity`` with its free places and whether it can be booked now, as
    :class:`SessionAvailability` (one query for the sessions)."""
    config = config if config is not None else config_of(activity)
    at = at or clock.now()
    rows = []
    for session in sessions_of(activity):
        session.activity = activity
        rows.append(session_availability(session, config, at))
    return rows


def offer_reason(
    activity: Activity, config: RegistrationConfig | None, sessions=None, at: datetime | None = None
) -> str:
    """Why a page must not offer a booking action (报名 button, 可在线预约 tag, the unit's booking page
    or phone) for ``activity`` now — a Chinese sentence — or ``""`` when it may. The one rule every
    page showing booking actions follows: the activity is published and not ended; for booking on
    the platform, the unit has not closed registration, the window (``opens_at``–``closes_at``) is
    open, and — when ``sessions`` (loaded rows) are given — at least one session is neither closed
    nor started. Capacity aside (a full session still offers the waitlist). No query."""
    at = at or clock.now()
    if activity.status != ActivityStatus.PUBLISHED:
        return _("活动未发布或已撤回，不能报名")
    if activity.ends_at <= at:
        return _("活动已结束")
    if config is None or config.mode != Mode.PLATFORM:
        return ""
    if config.closed:
        return _("主办单位已停止报名") + (f"：{config.closed_reason}" if config.closed_reason else "")
    if config.opens_at and at < config.opens_at:
        return _("报名尚未开始（%(t)s 开始）") % {
            "t": f"{config.opens_at.astimezone(clock.BEIJING):%Y-%m-%d %H:%M}"
        }
    if config.closes_at and at > config.closes_at:
        return _("报名已截止")
    if sessions is not None and sessions and all(s.closed or at >= s.starts_at for s in sessions):
        return _("各场次均已开始或停止报名")
    return ""


def registration_closed(
    activity: Activity, config: RegistrationConfig | None, rows, at: datetime | None = None
) -> bool:
    """Whether nobody can book ``activity`` any more (the ``closed`` of the public availability):
    its unit closed registration, the window has shut, the activity has ended, or it registers on
    the platform and every session (``rows``, from :func:`availability`) has already started. A
    session in the past is never open, so an activity whose sessions are all past is closed even
    if its unit never pressed "停止报名"."""
    at = at or clock.now()
    if config is None:
        return False
    if config.closed or (config.closes_at and at > config.closes_at) or activity.ends_at <= at:
        return True
    return config.mode == Mode.PLATFORM and bool(rows) and all(at >= row.session.starts_at for row in rows)


def session_availability(
    session: Session, config: RegistrationConfig | None, at: datetime | None = None
) -> SessionAvailability:
    """One session's :class:`SessionAvailability` from the row as loaded (no query): the booking form
    of one session needs no other session of the activity (an activity may have hundreds)."""
    reason = closed_reason(config, session, at or clock.now())
    return SessionAvailability(
        session=session,
        available=session.available,
        group_available=session.group_available if config and config.groups_enabled else 0,
        open=not reason,
        reason=reason,
        # One can join the waitlist of a session one could book (fresh try: the API said "waitlist": true
        # for sessions that had started).
        waitlist=bool(config and config.waitlist_enabled) and not reason,
    )


def waiting_count(session: Session) -> int:
    """How many parties wait for ``session``."""
    return Booking.objects.filter(session=session, status=Status.WAITLISTED).count()
