"""Import fidelity (issue 11 points 1 and 5) and the never-stuck job (issue 9 class 6): the alias table
column by column, lost columns, re-imports without duplicates or downgrades, row outcomes, date
warnings and tolerance, national organizers, the default organizer, 提交全部草稿, stale jobs and
retries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from kepuyue.activities import importing, services
from kepuyue.activities.models import Activity, ImportJob, Status
from kepuyue.orgs.models import Organization
from tests.activities.factories import bj
from tests.activities.helpers import job_for, outcome, reasons, run_import, write_csv
from tests.fixtures_accounts import login_staff

pytestmark = pytest.mark.django_db

# --- the alias table ---------------------------------------------------------------------------------

# Headers of the real forms (data/form_fields.md) and of the sheets units send → the field.
ALIASES = [
    ("所在市", "city"),
    ("所在地市", "city"),
    ("市(州)", "city"),
    ("市（州）", "city"),
    ("城市", "city"),
    ("所在省份", "province"),
    ("所在省", "province"),
    ("省(区、市)", "province"),
    ("省（区、市）", "province"),
    ("所在区县", "county"),
    ("所在县", "county"),
    ("县(市、区)", "county"),
    ("项目名称", "title"),
    ("活动名称", "title"),
    ("活动名称*", "title"),
    ("活动名称（必填）", "title"),
    ("主办单位", "organizer"),
    ("项目承担单位", "organizer"),
    ("承办单位", "co_organizers"),
    ("举办地点", "venue"),
    ("活动地址", "venue"),
    ("举办时间", "when"),
    ("起止时间", "when"),
    ("活动开始时间", "start"),
    ("活动结束时间", "end"),
    ("项目负责人", "contact_name"),
    ("联系人", "contact_name"),
    ("联系电话", "contact_phone"),
    ("拟参加人数", "expected_participants"),
    ("预计参加人数", "expected_participants"),
    ("项目简介", "summary"),
    ("活动简介", "summary"),
    ("面向对象", "audiences"),
    ("面向人群", "audiences"),
    ("活动形式", "form"),
    ("活动方式", "form"),
    ("直播链接", "online_url"),
    ("区划代码", "region_code"),
]


@pytest.mark.parametrize(("header", "field"), ALIASES)
def test_alias_table_column_by_column(header, field):
    assert importing.header_field(header) == field


def test_alias_table_has_no_alias_for_two_fields():
    seen: dict[str, str] = {}
    for field, aliases in importing.HEADER_ALIASES.items():
        for alias in aliases:
            assert seen.setdefault(importing.key(alias), field) == field, (
                alias,
                seen[importing.key(alias)],
                field,
            )


def test_city_column_is_kept(plan, tmp_path):
    """所在市 was ignored: the city was lost on every row without a county."""
    path = write_csv(
        tmp_path / "c.csv",
        [
            ["活动名称", "主办单位", "品牌活动", "开始日期", "所在省份", "所在市"],
            ["夜场", "宁波科技馆", "科学之夜", "2025-09-20", "浙江省", "宁波市"],
        ],
    )
    job = run_import(path)
    assert job.created_count == 1
    assert Activity.objects.get().prefecture_code == "330200"


def test_unrecognised_column_says_which_rows_lose_what(plan, unit, tmp_path):
    path = write_csv(
        tmp_path / "u.csv",
        [
            ["序号", "活动名称", "联合行动", "开始日期", "邮政编码", "空列"],
            ["1", "甲", "科学之夜", "2025-09-20", "310000", ""],
            ["2", "乙", "科学之夜", "2025-09-21", "", ""],
            ["3", "丙", "科学之夜", "2025-09-22", "310001", ""],
        ],
    )
    job = run_import(path, unit)
    header = {i["column"]: i["reason"] for i in job.report if i["row"] == 1}
    assert "序号" not in header  # a numbering column loses nothing
    assert header["邮政编码"].startswith("未识别的列，已忽略：第 2、4 行（共 2 行）此列的内容不会导入")
    assert header["空列"] == "未识别的列，已忽略（此列没有内容，没有丢失数据）"


# --- re-imports ----------------------------------------------------------------------------------------

# Rows name their brand (plan 八(一)); the joint action follows from it.
HEAD = ["活动名称", "品牌活动", "开始时间", "结束时间", "省份", "城市", "区县", "活动简介"]


def test_reimport_with_changed_time_is_an_update_not_a_duplicate(plan, unit, tmp_path):
    first = write_csv(
        tmp_path / "1.csv",
        [
            HEAD,
            [
                "科学之夜",
                "科学之夜",
                "2025-09-20 09:00",
                "2025-09-20 11:00",
                "浙江省",
                "杭州市",
                "西湖区",
                "初稿",
            ],
        ],
    )
    run_import(first, unit)
    corrected = write_csv(
        tmp_path / "2.csv",
        [
            HEAD,
            [
                "科学之夜",
                "科学之夜",
                "2025-09-20 14:00",
                "2025-09-20 16:00",
                "浙江省",
                "杭州市",
                "西湖区",
                "初稿",
            ],
        ],
    )
    job = run_import(corrected, unit, commit=False)
    assert outcome(job, 2).startswith("更新活动 #") and "开始时间、结束时间" in outcome(job, 2)
    job = run_import(corrected, unit)
    assert (job.created_count, job.updated_count) == (0, 1)
    activity = Activity.objects.get()
    assert activity.starts_at == bj("2025-09-20 14:00")


def test_reimport_never_downgrades(plan, unit, tmp_path):
    """A county is not replaced by its province, a real end time not by a date-only default, and a
    blank cell erases nothing."""
    run_import(
        write_csv(
            tmp_path / "1.csv",
            [
                HEAD,
                [
                    "科学之夜",
                    "科学之夜",
                    "2025-09-20 09:00",
                    "2025-09-20 17:30",
                    "浙江省",
                    "杭州市",
                    "西湖区",
                    "完整简介",
                ],
            ],
        ),
        unit,
    )
    partial = write_csv(
        tmp_path / "2.csv",
        [
            HEAD,
            ["科学之夜", "科学之夜", "2025-09-20 09:00", "2025-09-20", "浙江省", "", "", ""],
        ],
    )
    job = run_import(partial, unit, commit=False)
    assert outcome(job, 2).startswith("无变化") and "保留原有更完整的结束时间、地区" in outcome(job, 2)
    job = run_import(partial, unit)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 1)
    activity = Activity.objects.get()
    assert activity.county_code == "330106" and activity.ends_at == bj("2025-09-20 17:30")
    assert activity.summary == "完整简介"


def test_possible_duplicate_is_named(plan, unit, tmp_path):
    run_import(
        write_csv(
            tmp_path / "1.csv",
            [HEAD[:5], ["科学之夜", "科学之夜", "2025-09-20", "2025-09-20", "浙江省"]],
        ),
        unit,
    )
    existing = Activity.objects.get()
    job = run_import(
        write_csv(
            tmp_path / "2.csv",
            [HEAD[:5], ["科学之夜", "科学之夜", "2025-09-27", "2025-09-27", "浙江省"]],
        ),
        unit,
        commit=False,
    )
    assert outcome(job, 2) == f"新增；可能重复：本单位已有同名活动 #{existing.pk}（2025-09-20）"


def test_unchanged_row_says_so(plan, unit, tmp_path):
    path = write_csv(
        tmp_path / "1.csv",
        [HEAD[:5], ["科学之夜", "科学之夜", "2025-09-20", "2025-09-20", "浙江省"]],
    )
    run_import(path, unit)
    job = run_import(path, unit, commit=False)
    assert outcome(job, 2) == f"无变化（活动 #{Activity.objects.get().pk}）"


# --- dates -------------------------------------------------------------------------------------------


def test_zero_length_and_date_only_start_with_timed_end_are_warned(plan, unit, tmp_path):
    path = write_csv(
        tmp_path / "d.csv",
        [
            HEAD[:5],
            ["零时长", "科学之夜", "2025-09-20 10:00", "2025-09-20 10:00", "浙江省"],
            ["只有日期", "科学之夜", "2025-09-20", "2025-09-20 16:00", "浙江省"],
        ],
    )
    job = run_import(path, unit)
    assert job.created_count == 2
    assert "活动时长为零（开始和结束时间相同），请核对结束时间" in reasons(job, 2)
    assert "开始只有日期、结束有具体时间：开始按当天0点计，请补上开始时间" in reasons(job, 3)


def test_every_problem_of_a_row_is_reported(plan, tmp_path):
    """A row without organizer still gets its date errors (administrator's import)."""
    path = write_csv(
        tmp_path / "p.csv",
        [["活动名称", "主办单位", "开始日期", "结束日期"], ["活动", "", "2025-13-45", "下周三"]],
    )
    job = run_import(path, commit=False)
    found = reasons(job, 2)
    assert "主办单位为空（管理员导入需按主办单位确定活动归属）" in found
    assert "日期 2025年13月45日 不存在" in found and any("“下周三”不是可识别的日期" in r for r in found)
    columns = {i["column"] for i in job.report if i["row"] == 2 and i["level"] == "error"}
    assert columns == {"主办单位", "开始日期", "结束日期"}


def test_dates_within_tolerance_are_accepted_and_the_desk_shows_it(
    plan, unit, tmp_path, client, django_user_model
):
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["活动名称", "主办单位", "开始日期", "结束日期", "省份"],
            ["启动仪式", "浙江省科学技术协会", "2025-08-28", "2025-08-28", "浙江省"],
            ["去年的活动", "浙江省科学技术协会", "2024-09-20", "2024-09-20", "浙江省"],
        ],
    )
    job = run_import(path)
    assert job.created_count == 1
    assert any("早 4 天，在方案允许的范围内" in r for r in reasons(job, 2))
    assert any("不在活动时间内" in r for r in reasons(job, 3))
    activity = Activity.objects.get()
    Activity.objects.filter(pk=activity.pk).update(status=Status.SUBMITTED, submitted_at=timezone.now())
    admin = django_user_model.objects.create_superuser("cast-root", password="pw-cast-root-1")
    login_staff(client, admin)  # a superuser is a CAST administrator; staff sign in with TOTP
    page = client.get(reverse("review:detail", args=[activity.pk])).content.decode()
    assert 'data-testid="date-note"' in page and "在方案允许的范围内" in page


