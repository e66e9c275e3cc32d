"""The Excel/CSV import of the 重点科普活动信息表: messy input, two steps, idempotence, real data."""

import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.datetime import to_excel

from kepuyue.activities import importing
from kepuyue.activities.models import Activity, Audience, Form, ImportJob, Status
from kepuyue.orgs.models import Organization
from tests.activities.factories import bj
from tests.activities.helpers import issues, reasons, run_import, write_csv, write_xlsx

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "activities"


# --- dates (no database) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "start", "end"),
    [
        ("2025-09-15", datetime(2025, 9, 15), None),
        ("2025-09-15 14:00", datetime(2025, 9, 15, 14), None),
        ("2025/9/15 14:00", datetime(2025, 9, 15, 14), None),
        ("2025年9月15日", datetime(2025, 9, 15), None),
        ("２０２５年９月１５日", datetime(2025, 9, 15), None),
        ("2025.9.15", datetime(2025, 9, 15), None),
        ("9月15日", datetime(2025, 9, 15), None),
        ("2025年9月15日（周一）", datetime(2025, 9, 15), None),
        ("2025年9月15日14时30分", datetime(2025, 9, 15, 14, 30), None),
        ("9月15日-9月25日", datetime(2025, 9, 15), datetime(2025, 9, 25)),
        ("9月15日至25日", datetime(2025, 9, 15), datetime(2025, 9, 25)),
        ("2025-09-15~2025-09-25", datetime(2025, 9, 15), datetime(2025, 9, 25)),
        ("2025/9/15 14:00-16:00", datetime(2025, 9, 15, 14), datetime(2025, 9, 15, 16)),
        ("12月28日—1月3日", datetime(2025, 12, 28), datetime(2026, 1, 3)),
        (to_excel(date(2025, 9, 15)), datetime(2025, 9, 15), None),
        (str(to_excel(date(2025, 9, 15))), datetime(2025, 9, 15), None),
        (to_excel(datetime(2025, 9, 15, 14, 0)), datetime(2025, 9, 15, 14), None),
        (datetime(2025, 9, 15, 9, 30), datetime(2025, 9, 15, 9, 30), None),
        (date(2025, 9, 15), datetime(2025, 9, 15), None),
    ],
)
def test_parse_when_accepts_real_world_dates(cell, start, end):
    when = importing.parse_when(cell, year=2025)
    assert when.start == start
    assert when.end == end


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("2025-09", "只有月份"),
        ("2025年9月", "只有月份"),
        ("9月上旬", "只有月份"),
        ("2025-02-30", "不存在"),
        ("下周三", "不是可识别的日期"),
        (12.5, "不是日期"),
    ],
)
def test_parse_when_refuses_with_reason(cell, message):
    with pytest.raises(importing.DateProblem, match=message):
        importing.parse_when(cell, year=2025)


def test_parse_when_empty_is_none():
    assert importing.parse_when(None, year=2025) is None
    assert importing.parse_when("  ", year=2025) is None


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("承德市科协及市委组织部、市委宣传部、市科技局", "承德市科协"),
        (
            "黑龙江省科学技术协会（省全民科学素质纲要实施工作联席会议办公室）及36家成员单位",
            "黑龙江省科学技术协会",
        ),
        ("中国科协等（科学大师宣传工程）；西北农林科技大学创排", "中国科协"),
        ("金华市科协等16家主办单位", "金华市科协"),
        ("潮安区科协联合区农业农村局", "潮安区科协"),
        ("会同县农村专业技术协会", "会同县农村专业技术协会"),
        ("北京联合大学", "北京联合大学"),
        ("中国科学技术大学工程科学实验教学中心", "中国科学技术大学工程科学实验教学中心"),
    ],
)
def test_first_unit(text, unit):
    assert importing.first_unit(text) == unit


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("洛阳市科技馆", "science_museum"),
        ("山西省科学技术馆", "science_museum"),
        ("西北工业大学", "university"),
        ("某某职业技术学院", "university"),
        ("中国科学院国家天文台", "other"),
        ("鄂州市科协", "science_association"),
        ("海南省科学技术协会", "science_association"),
        ("株洲硬质合金集团", "other"),
    ],
)
def test_organization_type_for(name, kind):
    assert importing.organization_type_for(name) == kind


# --- whole files ---------------------------------------------------------------------------------------

HEADER = [
    "活动名称",
    "联合行动",
    "品牌活动",
    "开始时间",
    "结束时间",
    "活动形式",
    "线上地址",
    "省份",
    "城市",
    "区县",
    "活动地点",
    "面向对象",
]


