"""Issue 11 acceptance in headless Chromium at 390 px: a platform administrator invites a unit account
from the staff pages (no Django admin, no ids), the unit opens the one-time link and sets its password,
imports a sheet, adds a poster, bulk-submits, and the administrator reviews with the poster and the
description visible. Screenshots go to a temporary directory (printed on failure).

The unit submits every draft of the import in one step (提交全部草稿, ``data-testid="bulk-submit"``)."""

from __future__ import annotations

import io
import re

import pytest
from django.core import mail

from kepuyue.activities.models import Activity, Status
from kepuyue.audit.models import AuditEntry
from kepuyue.orgs.models import Membership, Organization
from tests.fixtures_accounts import STAFF_PASSWORD, create_staff, totp_code, totp_device

pytestmark = pytest.mark.browser

WIDTH = 390
NEW_PASSWORD = "Kepu-Danwei-2025!"
SHEET = (
    "活动名称,品牌活动,开始时间,结束时间,所在省份,所在市,所在区县,活动地点,活动形式,面向对象,活动主题,"
    "预计参与人数,活动简介,活动详情,联系人,联系电话\n"
    "低碳生活科普体验日,科学一千零一夜,2025-09-12 09:00,2025-09-12 16:00,浙江省,杭州市,西湖区,"
    "一楼大厅,线下,青少年,生态环保,300,动手体验低碳生活,"
    '"## 活动安排\n\n- 上午：**碳足迹**计算\n- 下午：节能实验",王老师,0571-88881234\n'
    "科学之夜开放,科学之夜,2025-09-19 18:00,2025-09-19 21:00,浙江省,杭州市,西湖区,"
    "展厅,线下,家庭亲子,科学文化,500,夜间开放,夜场讲解与互动,王老师,0571-88881234\n"
)