# --- organizers --------------------------------------------------------------------------------------


def test_national_organizer_does_not_land_in_a_province(plan, tmp_path):
    path = write_csv(
        tmp_path / "n.csv",
        [
            ["活动名称", "主办单位", "品牌活动", "开始日期", "省份"],
            ["全国主场", "中国科协", "", "2025-09-06", "北京市"],
            ["学会报告", "中国化学会", "科普报告话前沿", "2025-09-10", "浙江省"],
            ["地方活动", "宁波市科学技术协会", "", "2025-09-10", "浙江省"],
        ],
    )
    run_import(path)
    assert Organization.objects.get(name="中国科协").region_id is None
    society = Organization.objects.get(name="中国化学会")
    assert society.region_id is None and society.type_id == "national_society"
    assert Organization.objects.get(name="宁波市科学技术协会").region_id is not None
    from kepuyue.regions.models import Region
    from kepuyue.roles.services import grant_q

    class Grant:  # a province administrator's grant (Zhejiang)
        organization_id = None
        region_id = "330000"
        region = Region.objects.get(code="330000")

    in_zhejiang = set(Organization.objects.filter(grant_q(Grant())).values_list("name", flat=True))
    assert "中国化学会" not in in_zhejiang and "宁波市科学技术协会" in in_zhejiang


