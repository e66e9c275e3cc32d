"""What registrants are told: inbox and e-mail (``kepuyue.notifications``), text messages (the SMS
backend of ``kepuyue.common.sms``), and the ticket e-mail with its QR code and calendar file.

Everything here is called inside the transaction of the change it reports: inbox rows commit or
roll back with it; e-mails and text messages leave only after the commit (``transaction.on_commit``),
never for a change that was rolled back. Text messages go out for what cannot wait for an inbox to be
opened: a waitlist place offered, a cancellation by the unit, the reminder the day before.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from kepuyue.common import clock, sms
from kepuyue.common.text import quote_title
from kepuyue.notifications.models import Kind
from kepuyue.notifications.services import absolute, notify

from .. import tickets
from ..models import Booking
from . import outbox

logger = logging.getLogger(__name__)


def _when(booking: Booking) -> str:
    session = booking.session
    start = session.starts_at.astimezone(clock.BEIJING)
    end = session.ends_at.astimezone(clock.BEIJING)
    label = f"（{session.label}）" if session.label else ""
    same_day = start.date() == end.date()
    return (
        f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}{label}"
        if same_day
        else f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}{label}"
    )


def ticket_url(booking: Booking) -> str:
    return reverse("registrations:ticket", args=[booking.code])


def _sms(booking: Booking, text: str) -> None:
    phone = booking.phone
    if not phone:
        return
    transaction.on_commit(lambda: sms.send_sms(phone, "【全国科普月】" + text, fail_silently=True))


def _users(booking: Booking) -> list:
    """The booking's account for :func:`notify`: the instance when it is loaded (no query), else its id."""
    if not booking.user_id:
        return []
    return [booking.user] if Booking.user.is_cached(booking) else [booking.user_id]


def booked(booking: Booking) -> None:
    """A confirmed booking (new, or a waitlist offer confirmed): the inbox, and the ticket by e-mail
    (QR code and ``.ics`` attached)."""
    activity = booking.activity
    notify(
        _users(booking),
        Kind.REGISTRATION,
        _("报名成功：%(t)s") % {"t": activity.title},
        _("您已报名%(t)s，%(when)s，%(n)d 人。票号 %(code)s，入场时出示电子票二维码。")
        % {
            "t": quote_title(activity.title),
            "when": _when(booking),
            "n": booking.seats,
            "code": tickets.display_code(booking.code),
        },
        ticket_url(booking),
        email=False,
    )
    outbox.queue(booking)


def send_ticket_email(booking_id: int) -> bool:
    """Send the ticket e-mail(s) of this booking still due in the outbox (decision 0031); ``True``
    when one was sent now (``False``: none due — already sent, skipped, or waiting for a retry)."""
    return outbox.deliver([booking_id]) >= 1


def send_ticket_emails(booking_ids: list[int]) -> int:
    """Send the ticket e-mails due in the outbox for these bookings: one query and one mail
    connection for all (a burst's tickets, batched by the background work). Returns how many were
    sent; failures are retried later (:mod:`.outbox`)."""
    return outbox.deliver(booking_ids)


def ticket_message(booking: Booking, *, message_id: str | None = None) -> mail.EmailMessage:
    """The ticket e-mail of a confirmed booking read with its session, activity, unit and account:
    the QR code PNG and the ``.ics`` attached. ``message_id``: fixed by the outbox row, so that a
    copy sent again is the same message."""
    activity = booking.activity
    url = absolute(ticket_url(booking))
    body = _(
        "您好！\n\n您已报名%(t)s。\n场次：%(when)s\n人数：%(n)d\n票号：%(code)s\n地点：%(venue)s\n\n"
        "入场时请出示附件中的二维码（或电子票页面）：\n%(url)s\n\n"
        "如不能参加，请在开场前取消，把名额留给候补的人。\n\n—— 全国科普月平台（本邮件由系统发送，请勿直接回复）"
    ) % {
        "t": quote_title(activity.title),
        "when": _when(booking),
        "n": booking.seats,
        "code": tickets.display_code(booking.code),
        "venue": activity.venue or "—",
        "url": url,
    }
    message = mail.EmailMessage(
        subject=_("[全国科普月] 电子票：%(t)s") % {"t": " ".join(activity.title.split())[:80]},
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[booking.user.email],
        headers={"Message-ID": message_id} if message_id else None,
    )
    payload = tickets.qr_payload(booking.session_id, booking.code)
    message.attach(f"ticket-{booking.code}.png", tickets.qr_png(payload), "image/png")
    message.attach(
        f"ticket-{booking.code}.ics",
        tickets.booking_ics(booking, page_url=url, location=activity.venue),
        "text/calendar",
    )
    return message


