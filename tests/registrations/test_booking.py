"""Booking rules: capacity, sessions, party size, group caps, window, cut-off, double tap, waitlist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from kepuyue.registrations import services, signals
from kepuyue.registrations.models import Booking, Session, Status
from tests.fixtures_registrations import add_session, configure, make_member, party

pytestmark = pytest.mark.django_db


def test_a_booking_takes_places_and_mails_a_ticket(session, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        booking, created = services.book(
            session, member, party(adults="2", children="1", guardian_consent=True)
        )
    assert created and booking.status == Status.CONFIRMED and booking.seats == 3
    assert Session.objects.get(pk=session.pk).booked == 3
    ticket = [m for m in mail.outbox if "电子票" in m.subject]
    assert ticket and ticket[0].to == ["alice@example.com"]
    assert {a[0] for a in ticket[0].attachments} == {
        f"ticket-{booking.code}.png",
        f"ticket-{booking.code}.ics",
    }
    assert "个人信息" in booking.consent or "姓名" in booking.consent


def test_capacity_is_never_exceeded(config, activity):
    small = add_session(activity, capacity=3)
    members = [make_member() for _ in range(3)]
    services.book(small, members[0], party(adults="2"))
    with pytest.raises(services.SessionFull) as full:
        services.book(small, members[1], party(adults="2"))
    assert full.value.waitlist and "候补" in full.value.messages[0]
    services.book(small, members[2], party())
    assert Session.objects.get(pk=small.pk).booked == 3


def test_sessions_are_booked_separately(config, activity, member):
    morning = add_session(activity, capacity=1, label="上午")
    afternoon = add_session(
        activity, start="2025-09-15 14:00", end="2025-09-15 16:00", capacity=1, label="下午"
    )
    services.book(morning, member, party())
    other = make_member()
    with pytest.raises(services.SessionFull):
        services.book(morning, other, party())
    booking, _ = services.book(afternoon, other, party())
    assert booking.session_id == afternoon.pk
    # The same member may book another session too, once each.
    second, created = services.book(afternoon, member, party(), join_waitlist=True)
    assert created and second.status == Status.WAITLISTED


def test_party_size_limits_and_guardian_consent(session, member):
    with pytest.raises(ValidationError) as too_many:
        services.book(session, member, party(adults="3"))
    assert "adults" in too_many.value.message_dict
    with pytest.raises(ValidationError) as no_consent:
        services.book(session, member, party(children="1"))
    assert "guardian_consent" in no_consent.value.message_dict
    with pytest.raises(ValidationError) as none:
        services.book(session, member, party(adults="0", children="0"))
    assert "adults" in none.value.message_dict
    booking, _ = services.book(session, member, party(adults="1", children="2", guardian_consent=True))
    assert (booking.adults, booking.children, booking.seats) == (1, 2, 3)


def test_a_minor_registers_with_the_guardians_phone_and_consent(session, member):
    with pytest.raises(ValidationError) as errors:
        services.book(session, member, party(minor=True, adults="0", children="1"))
    assert {"guardian_name", "guardian_consent"} <= set(errors.value.message_dict)
    booking, _ = services.book(
        session,
        member,
        party(
            minor=True,
            adults="0",
            children="1",
            guardian_name="张大明",
            guardian_consent=True,
            phone="13900001111",
        ),
    )
    assert booking.minor and booking.guardian_name == "张大明" and booking.phone == "13900001111"


def test_an_id_number_is_asked_only_with_a_reason_and_checked(activity, publisher, member):
    with pytest.raises(ValidationError) as errors:
        configure(activity, publisher, asks_id_number=True)
    assert "id_number_reason" in errors.value.message_dict
    configure(activity, publisher, asks_id_number=True, id_number_reason="生产线安全管理规定")
    session = add_session(activity, capacity=5)
    with pytest.raises(ValidationError) as bad:
        services.book(session, member, party(id_number="110105194912310022"))
    assert "id_number" in bad.value.message_dict
    booking, _ = services.book(session, member, party(id_number="11010519491231002x"))
    assert booking.id_number == "11010519491231002X"
    assert "生产线安全管理规定" in booking.consent


def test_group_bookings_draw_from_their_own_cap(session, member, member2):
    group = {
        "group_name": "杭州二中初二(3)班",
        "name": "王老师",
        "phone": "13812345678",
        "headcount": "25",
        "participant_names": "学生甲\n学生乙",
        "guardian_consent": True,
        "consent": True,
    }
    booking, _ = services.book_group(session, member, group)
    assert booking.kind == "group" and booking.seats == 25
    fresh = Session.objects.get(pk=session.pk)
    assert (fresh.group_booked, fresh.booked) == (25, 0)
    with pytest.raises(services.SessionFull) as full:
        services.book_group(session, member2, {**group, "headcount": "10"})
    assert not full.value.waitlist
    with pytest.raises(ValidationError) as too_big:
        services.book_group(session, member2, {**group, "headcount": "41"})
    assert "seats" in too_big.value.message_dict
    with pytest.raises(ValidationError) as names:
        services.book_group(session, member2, {**group, "headcount": "1", "participant_names": "甲\n乙"})
    assert "participant_names" in names.value.message_dict


def test_the_registration_window(session, member, activity, publisher, clock):
    from tests.activities.factories import bj

    configure(activity, publisher, opens_at=bj("2025-09-11 09:00"), closes_at=bj("2025-09-14 18:00"))
    with pytest.raises(ValidationError, match="尚未开始"):
        services.book(session, member, party())
    clock("2025-09-14T19:00+08:00")
    with pytest.raises(ValidationError, match="已截止"):
        services.book(session, member, party())
    clock("2025-09-12T10:00+08:00")
    assert services.book(session, member, party())[0].status == Status.CONFIRMED
    configure(activity, publisher)
    clock("2025-09-15T09:00+08:00")
    with pytest.raises(ValidationError, match="已开始"):
        services.book(session, make_member(), party())


def test_closed_and_unpublished_activities_take_no_bookings(session, member, activity, publisher):
    services.set_closed(activity, True, actor=publisher, reason="场地检修")
    with pytest.raises(ValidationError, match="场地检修"):
        services.book(session, member, party())
    services.set_closed(activity, False, actor=publisher)
    services.set_session_closed(session, True, actor=publisher)
    with pytest.raises(ValidationError, match="本场次已停止"):
        services.book(session, member, party())


def test_an_unverified_account_cannot_book(session):
    with pytest.raises(services.NotVerified):
        services.book(session, make_member(verified=False), party())


def test_double_tap_books_once(session, member):
    token = services.new_token()
    first, created = services.book(session, member, party(), token=token)
    again, created_again = services.book(session, member, party(), token=token)
    assert created and not created_again and again.pk == first.pk
    # A second form (another token) for the same session returns the same booking.
    third, created_third = services.book(session, member, party(adults="2"), token=services.new_token())
    assert not created_third and third.pk == first.pk
    assert Booking.objects.count() == 1 and Session.objects.get(pk=session.pk).booked == 1


def test_another_accounts_token_is_refused(session, member, member2):
    token = services.new_token()
    services.book(session, member, party(), token=token)
    with pytest.raises(ValidationError, match="提交标识"):
        services.book(session, member2, party(), token=token)


def test_cancel_until_the_cut_off(session, member, clock):
    booking, _ = services.book(session, member, party())
    clock("2025-09-15T07:30+08:00")  # 90 minutes before, the cut-off is 2 hours
    with pytest.raises(ValidationError, match="2 小时内"):
        services.cancel(booking, actor=member)
    clock("2025-09-15T06:59+08:00")
    services.cancel(booking, actor=member)
    assert Booking.objects.get(pk=booking.pk).status == Status.CANCELLED
    assert Session.objects.get(pk=session.pk).booked == 0


def test_only_the_holder_cancels(session, member, member2):
    booking, _ = services.book(session, member, party())
    with pytest.raises(PermissionDenied):
        services.cancel(booking, actor=member2)


def test_waitlist_offer_confirm_and_events(config, activity, django_capture_on_commit_callbacks, sms_outbox):
    full = add_session(activity, capacity=1)
    first, second, third = make_member(), make_member(), make_member()
    received = []
    for signal in (
        signals.registration_created,
        signals.waitlist_offered,
        signals.waitlist_promoted,
        signals.registration_cancelled,
    ):
        signal.connect(
            lambda sender, signal=signal, **kw: received.append((kw["status"], kw["session_id"])),
            weak=False,
            dispatch_uid=f"t{id(signal)}",
        )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            taken, _ = services.book(full, first, party())
            wait2, _ = services.book(full, second, party(phone="13911112222"), join_waitlist=True)
            wait3, _ = services.book(full, third, party(), join_waitlist=True)
        assert (wait2.status, wait3.status) == (Status.WAITLISTED, Status.WAITLISTED)
        with django_capture_on_commit_callbacks(execute=True):
            services.cancel(taken, actor=first)
        wait2.refresh_from_db()
        assert wait2.status == Status.OFFERED
        assert wait2.offer_expires_at == wait2.offered_at + timedelta(hours=24)
        assert Booking.objects.get(pk=wait3.pk).status == Status.WAITLISTED
        assert any(m.to == "13911112222" and "候补" in m.body for m in sms_outbox)
        with django_capture_on_commit_callbacks(execute=True):
            confirmed = services.confirm_offer(wait2, second)
        assert confirmed.status == Status.CONFIRMED
        assert Session.objects.get(pk=full.pk).booked == 1
        statuses = [s for s, _sid in received]
        assert statuses == ["confirmed", "waitlisted", "waitlisted", "cancelled", "offered", "confirmed"]
    finally:
        for signal in (
            signals.registration_created,
            signals.waitlist_offered,
            signals.waitlist_promoted,
            signals.registration_cancelled,
        ):
            signal.disconnect(dispatch_uid=f"t{id(signal)}")


def test_an_offer_expires_and_moves_on(config, activity, clock):
    full = add_session(activity, capacity=1)
    first, second, third = make_member(), make_member(), make_member()
    taken, _ = services.book(full, first, party())
    wait2, _ = services.book(full, second, party(), join_waitlist=True)
    wait3, _ = services.book(full, third, party(), join_waitlist=True)
    services.cancel(taken, actor=first)
    clock("2025-09-11T10:01+08:00")  # 24 hours and a minute later
    assert services.expire_offers() == 1
    assert Booking.objects.get(pk=wait2.pk).status == Status.EXPIRED
    assert Booking.objects.get(pk=wait3.pk).status == Status.OFFERED
    with pytest.raises(ValidationError, match="没有待确认"):
        services.confirm_offer(Booking.objects.get(pk=wait2.pk), second)
    assert Session.objects.get(pk=full.pk).booked == 1


def test_an_offer_never_outlives_the_session_start(config, activity, clock):
    full = add_session(activity, capacity=1)
    first, second = make_member(), make_member()
    taken, _ = services.book(full, first, party())
    wait, _ = services.book(full, second, party(), join_waitlist=True)
    clock("2025-09-15T06:00+08:00")
    services.cancel(taken, actor=first)
    wait.refresh_from_db()
    assert wait.offer_expires_at == full.starts_at


def test_offers_valid_zero_hours_confirm_at_once(activity, publisher):
    configure(activity, publisher, offer_hours=0)
    full = add_session(activity, capacity=1)
    first, second = make_member(), make_member()
    taken, _ = services.book(full, first, party())
    wait, _ = services.book(full, second, party(), join_waitlist=True)
    services.cancel(taken, actor=first)
    assert Booking.objects.get(pk=wait.pk).status == Status.CONFIRMED


def test_the_waitlist_skips_a_party_that_does_not_fit(config, activity):
    session = add_session(activity, capacity=2)
    a, b, c = make_member(), make_member(), make_member()
    one, _ = services.book(session, a, party())
    services.book(session, make_member(), party())
    big, _ = services.book(session, b, party(adults="2"), join_waitlist=True)
    small, _ = services.book(session, c, party(), join_waitlist=True)
    services.cancel(one, actor=a)
    assert Booking.objects.get(pk=big.pk).status == Status.WAITLISTED
    assert Booking.objects.get(pk=small.pk).status == Status.OFFERED


def test_a_raised_capacity_offers_places_to_the_waitlist(config, activity, publisher):
    session = add_session(activity, capacity=1)
    services.book(session, make_member(), party())
    wait, _ = services.book(session, make_member(), party(), join_waitlist=True)
    services.save_session(
        activity,
        {
            "label": "",
            "starts_at": session.starts_at,
            "ends_at": session.ends_at,
            "capacity": 2,
            "group_capacity": 0,
        },
        actor=publisher,
        session=session,
    )
    assert Booking.objects.get(pk=wait.pk).status == Status.OFFERED
    with pytest.raises(ValidationError, match="不能少于"):
        services.save_session(
            activity,
            {
                "label": "",
                "starts_at": session.starts_at,
                "ends_at": session.ends_at,
                "capacity": 1,
                "group_capacity": 0,
            },
            actor=publisher,
            session=session,
        )


def test_no_waitlist_when_the_unit_has_none(activity, publisher):
    configure(activity, publisher, waitlist_enabled=False)
    session = add_session(activity, capacity=1)
    services.book(session, make_member(), party())
    with pytest.raises(services.SessionFull) as full:
        services.book(session, make_member(), party(), join_waitlist=True)
    assert not full.value.waitlist


def test_the_unit_moves_a_booking_and_the_old_qr_is_refused(config, activity, publisher, member, clock):
    from kepuyue.registrations import tickets

    morning = add_session(activity, capacity=1)
    afternoon = add_session(activity, start="2025-09-15 14:00", end="2025-09-15 16:00", capacity=1)
    booking, _ = services.book(morning, member, party())
    old_qr = tickets.qr_payload(morning.pk, booking.code)
    waiting, _ = services.book(morning, make_member(), party(), join_waitlist=True)
    services.move(booking, afternoon, actor=publisher)
    assert Booking.objects.get(pk=booking.pk).session_id == afternoon.pk
    assert Booking.objects.get(pk=waiting.pk).status == Status.OFFERED
    fresh = [Session.objects.get(pk=s.pk) for s in (morning, afternoon)]
    assert [s.booked for s in fresh] == [1, 1]
    confirmed = services.confirm_offer(Booking.objects.get(pk=waiting.pk), waiting.user)
    with pytest.raises(ValidationError, match="名额不足"):
        services.move(confirmed, afternoon, actor=publisher)
    clock("2025-09-15T14:00+08:00")  # at the door: check-in opens 2 h before the start
    outcome = services.check_in(afternoon, old_qr, actor=publisher)
    assert outcome.result == "wrong_session" and "已作废" in outcome.message
    assert (
        services.check_in(afternoon, tickets.qr_payload(afternoon.pk, booking.code), actor=publisher).result
        == "ok"
    )
    with pytest.raises(ValidationError, match="已签到"):
        services.move(Booking.objects.get(pk=booking.pk), morning, actor=publisher)


def test_withdrawing_the_activity_closes_registration_and_tells_registrants(
    session, member, activity, publisher, django_capture_on_commit_callbacks, sms_outbox
):
    from kepuyue.activities import services as activities
    from kepuyue.activities.models import Status as ActivityStatus
    from kepuyue.notifications.models import Notification

    booking, _ = services.book(session, member, party())
    with django_capture_on_commit_callbacks(execute=True):
        activities.transition(activity, ActivityStatus.WITHDRAWN, actor=publisher, reason="场馆临时闭馆")
    booking.refresh_from_db()
    assert booking.status == Status.CANCELLED and booking.cancel_reason == "withdrawn"
    assert Session.objects.get(pk=session.pk).booked == 0
    assert services.config_of(type(activity).objects.get(pk=activity.pk)).closed
    assert Notification.objects.filter(
        user=member, kind="registration.cancelled", body__contains="场馆临时闭馆"
    ).exists()
    assert any("取消" in m.body for m in sms_outbox)


def test_attendance_prefills_the_summary(session, member, activity, publisher, clock, client):
    from kepuyue.activities import summaries
    from kepuyue.registrations import tickets

    booking, _ = services.book(session, member, party(adults="2"))
    clock("2025-09-15T09:00+08:00")  # at the door: check-in opens 2 h before the start
    services.check_in(session, tickets.qr_payload(session.pk, booking.code), actor=publisher)
    assert summaries.attendance(activity) == 2
    clock("2025-09-20T10:00+08:00")
    client.force_login(publisher)
    page = client.get(f"/org/activities/{activity.pk}/summary/").content.decode()
    assert 'value="2"' in page and "签到 2 人" in page


def test_a_party_larger_than_the_places_left_is_told_so_not_full(config, activity, member):
    """Two adults for the last place: "only 1 left, you asked for 2" — "full (1 left)" contradicted itself."""
    small = add_session(activity, capacity=2)
    services.book(small, make_member(), party())
    with pytest.raises(services.SessionFull) as refused:
        services.book(small, member, party(adults="2"))
    assert refused.value.messages == ["剩余名额不足：本场次只剩 1 个名额，您报名 2 人，可以加入候补"]
    services.book(small, make_member(), party())
    with pytest.raises(services.SessionFull) as full:
        services.book(small, member, party())
    assert full.value.messages == ["本场次名额已满，可以加入候补"]