def test_default_organizer_for_rows_without_one(plan, tmp_path, capsys):
    own = Organization.objects.create(name="浙江省科学技术协会", type_id="science_association")
    path = write_csv(
        tmp_path / "o.csv",
        [
            ["活动名称", "主办单位", "品牌活动", "开始日期", "省份"],
            ["没写主办单位", "", "", "2025-09-10", "浙江省"],
            ["写了的", "宁波科技馆", "科学之夜", "2025-09-11", "浙江省"],
        ],
    )
    call_command("import_activities", str(path), "--default-organizer", own.name)
    assert Activity.objects.get(title="没写主办单位").organizer == own
    assert Activity.objects.get(title="写了的").organizer.name == "宁波科技馆"


def test_default_organizer_on_the_web_form(
    plan, tmp_path, client, django_user_model, django_capture_on_commit_callbacks
):
    own = Organization.objects.create(name="浙江省科学技术协会", type_id="science_association")
    root = django_user_model.objects.create_superuser("root", password="pw-root-12345")
    login_staff(client, root)
    page = client.get(reverse("activities:import")).content.decode()
    assert 'name="default_organizer"' in page
    path = write_csv(
        tmp_path / "o.csv",
        [["活动名称", "主办单位", "开始日期", "省份"], ["活动", "", "2025-09-10", "浙江省"]],
    )
    with django_capture_on_commit_callbacks(execute=True), open(path, "rb") as handle:
        client.post(reverse("activities:import"), {"file": handle, "default_organizer": "不存在的单位"})
    assert not ImportJob.objects.exists()
    with django_capture_on_commit_callbacks(execute=True), open(path, "rb") as handle:
        client.post(reverse("activities:import"), {"file": handle, "default_organizer": own.name})
    job = ImportJob.objects.get()
    assert job.default_organizer == own and job.state == ImportJob.State.VALIDATED and job.valid_rows == 1


