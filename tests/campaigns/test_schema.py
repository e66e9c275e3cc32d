"""Bad campaign files fail with every problem as ``<yaml path>: <reason>``, nothing half-loaded."""

import pytest

from kepuyue.campaigns.schema import CampaignFileError, loc_to_path, parse_campaign
from tests.fixtures_campaigns import CAMPAIGN_FILE

from .conftest import find


def errors_of(content) -> list[str]:
    with pytest.raises(CampaignFileError) as excinfo:
        parse_campaign(content)
    return excinfo.value.errors


def dump(data) -> str:
    import yaml

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def test_parse_campaign_real_file_is_valid():
    plan = parse_campaign(CAMPAIGN_FILE.read_bytes())
    assert len(plan.joint_actions) == 7


def test_parse_campaign_misspelled_key_names_the_path(plan_data):
    brand = plan_data["joint_actions"][4]["brands"][1]
    brand["alias"] = brand.pop("aliases")
    assert errors_of(dump(plan_data)) == [
        "joint_actions[4].brands[1].alias: 不认识的键，可能拼写有误 (unknown key)"
    ]


def test_parse_campaign_misspelled_top_level_key(plan_data):
    plan_data["deadline"] = plan_data.pop("deadlines")
    assert errors_of(dump(plan_data)) == ["deadline: 不认识的键，可能拼写有误 (unknown key)"]


def test_parse_campaign_bad_date_in_the_file_text():
    text = CAMPAIGN_FILE.read_text(encoding="utf-8").replace("end: 2025-10-31", "end: 2025-10-32")
    assert errors_of(text) == [
        "joint_actions[4].window.end: “2025-10-32”不是有效日期，应写作 YYYY-MM-DD (not a valid date)"
    ]


def test_parse_campaign_date_written_loosely(plan_data):
    plan_data["deadlines"][0]["at"] = "8月1日"
    assert errors_of(dump(plan_data)) == [
        "deadlines[0].at: “8月1日”不是有效日期或时间，应写作 YYYY-MM-DD 或 ISO 8601 (not a valid date or date-time)"
    ]


def test_parse_campaign_window_ending_before_start(plan_data):
    plan_data["joint_actions"][5]["window"]["end"] = "2025-09-01"
    assert errors_of(dump(plan_data)) == [
        "joint_actions[5].window.end: 结束日期 2025-09-01 早于开始日期 2025-09-15 (ends before it starts)"
    ]


def test_parse_campaign_unknown_participant_type(plan_data):
    plan_data["joint_actions"][4]["participant_types"][1] = "museum"
    assert errors_of(dump(plan_data)) == [
        "joint_actions[4].participant_types[1]: 未声明的单位类型“museum”，请先在 organization_types 中声明 "
        "(unknown organization type)"
    ]


def test_parse_campaign_target_not_an_integer(plan_data):
    plan_data["joint_actions"][3]["brands"][0]["targets"][0]["value"] = "千"
    plan_data["joint_actions"][4]["brands"][1]["targets"][1]["value"] = (
        "1000"  # text, even if it looks numeric
    )
    plan_data["joint_actions"][4]["brands"][8]["targets"][0]["value"] = 7.5
    assert errors_of(dump(plan_data)) == [
        "joint_actions[3].brands[0].targets[0].value: 不是整数 (not an integer)",
        "joint_actions[4].brands[1].targets[1].value: 不是整数 (not an integer)",
        "joint_actions[4].brands[8].targets[0].value: 不是整数 (not an integer)",
    ]


def test_parse_campaign_duplicate_slugs(plan_data):
    museums = plan_data["joint_actions"][4]
    museums["brands"][3]["slug"] = "science-caravans"
    plan_data["deadlines"][2]["slug"] = "platform-opens"
    plan_data["joint_actions"][1]["slug"] = "national-societies"
    errors = errors_of(dump(plan_data))
    assert errors == [
        "joint_actions[1].slug: “national-societies”重复，已用于 joint_actions[0].slug (duplicate)",
        "joint_actions[4].brands[3].slug: “science-caravans”重复，已用于 joint_actions[4].brands[2].slug (duplicate)",
        "deadlines[2].slug: “platform-opens”重复，已用于 deadlines[1].slug (duplicate)",
        # The renamed joint action no longer answers to its old slug.
        "calls[2].joint_action: 没有联合行动“universities” (unknown joint action)",
    ]