def png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (300, 400), (11, 92, 173))
    ImageDraw.Draw(image).rectangle((30, 30, 270, 370), outline="white", width=8)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def phone(chromium):
    context = chromium.new_context(
        viewport={"width": WIDTH, "height": 844}, device_scale_factor=2, locale="zh-CN"
    )
    return context, context.new_page()


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_invite_set_password_import_bulk_submit_review(
    transactional_db, regions, campaign_2025, live_server, chromium, settings, tmp_path, monkeypatch
):
    from django.core.files.storage import FileSystemStorage

    from kepuyue.activities.models import ImportJob

    settings.KEPUYUE_NOW = "2025-08-20T10:00+08:00"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    # The import file's storage was built when the model loaded: point it at the temporary folder too,
    # so the test leaves nothing in var/ (issue 11.7).
    monkeypatch.setattr(
        ImportJob._meta.get_field("file"), "storage", FileSystemStorage(location=tmp_path / "private")
    )
    shots = tmp_path / "shots"
    shots.mkdir()
    print(f"screenshots: {shots}")
    base = live_server.url
    unit = Organization.objects.create(name="杭州低碳科技馆", type_id="science_museum", region_id="330106")
    admin_user = create_staff("zj-admin", role="platform_admin", region="330000")
    device = totp_device(admin_user)

    admin_ctx, admin = phone(chromium)
    unit_ctx, page = phone(chromium)
    try:
        # 1. The administrator signs in (password + TOTP) and invites a unit account by the unit's name.
        admin.goto(f"{base}/accounts/login/")
        admin.get_by_label("用户名或电子邮箱").fill("zj-admin")
        admin.get_by_label("密码").fill(STAFF_PASSWORD)
        admin.get_by_role("button", name="登录").click()
        admin.wait_for_url(lambda url: "/accounts/two-factor/" in url)
        admin.fill("input[name=token]", totp_code(device))
        admin.locator("#main form button[type=submit]").first.click()
        admin.wait_for_load_state()
        admin.goto(f"{base}/accounts/staff/")
        admin.get_by_role("link", name="新建账号并邀请").click()
        admin.get_by_label("姓名").fill("王老师")
        admin.get_by_label("所属单位").fill("杭州低碳")  # suggestions come from the JSON endpoint
        admin.wait_for_timeout(600)
        options = admin.eval_on_selector_all("#names-organization option", "els => els.map(e => e.value)")
        assert options == ["杭州低碳科技馆"], options
        admin.get_by_label("所属单位").fill("杭州低碳科技馆")
        admin.get_by_label("电子邮箱").fill("Wang@Example.org")
        assert fits(admin)
        admin.screenshot(path=str(shots / "1-invite-form.png"), full_page=True)
        admin.get_by_role("button", name="创建并发送邀请").click()
        admin.wait_for_load_state()
        assert "已创建账号 wang@example.org" in admin.content()
        admin.screenshot(path=str(shots / "2-account.png"), full_page=True)
        assert Membership.objects.get(user__username="wang@example.org").organization == unit

        # 2. The unit opens the one-time link and chooses its password; then signs in.
        link = re.search(r"https?://\S+/accounts/invite/\S+/", mail.outbox[-1].body).group(0)
        path = link.split("/accounts/", 1)[1]
        page.goto(f"{base}/accounts/{path}")
        page.fill("input[name=new_password1]", NEW_PASSWORD)
        page.fill("input[name=new_password2]", NEW_PASSWORD)
        assert fits(page)
        page.screenshot(path=str(shots / "3-set-password.png"), full_page=True)
        page.get_by_role("button", name="设置密码").click()
        page.wait_for_url(lambda url: "/accounts/login/" in url)
        page.goto(f"{base}/accounts/{path}")
        assert "邀请链接无效" in page.content()  # single use
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("用户名或电子邮箱").fill("wang@example.org")
        page.get_by_label("密码").fill(NEW_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()

        # 3. It imports a sheet (validate, then commit).
        sheet = tmp_path / "活动信息表.csv"
        sheet.write_text(SHEET, encoding="utf-8")
        page.goto(f"{base}/org/activities/import/")
        page.set_input_files("input[type=file]", str(sheet))
        page.get_by_role("button", name="上传并校验").click()
        page.wait_for_load_state()
        page.get_by_role("button", name=re.compile("确认导入")).click()
        page.wait_for_load_state()
        page.screenshot(path=str(shots / "4-imported.png"), full_page=True)
        drafts = list(Activity.objects.filter(organizer=unit).order_by("starts_at"))
        assert [a.status for a in drafts] == [Status.DRAFT, Status.DRAFT], [a.title for a in drafts]
        first = drafts[0]
        result_url = page.url

        # 4. A poster for the first activity (the sheet has no pictures).
        poster = tmp_path / "poster.png"
        poster.write_bytes(png())
        page.goto(f"{base}/org/activities/{first.pk}/edit/")
        page.set_input_files("input[name=poster]", str(poster))
        page.get_by_role("button", name="保存草稿").click()
        page.wait_for_load_state()
        first.refresh_from_db()
        assert first.poster, page.content()[:3000]

        # 5. Bulk-submit from the import result page.
        page.goto(result_url)
        button = page.locator('[data-testid="bulk-submit"]')
        assert button.count() == 1, page.content()[:3000]
        button.click()
        page.wait_for_load_state()
        page.screenshot(path=str(shots / "5-submitted.png"), full_page=True)
        assert set(Activity.objects.filter(organizer=unit).values_list("status", flat=True)) == {
            Status.SUBMITTED
        }

        # 6. The administrator filters the desk by the unit's name and reviews with poster and description.
        admin.goto(f"{base}/org/review/")
        admin.get_by_label("单位", exact=True).fill("杭州低碳科技馆")
        admin.get_by_role("button", name="筛选").click()
        admin.wait_for_load_state()
        assert admin.locator("input[name=ids]").count() == 2
        admin.screenshot(path=str(shots / "6-queue.png"), full_page=True)
        admin.get_by_role("link", name="低碳生活科普体验日").click()
        admin.wait_for_load_state()
        poster_img = admin.locator("#poster img")
        assert poster_img.is_visible()
        poster_src = poster_img.get_attribute("src")
        assert admin.request.get(f"{base}{poster_src}").status == 200, poster_src
        admin.wait_for_function("document.querySelector('#poster img').naturalWidth === 300", timeout=10_000)
        assert admin.locator("#description strong", has_text="碳足迹").is_visible()
        assert admin.locator("#audiences").inner_text() == "青少年"
        assert "300" in admin.locator("#expected").inner_text()
        assert fits(admin)
        admin.screenshot(path=str(shots / "7-review.png"), full_page=True)
        admin.get_by_role("button", name="通过并发布").click()
        admin.wait_for_load_state()
        assert Activity.objects.get(pk=first.pk).status == Status.PUBLISHED
    finally:
        admin_ctx.close()
        unit_ctx.close()

    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"account.create", "account.invite", "account.invitation_accept", "activity.approve"} <= actions