# --- 提交全部草稿 ----------------------------------------------------------------------------------------


def test_bulk_submit_drafts_of_one_import(
    plan, unit, staff, staff_client, tmp_path, django_capture_on_commit_callbacks
):
    from kepuyue.activities import signals
    from kepuyue.audit.models import AuditEntry

    rows = [HEAD[:5]] + [[f"活动{i}", "科学之夜", "2025-09-20", "2025-09-20", "浙江省"] for i in range(3)]
    job = run_import(write_csv(tmp_path / "b.csv", rows), unit)
    other = run_import(
        write_csv(
            tmp_path / "c.csv",
            [HEAD[:5], ["别的导入", "科学之夜", "2025-09-21", "2025-09-21", "浙江省"]],
        ),
        unit,
    )
    page = staff_client.get(reverse("activities:import_job", args=[job.pk])).content.decode()
    assert 'data-testid="bulk-submit"' in page and "提交全部草稿（3 个）" in page
    moved = []
    signals.activity_moved.connect(
        lambda sender, **kw: moved.append(kw["to_state"]), weak=False, dispatch_uid="t"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = staff_client.post(reverse("activities:import_submit_drafts", args=[job.pk]))
    finally:
        signals.activity_moved.disconnect(dispatch_uid="t")
    assert response.status_code == 302
    assert set(Activity.objects.filter(import_job=job).values_list("status", flat=True)) == {Status.SUBMITTED}
    assert Activity.objects.get(import_job=other).status == Status.DRAFT
    assert moved == [Status.SUBMITTED] * 3  # one event per activity
    entries = AuditEntry.objects.filter(action="activity.bulk_submit")
    assert entries.count() == 1 and entries.get().data["count"] == 3  # one audit entry
    page = staff_client.get(reverse("activities:import_job", args=[job.pk])).content.decode()
    assert 'data-testid="bulk-submit"' not in page


def test_bulk_submit_is_scoped_and_checks_rules(plan, unit, tmp_path, client, django_user_model):
    job = run_import(
        write_csv(
            tmp_path / "b.csv",
            [HEAD[:5], ["活动", "科学之夜", "2025-09-20", "2025-09-20", "浙江省"]],
        ),
        unit,
    )
    from kepuyue.orgs.models import Membership

    stranger_unit = Organization.objects.create(name="宁波科技馆", type_id="science_museum")
    stranger = django_user_model.objects.create_user("stranger", password="pw-stranger-1")
    Membership.objects.create(user=stranger, organization=stranger_unit)
    client.force_login(stranger)
    assert client.post(reverse("activities:import_submit_drafts", args=[job.pk])).status_code == 404
    assert Activity.objects.get().status == Status.DRAFT
    # A draft that breaks a rule now (its joint action's window narrowed) stays a draft, with why.
    action = Activity.objects.get().joint_action
    action.window_start = action.window_end = bj("2025-10-30 00:00").date()
    action.save()
    submitted, refused = services.submit_import_drafts(job, actor=None)
    assert submitted == [] and len(refused) == 1 and "不在活动时间内" in refused[0][1]


# --- stale jobs and retries --------------------------------------------------------------------------


def test_stale_job_is_shown_failed_and_retryable(
    plan, unit, staff_client, tmp_path, django_capture_on_commit_callbacks
):
    path = write_csv(
        tmp_path / "s.csv",
        [HEAD[:5], ["活动", "科学之夜", "2025-09-20", "2025-09-20", "浙江省"]],
    )
    job = job_for(path, unit)
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.COMMITTING, attempts=1, heartbeat=timezone.now() - timedelta(hours=1)
    )
    page = staff_client.get(reverse("activities:import_job", args=[job.pk])).content.decode()
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED and job.retryable and job.interrupted == "committing"
    assert "导入中断" in page and 'data-testid="import-retry"' in page
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("activities:import_retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and job.attempts == 2 and Activity.objects.count() == 1
    # Done is done: no second commit.
    with pytest.raises(Exception, match="不需要重试"):
        importing.retry_import(job)
    assert importing.commit_import(job).state == ImportJob.State.DONE and Activity.objects.count() == 1


def test_running_job_with_fresh_heartbeat_is_not_stale(plan, unit, tmp_path):
    job = job_for(write_csv(tmp_path / "f.csv", [HEAD[:5]]), unit)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.VALIDATING, heartbeat=timezone.now())
    assert importing.recover_stale() == 0
    ImportJob.objects.filter(pk=job.pk).update(heartbeat=timezone.now() - timedelta(seconds=601))
    assert importing.recover_stale() == 1
    job.refresh_from_db()
    assert job.interrupted == "validating" and job.retryable