def test_parse_campaign_duplicate_target_slug_across_brands(plan_data):
    plan_data["joint_actions"][4]["brands"][2]["targets"][0]["slug"] = "counties"
    assert errors_of(dump(plan_data)) == [
        "joint_actions[4].brands[2].targets[0].slug: “counties”重复，已用于 "
        "joint_actions[4].brands[1].targets[0].slug (duplicate)"
    ]


def test_parse_campaign_bad_slug(plan_data):
    plan_data["joint_actions"][0]["slug"] = "全国学会"
    assert errors_of(dump(plan_data)) == [
        "joint_actions[0].slug: 标识只能用小写英文字母、数字、- 和 _ (not a slug)"
    ]


def test_parse_campaign_yaml_syntax_error_names_line_and_column():
    lines = CAMPAIGN_FILE.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("  theme:"))
    lines[number] = "  theme: [提升全民科学素质"
    errors = errors_of("\n".join(lines))
    assert len(errors) == 1
    assert errors[0].startswith("第 ")
    assert "(line " in errors[0] and "YAML 语法错误 (YAML syntax error)" in errors[0]


def test_parse_campaign_yaml_syntax_error_line_is_exact():
    errors = errors_of("campaign:\n  slug: a\n  name: x: y\n")
    assert errors == [
        "第 3 行第 10 列 (line 3, column 10): YAML 语法错误 (YAML syntax error): mapping values are not allowed here"
    ]


def test_parse_campaign_duplicate_key_is_an_error():
    errors = errors_of("campaign:\n  slug: a\n  slug: b\n")
    assert errors == [
        "第 3 行第 3 列 (line 3, column 3): YAML 语法错误 (YAML syntax error): 重复的键“slug” (duplicate key)"
    ]


def test_parse_campaign_top_level_not_a_mapping():
    assert errors_of("- a\n- b\n") == [
        "（文件）: 顶层应为映射，以 campaign: 开头 (top level must be a mapping)"
    ]
    assert errors_of(b"\xff\xfe")[0].startswith("（文件）: 不是 UTF-8")


def test_parse_campaign_missing_required_fields(plan_data):
    del plan_data["campaign"]["theme"]
    del plan_data["joint_actions"][2]["key_tasks"][0]["description"]
    assert errors_of(dump(plan_data)) == [
        "campaign.theme: 缺少必填项 (missing)",
        "joint_actions[2].key_tasks[0].description: 缺少必填项 (missing)",
    ]


def test_parse_campaign_brand_references_must_exist(plan_data):
    museums = plan_data["joint_actions"][4]
    find(museums["brands"], "science-caravans")["parent"] = "caravans"
    find(museums["brands"], "science-films")["key_task"] = "films"
    assert errors_of(dump(plan_data)) == [
        "joint_actions[4].brands[2].parent: 本联合行动没有品牌活动“caravans” (unknown parent brand)",
        "joint_actions[4].brands[8].key_task: 本联合行动没有重点任务“films” (unknown key task)",
    ]


def test_parse_campaign_brand_parent_cycle(plan_data):
    museums = plan_data["joint_actions"][4]
    find(museums["brands"], "hundred-counties")["parent"] = "science-caravans"
    errors = errors_of(dump(plan_data))
    assert "joint_actions[4].brands[1].parent: 品牌活动的上下级关系形成了循环 (parent cycle)" in errors


def test_parse_campaign_deadline_and_call_references(plan_data):
    plan_data["deadlines"][0]["joint_action"] = "reading"
    plan_data["calls"][0]["brand"] = "city-walk"
    plan_data["calls"][1]["eligible_types"] = ["base"]
    plan_data["calls"][2]["joint_action"] = "colleges"
    assert errors_of(dump(plan_data)) == [
        "deadlines[0].joint_action: 没有联合行动“reading” (unknown joint action)",
        "calls[0].brand: 联合行动“science-education-bases”没有品牌活动“city-walk” (unknown brand)",
        "calls[1].eligible_types[0]: 未声明的单位类型“base”，请先在 organization_types 中声明 (unknown organization type)",
        "calls[2].joint_action: 没有联合行动“colleges” (unknown joint action)",
    ]


