"""Header mapping for the import: the column aliases, the template's columns and sheet names."""

from __future__ import annotations

import re

from ..models import Audience, SpecialArea, Topic
from .cells import key, nfkc

TEMPLATE_SHEET = "活动信息表"
LISTS_SHEET = "选项"
INSTRUCTIONS_SHEET = "填写说明"

# canonical field → header spellings (compared after NFKC, lower-casing and dropping spaces and
# the marks "*", "（必填）", "（选填）").
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("活动编号", "编号", "外部编号", "活动id", "external_id", "id"),
    "title": ("活动名称", "名称", "标题", "活动标题", "活动主题名称", "项目名称", "title", "name"),
    "organizer": ("主办单位", "举办单位", "主办方", "主办", "组织单位", "organizer"),
    "co_organizers": (
        "协办/承办单位",
        "承办/协办单位",
        "承办单位",
        "协办单位",
        "合作单位",
        "co_organizers",
    ),
    "joint_action": ("联合行动", "所属联合行动", "joint_action"),
    "key_task": ("重点任务", "key_task"),
    "brand": ("品牌活动", "活动品牌", "品牌", "所属品牌", "brand"),
    "start": (
        "开始日期",
        "开始时间",
        "起始日期",
        "起始时间",
        "活动开始时间",
        "活动开始日期",
        "start_date",
        "start",
        "starts_at",
    ),
    "end": (
        "结束日期",
        "结束时间",
        "截止日期",
        "截止时间",
        "活动结束时间",
        "活动结束日期",
        "end_date",
        "end",
        "ends_at",
    ),
    "when": ("活动时间", "活动日期", "举办时间", "举办日期", "时间", "日期", "date"),
    "province": ("省", "省份", "省级", "所在省份", "省(区、市)", "province"),
    "city": ("市", "地市", "城市", "地级", "地级市", "所在城市", "市(州)", "city", "prefecture"),
    "county": ("县", "区县", "县区", "县级", "区(县)", "县(区)", "所在区县", "county", "district"),
    "region_code": ("区划代码", "行政区划代码", "地区代码", "region_code", "county_code"),
    "venue": ("活动地点", "地点", "举办地点", "具体地点", "场所", "地址", "venue", "address"),
    "form": ("活动形式", "形式", "线上/线下", "form"),
    "online_url": ("线上地址", "线上链接", "直播链接", "活动链接", "网址", "链接", "online_url", "url"),
    "audiences": ("面向对象", "对象", "受众", "服务对象", "目标人群", "audience", "audiences"),
    "topics": ("活动主题", "主题领域", "领域", "主题", "topic", "topics"),
    "special_areas": ("特殊地区", "地区类型", "special_areas"),
    "summary": ("活动简介", "简介", "活动内容", "内容简介", "summary"),
    "description": ("活动详情", "详情", "详细介绍", "description"),
    "expected_participants": ("预计参与人数", "预计人数", "参与人数", "拟参加人数", "expected_participants"),
    "science_workers": ("参与科技工作者人数", "科技工作者人数", "science_workers"),
    "contact_name": ("联系人", "联系人姓名", "contact", "contact_name"),
    "contact_phone": ("联系电话", "联系方式", "电话", "手机", "phone", "contact_phone"),
    "latitude": ("纬度", "latitude", "lat"),
    "longitude": ("经度", "longitude", "lng", "lon"),
}

# The template's columns, in order: (field, header, required, note for the instructions sheet).
TEMPLATE_COLUMNS: list[tuple[str, str, bool, str]] = [
    ("external_id", "活动编号", False, "本单位自编的编号（选填）；再次导入时按编号更新同一活动"),
    ("title", "活动名称", True, "不超过200字"),
    (
        "joint_action",
        "联合行动",
        False,
        "从下拉列表选择；不属于联合行动的活动选“全国科普月活动”（不填时按主办单位类型推断，推断不出按全国科普月活动导入）",
    ),
    ("brand", "品牌活动", False, "从下拉列表选择（先选联合行动）；须属于所选联合行动"),
    ("key_task", "重点任务", False, "选填；不填时按品牌活动确定"),
    ("organizer", "主办单位", False, "单位账号导入时一律为本单位，可不填"),
    ("co_organizers", "协办/承办单位", False, "多个单位用顿号分隔"),
    ("start", "开始时间", True, "如 2025-09-15 或 2025-09-15 14:00（北京时间）"),
    (
        "end",
        "结束时间",
        True,
        "如 2025-09-15 或 2025-09-25 17:00；须在联合行动的活动时间内（全国科普月活动须在科普月内）",
    ),
    ("form", "活动形式", True, "线下、线上或线上线下结合"),
    ("online_url", "线上地址", False, "线上或线上线下结合的活动必填，以 http(s):// 开头"),
    ("province", "省份", True, "从下拉列表选择"),
    ("city", "城市", False, "先选省份，再从下拉列表选择"),
    ("county", "区县", False, "先选城市，再从下拉列表选择"),
    ("venue", "活动地点", False, "具体场所，如 某某科技馆一楼大厅"),
    ("audiences", "面向对象", False, "可多选，用顿号分隔：" + "、".join(a.label for a in Audience)),
    ("topics", "活动主题", False, "可多选，用顿号分隔：" + "、".join(t.label for t in Topic)),
    ("special_areas", "特殊地区", False, "可多选，用顿号分隔：" + "、".join(s.label for s in SpecialArea)),
    ("expected_participants", "预计参与人数", False, "整数"),
    ("science_workers", "参与科技工作者人数", False, "整数"),
    ("contact_name", "联系人", False, ""),
    ("contact_phone", "联系电话", False, "公开页面只显示部分号码"),
    ("summary", "活动简介", False, "不超过500字"),
]

_HEADER_MARKS = re.compile(r"[(（](必填|选填|可选|必选)[)）]|[*※]")
_HEADER_INDEX = {
    key(_HEADER_MARKS.sub("", alias)): name for name, aliases in HEADER_ALIASES.items() for alias in aliases
}


def header_field(text) -> str | None:
    """The canonical field a header cell names, or ``None``."""
    return _HEADER_INDEX.get(key(_HEADER_MARKS.sub("", nfkc(text))))
