"""Irreversible actions of a member ask first, without JavaScript: 取消报名 (ticket, my bookings) and
删除我的全部报名信息 / 删除此条信息. A GET shows the question; only the POST of that page
(``confirmed=1``) acts; a POST from an older page without it asks again."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kepuyue.registrations import services
from kepuyue.registrations.models import Booking, Status
from tests.fixtures_registrations import party

pytestmark = pytest.mark.django_db


def test_cancel_from_the_ticket_asks_first(session, member, client):
    booking, _ = services.book(session, member, party())
    client.force_login(member)
    url = reverse("registrations:cancel", args=[booking.code])
    ticket = client.get(reverse("registrations:ticket", args=[booking.code])).content.decode()
    assert f'href="{url}"' in ticket  # a link, not a one-tap POST
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "确定要取消报名吗" in html and 'name="confirmed" value="1"' in html and "返回，不做更改" in html
    assert Booking.objects.get(pk=booking.pk).status == Status.CONFIRMED
    # An old page's POST without the confirmation only asks.
    assert client.post(url).status_code == 200
    assert Booking.objects.get(pk=booking.pk).status == Status.CONFIRMED
    done = client.post(url, {"confirmed": "1"})
    assert done.status_code == 302 and Booking.objects.get(pk=booking.pk).status == Status.CANCELLED


def test_deleting_all_my_data_asks_first(session, member, client):
    booking, _ = services.book(session, member, party(name="韩梅梅"))
    client.force_login(member)
    url = reverse("registrations:delete_data")
    listing = client.get(reverse("registrations:my_data")).content.decode()
    assert 'method="get"' in listing
    html = client.get(url, {"all": "1"}).content.decode()
    assert "永久删除" in html and 'name="all" value="1"' in html and 'name="confirmed"' in html
    assert client.post(url, {"all": "1"}).status_code == 200
    assert Booking.objects.get(pk=booking.pk).name == "韩梅梅"
    assert client.post(url, {"all": "1", "confirmed": "1"}).status_code == 302
    assert Booking.objects.get(pk=booking.pk).name == ""


def test_confirmation_page_fits_a_phone(session, member, client):
    """At 390 px the page is the shared mobile layout: viewport meta, no fixed widths."""
    booking, _ = services.book(session, member, party())
    client.force_login(member)
    html = client.get(reverse("registrations:cancel", args=[booking.code])).content.decode()
    assert 'name="viewport"' in html and "width=device-width" in html
    assert 'aria-labelledby="confirm-title"' in html and "<h1" in html


def test_a_booking_that_can_no_longer_be_cancelled_says_why_before_asking(session, member, client, clock):
    """Fresh try: the cancel page of a session that had ended asked "确定要取消报名吗？" and then refused
    with the 2-hour cut-off's reason. It now says the real reason at once, asks nothing, and the API of
    availability offers no waitlist for a started session."""
    booking, _ = services.book(session, member, party())
    client.force_login(member)
    url = reverse("registrations:cancel", args=[booking.code])
    availability = f"/api/v1/activities/{session.activity_id}/availability"
    assert [r["waitlist"] for r in client.get(availability).json()["sessions"]] == [True]  # before it starts
    clock("2025-09-15T08:00+08:00")  # the session starts at 09:00; cut-off 2 hours before
    within = client.get(url, follow=True).content.decode()
    assert "开场前 2 小时内不能在线取消" in within and 'name="confirmed"' not in within
    clock("2025-09-20T10:00+08:00")  # days after the session
    after = client.get(url, follow=True)
    html = after.content.decode()
    assert after.redirect_chain[-1][0] == reverse("registrations:ticket", args=[booking.code])
    assert "本场次已开始或已结束，不能再取消" in html and "确定要取消报名吗" not in html
    assert "开场前 2 小时" not in html.split("</header>", 1)[-1].split("在线取消已于")[0]
    posted = client.post(url, {"confirmed": "1"}, follow=True).content.decode()
    assert "本场次已开始或已结束，不能再取消" in posted
    assert Booking.objects.get(pk=booking.pk).status == Status.CONFIRMED
    rows = client.get(availability).json()["sessions"]
    assert [(r["open"], r["waitlist"]) for r in rows] == [(False, False)]


def test_after_the_session_the_ticket_shows_no_qr_code_and_my_list_says_not_checked_in(
    session, member, client, clock
):
    """Fresh try: days after the session the ticket page still showed its QR code with "入场时出示二维码",
    and 我的活动 listed the unattended booking as plain 已报名."""
    booking, _ = services.book(session, member, party())
    client.force_login(member)
    ticket = reverse("registrations:ticket", args=[booking.code])
    assert "<svg" in client.get(ticket).content.decode()
    clock("2025-09-20T10:00+08:00")
    html = client.get(ticket).content.decode()
    assert "<svg" not in html and "入场时出示二维码" not in html and "本场次已结束，此票未签到" in html
    mine = client.get(reverse("registrations:mine")).content.decode()
    assert "未签到" in mine