@pytest.mark.django_db
def test_import_messy_xlsx_unit(plan, unit, tmp_path):
    serial = to_excel(date(2025, 9, 20))
    path = write_xlsx(
        tmp_path / "messy.xlsx",
        [
            # Aliased headers, with marks and full-width spaces.
            [
                "名称*",
                "所属联合行动",
                "品牌",
                "开始日期（必填）",
                "结束日期",
                "形式",
                "直播链接",
                "省",
                "市",
                "县",
                "地点",
                "对象",
                "备注",
            ],
            [
                "科学之夜：夜探科技馆",
                "现代科技馆体系",
                "科学之夜",
                serial,
                "２０２５年９月２０日",
                "线上线下结合",
                "https://live.example.org/1",
                "浙江",
                "杭州",
                "西湖区",
                "杭州科技馆",
                "小学生、家庭，市民;老师",
                "x",
            ],
            [
                "流动科技馆进校园",
                "",
                "流动科技馆",
                "9月15日-9月25日",
                "",
                "线下",
                "",
                "浙江省",
                "杭州市",
                "",
                "某某小学",
                "研学小分队、师生",
                "",
            ],
            ["只写了月份的活动", "", "科普大篷车", "2025-09", "", "线下", "", "浙江省", "", "", "", "", ""],
            [
                "火星上的活动",
                "",
                "科普大篷车",
                "2025/9/16 14:00",
                "2025/9/16 16:00",
                "线下",
                "",
                "火星市",
                "",
                "",
                "",
                "",
                "",
            ],
            [
                "形式写错的活动",
                "",
                "科普大篷车",
                "2025-09-16",
                "2025-09-16",
                "面授",
                "",
                "浙江省",
                "",
                "",
                "",
                "",
                "",
            ],
            ["", "", "", "", "", "", "", "", "", "", "", "", ""],
            [
                "在线讲座",
                "现代科技馆体系联合行动",
                "科学之夜",
                "2025-09-18 19:00",
                "2025-09-18 20:00",
                "线上",
                "",
                "",
                "",
                "",
                "",
                "公众",
                "",
            ],
        ],
        title_row="2025年全国科普月重点科普活动信息表",
    )
    job = run_import(path, unit)
    assert job.state == ImportJob.State.DONE
    assert job.total == 6  # the blank row is not counted
    assert job.created_count == 2
    night = Activity.objects.get(title="科学之夜：夜探科技馆")
    assert night.status == Status.DRAFT
    assert night.organizer == unit
    assert night.brand.name == "科学一千零一夜"
    assert night.starts_at == bj("2025-09-20 00:00")
    assert night.ends_at.astimezone(bj("2025-01-01 00:00").tzinfo).date() == date(2025, 9, 20)
    assert night.form == Form.HYBRID
    assert night.county_code == "330106"
    assert night.audiences == Audience.YOUTH | Audience.FAMILIES | Audience.PUBLIC | Audience.TEACHERS
    tour = Activity.objects.get(title="流动科技馆进校园")
    assert tour.joint_action.slug == "science-museums"  # from the brand
    assert (tour.starts_at, tour.ends_at.date()) == (bj("2025-09-15 00:00"), date(2025, 9, 25))
    assert tour.prefecture_code == "330100" and tour.county_code == ""
    assert not any("未能识别" in r for r in reasons(job, 4))  # 研学小分队 → 青少年, 师生 → 青少年+教师
    assert any("只有月份" in r for r in reasons(job, 5))
    assert any("无法识别地区“火星市”" in r for r in reasons(job, 6))
    assert "活动形式应为线下、线上或线上线下结合" in reasons(job, 7)
    assert "活动形式为“线上”时必须填写线上地址（直播或参与链接）" in reasons(job, 9)
    assert any(r.startswith("未识别的列，已忽略") for r in reasons(job, 2))  # 备注
    failed = [row for row, _issues in importing.failed_rows(job)]
    assert failed == [5, 6, 7, 9]


