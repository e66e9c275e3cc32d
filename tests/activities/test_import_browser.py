"""A unit imports a sheet on a phone-size screen (390 px), commits it and submits all its drafts with
提交全部草稿 (issue 11 point 5); an interrupted import offers 重试. Screenshots:
``test-artifacts/import-*.png``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kepuyue.activities.models import Activity, ImportJob, Status
from tests.review.conftest import media_root, world  # noqa: F401 - fixtures
from tests.review.test_browser_chain import sign_in

pytestmark = pytest.mark.browser


def test_unit_imports_commits_and_bulk_submits_on_a_phone(
    transactional_db,
    world,  # noqa: F811
    live_server,
    chromium,
    artifacts_dir,
    settings,
    tmp_path,
):
    settings.KEPUYUE_NOW = "2025-08-15T10:00+08:00"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    sheet = tmp_path / "活动信息表.csv"
    sheet.write_text(
        "活动名称,联合行动,品牌活动,开始时间,结束时间,所在省份,所在市,邮政编码\r\n"
        "科学之夜,现代科技馆体系联合行动,科学之夜,2025-09-20 19:00,2025-09-20 21:00,浙江省,杭州市,310000\r\n"
        "机器人工作坊,现代科技馆体系联合行动,科学之夜,2025-09-21 09:00,2025-09-21 09:00,浙江省,杭州市,\r\n"
        "日期不对,现代科技馆体系联合行动,科学之夜,2025-09,,浙江省,杭州市,\r\n",
        encoding="utf-8",
    )
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-CN"
    )
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "pub-zj")
        page.goto(f"{live_server.url}/org/activities/import/")
        page.set_input_files("input[type=file]", str(sheet))
        page.get_by_role("button", name="上传并校验").click()
        page.wait_for_load_state()
        body = page.content()
        assert "逐行结果" in body and "新增" in body and "只有月份" in body and "第 2 行（共 1 行）" in body
        page.screenshot(path=str(artifacts_dir / "import-1-validated.png"), full_page=True)
        page.get_by_role("button", name="确认导入 2 行").click()
        page.wait_for_load_state()
        assert page.locator("[data-testid=bulk-submit]").is_visible()
        page.screenshot(path=str(artifacts_dir / "import-2-done.png"), full_page=True)
        page.locator("[data-testid=bulk-submit]").click()
        page.wait_for_load_state()
        assert "已提交审核 2 个活动" in page.content()
        assert set(Activity.objects.values_list("status", flat=True)) == {Status.SUBMITTED}
        page.screenshot(path=str(artifacts_dir / "import-3-submitted.png"), full_page=True)

        # An import whose worker died: shown as interrupted with a retry button.
        job = ImportJob.objects.get()
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.VALIDATING, heartbeat=timezone.now() - timedelta(hours=1)
        )
        page.goto(f"{live_server.url}/org/activities/import/{job.pk}/")
        assert page.locator("[data-testid=import-retry]").is_visible()
        page.screenshot(path=str(artifacts_dir / "import-4-interrupted.png"), full_page=True)
    finally:
        context.close()
