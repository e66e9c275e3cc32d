"""The pages: the public flow, the unit's pages, the permission matrix and query counts."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from kepuyue.registrations import services, tickets
from kepuyue.registrations.models import Booking, Session, Status
from tests.fixtures_registrations import add_session, make_member, party

pytestmark = pytest.mark.django_db


def test_the_activity_page_shows_the_booking_block_the_same_for_everyone(session, activity, member, client):
    url = reverse("portal:activity", args=[activity.pk])
    anonymous = client.get(url).content.decode()
    assert (
        "选择场次报名" in anonymous and reverse("registrations:availability", args=[activity.pk]) in anonymous
    )
    services.book(session, member, party())
    client.force_login(member)
    signed_in = client.get(url).content.decode()
    # Nothing per visitor in the booking block (the page will be cached for anonymous visitors).

    def block(page):
        start = page.index('id="booking"')
        return page[start : page.index("</section>", start)]

    assert block(anonymous) == block(signed_in)


def test_the_availability_json_is_public_and_the_same_for_everyone(session, activity, member, client):
    services.book(session, member, party(adults="2"))
    response = client.get(reverse("registrations:availability", args=[activity.pk]))
    data = response.json()
    assert response["Cache-Control"].startswith("public") or "public" in response["Cache-Control"]
    assert data["mode"] == "platform"
    [row] = data["sessions"]
    assert (row["available"], row["capacity"], row["open"], row["group_available"]) == (8, 10, True, 30)
    assert "alice" not in response.content.decode()


def test_an_unpublished_activity_has_no_booking_pages(session, activity, client):
    from kepuyue.activities.models import Status as ActivityStatus

    type(activity).objects.filter(pk=activity.pk).update(status=ActivityStatus.SUBMITTED)
    assert client.get(reverse("registrations:availability", args=[activity.pk])).status_code == 404
    assert client.get(reverse("registrations:sessions", args=[activity.pk])).status_code == 404


def test_a_member_books_through_the_pages(
    session, activity, member, client, django_capture_on_commit_callbacks
):
    client.force_login(member)
    page = client.get(reverse("registrations:sessions", args=[activity.pk])).content.decode()
    assert "报名此场" in page
    form = client.get(reverse("registrations:book", args=[session.pk]))
    token = form.context["form"].initial["token"]
    data = {**party(adults="2"), "consent": "on", "token": token}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registrations:book", args=[session.pk]), data)
    booking = Booking.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "registrations:ticket", args=[booking.code]
    )
    # A double tap (the same form sent again) books once.
    again = client.post(reverse("registrations:book", args=[session.pk]), data)
    assert again.status_code == 302 and Booking.objects.count() == 1
    ticket = client.get(response["Location"]).content.decode()
    assert tickets.display_code(booking.code) in ticket and "<svg" in ticket
    ics = client.get(reverse("registrations:ticket_ics", args=[booking.code]))
    assert ics["Content-Type"].startswith("text/calendar") and b"BEGIN:VEVENT" in ics.content
    # The TZID of DTSTART names a VTIMEZONE in the same file (RFC 5545; Outlook shifts times without it).
    assert b"DTSTART;TZID=Asia/Shanghai" in ics.content
    assert b"BEGIN:VTIMEZONE" in ics.content and b"TZID:Asia/Shanghai" in ics.content
    mine = client.get(reverse("registrations:mine")).content.decode()
    assert activity.title in mine and "电子票" in mine


def test_the_form_shows_errors_in_chinese_and_keeps_what_was_typed(session, member, client):
    client.force_login(member)
    response = client.post(
        reverse("registrations:book", args=[session.pk]),
        {"name": "李雷", "phone": "12345", "adults": "1", "children": "0", "token": services.new_token()},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "不是有效的手机号码" in page and "请阅读并同意" in page
    assert 'value="李雷"' in page and Booking.objects.count() == 0


def test_a_full_session_offers_the_waitlist(config, activity, client):
    full = add_session(activity, capacity=1)
    services.book(full, make_member(), party())
    second = make_member()
    client.force_login(second)
    data = {**party(), "consent": "on", "token": services.new_token()}
    page = client.post(reverse("registrations:book", args=[full.pk]), data).content.decode()
    assert "可以加入候补" in page and 'name="join_waitlist"' in page
    response = client.post(reverse("registrations:book", args=[full.pk]), {**data, "join_waitlist": "1"})
    assert response.status_code == 302
    assert Booking.objects.get(user=second).status == Status.WAITLISTED


def test_an_unverified_member_is_sent_to_verify(session, client):
    client.force_login(make_member(verified=False))
    response = client.get(reverse("registrations:book", args=[session.pk]))
    assert response.status_code == 302 and reverse("accounts:verify_contact") in response["Location"]


def test_anonymous_visitors_are_asked_to_sign_in(session, activity, client):
    page = client.get(reverse("registrations:sessions", args=[activity.pk])).content.decode()
    assert "登录" in page and "注册" in page
    response = client.get(reverse("registrations:book", args=[session.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_another_members_ticket_is_404(session, member, member2, client):
    booking, _ = services.book(session, member, party())
    client.force_login(member2)
    assert client.get(reverse("registrations:ticket", args=[booking.code])).status_code == 404
    assert client.post(reverse("registrations:cancel", args=[booking.code])).status_code == 404
    confirmed = {"confirmed": "1"}
    assert client.post(reverse("registrations:cancel", args=[booking.code]), confirmed).status_code == 404
    assert client.get(reverse("registrations:ticket_ics", args=[booking.code])).status_code == 404


def test_confirming_an_offer_through_the_page(config, activity, client):
    full = add_session(activity, capacity=1)
    first, second = make_member(), make_member()
    taken, _ = services.book(full, first, party())
    wait, _ = services.book(full, second, party(), join_waitlist=True)
    services.cancel(taken, actor=first)
    client.force_login(second)
    assert "确认参加" in client.get(reverse("registrations:mine")).content.decode()
    response = client.post(reverse("registrations:confirm", args=[wait.code]))
    assert response.status_code == 302 and Booking.objects.get(pk=wait.pk).status == Status.CONFIRMED


# --- the unit's pages --------------------------------------------------------------------------------


def _staff_urls(activity, session, booking):
    return {
        "home": ("get", reverse("registrations:org_home"), {}),
        "activity": ("get", reverse("registrations:org_activity", args=[activity.pk]), {}),
        "settings": ("get", reverse("registrations:org_settings", args=[activity.pk]), {}),
        "session_new": ("get", reverse("registrations:org_session_new", args=[activity.pk]), {}),
        "session_edit": (
            "get",
            reverse("registrations:org_session_edit", args=[activity.pk, session.pk]),
            {},
        ),
        "bookings": ("get", reverse("registrations:org_bookings", args=[session.pk]), {}),
        "export": ("get", reverse("registrations:org_export", args=[activity.pk, "csv"]), {}),
        "message": ("get", reverse("registrations:org_message", args=[activity.pk]), {}),
        "checkin": ("get", reverse("registrations:checkin", args=[session.pk]), {}),
        "sync": (
            "post",
            reverse("registrations:checkin_sync", args=[session.pk]),
            {"data": "{}", "content_type": "application/json"},
        ),
        "close": ("post", reverse("registrations:org_close", args=[activity.pk]), {}),
        "session_close": ("post", reverse("registrations:org_session_close", args=[session.pk]), {}),
        "booking_cancel": ("post", reverse("registrations:org_booking_cancel", args=[booking.pk]), {}),
        "booking_move": (
            "post",
            reverse("registrations:org_booking_move", args=[booking.pk]),
            {"data": {"to": session.pk}},
        ),
    }


@pytest.mark.parametrize(
    "who, expected",
    [
        ("anonymous", {302}),
        ("public", {403}),
        ("other_unit", {404}),
        ("own_unit", {200, 302, 400}),
        ("revoked", {403}),
    ],
)
def test_permission_matrix(who, expected, session, activity, member, publisher, other_publisher, client):
    from kepuyue.orgs.models import Membership

    booking, _ = services.book(session, member, party())
    users = {"public": member, "other_unit": other_publisher, "own_unit": publisher, "revoked": publisher}
    if who == "revoked":
        Membership.objects.filter(user=publisher).delete()
    if who != "anonymous":
        client.force_login(users[who])
    for name, (method, url, extra) in _staff_urls(activity, session, booking).items():
        if who == "other_unit" and name == "home":
            continue  # their own (empty) list
        response = getattr(client, method)(url, **extra)
        assert response.status_code in expected, (who, name, response.status_code)
    if who != "own_unit":
        assert Booking.objects.get(pk=booking.pk).status == Status.CONFIRMED


def test_the_unit_sets_up_registration_through_the_pages(activity, publisher, client):
    client.force_login(publisher)
    response = client.post(
        reverse("registrations:org_settings", args=[activity.pk]),
        {
            "mode": "platform",
            "max_adults": "2",
            "max_children": "2",
            "max_group_size": "50",
            "waitlist_enabled": "on",
            "offer_hours": "12",
            "cancel_cutoff_hours": "3",
        },
    )
    assert response.status_code == 302
    response = client.post(
        reverse("registrations:org_session_new", args=[activity.pk]),
        {
            "label": "上午场",
            "starts_at": "2025-09-15T09:00",
            "ends_at": "2025-09-15T11:30",
            "capacity": "40",
            "group_capacity": "0",
        },
    )
    assert response.status_code == 302
    session = Session.objects.get(activity=activity)
    assert session.capacity == 40 and session.label == "上午场"
    bad = client.post(
        reverse("registrations:org_session_new", args=[activity.pk]),
        {"starts_at": "2025-10-15T09:00", "ends_at": "2025-10-15T08:00", "capacity": "abc"},
    ).content.decode()
    assert "场次结束时间应晚于开始时间" in bad and "须为整数" in bad


def test_the_unit_messages_registrants(
    session, member, publisher, client, django_capture_on_commit_callbacks
):
    from django.core import mail

    from kepuyue.notifications.models import Notification

    services.book(session, member, party())
    client.force_login(publisher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("registrations:org_message", args=[session.activity_id]),
            {"title": "入场须知", "body": "请提前 15 分钟到场，携带身份证。"},
        )
    assert response.status_code == 302
    assert Notification.objects.filter(
        user=member, kind="registration.message", title__contains="入场须知"
    ).exists()
    assert any("入场须知" in m.subject for m in mail.outbox)


def test_checkin_sync_endpoint(session, member, publisher, client, clock):
    booking, _ = services.book(session, member, party())
    client.force_login(publisher)
    clock("2025-09-15T09:00+08:00")  # at the door: check-in opens 2 h before the start
    url = reverse("registrations:checkin_sync", args=[session.pk])
    body = {"scans": [{"nonce": "abcdefgh1234", "code": tickets.qr_payload(session.pk, booking.code)}]}
    first = client.post(url, json.dumps(body), content_type="application/json").json()
    again = client.post(url, json.dumps(body), content_type="application/json").json()
    assert first["results"][0]["result"] == "ok" and again["results"][0]["result"] == "ok"
    assert first["counts"]["checked"] == 1
    assert client.post(url, "not json", content_type="application/json").status_code == 400
    typed = client.post(
        reverse("registrations:checkin", args=[session.pk]), {"code": tickets.display_code(booking.code)}
    )
    assert "重复签到" in typed.content.decode()


# --- query counts on every list ------------------------------------------------------------------------


def _bookings(session, n):
    for _ in range(n):
        services.book(session, make_member(), party())


@pytest.mark.parametrize("n", [1, 3])
def test_query_count_of_the_bookings_list(n, session, publisher, client, django_assert_max_num_queries):
    _bookings(session, n)
    client.force_login(publisher)
    url = reverse("registrations:org_bookings", args=[session.pk])
    client.get(url)
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("n", [1, 3])
def test_query_count_of_the_unit_lists(n, config, activity, publisher, client, django_assert_max_num_queries):
    for i in range(n):
        add_session(
            activity, start=f"2025-09-15 {9 + i:02d}:00", end=f"2025-09-15 {9 + i:02d}:30", capacity=5
        )
    client.force_login(publisher)
    for url in (reverse("registrations:org_home"), reverse("registrations:org_activity", args=[activity.pk])):
        client.get(url)
        with django_assert_max_num_queries(10):
            assert client.get(url).status_code == 200


@pytest.mark.parametrize("n", [1, 3])
def test_query_count_of_my_bookings(n, config, activity, member, client, django_assert_max_num_queries):
    for i in range(n):
        s = add_session(
            activity, start=f"2025-09-15 {9 + i:02d}:00", end=f"2025-09-15 {9 + i:02d}:30", capacity=5
        )
        services.book(s, member, party())
    client.force_login(member)
    for url in (
        reverse("registrations:mine"),
        reverse("registrations:my_data"),
        reverse("registrations:sessions", args=[activity.pk]),
    ):
        client.get(url)
        with django_assert_max_num_queries(9):
            assert client.get(url).status_code == 200


@pytest.mark.parametrize("n", [1, 3])
def test_query_count_of_the_public_availability(n, config, activity, client, django_assert_max_num_queries):
    for i in range(n):
        add_session(
            activity, start=f"2025-09-15 {9 + i:02d}:00", end=f"2025-09-15 {9 + i:02d}:30", capacity=5
        )
    url = reverse("registrations:availability", args=[activity.pk])
    with django_assert_max_num_queries(2):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(3):
        assert client.get(reverse("portal:activity", args=[activity.pk])).status_code == 200


def test_unit_home_counts_people_once_whatever_the_sessions(config, activity, publisher, client):
    """2 sessions × several bookings: 已报名人数 is the confirmed people (never × the sessions), 场次 2;
    the per-session page's counts are exact too."""
    morning = add_session(activity, capacity=10, label="上午")
    afternoon = add_session(activity, start="2025-09-15 14:00", end="2025-09-15 16:00", capacity=10)
    services.book(morning, make_member(), party(adults="2"))
    services.book(morning, make_member(), party())
    services.book(afternoon, make_member(), party(adults="2"))
    cancelled, _ = services.book(afternoon, make_member(), party())
    services.cancel(cancelled, actor=cancelled.user)
    client.force_login(publisher)
    response = client.get(reverse("registrations:org_home"))
    row = next(a for a in response.context["activities"] if a.pk == activity.pk)
    assert (row.n_sessions, row.people) == (2, 5)
    page = client.get(reverse("registrations:org_activity", args=[activity.pk]))
    assert [(s.people, s.waiting) for s in page.context["sessions"]] == [(3, 0), (2, 0)]


def test_every_mistake_of_the_booking_form_shows_at_once(session, member, client):
    """A count over the field's size used to hide the name, phone and consent messages until it was
    fixed (one message per submit)."""
    client.force_login(member)
    response = client.post(
        reverse("registrations:book", args=[session.pk]),
        {"name": "", "phone": "abc", "adults": "-1", "children": "9" * 23, "token": services.new_token()},
    )
    page = response.content.decode()
    assert response.status_code == 200 and Booking.objects.count() == 0
    for message in ("姓名", "不是有效的手机号码", "请阅读并同意", "成人人数"):
        assert message in page, message
    assert page.count('class="errorlist') >= 4


def test_a_started_session_s_booking_page_says_so_once_and_offers_no_form(session, member, client, clock):
    client.force_login(member)
    clock("2025-09-15T09:30+08:00")  # the session started at 09:00
    url = reverse("registrations:book", args=[session.pk])
    page = client.get(url).content.decode()
    assert "本场次已开始，报名已截止" in page and 'id="booking-form"' not in page and "余位" not in page
    posted = client.post(url, {**party(), "consent": "on", "token": services.new_token()}).content.decode()
    assert posted.count("本场次已开始，报名已截止") == 1 and Booking.objects.count() == 0