@pytest.mark.django_db
def test_import_unknown_audience_word_is_a_warning(plan, unit, tmp_path):
    path = write_xlsx(
        tmp_path / "a.xlsx",
        [
            HEADER,
            [
                "科学之夜",
                "现代科技馆体系联合行动",
                "科学之夜",
                "2025-09-20",
                "2025-09-20",
                "线下",
                "",
                "浙江省",
                "杭州市",
                "西湖区",
                "",
                "公众、外星来客",
            ],
        ],
    )
    job = run_import(path, unit)
    assert job.created_count == 1
    assert issues(job, "warning")[0]["reason"] == "面向对象中“外星来客”未能识别，已忽略"
    assert Activity.objects.get().audiences == Audience.PUBLIC


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_import_csv_encodings(plan, unit, tmp_path, encoding):
    path = write_csv(
        tmp_path / "acts.csv",
        [
            HEADER,
            [
                "科普大篷车进社区",
                "",
                "科普大篷车",
                "2025年9月16日",
                "2025年9月16日",
                "线下",
                "",
                "湖北省",
                "鄂州市",
                "梁子湖区",
                "沼山镇",
                "社区居民",
            ],
        ],
        encoding=encoding,
    )
    job = run_import(path, unit)
    assert job.created_count == 1, job.report
    activity = Activity.objects.get()
    assert activity.title == "科普大篷车进社区"
    assert activity.county_code == "420702"
    assert importing.detect_encoding(path) == ("gb18030" if encoding == "gb18030" else "utf-8-sig")


@pytest.mark.django_db
def test_import_region_code_column(plan, unit, tmp_path):
    path = write_csv(
        tmp_path / "codes.csv",
        [
            ["活动名称", "品牌活动", "开始日期", "结束日期", "区划代码"],
            ["A", "科学之夜", "2025-09-16", "2025-09-16", "３３０１０６"],
            ["B", "科学之夜", "2025-09-16", "2025-09-16", "339999"],
        ],
    )
    job = run_import(path, unit)
    assert Activity.objects.get().county_code == "330106"
    assert "区划代码 339999 不存在（应为6位行政区划代码）" in reasons(job, 3)


@pytest.mark.django_db
def test_import_brand_must_belong_to_joint_action(plan, unit, tmp_path):
    path = write_csv(
        tmp_path / "b.csv",
        [
            ["活动名称", "联合行动", "品牌活动", "开始日期"],
            ["A", "高校科协联合行动", "科学之夜", "2025-09-16"],
        ],
    )
    job = run_import(path, unit)
    assert job.created_count == 0
    assert reasons(job, 2) == [
        "品牌活动“科学一千零一夜”不属于高校科协联合行动，请选择该联合行动的品牌活动或更换联合行动"
    ]


@pytest.mark.django_db
def test_import_joint_action_from_organizer_type(plan, tmp_path):
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["title", "organizer", "brand", "start_date", "end_date", "province"],
            ["夜场", "宁波科技馆", "科学之夜", "2025-10-02", "2025-10-02", "浙江省"],
            ["讲座", "宁波市科协", "", "2025-09-16", "2025-09-16", "浙江省"],
            ["报告", "宁波大学", "星火馆", "2025-09-16", "2025-09-16", "浙江省"],
        ],
    )
    job = run_import(path)  # an administrator's import
    assert job.created_count == 3
    museum = Activity.objects.get(title="夜场")
    assert museum.joint_action.slug == "science-museums" and museum.status == Status.PUBLISHED
    assert museum.published_at is not None
    assert Organization.objects.get(name="宁波科技馆").type_id == "science_museum"
    # A new organizer is placed where its activity is, so the province's administrators cover it.
    assert Organization.objects.get(name="宁波科技馆").region_id == museum.region_id == "330000"
    assert Activity.objects.get(title="报告").joint_action.slug == "universities"
    # A city 科协's activity belongs to no joint action: a campaign-wide activity (全国科普月活动).
    talk = Activity.objects.get(title="讲座")
    assert talk.joint_action is None and talk.campaign == plan and talk.status == Status.PUBLISHED
    assert issues(job, "warning") == [
        {
            "row": 3,
            "column": "联合行动",
            "value": "",
            "reason": "未标记联合行动，按全国科普月活动导入（主办单位“宁波市科协”类型“科协”不属于任何联合行动的参与对象；如属联合行动请填写“联合行动”或“品牌活动”列）",
            "level": "warning",
        }
    ]


