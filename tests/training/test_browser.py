"""The 大讲堂 on a phone in headless Chromium at 390 px (issue 14): a farmer with a public account finds
the course, enrols in its offline lesson through the activity's registration, gets a ticket; on the day
the unit checks the farmer in by the ticket's code, and the course page counts the attendance.
Screenshots in ``test-artifacts/training-*.png``."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from kepuyue.registrations.models import Booking
from kepuyue.training.management.commands.load_sample_training import SLUG
from kepuyue.training.models import Course, Mode
from tests.fixtures_registrations import make_member

pytestmark = pytest.mark.browser

PASSWORD = "Pw-member-2025"


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-CN"
    )
    page = context.new_page()
    yield page
    context.close()


def _shot(page, artifacts_dir, name):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
    page.screenshot(path=str(artifacts_dir / f"training-{name}.png"), full_page=True)


def _login(page, base, username, password, next_path):
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.get_by_label("用户名或电子邮箱").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_a_farmer_enrols_in_an_offline_lesson_and_is_checked_in(
    transactional_db, live_server, phone, artifacts_dir, settings, regions, campaign_2025
):
    from django.contrib.auth import get_user_model

    from kepuyue.orgs.models import Membership

    settings.KEPUYUE_NOW = "2025-09-10T10:00+08:00"
    call_command("load_sample_training", stdout=open("/dev/null", "w"))  # noqa: SIM115
    course = Course.objects.get(slug=SLUG)
    lesson = course.lessons.get(mode=Mode.OFFLINE)
    make_member("farmer")  # farmer@example.com, e-mail proved
    door = get_user_model().objects.create_user("njx-door", "njx-door@example.org", PASSWORD)
    Membership.objects.create(user=door, organization=course.organizer)
    base = live_server.url
    page = phone

    # 1. The farmer finds the course among the 大讲堂's and opens it.
    page.goto(f"{base}/training/")
    _shot(page, artifacts_dir, "1-courses")
    page.get_by_role("link", name=course.title).click()
    page.wait_for_url(f"**/training/kepuyue-2025/{SLUG}/")
    assert "观看回放" in page.locator(f"#lesson-{course.lessons.get(order=1).pk}").inner_text()
    _shot(page, artifacts_dir, "2-course")

    # 2. 报名参加 leads to the activity's sessions (the registrations app); the farmer signs in and books.
    page.locator(f"#lesson-{lesson.pk} .enrol").click()
    page.wait_for_url(f"**/registrations/activity/{lesson.activity_id}/")
    _login(page, base, "farmer@example.com", PASSWORD, f"/registrations/activity/{lesson.activity_id}/")
    page.wait_for_url(f"**/registrations/activity/{lesson.activity_id}/")
    page.get_by_role("link", name="报名此场").click()
    page.get_by_label("姓名", exact=True).fill("李大山")
    page.get_by_label("手机号码", exact=True).fill("13812345678")
    page.get_by_label("我已阅读并同意上述个人信息使用告知").check()
    _shot(page, artifacts_dir, "3-booking-form")
    page.locator("#submit-booking").click()
    page.wait_for_url("**/registrations/ticket/**")
    code = page.locator("#ticket-code").inner_text()
    _shot(page, artifacts_dir, "4-ticket")
    booking = Booking.objects.get(user__username="farmer@example.com")
    assert booking.activity_id == lesson.activity_id and booking.status == "confirmed"

    # 3. On the day, the unit checks the farmer in by typing the ticket's code.
    settings.KEPUYUE_NOW = "2025-09-16T09:35+08:00"
    page.context.clear_cookies()
    session = booking.session
    _login(page, base, "njx-door", PASSWORD, f"/org/registrations/session/{session.pk}/checkin/")
    page.wait_for_url("**/checkin/")
    page.locator("#code").fill(code)
    page.locator("#code-submit").click()
    page.wait_for_function("document.getElementById('result').className === 'ok'")
    assert "签到成功" in page.locator("#result").inner_text()
    _shot(page, artifacts_dir, "5-checkin")

    # 4. The course counts the attendance.
    page.goto(f"{base}/training/kepuyue-2025/{SLUG}/")
    assert "参训 1 人次（线下签到 1，线上 0）" in page.locator("#attendance").inner_text()
    _shot(page, artifacts_dir, "6-attendance")
