"""``manage.py import_activities`` and ``manage.py seed_demo``; the import tasks."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from kepuyue.activities import tasks
from kepuyue.activities.models import Activity, ImportJob, Status
from kepuyue.common.clock import BEIJING
from tests.activities.helpers import job_for, write_csv

pytestmark = pytest.mark.django_db

ROWS = [
    ["活动名称", "联合行动", "品牌活动", "开始日期", "结束日期", "省份"],
    ["夜场", "现代科技馆体系联合行动", "科学之夜", "2025-09-20", "2025-09-20", "浙江省"],
    ["过期的活动", "现代科技馆体系联合行动", "科学之夜", "2024-09-20", "2024-09-20", "浙江省"],
]


def test_import_activities_prints_counts_and_failures(plan, unit, tmp_path, capsys):
    path = write_csv(tmp_path / "a.csv", ROWS)
    call_command("import_activities", str(path), "--organization", unit.name)
    out = capsys.readouterr().out
    assert "导入 1 条，更新 0 条，未变 0 条，失败 1 条（原因见下）" in out
    assert "第 2 行：新增\n" in out and "第 3 行：不导入（有错误）\n" in out
    assert "    错误　开始日期“2024-09-20”：开始时间 2024-09-20 不在活动时间内" in out
    assert Activity.objects.get().status == Status.DRAFT
    call_command("import_activities", str(path), "--organization", str(unit.pk))
    assert "导入 0 条，更新 0 条，未变 1 条，失败 1 条" in capsys.readouterr().out


def test_import_activities_lists_campaign_wide_rows(plan, tmp_path, capsys):
    rows = [
        ["活动名称", "主办单位", "品牌活动", "开始日期", "省份"],
        ["主场活动", "浙江省科学技术协会", "", "2025-09-06", "浙江省"],
        ["夜场", "宁波科技馆", "科学之夜", "2025-09-20", "浙江省"],
    ]
    call_command("import_activities", str(write_csv(tmp_path / "a.csv", rows)))
    out = capsys.readouterr().out
    assert "导入 2 条，更新 0 条，未变 0 条，失败 0 条" in out
    assert "未标记联合行动，按全国科普月活动导入：1 行（第 2 行；请核对是否属于某一联合行动）" in out
    assert Activity.objects.get(title="主场活动").joint_action is None


def test_import_activities_dry_run_writes_nothing(plan, unit, tmp_path, capsys):
    call_command(
        "import_activities",
        str(write_csv(tmp_path / "a.csv", ROWS)),
        "--organization",
        unit.name,
        "--dry-run",
    )
    assert "校验 2 行：可导入 1 行，失败 1 行（未写入）" in capsys.readouterr().out
    assert not Activity.objects.exists()
    # Nothing stored at all: no job, no copy of the file (issue 11 point 7).
    assert not ImportJob.objects.exists()
    private = Path(settings.PRIVATE_MEDIA_ROOT)
    assert not private.exists() or not [p for p in private.rglob("*") if p.is_file()]


def test_import_activities_errors(plan, tmp_path):
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("import_activities", str(tmp_path / "none.csv"))
    with pytest.raises(CommandError, match="找不到单位"):
        call_command(
            "import_activities", str(write_csv(tmp_path / "a.csv", ROWS)), "--organization", "不存在的单位"
        )
    with pytest.raises(CommandError, match="找不到科普月"):
        call_command("import_activities", str(tmp_path / "a.csv"), "--campaign", "kepuyue-1999")
    with pytest.raises(CommandError, match="管理员导入需要“主办单位”列"):
        call_command("import_activities", str(tmp_path / "a.csv"))


def test_seed_demo_creates_published_activities_in_windows(plan, capsys):
    call_command("seed_demo", "--activities", "60", "--seed", "3")
    assert "生成 60 条活动，新增 60 条" in capsys.readouterr().out
    activities = list(Activity.objects.select_related("joint_action"))
    assert len(activities) == 60
    assert {a.status for a in activities} == {Status.PUBLISHED}
    assert all(
        a.search_text and a.province_code and a.county_code.startswith(a.province_code[:2])
        for a in activities
    )
    for a in activities:
        days = (a.starts_at.astimezone(BEIJING).date(), a.ends_at.astimezone(BEIJING).date())
        assert a.joint_action.window_start <= days[0] <= days[1] <= a.joint_action.window_end
    assert all(a.brand is None or a.brand.joint_action_id == a.joint_action_id for a in activities)
    call_command("seed_demo", "--activities", "60", "--seed", "3")
    assert "新增 0 条" in capsys.readouterr().out


def test_seed_demo_writes_an_import_sheet(plan, unit, tmp_path, capsys):
    from kepuyue.activities import importing

    path = tmp_path / "demo.xlsx"
    call_command("seed_demo", "--activities", "30", "--xlsx", str(path))
    assert not Activity.objects.exists()
    job = importing.commit_import(job_for(path))
    assert job.created_count == 30, job.report


def test_tasks_are_idempotent(plan, unit, tmp_path):
    job = job_for(write_csv(tmp_path / "a.csv", ROWS), unit)
    assert tasks.validate_import_task.delay(job.pk).get() == ImportJob.State.VALIDATED
    assert tasks.commit_import_task.delay(job.pk).get() == ImportJob.State.DONE
    assert tasks.commit_import_task.delay(job.pk).get() == ImportJob.State.DONE  # no second run
    assert tasks.validate_import_task.delay(job.pk).get() == ImportJob.State.DONE
    assert Activity.objects.count() == 1
    assert tasks.commit_import_task.delay(999999).get() == "missing"
    assert tasks.commit_import_task.name == "kepuyue.activities.commit_import"