@pytest.mark.django_db
def test_import_campaign_wide_row_keeps_the_campaign_month(plan, tmp_path):
    """A 科协 main-venue activity (主场活动) outside September (beyond the YAML's 7-day tolerance)
    fails and names the campaign month."""
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["title", "organizer", "start_date", "end_date", "province"],
            ["主场活动", "浙江省科学技术协会", "2025-09-01", "2025-09-07", "浙江省"],
            ["提前的主场活动", "浙江省科学技术协会", "2025-08-20", "2025-09-07", "浙江省"],
        ],
    )
    job = run_import(path)
    assert job.created_count == 1
    main = Activity.objects.get(title="主场活动")
    assert main.joint_action is None and main.brand is None and main.key_task is None
    assert reasons(job, 2) == [
        "未标记联合行动，按全国科普月活动导入（主办单位“浙江省科学技术协会”类型“科协”不属于任何联合行动的参与对象；如属联合行动请填写“联合行动”或“品牌活动”列）"
    ]
    assert (
        "开始时间 2025-08-20 不在活动时间内：全国科普月活动时间为2025年9月1日至9月30日（方案允许前后 7 天）"
        in reasons(job, 3)
    )
    assert [row for row, _issues in importing.failed_rows(job)] == [3]


@pytest.mark.django_db
def test_import_campaign_wide_marked_in_the_joint_action_column(plan, tmp_path):
    """“全国科普月活动” in the 联合行动 column (what the export writes) is no joint action, no warning;
    a brand beside it is refused, since a brand needs its joint action."""
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["活动名称", "主办单位", "联合行动", "品牌活动", "开始日期", "省份"],
            ["开幕式", "宁波科技馆", "全国科普月活动", "", "2025-09-01", "浙江省"],
            ["夜场", "宁波科技馆", "全国科普月活动", "科学之夜", "2025-09-02", "浙江省"],
        ],
    )
    job = run_import(path)
    assert job.created_count == 1
    assert Activity.objects.get(title="开幕式").joint_action is None
    assert reasons(job, 2) == []
    assert reasons(job, 3) == [
        "品牌活动“科学一千零一夜”属于联合行动，请同时选择其联合行动；不属于联合行动的全国科普月活动不能标记品牌活动"
    ]


@pytest.mark.django_db
def test_import_is_idempotent_and_updates_changed_rows(plan, unit, tmp_path):
    rows = [
        ["活动编号", *HEADER],
        [
            "N-1",
            "科学之夜",
            "现代科技馆体系联合行动",
            "科学之夜",
            "2025-09-20 19:00",
            "2025-09-20 21:00",
            "线下",
            "",
            "浙江省",
            "杭州市",
            "西湖区",
            "杭州科技馆",
            "公众",
        ],
        [
            "",
            "无编号的讲座",
            "现代科技馆体系联合行动",
            "科学之夜",
            "2025-09-21",
            "2025-09-21",
            "线下",
            "",
            "浙江省",
            "杭州市",
            "",
            "报告厅",
            "公众",
        ],
    ]
    first = run_import(write_xlsx(tmp_path / "a.xlsx", rows), unit)
    assert (first.created_count, first.updated_count, first.unchanged_count) == (2, 0, 0)
    ids = set(Activity.objects.values_list("id", flat=True))
    again = run_import(write_xlsx(tmp_path / "b.xlsx", rows), unit)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 2)
    assert importing.summary_line(again) == "导入 0 条，更新 0 条，未变 2 条，失败 0 条"
    rows[1][1] = "科学之夜（改名）"  # same external id: the same activity, renamed
    rows[2][11] = "报告厅二楼"  # same title and start: the same activity, new venue
    changed = run_import(write_xlsx(tmp_path / "c.xlsx", rows), unit)
    assert (changed.created_count, changed.updated_count, changed.unchanged_count) == (0, 2, 0)
    assert set(Activity.objects.values_list("id", flat=True)) == ids
    renamed = Activity.objects.get(external_id="N-1")
    assert renamed.title == "科学之夜（改名）" and "改名" in renamed.search_text


@pytest.mark.django_db
def test_import_duplicate_rows_in_one_file(plan, unit, tmp_path):
    row = [
        "科学之夜",
        "现代科技馆体系联合行动",
        "科学之夜",
        "2025-09-20",
        "2025-09-20",
        "线下",
        "",
        "浙江省",
        "",
        "",
        "",
        "",
    ]
    job = run_import(write_xlsx(tmp_path / "d.xlsx", [HEADER, row, row]), unit)
    assert job.created_count == 1
    assert reasons(job, 3) == ["与第2行是同一活动（主办单位、活动名称和开始时间相同），已跳过"]