def waitlisted(booking: Booking) -> None:
    activity = booking.activity
    notify(
        _users(booking),
        Kind.REGISTRATION_WAITLIST,
        _("已加入候补：%(t)s") % {"t": activity.title},
        _("%(t)s %(when)s 已满，您已加入候补。有人取消时，名额将按顺序递补，届时会通知您在限定时间内确认。")
        % {"t": quote_title(activity.title), "when": _when(booking)},
        reverse("registrations:mine"),
    )


def offered(booking: Booking) -> None:
    """A freed place is held for this waiting party: inbox, e-mail and a text message with the deadline."""
    activity = booking.activity
    until = booking.offer_expires_at.astimezone(clock.BEIJING)
    notify(
        _users(booking),
        Kind.REGISTRATION_OFFER,
        _("候补递补，请确认：%(t)s") % {"t": activity.title},
        _(
            "%(t)s %(when)s 有名额空出，已为您保留 %(n)d 个名额。请在 %(until)s 前确认，逾期名额将递补给下一位。"
        )
        % {
            "t": quote_title(activity.title),
            "when": _when(booking),
            "n": booking.seats,
            "until": f"{until:%Y-%m-%d %H:%M}",
        },
        reverse("registrations:mine"),
    )
    _sms(
        booking,
        _("您候补的%(t)s有名额空出，请在%(until)s前登录平台“我的活动”确认。")
        % {"t": quote_title(activity.title[:30]), "until": f"{until:%m-%d %H:%M}"},
    )


def promoted(booking: Booking) -> None:
    """A waiting party got its place directly (offers valid 0 hours): like :func:`booked`."""
    booked(booking)


def cancelled(booking: Booking, *, by_unit: bool, reason: str = "") -> None:
    """A booking was cancelled by its holder (inbox only) or by the unit / the activity's withdrawal
    (inbox, e-mail and a text message)."""
    activity = booking.activity
    if by_unit:
        text = _("很抱歉，您报名的%(t)s %(when)s 已被主办单位取消。") % {
            "t": quote_title(activity.title),
            "when": _when(booking),
        }
        if reason:
            text += _("原因：%(r)s") % {"r": reason}
        notify(
            _users(booking),
            Kind.REGISTRATION_CANCELLED,
            _("报名已取消：%(t)s") % {"t": activity.title},
            text,
            reverse("registrations:mine"),
        )
        _sms(
            booking,
            _("您报名的%(t)s已被主办单位取消。%(r)s")
            % {"t": quote_title(activity.title[:30]), "r": reason[:40]},
        )
    else:
        notify(
            _users(booking),
            Kind.REGISTRATION_CANCELLED,
            _("已取消报名：%(t)s") % {"t": activity.title},
            _("您已取消%(t)s %(when)s 的报名。") % {"t": quote_title(activity.title), "when": _when(booking)},
            reverse("registrations:mine"),
            email=False,
        )


def expired(booking: Booking) -> None:
    activity = booking.activity
    notify(
        _users(booking),
        Kind.REGISTRATION_OFFER,
        _("候补名额已过期：%(t)s") % {"t": activity.title},
        _("您未在时限内确认%(t)s %(when)s 的候补名额，名额已递补给下一位。")
        % {"t": quote_title(activity.title), "when": _when(booking)},
        reverse("registrations:mine"),
    )


def moved(booking: Booking, *, old_when: str) -> None:
    activity = booking.activity
    notify(
        _users(booking),
        Kind.REGISTRATION,
        _("场次调整：%(t)s") % {"t": activity.title},
        _("主办单位已将您%(t)s的报名从 %(old)s 调整到 %(new)s。请使用新的电子票入场。")
        % {"t": quote_title(activity.title), "old": old_when, "new": _when(booking)},
        ticket_url(booking),
        email=False,
    )
    outbox.queue(booking)
    _sms(
        booking,
        _("您报名的%(t)s场次已调整为%(new)s，请查看新电子票。")
        % {"t": quote_title(activity.title[:30]), "new": _when(booking)},
    )


def reminder(booking: Booking) -> bool:
    """The reminder the day before (once per booking: the notification key). Returns whether sent."""
    activity = booking.activity
    written = notify(
        _users(booking),
        Kind.REGISTRATION_REMINDER,
        _("明天参加：%(t)s") % {"t": activity.title},
        _("提醒：您报名的%(t)s将于 %(when)s 举行，地点：%(venue)s。入场时请出示电子票。")
        % {"t": quote_title(activity.title), "when": _when(booking), "venue": activity.venue or "—"},
        ticket_url(booking),
        key=f"registration_reminder:{booking.pk}",
    )
    if written:
        _sms(
            booking,
            _("提醒：您报名的%(t)s将于%(when)s举行，请准时参加。")
            % {"t": quote_title(activity.title[:30]), "when": _when(booking)},
        )
    return bool(written)


def when_text(booking: Booking) -> str:
    return _when(booking)
