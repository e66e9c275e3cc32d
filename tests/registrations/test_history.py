"""A change to an activity never rewrites history (计划 §12 报名): withdrawing or returning it, changing
or moving sessions touch only bookings of sessions not yet started; checked-in bookings and those of
sessions already started stay as they were, attendance included, and nobody is told about an event
already past."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kepuyue.registrations import services, tickets
from kepuyue.registrations.models import Booking, Session, Status
from tests.activities.factories import bj
from tests.fixtures_registrations import add_session, make_member, party

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_days(config, activity, publisher, clock):
    """A past session (09-15 morning, one checked in, one no-show) and a future one (09-16)."""
    past = add_session(activity, capacity=10, label="第一天")
    future = add_session(
        activity, start="2025-09-16 14:00", end="2025-09-16 16:00", capacity=10, label="第二天"
    )
    came, no_show, coming = make_member(), make_member(), make_member()
    attended, _ = services.book(past, came, party(adults="2"))
    missed, _ = services.book(past, no_show, party())
    upcoming, _ = services.book(future, coming, party(adults="2"))
    clock("2025-09-15T09:30+08:00")
    services.check_in(past, tickets.qr_payload(past.pk, attended.code), actor=publisher)
    clock("2025-09-15T12:00+08:00")
    return past, future, attended, missed, upcoming


def _withdraw(activity, publisher, capture, to="withdrawn"):
    from kepuyue.activities import services as activities

    with capture(execute=True):
        activities.transition(activity, to, actor=publisher, reason="场馆临时闭馆")


def test_withdrawal_cancels_only_upcoming_bookings_and_tells_only_their_holders(
    two_days, activity, publisher, django_capture_on_commit_callbacks, sms_outbox
):
    from kepuyue.activities import summaries
    from kepuyue.notifications.models import Notification

    past, future, attended, missed, upcoming = two_days
    assert summaries.attendance(activity) == 2
    sms_outbox.clear()
    _withdraw(activity, publisher, django_capture_on_commit_callbacks)

    attended.refresh_from_db()
    missed.refresh_from_db()
    upcoming.refresh_from_db()
    assert attended.status == Status.CONFIRMED and attended.checked_in_at is not None
    assert attended.cancelled_at is None and attended.cancel_reason == ""
    assert missed.status == Status.CONFIRMED and missed.cancelled_at is None
    assert upcoming.status == Status.CANCELLED and upcoming.cancel_reason == "withdrawn"
    # Places: the past session keeps its count, the future one is freed.
    assert Session.objects.get(pk=past.pk).booked == 3
    assert Session.objects.get(pk=future.pk).booked == 0
    assert summaries.attendance(activity) == 2
    told = set(Notification.objects.filter(kind="registration.cancelled").values_list("user_id", flat=True))
    assert told == {upcoming.user_id}
    assert Notification.objects.filter(kind="registration.cancelled").count() == 1


def test_withdrawal_after_the_activity_ended_changes_nothing(
    two_days, activity, publisher, clock, django_capture_on_commit_callbacks, sms_outbox
):
    from django.core import mail

    from kepuyue.notifications.models import Notification

    clock("2025-09-20T10:00+08:00")
    before = list(Booking.objects.order_by("pk").values_list("status", "checked_in_at", "cancelled_at"))
    mail.outbox.clear()
    sms_outbox.clear()
    _withdraw(activity, publisher, django_capture_on_commit_callbacks)
    after = list(Booking.objects.order_by("pk").values_list("status", "checked_in_at", "cancelled_at"))
    assert after == before
    assert not Notification.objects.filter(kind="registration.cancelled").exists()
    assert not sms_outbox and not [m for m in mail.outbox if "取消" in m.subject + m.body]
    # Registration is closed all the same.
    assert services.config_of(type(activity).objects.get(pk=activity.pk)).closed


def test_unit_cannot_cancel_or_move_a_started_sessions_booking(two_days, publisher):
    past, future, attended, missed, upcoming = two_days
    with pytest.raises(ValidationError, match="已开始或已结束"):
        services.cancel(missed, actor=publisher, by_unit=True, reason="补录")
    with pytest.raises(ValidationError, match="已开始或已结束"):
        services.move(missed, future, actor=publisher)
    with pytest.raises(ValidationError, match="目标场次已开始"):
        services.move(upcoming, past, actor=publisher)
    assert Booking.objects.get(pk=missed.pk).status == Status.CONFIRMED
    assert services.is_history(attended) and services.is_history(missed)
    assert not services.is_history(upcoming)


def test_a_started_sessions_times_cannot_change(two_days, activity):
    past, *_ = two_days
    with pytest.raises(ValidationError) as refused:
        services.save_session(
            activity,
            {
                "label": past.label,
                "starts_at": bj("2025-09-15 10:00"),
                "ends_at": bj("2025-09-15 11:00"),
                "capacity": 20,
                "group_capacity": 0,
            },
            actor=None,
            session=past,
        )
    assert "不能修改时间" in str(refused.value)
    # Its capacity still may (nothing in the past changes).
    services.save_session(
        activity,
        {
            "label": past.label,
            "starts_at": past.starts_at,
            "ends_at": past.ends_at,
            "capacity": 20,
            "group_capacity": 0,
        },
        actor=None,
        session=past,
    )
    assert Session.objects.get(pk=past.pk).capacity == 20


def test_a_member_deleting_their_data_anonymises_history_without_cancelling_it(two_days):
    """PIPL deletion by the member: the upcoming booking is cancelled (places freed); the started
    session's bookings — the checked-in one and the no-show — keep their status and the session its
    count; every one loses its personal data."""
    from kepuyue.registrations.services.privacy import delete_my_data

    past, future, attended, missed, upcoming = two_days
    for booking in (attended, missed, upcoming):
        assert delete_my_data(booking.user, booking) == 1
    for booking in (attended, missed, upcoming):
        booking.refresh_from_db()
        assert (booking.name, booking.phone, booking.user_id) == ("", "", None)
        assert booking.anonymised_at is not None
    assert attended.status == Status.CONFIRMED and attended.checked_in_at is not None
    assert missed.status == Status.CONFIRMED
    assert upcoming.status == Status.CANCELLED
    assert Session.objects.get(pk=past.pk).booked == attended.seats + missed.seats
    assert Session.objects.get(pk=future.pk).booked == 0