@pytest.mark.django_db
def test_unit_import_cannot_change_a_submitted_activity(plan, unit, tmp_path):
    from kepuyue.activities import services

    row = [
        "科学之夜",
        "现代科技馆体系联合行动",
        "科学之夜",
        "2025-09-20",
        "2025-09-20",
        "线下",
        "",
        "浙江省",
        "",
        "",
        "馆内",
        "",
    ]
    run_import(write_xlsx(tmp_path / "a.xlsx", [HEADER, row]), unit)
    services.transition(Activity.objects.get(), Status.SUBMITTED)
    row[10] = "馆外"
    job = run_import(write_xlsx(tmp_path / "b.xlsx", [HEADER, row]), unit)
    assert job.updated_count == 0
    assert reasons(job, 2) == ["该活动已待审核，不能通过导入修改；请在活动管理中撤回或联系审核人员"]
    assert Activity.objects.get().venue == "馆内"


@pytest.mark.django_db
def test_validate_import_writes_nothing_and_reports(plan, unit, tmp_path):
    path = write_xlsx(
        tmp_path / "v.xlsx",
        [
            HEADER,
            [
                '=HYPERLINK("http://evil")',
                "现代科技馆体系联合行动",
                "科学之夜",
                "2025-06-01",
                "",
                "线下",
                "",
                "浙江省",
                "",
                "",
                "",
                "",
            ],
        ],
    )
    job = run_import(path, unit, commit=False)
    assert job.state == ImportJob.State.VALIDATED
    assert (job.total, job.valid_rows) == (1, 0)
    assert not Activity.objects.exists()
    sheet = load_workbook(io.BytesIO(importing.report_workbook(job))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("行号", "列", "内容", "问题", "级别")
    assert rows[1][0] == 2 and rows[1][4] == "错误"
    assert all(not str(cell).startswith("=") for row in rows for cell in row if cell)


@pytest.mark.django_db
def test_import_file_without_header_fails_with_reason(plan, unit, tmp_path):
    job = run_import(write_csv(tmp_path / "x.csv", [["a", "b"], ["1", "2"]]), unit)
    assert job.state == ImportJob.State.FAILED
    assert job.error == "前10行中找不到表头（至少要有“活动名称”列）"


@pytest.mark.django_db
def test_import_xlsx_row_numbers_count_blank_rows(plan, unit, tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx", [[], [], ["活动名称", "品牌活动", "开始日期"], ["A", "科学之夜", "2025-13-01"]]
    )
    job = run_import(path, unit, commit=False)
    assert [i["row"] for i in issues(job, "error")] == [4]


@pytest.mark.django_db
def test_import_progress_counters(plan, unit, tmp_path, monkeypatch):
    monkeypatch.setattr(importing.jobs, "PROGRESS_EVERY", 2)
    rows = [HEADER] + [
        [
            f"活动{i}",
            "现代科技馆体系联合行动",
            "科学之夜",
            "2025-09-20",
            "2025-09-20",
            "线下",
            "",
            "浙江省",
            "",
            "",
            "",
            "",
        ]
        for i in range(5)
    ]
    job = run_import(write_xlsx(tmp_path / "p.xlsx", rows), unit)
    job.refresh_from_db()
    assert (job.total, job.processed, job.created_count) == (5, 5, 5)


@pytest.mark.django_db
def test_import_real_activities_csv(plan, tmp_path):
    """The 107 real public records: each is imported or reported with its reason; a re-run changes nothing."""
    source = FIXTURES / "activities-real.csv"
    job = run_import(source)
    assert job.state == ImportJob.State.DONE
    failed = importing.failed_rows(job)
    assert job.total == 107
    assert job.created_count + len(failed) == 107
    # 41 rows are in: 11 marked with a joint action (by brand or organizer type) and 30 campaign-wide
    # activities (全国科普月活动, mostly 科协 main-venue activities), each with its warning.
    # Six rows just outside their windows (launch ceremonies in late August, follow-ups in early
    # October) are accepted within the YAML's 7-day tolerance, with a warning (issue 11 point 1).
    # Row 85 (中国科学技术馆's 舞台剧, 现代科技馆体系联合行动 by its type) has no brand and no term suggests
    # one: refused by plan 八(一) (decision 0024).
    assert (job.created_count, len(failed)) == (41, 66)
    campaign_wide = Activity.objects.filter(joint_action=None)
    assert campaign_wide.count() == 30
    warned = {
        i["row"]
        for i in issues(job, "warning")
        if i["reason"].startswith("未标记联合行动，按全国科普月活动导入")
    }
    assert len(warned - {row for row, _issues in failed}) == 30
    tolerated = {i["row"] for i in issues(job, "warning") if "在方案允许的范围内" in i["reason"]}
    assert len(tolerated - {row for row, _issues in failed}) == 6
    anhui = Activity.objects.get(title__startswith="2025年全国科普月安徽省暨合肥市主场活动")
    assert anhui.joint_action is None and anhui.brand is None and anhui.campaign == plan
    assert anhui.organizer.name == "安徽省科学技术协会" and anhui.status == Status.PUBLISHED
    assert 31 in warned
    assert all(all(issue["reason"] for issue in row_issues) for _row, row_issues in failed)
    by_row = dict(failed)
    # Row 13: a 2023 科协 record, outside the campaign month; row 10: no organizer, no dates.
    assert any("不在活动时间内：全国科普月活动时间为2025年9月1日至9月30日" in i["reason"] for i in by_row[13])
    assert "主办单位为空（管理员导入需按主办单位确定活动归属）" in [i["reason"] for i in by_row[10]]
    # Row 6: a 2024 科普大篷车 record, outside the 2025 window.
    assert any(
        "不在活动时间内：现代科技馆体系联合行动的活动时间为2025年7—10月" in i["reason"] for i in by_row[6]
    )
    # Row 4: 山西 “科学奇妙夜” without dates.
    assert any(i["reason"] == "开始时间为空" for i in by_row[4])
    assert any(i["reason"].startswith("现代科技馆体系联合行动的活动须标记品牌活动") for i in by_row[85])
    # Row 2: 洛阳市科技馆 “科学之夜” on 2025-09-26 is in.
    luoyang = Activity.objects.get(title__startswith="洛阳市科技馆“科学之夜”")
    assert luoyang.status == Status.PUBLISHED and luoyang.brand.name == "科学一千零一夜"
    assert luoyang.prefecture_code == "410300"
    again = run_import(source)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, job.created_count)


