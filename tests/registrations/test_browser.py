"""The whole public half in headless Chromium at 390 px: a member signs up (e-mail link), books a
session; the session fills; a second member (proved by SMS code) joins the waitlist; the first cancels;
the second confirms the place offered; the unit's staff check the second member and the one who filled
the session in by typing their codes, and the cancelled ticket is flagged. Screenshots in
``test-artifacts/registrations-*.png``."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from django.core import mail
from PIL import Image

from kepuyue.common import sms
from kepuyue.registrations import services, tickets
from kepuyue.registrations.models import Booking, CheckIn, Status
from tests.fixtures_registrations import add_session, configure, make_activity, make_member, party

pytestmark = pytest.mark.browser

PASSWORD = "Kepu-yue-2025!"


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        locale="zh-CN",
        # A phone set to another time zone: the pages still show Beijing time.
        timezone_id="America/Los_Angeles",
    )
    page = context.new_page()
    yield page
    context.close()


def _shot(page, artifacts_dir, name):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
    page.screenshot(path=str(artifacts_dir / f"registrations-{name}.png"), full_page=True)


def _signup(page, base, email, next_path):
    page.goto(f"{base}/accounts/signup/?next={next_path}")
    page.locator("#id_email").fill(email)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="注册").click()


def test_booking_waitlist_and_check_in_on_a_phone(
    transactional_db, live_server, phone, artifacts_dir, settings, unit
):
    from django.contrib.auth import get_user_model

    from kepuyue.orgs.models import Membership

    settings.KEPUYUE_NOW = "2025-09-10T10:00+08:00"
    sms.outbox.clear()
    activity = make_activity(unit, title="科学之夜：走进实验室", venue="杭州科技馆一楼报告厅")
    configure(activity)
    session = add_session(activity, capacity=2, label="上午场")
    staff = get_user_model().objects.create_user("hz-door", "hz-door@example.org", PASSWORD)
    Membership.objects.create(user=staff, organization=unit)
    base = live_server.url
    page = phone

    # 1. The first member signs up from the activity's booking page and proves the e-mail address.
    page.goto(f"{base}/activities/{activity.pk}/")
    page.locator("#booking-link").click()
    page.get_by_role("link", name="注册").first.click()
    page.locator("#id_email").fill("first@example.com")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    _shot(page, artifacts_dir, "1-signup")
    page.get_by_role("button", name="注册").click()
    page.wait_for_url(f"**/registrations/activity/{activity.pk}/")
    [message] = [m for m in mail.outbox if "验证" in m.subject]
    link = re.search(r"https?://\S+", message.body).group(0)
    page.goto(base + "/" + link.split("://", 1)[1].split("/", 1)[1])
    page.goto(f"{base}/registrations/activity/{activity.pk}/")
    _shot(page, artifacts_dir, "2-sessions")

    # 2. … and books the session (one place of two).
    page.get_by_role("link", name="报名此场").click()
    page.get_by_label("姓名", exact=True).fill("王小明")
    page.get_by_label("手机号码", exact=True).fill("13812345678")
    page.get_by_label("我已阅读并同意上述个人信息使用告知").check()
    _shot(page, artifacts_dir, "3-booking-form")
    page.locator("#submit-booking").click()
    page.wait_for_url("**/registrations/ticket/**")
    assert page.locator(".ticket-qr svg").is_visible()
    _shot(page, artifacts_dir, "4-ticket")
    first = Booking.objects.get(user__email="first@example.com")
    # The QR code as the browser paints it (sized by CSS, square) reads back as the signed payload.
    qr = page.locator(".ticket-qr svg")
    box = qr.bounding_box()
    assert box["width"] >= 200 and abs(box["width"] - box["height"]) < 1
    [read] = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))
    assert read.text == tickets.qr_payload(first.session_id, first.code)

    # 3. Someone else takes the last place: the session is full.
    filler, _ = services.book(session, make_member("filler"), party(name="李四"))

    # 4. A second member signs up, proves a mobile number by SMS code and joins the waitlist.
    page.context.clear_cookies()
    _signup(page, base, "second@example.com", f"/registrations/activity/{activity.pk}/")
    page.wait_for_url(f"**/registrations/activity/{activity.pk}/")
    page.locator("#verify-link").click()
    page.get_by_label("手机号码").fill("13987654321")
    page.get_by_role("button", name="发送短信验证码").click()
    code = re.search(r"\d{6}", sms.outbox[-1].body).group(0)
    page.get_by_label("短信验证码").fill(code)
    _shot(page, artifacts_dir, "5-verify-phone")
    page.get_by_role("button", name="验证", exact=True).click()
    page.wait_for_url(f"**/registrations/activity/{activity.pk}/")
    assert page.locator(f"#session-{session.pk} .avail--full").is_visible()
    page.get_by_role("link", name="加入候补").click()
    page.get_by_label("姓名", exact=True).fill("赵小红")
    page.get_by_label("手机号码").fill("13987654321")
    page.get_by_label("我已阅读并同意上述个人信息使用告知").check()
    page.locator("#join-waitlist").click()
    page.wait_for_url("**/registrations/mine/")
    _shot(page, artifacts_dir, "6-waitlisted")
    second = Booking.objects.get(user__email="second@example.com")
    assert second.status == Status.WAITLISTED

    # 5. The first member cancels: the place is offered to the second (inbox, e-mail, SMS).
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/?next=/registrations/mine/")
    page.get_by_label("用户名或电子邮箱").fill("first@example.com")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/registrations/mine/")
    page.locator(f"#booking-{first.pk} .cancel-booking").click()
    # An irreversible action asks first (no JavaScript needed); nothing changed yet.
    page.wait_for_url("**/cancel/")
    assert Booking.objects.get(pk=first.pk).status == Status.CONFIRMED
    page.get_by_role("button", name="确定取消报名").click()
    page.wait_for_url("**/registrations/mine/")
    assert Booking.objects.get(pk=first.pk).status == Status.CANCELLED
    assert Booking.objects.get(pk=second.pk).status == Status.OFFERED
    assert any(m.to == "13987654321" and "候补" in m.body for m in sms.outbox)

    # 6. The second member confirms.
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/?next=/registrations/mine/")
    page.get_by_label("用户名或电子邮箱").fill("second@example.com")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/registrations/mine/")
    _shot(page, artifacts_dir, "7-offer")
    page.locator(".confirm-offer").click()
    page.wait_for_url("**/registrations/ticket/**")
    second_code = page.locator("#ticket-code").inner_text()
    _shot(page, artifacts_dir, "8-confirmed-ticket")
    assert Booking.objects.get(pk=second.pk).status == Status.CONFIRMED

    # 7. At the door (check-in opens 2 hours before the session), the unit checks both holders in by
    # typing their codes; the cancelled ticket is flagged.
    settings.KEPUYUE_NOW = session.starts_at.isoformat()
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/?next=/org/registrations/session/{session.pk}/checkin/")
    page.get_by_label("用户名或电子邮箱").fill("hz-door")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/checkin/")
    result = page.locator("#result")
    page.locator("#code").fill(second_code.lower())
    page.locator("#code-submit").click()
    page.wait_for_function("document.getElementById('result').className === 'ok'")
    assert "签到成功" in result.inner_text()
    # The log shows Beijing time, 24-hour (not the phone's "9:23:03 AM" in its own zone).
    line = page.locator("#log li").first.inner_text()
    stamp = re.match(r"^(\d{2}):(\d{2}):(\d{2})\s", line)
    assert stamp and "AM" not in line and "PM" not in line, line
    beijing = datetime.now(ZoneInfo("Asia/Shanghai"))
    shown = beijing.replace(hour=int(stamp[1]), minute=int(stamp[2]), second=int(stamp[3]))
    assert abs(shown - beijing) < timedelta(minutes=2) or abs(shown - beijing) > timedelta(hours=23)
    # typed with a Chinese input method: full-width letters, digits and dash (fresh try: refused by the
    # page's own check before it reached the server)
    full_width = tickets.display_code(filler.code).translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    page.locator("#code").fill(full_width)
    page.locator("#code-submit").click()
    page.wait_for_function("document.getElementById('result').textContent.includes('李*')")
    page.locator("#code").fill(tickets.display_code(first.code))
    page.locator("#code-submit").click()
    page.wait_for_function("document.getElementById('result').textContent.includes('已取消')")
    page.locator("#code").fill(second_code)
    page.locator("#code-submit").click()
    page.wait_for_function("document.getElementById('result').textContent.includes('重复')")
    _shot(page, artifacts_dir, "9-checkin")
    assert set(Booking.objects.filter(checked_in_at__isnull=False).values_list("pk", flat=True)) == {
        second.pk,
        filler.pk,
    }
    # typed on a connected phone: online check-ins, not 离线签到 (the page sends them through its sync queue)
    assert not CheckIn.objects.filter(session=session, offline=True).exists()
    # The staff session ends (idle timeout) while the page stays open: the next code is refused by the
    # server, and the page says to sign in again — not "offline", and the scan waits unmarked (fresh try:
    # it showed 离线 and retried every 15 s forever, then counted as 离线签到).
    page.context.clear_cookies()
    page.locator("#code").fill(tickets.display_code(tickets.new_code()))  # a code not scanned here yet
    page.locator("#code-submit").click()
    page.wait_for_function("document.getElementById('result').textContent.includes('重新登录')")
    assert "离线" not in page.locator("#result").inner_text()
    queued = page.evaluate(f"JSON.parse(localStorage.getItem('kepuyue-checkin-{session.pk}'))")
    waiting = [item for item in queued if not item["done"]]
    assert len(waiting) == 1 and not waiting[0]["offline"]
    _shot(page, artifacts_dir, "9b-checkin-signed-out")
    page.goto(f"{base}/org/registrations/session/{session.pk}/?status=checked")
    _shot(page, artifacts_dir, "10-unit-list")


def test_a_booking_that_finds_the_session_just_filled_joins_the_waitlist_in_one_tap(
    transactional_db, live_server, phone, artifacts_dir, settings, unit
):
    from django.test import Client

    settings.KEPUYUE_NOW = "2025-09-10T10:00+08:00"
    activity = make_activity(unit, title="科学之夜：走进实验室", venue="杭州科技馆一楼报告厅")
    configure(activity)
    session = add_session(activity, capacity=1, label="上午场")
    member = make_member()
    client = Client()
    client.force_login(member)
    phone.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    phone.goto(f"{live_server.url}/registrations/session/{session.pk}/book/")
    phone.locator("#id_name").fill("王小红")
    phone.locator("#id_phone").fill("13900001111")
    phone.locator("#id_consent").check()
    services.book(session, make_member(), party())  # someone else takes the last place meanwhile
    phone.locator("#submit-booking").click()
    phone.wait_for_selector("#join-waitlist")
    assert "名额已满" in phone.locator("#form-errors").inner_text()
    _shot(phone, artifacts_dir, "just-filled")
    phone.locator("#join-waitlist").click()
    phone.wait_for_url(re.compile(r"/registrations/mine/"))
    waiting = Booking.objects.get(user=member)
    assert (waiting.status, waiting.name, waiting.phone) == (Status.WAITLISTED, "王小红", "13900001111")