def test_superseded_commit_writes_nothing(plan, unit, tmp_path):
    """A first run that lost the job to a retry (attempt counter moved on) writes nothing."""
    path = write_csv(
        tmp_path / "x.csv",
        [HEAD[:5], ["活动", "科学之夜", "2025-09-20", "2025-09-20", "浙江省"]],
    )
    job = job_for(path, unit)
    original = importing.Importer.rows

    def rows_then_lose_the_job(self, source):
        yield from original(self, source)
        ImportJob.objects.filter(pk=job.pk).update(attempts=9)

    importing.Importer.rows = rows_then_lose_the_job
    try:
        importing.commit_import(job)
    finally:
        importing.Importer.rows = original
    assert not Activity.objects.exists()


def test_retry_attempts_are_capped(plan, unit, tmp_path):
    job = job_for(write_csv(tmp_path / "c.csv", [HEAD[:5]]), unit)
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.FAILED,
        retryable=True,
        interrupted="validating",
        attempts=importing.MAX_ATTEMPTS,
    )
    with pytest.raises(Exception, match="已尝试 6 次"):
        importing.retry_import(job)


def test_imported_descriptions_are_rendered_when_written(plan, unit, tmp_path):
    """Bulk writes skip save(): the importer renders 活动详情 itself, on create and on update, so
    no page renders Markdown on a request and the stored fingerprint matches the text."""
    from kepuyue.common.markup import source_digest

    head = ["活动名称", "品牌活动", "开始日期", "省份", "活动详情"]
    first = write_csv(
        tmp_path / "d1.csv",
        [
            head,
            ["星空课堂", "科学之夜", "2025-09-20", "浙江省", "**观星** 与 <script>x</script>"],
        ],
    )
    run_import(first, unit)
    activity = Activity.objects.get()
    assert "<strong>观星</strong>" in activity.description_html
    assert "<script" not in activity.description_html
    assert activity.description_digest == source_digest(activity.description)

    second = write_csv(
        tmp_path / "d2.csv",
        [head, ["星空课堂", "科学之夜", "2025-09-20", "浙江省", "- 望远镜\n- 星图"]],
    )
    job = run_import(second, unit)
    assert job.updated_count == 1
    activity.refresh_from_db()
    assert "<li>望远镜</li>" in activity.description_html
    assert "观星" not in activity.description_html
    assert activity.description_digest == source_digest(activity.description)
