"""The quiz on a phone in headless Chromium at 390 px: a member signs in, fills in the taker's form,
takes the round, passes, downloads the certificate and appears on the province leaderboard.
Screenshots in ``test-artifacts/quiz-*.png``."""

from __future__ import annotations

import pytest

from kepuyue.quiz.models import Attempt

from .conftest import right_answers

pytestmark = pytest.mark.browser

PASSWORD = "Kepu-yue-2025!"


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    yield page
    context.close()


def _shot(page, artifacts_dir, name):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
    page.screenshot(path=str(artifacts_dir / f"quiz-{name}.png"), full_page=True)


def test_member_takes_the_quiz_passes_downloads_the_certificate_and_is_on_the_board(
    transactional_db, live_server, phone, artifacts_dir, quiz_round, provinces, tmp_path
):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("farmer@example.com", "farmer@example.com", PASSWORD)
    base = live_server.url
    page = phone

    page.goto(f"{base}/quiz/{quiz_round.slug}/")
    _shot(page, artifacts_dir, "1-round")
    page.locator("#take").get_by_role("link", name="登录").click()
    page.get_by_label("用户名或电子邮箱").fill("farmer@example.com")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**/quiz/{quiz_round.slug}/")

    page.get_by_role("link", name="填写答题信息").click()
    page.get_by_label("姓名（印在证书上）").fill("王小农")
    page.get_by_label("年龄（周岁）").fill("35")
    page.get_by_label("所在省份").select_option("330000")
    _shot(page, artifacts_dir, "2-profile")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"**/quiz/{quiz_round.slug}/")

    page.locator("#start-quiz").click()
    page.wait_for_url("**/quiz/attempt/**")
    _shot(page, artifacts_dir, "3-questions")
    attempt = Attempt.objects.get(user__username="farmer@example.com")
    for number, indexes in right_answers(attempt).items():
        for index in indexes:
            page.locator(f'input[name="q{number}"][value="{index}"]').check()
    page.locator("#submit-quiz").click()
    page.wait_for_url("**/result/")
    assert "100 分" in page.locator(".score").inner_text()
    _shot(page, artifacts_dir, "4-result")

    with page.expect_download() as info:
        page.locator("#certificate-link").click()
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    attempt.refresh_from_db()
    assert attempt.certificate_code in download.suggested_filename

    page.goto(f"{base}/quiz/verify/{attempt.certificate_code}/")
    assert "证书有效" in page.locator("#verified").inner_text()
    _shot(page, artifacts_dir, "5-verify")

    page.goto(f"{base}/quiz/{quiz_round.slug}/")
    row = page.locator("#board-provinces tbody tr").first
    assert "浙江省" in row.inner_text() and "100" in row.inner_text()
    assert "王*农" in page.locator("#board-top").inner_text()
    page.locator("#board-title").scroll_into_view_if_needed()
    _shot(page, artifacts_dir, "6-board")
