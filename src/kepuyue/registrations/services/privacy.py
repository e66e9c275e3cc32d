"""Personal data of registrants (PIPL 个人信息保护): retention, a member's own data, exports.

- **Retention**: :func:`purge_personal_data` empties the personal fields of every booking whose
  activity (and session) ended more than ``REGISTRATION_RETENTION_DAYS`` (default 180) days ago by
  the campaign clock, and unlinks the account; counts, statuses and check-ins stay, so the unit's
  figures and the dashboard do not change. ``manage.py purge_registrations`` runs it (daily from cron
  or Celery beat).
- **A member's own data**: :func:`my_bookings` lists it; :func:`delete_my_data` deletes it at once
  (an active booking of a session not yet started is cancelled first: its places go to the
  waitlist; history — checked in, or a session already started — is only anonymised).
- **Exports**: :func:`export_rows` masks names, phones and ID numbers unless ``full``; the views
  audit every export and every full-data view.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kepuyue.activities.services import mask_phone
from kepuyue.audit import services as audit
from kepuyue.common import clock
from kepuyue.common.text import cell_safe

from .. import inputs, tickets
from ..models import ACTIVE_STATUSES, Booking, Status
from .booking import cancel, is_history
from .setup import retention_days

PERSONAL_FIELDS = {
    "name": "",
    "phone": "",
    "id_number": "",
    "guardian_name": "",
    "group_name": "",
    "participant_names": "",
    "user": None,
}


def purge_personal_data(*, at=None, days: int | None = None, dry_run: bool = False) -> int:
    """Anonymise the bookings of activities that ended more than ``days`` (default: the setting)
    days before ``at`` (default: the campaign clock). Returns how many bookings were (or, with
    ``dry_run``, would be) anonymised. Idempotent; audited (``registration.purge``)."""
    at = at or clock.now()
    days = retention_days() if days is None else days
    if days < 1:
        raise ValueError("retention must be at least one day")
    cutoff = at - timedelta(days=days)
    due = Booking.objects.filter(
        anonymised_at__isnull=True, activity__ends_at__lt=cutoff, session__ends_at__lt=cutoff
    )
    if dry_run:
        return due.count()
    with transaction.atomic():
        count = due.update(**PERSONAL_FIELDS, anonymised_at=at)
        if count:
            audit.record(
                "registration.purge", data={"days": days, "bookings": count, "cutoff": cutoff.isoformat()}
            )
    return count


def my_bookings(user) -> QuerySet[Booking]:
    """The account's bookings, newest session first, with their session and activity."""
    return (
        Booking.objects.filter(user=user)
        .select_related("session", "activity__organizer")
        .order_by("-session__starts_at", "-id")
    )


def delete_my_data(user, booking: Booking | None = None) -> int:
    """Delete the personal data of ``user``'s booking (or of all its bookings): active ones of sessions
    not yet started are cancelled first (history keeps its status), then names, phones and ID numbers are emptied and the account unlinked (the
    unit's counts stay). Returns how many bookings were anonymised. Audited."""
    rows = Booking.objects.filter(user=user)
    if booking is not None:
        rows = rows.filter(pk=booking.pk)
    count = 0
    for item in list(rows.select_related("session", "activity")):
        # A booking of a session not yet started is cancelled (its places go to the waitlist); one
        # that is history — checked in, or its session started — keeps its status, so the session's
        # count and the summary's attendance stay as they were (counts kept, 计划 §12 报名).
        if item.status in ACTIVE_STATUSES and not is_history(item):
            cancel(item, actor=user, deleting=True, reason=_("报名人删除了个人信息"))
        with transaction.atomic():
            count += Booking.objects.filter(pk=item.pk, user=user).update(
                **PERSONAL_FIELDS, anonymised_at=clock.now()
            )
            audit.record(
                "registration.delete_own_data", actor=user, obj=item, organization=item.activity.organizer
            )
    return count


def mask_booking(booking: Booking, *, full: bool) -> dict:
    """What a staff list shows of a booking: masked unless ``full``."""
    return {
        "name": booking.name if full else inputs.mask_name(booking.name),
        "phone": booking.phone if full else mask_phone(booking.phone),
        "id_number": booking.id_number if full else inputs.mask_id_number(booking.id_number),
        "guardian_name": booking.guardian_name if full else inputs.mask_name(booking.guardian_name),
        "participant_names": booking.participant_names if full else "",
    }


EXPORT_HEADERS = [
    "场次",
    "场次开始",
    "类型",
    "状态",
    "票号",
    "姓名/联系人",
    "手机号码",
    "成人",
    "未成年人",
    "人数",
    "团体/班级",
    "参加人名单",
    "报名人未满14周岁",
    "监护人",
    "身份证号",
    "报名时间",
    "签到时间",
]


def export_rows(bookings: QuerySet[Booking], *, full: bool = False) -> Iterator[list]:
    """The header, then one row per booking (any filter and order), personal data masked unless
    ``full``; values made safe for spreadsheets (``common.text.cell_safe``: no characters openpyxl refuses, formulas neutralised)."""
    yield list(EXPORT_HEADERS)
    kinds = {"individual": "个人/家庭", "group": "团体"}
    statuses = dict(Status.choices)
    for booking in bookings.select_related("session").iterator(chunk_size=1000):
        shown = mask_booking(booking, full=full)
        session = booking.session
        row = [
            session.label or str(session),
            f"{session.starts_at.astimezone(clock.BEIJING):%Y-%m-%d %H:%M}",
            kinds.get(booking.kind, booking.kind),
            statuses.get(booking.status, booking.status),
            tickets.display_code(booking.code),
            shown["name"],
            shown["phone"],
            booking.adults,
            booking.children,
            booking.seats,
            booking.group_name,
            shown["participant_names"].replace("\n", "、"),
            "是" if booking.minor else "",
            shown["guardian_name"],
            shown["id_number"],
            f"{booking.created_at.astimezone(clock.BEIJING):%Y-%m-%d %H:%M}",
            f"{booking.checked_in_at.astimezone(clock.BEIJING):%Y-%m-%d %H:%M}"
            if booking.checked_in_at
            else "",
        ]
        yield [cell_safe(value) for value in row]