@pytest.mark.django_db
def test_template_has_drop_down_lists(plan):
    book = load_workbook(io.BytesIO(importing.build_template(plan)))
    assert book.sheetnames == ["活动信息表", "填写说明", "选项"]
    assert book["选项"].sheet_state == "hidden"
    sheet = book["活动信息表"]
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["活动编号", "活动名称", "联合行动"]
    column = {h: chr(ord("A") + i) for i, h in enumerate(headers)}
    rules = {str(rule.sqref).split(":")[0]: rule for rule in sheet.data_validations.dataValidation}
    for header in ("联合行动", "品牌活动", "活动形式", "省份", "城市", "区县"):
        rule = rules[f"{column[header]}2"]
        assert rule.type == "list", header
    assert "INDIRECT" in rules[f"{column['城市']}2"].formula1
    assert "INDIRECT" in rules[f"{column['品牌活动']}2"].formula1
    assert "市_浙江省" in book.defined_names and "县_浙江省_杭州市" in book.defined_names
    assert "品牌_现代科技馆体系联合行动" in book.defined_names
    lists = book["选项"]
    values = {cell.value for row in lists.iter_rows() for cell in row if cell.value}
    assert {
        "现代科技馆体系联合行动",
        "科学一千零一夜",
        "线上线下结合",
        "浙江省",
        "杭州市",
        "西湖区",
    } <= values
    notes = " ".join(str(c.value) for row in book["填写说明"].iter_rows() for c in row if c.value)
    assert "现代科技馆体系联合行动的活动时间为2025年7—10月（2025-07-01至2025-10-31）" in notes


@pytest.mark.django_db
def test_template_round_trip_imports(plan, unit, tmp_path):
    book = load_workbook(io.BytesIO(importing.build_template(plan)))
    sheet = book["活动信息表"]
    headers = [c.value for c in sheet[1]]
    values = {
        "活动名称": "模板填写的活动",
        "联合行动": "现代科技馆体系联合行动",
        "品牌活动": "科普大篷车",
        "开始时间": datetime(2025, 9, 16, 9, 0),
        "结束时间": datetime(2025, 9, 16, 11, 0),
        "活动形式": "线下",
        "省份": "浙江省",
        "城市": "杭州市",
        "区县": "西湖区",
    }
    for index, header in enumerate(headers, start=1):
        if header in values:
            sheet.cell(row=2, column=index, value=values[header])
    path = tmp_path / "filled.xlsx"
    book.save(path)
    job = run_import(path, unit)
    assert job.created_count == 1, job.report
    activity = Activity.objects.get()
    assert activity.starts_at == bj("2025-09-16 09:00") and activity.county_code == "330106"
