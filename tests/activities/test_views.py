"""The staff pages: publish, edit, submit, my activities, import and export."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from kepuyue.activities import services
from kepuyue.activities.models import Activity, ImportJob, Status
from kepuyue.orgs.models import Membership, Organization
from tests.activities.helpers import write_xlsx
from tests.fixtures_accounts import login_staff

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.activities.urls")]


@pytest.fixture
def form_data(action):
    museums = action("science-museums")
    return {
        "joint_action": museums.pk,
        "brand": museums.brands.get(slug="science-nights").pk,
        "title": "杭州科技馆科学之夜",
        "starts_at": "2025-09-20T19:00",
        "ends_at": "2025-09-20T21:00",
        "form": "offline",
        "region": "浙江省杭州市西湖区",
        "venue": "杭州科技馆",
        "audiences": ["1", "256"],
        "topics": ["1"],
        "contact_phone": "13812345678",
        "action": "draft",
    }


@pytest.fixture
def other_unit(plan):
    return Organization.objects.create(name="宁波科技馆", type_id="science_museum")


def test_publish_form_saves_draft_for_own_organization(staff_client, unit, other_unit, form_data):
    response = staff_client.post(
        reverse("activities:create"), {**form_data, "organizer": other_unit.pk, "organizer_id": other_unit.pk}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    activity = Activity.objects.get()
    assert activity.organizer == unit  # never taken from the POST data
    assert activity.status == Status.DRAFT
    assert activity.county_code == "330106"
    assert activity.audiences == 1 | 256
    assert activity not in services.public_activities()


def test_publish_form_submit_button_submits(staff_client, form_data):
    staff_client.post(reverse("activities:create"), {**form_data, "action": "submit"})
    assert Activity.objects.get().status == Status.SUBMITTED


def test_publish_form_shows_rule_errors_in_chinese(staff_client, action, form_data):
    other_brand = action("universities").brands.first()
    response = staff_client.post(
        reverse("activities:create"),
        {**form_data, "brand": other_brand.pk, "ends_at": "2025-09-20T18:00", "form": "online"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "不属于现代科技馆体系联合行动" in page
    assert "结束时间不能早于开始时间" in page
    assert "必须填写线上地址" in page
    assert not Activity.objects.exists()


def test_publish_form_without_joint_action_is_campaign_wide(staff_client, plan, form_data):
    page = staff_client.get(reverse("activities:create")).content.decode()
    assert '<option value="" selected>不属于联合行动（全国科普月活动）</option>' in page
    data = {**form_data, "joint_action": "", "brand": "", "action": "submit"}
    # A brand needs its joint action; September only for a campaign-wide activity.
    page = staff_client.post(
        reverse("activities:create"), {**data, "brand": form_data["brand"], "ends_at": "2025-10-15T10:00"}
    ).content.decode()
    assert "不属于联合行动的全国科普月活动不能标记品牌活动" in page
    assert "全国科普月活动时间为2025年9月1日至9月30日" in page
    assert not Activity.objects.exists()
    response = staff_client.post(reverse("activities:create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    activity = Activity.objects.get()
    assert activity.joint_action is None and activity.campaign == plan
    assert activity.status == Status.SUBMITTED
    listing = staff_client.get(reverse("activities:mine")).content.decode()
    assert "全国科普月活动" in listing


def test_publish_form_unknown_region(staff_client, form_data):
    response = staff_client.post(reverse("activities:create"), {**form_data, "region": "999999"})
    assert "区划代码 999999 不存在" in response.content.decode()


def test_publish_form_poster_sniffed(staff_client, form_data, media_root):
    fake = SimpleUploadedFile("poster.png", b"<svg/>", content_type="image/png")
    response = staff_client.post(reverse("activities:create"), {**form_data, "poster": fake})
    assert "海报只能是 JPEG、PNG 或 WebP 图片" in response.content.decode()
    assert not Activity.objects.exists()
    assert not media_root.exists() or not [p for p in media_root.rglob("*") if p.is_file()]


def test_publish_form_brand_choices_grouped_by_joint_action(staff_client):
    page = staff_client.get(reverse("activities:create")).content.decode()
    assert '<optgroup label="现代科技馆体系联合行动">' in page
    assert 'data-filter-by="id_joint_action"' in page


def test_edit_and_submit_own_activity(staff_client, form_data):
    staff_client.post(reverse("activities:create"), form_data)
    activity = Activity.objects.get()
    response = staff_client.post(
        reverse("activities:edit", args=[activity.pk]), {**form_data, "title": "改名"}
    )
    assert response.status_code == 302
    assert Activity.objects.get().title == "改名"
    staff_client.post(reverse("activities:submit", args=[activity.pk]))
    assert Activity.objects.get().status == Status.SUBMITTED
    # A submitted activity is not editable any more.
    response = staff_client.get(reverse("activities:edit", args=[activity.pk]))
    assert response.status_code == 302


def test_other_units_activity_is_404(staff_client, other_unit, action, form_data):
    from tests.activities.factories import bj

    theirs = services.create_activity(
        other_unit,
        {
            "joint_action": action("science-museums"),
            "brand": action("science-museums").brands.first(),
            "title": "别人的活动",
            "starts_at": bj("2025-09-20 10:00"),
            "ends_at": bj("2025-09-20 12:00"),
        },
    )
    assert staff_client.get(reverse("activities:edit", args=[theirs.pk])).status_code == 404
    assert staff_client.post(reverse("activities:edit", args=[theirs.pk]), form_data).status_code == 404
    assert staff_client.post(reverse("activities:submit", args=[theirs.pk])).status_code == 404
    assert Activity.objects.get().title == "别人的活动"


@pytest.mark.parametrize("name", ["mine", "create", "import"])
def test_pages_need_login_and_membership(client, django_user_model, plan, name):
    url = reverse(f"activities:{name}")
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(django_user_model.objects.create_user("nobody", password="pw-nobody-1"))
    assert client.get(url).status_code == 403


def test_my_activities_lists_with_constant_queries(staff_client, unit, action, django_assert_num_queries):
    from tests.activities.factories import bj

    def add(n):
        for i in range(n):
            services.create_activity(
                unit,
                {
                    "joint_action": action("science-museums"),
                    "brand": action("science-museums").brands.first(),
                    "title": f"活动{Activity.objects.count()}-{i}",
                    "starts_at": bj("2025-09-20 10:00"),
                    "ends_at": bj("2025-09-20 12:00"),
                },
            )

    add(1)
    staff_client.get(reverse("activities:mine"))  # warm the session
    # session, user, membership, role grants (the staff menu), unread notifications (the header),
    # capped count, the page's ids, its rows (common.paging.BoundedPaginator)
    with django_assert_num_queries(8) as one:
        page = staff_client.get(reverse("activities:mine")).content.decode()
    assert "草稿" in page
    add(2)
    with django_assert_num_queries(len(one.captured_queries)):
        staff_client.get(reverse("activities:mine"))


def test_export_views_give_owner_unmasked_phone(staff_client, form_data):
    staff_client.post(reverse("activities:create"), form_data)
    response = staff_client.get(reverse("activities:export", args=["csv"]))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "13812345678" in body
    response = staff_client.get(reverse("activities:export", args=["xlsx"]))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.active.max_row == 2
    assert staff_client.get(reverse("activities:export", args=["pdf"])).status_code == 404


def test_export_follows_the_list_filters(staff_client, form_data):
    staff_client.post(reverse("activities:create"), form_data)
    second = dict(form_data, title="另一场完全不同的讲座")
    staff_client.post(reverse("activities:create"), second)
    url = reverse("activities:export", args=["csv"])
    every = b"".join(staff_client.get(url).streaming_content).decode("utf-8-sig")
    assert form_data["title"] in every and "另一场完全不同的讲座" in every
    only = b"".join(staff_client.get(url, {"q": "完全不同"}).streaming_content).decode("utf-8-sig")
    assert "另一场完全不同的讲座" in only and form_data["title"] not in only


def test_import_template_download(staff_client):
    response = staff_client.get(reverse("activities:import_template"))
    assert response["Content-Disposition"].startswith(
        "attachment; filename=\"activities-template.xlsx\"; filename*=UTF-8''"
    )
    assert load_workbook(io.BytesIO(response.content)).sheetnames[0] == "活动信息表"


def test_import_flow_validate_then_commit(staff_client, unit, tmp_path, django_capture_on_commit_callbacks):
    path = write_xlsx(
        tmp_path / "acts.xlsx",
        [
            ["活动名称", "联合行动", "品牌活动", "开始时间", "结束时间", "省份"],
            [
                "导入的活动",
                "现代科技馆体系联合行动",
                "科学之夜",
                "2025-09-20 10:00",
                "2025-09-20 12:00",
                "浙江省",
            ],
            ["日期错误的活动", "现代科技馆体系联合行动", "科学之夜", "2025-09", "", "浙江省"],
        ],
    )
    with django_capture_on_commit_callbacks(execute=True), open(path, "rb") as handle:
        response = staff_client.post(reverse("activities:import"), {"file": handle})
    job = ImportJob.objects.get()
    assert response.url == reverse("activities:import_job", args=[job.pk])
    assert job.organization == unit and job.original_name == "acts.xlsx"
    assert job.state == ImportJob.State.VALIDATED and job.valid_rows == 1
    page = staff_client.get(response.url).content.decode()
    assert "共 2 行，可导入 1 行" in page and "只有月份" in page and 'http-equiv="refresh"' not in page
    report = staff_client.get(reverse("activities:import_report", args=[job.pk]))
    # Header, the failed row's problem, the valid row's outcome (新增).
    assert load_workbook(io.BytesIO(report.content)).active.max_row == 3
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("activities:import_commit", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and job.created_count == 1
    from kepuyue.audit.models import AuditEntry

    audited = AuditEntry.objects.get(action="activity.import")
    assert audited.organization_id == unit.pk and audited.data["created"] == 1
    assert (
        "导入 1 条，更新 0 条，未变 0 条，失败 1 条（原因见下）"
        in staff_client.get(response.url).content.decode()
    )
    assert Activity.objects.get().status == Status.DRAFT


def test_import_job_page_refreshes_while_running(staff_client, unit):
    job = ImportJob.objects.create(
        organization=unit,
        file="imports/x.csv",
        original_name="x.csv",
        state=ImportJob.State.COMMITTING,
        total=200,
        processed=50,
    )
    page = staff_client.get(reverse("activities:import_job", args=[job.pk])).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page
    assert '<progress id="progress" max="100" value="25">' in page


def test_import_job_of_other_unit_is_404(staff_client, other_unit):
    job = ImportJob.objects.create(organization=other_unit, file="imports/x.csv", original_name="x.csv")
    assert staff_client.get(reverse("activities:import_job", args=[job.pk])).status_code == 404


def test_import_upload_refuses_other_file_types(staff_client):
    response = staff_client.post(
        reverse("activities:import"), {"file": SimpleUploadedFile("a.xls", b"\xd0\xcf\x11\xe0")}
    )
    assert "只能导入 .xlsx 或 .csv 文件" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_superuser_without_membership_runs_an_administrators_import(
    client, django_user_model, plan, tmp_path, django_capture_on_commit_callbacks
):
    admin = django_user_model.objects.create_superuser("root", password="pw-root-1")
    login_staff(client, admin)  # superusers sign in with TOTP
    path = write_xlsx(
        tmp_path / "a.xlsx",
        [["活动名称", "主办单位", "品牌活动", "开始时间"], ["夜场", "温州科技馆", "科学之夜", "2025-09-20"]],
    )
    with django_capture_on_commit_callbacks(execute=True), open(path, "rb") as handle:
        client.post(reverse("activities:import"), {"file": handle})
    job = ImportJob.objects.get()
    assert job.organization is None
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("activities:import_commit", args=[job.pk]))
    assert Activity.objects.get().status == Status.PUBLISHED
    assert not Membership.objects.exists()


def test_admin_lists_activities_and_import_jobs(client, django_user_model, unit, action, settings):
    from tests.activities.factories import bj

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    services.create_activity(
        unit,
        {
            "joint_action": action("science-museums"),
            "brand": action("science-museums").brands.first(),
            "title": "后台可见",
            "starts_at": bj("2025-09-20 10:00"),
            "ends_at": bj("2025-09-20 12:00"),
            "region_code": "330106",
        },
    )
    ImportJob.objects.create(organization=unit, file="imports/x.csv", original_name="x.csv")
    login_staff(client, django_user_model.objects.create_superuser("root", password="pw-root-1"))
    page = client.get("/admin/activities/activity/?status=draft&province=330000").content.decode()
    assert "后台可见" in page
    assert client.get("/admin/activities/importjob/").status_code == 200
    activity = Activity.objects.get()
    assert client.get(f"/admin/activities/activity/{activity.pk}/change/").status_code == 200