def test_parse_campaign_video_spec_is_checked(plan_data):
    spec = plan_data["calls"][1]["spec"]
    spec["min_width"] = "1920px"
    spec["codec"] = "h264"
    del spec["min_height"]
    assert errors_of(dump(plan_data)) == [
        "calls[1].spec.min_width: 不是整数 (not an integer)",
        "calls[1].spec.codec: 不认识的键，可能拼写有误 (unknown key)",
    ]
    spec["min_width"] = 1920
    del spec["codec"]
    assert errors_of(dump(plan_data)) == [
        "calls[1].spec.min_height: 分辨率要同时给出 min_width 和 min_height (both or neither)"
    ]


def test_parse_campaign_video_container_must_be_known(plan_data):
    plan_data["calls"][1]["spec"]["container"] = "avi"
    assert errors_of(dump(plan_data)) == [
        "calls[1].spec.container: 只能是 'mp4', 'mov' or 'webm' 之一 (not an allowed value)"
    ]


def test_parse_campaign_unknown_call_kind(plan_data):
    plan_data["calls"][0]["kind"] = "poster"
    errors = errors_of(dump(plan_data))
    assert len(errors) == 1
    assert errors[0].startswith("calls[0].kind: 不认识的类型“poster”")


def test_parse_campaign_call_closing_before_opening(plan_data):
    plan_data["calls"][5]["closes"] = "2025-06-30"
    assert errors_of(dump(plan_data)) == ["calls[5].closes: 截止时间早于开始时间 (closes before it opens)"]


def test_parse_campaign_bad_email_and_plan_ref(plan_data):
    plan_data["joint_actions"][0]["contacts"][0]["email"] = "kpbzhc at cast.org.cn"
    plan_data["joint_actions"][0]["key_tasks"][0]["plan_ref"] = "一（二）1"
    assert errors_of(dump(plan_data)) == [
        "joint_actions[0].key_tasks[0].plan_ref: “一（二）1”不是方案章节编号，应写作 四(二)3 这样的形式、用半角括号 "
        "(not a plan section)",
        "joint_actions[0].contacts[0].email: “kpbzhc at cast.org.cn”不是有效的电子邮箱地址 (not an e-mail address)",
    ]


def test_parse_campaign_text_too_long_for_its_column(plan_data):
    plan_data["joint_actions"][0]["name"] = "联" * 101
    assert errors_of(dump(plan_data)) == ["joint_actions[0].name: 太长，最多 100 个字符 (too long)"]


def test_parse_campaign_range_upper_end_must_be_higher(plan_data):
    plan_data["joint_actions"][6]["brands"][1]["targets"][0]["value_max"] = 10
    assert errors_of(dump(plan_data)) == [
        "joint_actions[6].brands[1].targets[0].value_max: 上限 10 应大于 value 10 (range upper end too small)"
    ]


def test_loc_to_path_without_data():
    assert loc_to_path(("joint_actions", 3, "brands", 1, "targets", 0, "value")) == (
        "joint_actions[3].brands[1].targets[0].value"
    )
    assert loc_to_path(()) == "（文件）"


def test_loc_to_path_skips_union_tags():
    data = {"calls": [{"kind": "video", "spec": {"min_width": "x"}}]}
    assert loc_to_path(("calls", 0, "video", "spec", "min_width"), data) == "calls[0].spec.min_width"


def test_parse_campaign_brand_label_means_one_brand(plan_data):
    reading = plan_data["joint_actions"][6]
    find(reading["brands"], "book-list")["aliases"].append("阅见科普")
    plan_data["joint_actions"][2]["brands"][2]["name"] = "科普报告话前沿"
    assert errors_of(dump(plan_data)) == [
        "joint_actions[2].brands[2].name: “科普报告话前沿”重复，已用于 joint_actions[0].brands[0].name (duplicate)",
        "joint_actions[6].brands[2].aliases[2]: “阅见科普”重复，已用于 joint_actions[6].brands[0].aliases[0] (duplicate)",
    ]
