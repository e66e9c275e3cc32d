"""Error messages of the campaign file: pydantic errors as lines ``<yaml path>: <reason>``, the
reason in Chinese with the English in parentheses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import (
    ValidationError,
)

# --- Error messages --------------------------------------------------------------------------


def loc_to_path(loc: Sequence[str | int], data: Any = None) -> str:
    """Turn a pydantic ``loc`` into a YAML path: ``("joint_actions", 3, "brands", 1, "name")`` →
    ``joint_actions[3].brands[1].name``.

    With the parsed ``data`` the walk follows the document, so the tags pydantic adds for a
    tagged union (``calls[0].video.spec`` → ``calls[0].spec``) and for dict keys are left out.
    """
    parts: list[str] = []
    node = data
    for index, item in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(item, int):
            parts.append(f"[{item}]")
            node = node[item] if isinstance(node, list) and -len(node) <= item < len(node) else None
            continue
        if item == "[key]":
            continue
        if data is not None and isinstance(node, dict) and item not in node and not last:
            continue  # a union tag, not a key of the document
        parts.append(item if not parts else f".{item}")
        node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts) or "（文件）"


_REASONS = {
    "missing": "缺少必填项 (missing)",
    "extra_forbidden": "不认识的键，可能拼写有误 (unknown key)",
    "int_type": "不是整数 (not an integer)",
    "int_parsing": "不是整数 (not an integer)",
    "int_from_float": "不是整数 (not an integer)",
    "bool_type": "应为 true 或 false (not a boolean)",
    "bool_parsing": "应为 true 或 false (not a boolean)",
    "string_type": "应为文本，数字或日期请加引号 (not a string)",
    "string_pattern_mismatch": "标识只能用小写英文字母、数字、- 和 _ (not a slug)",
    "list_type": "应为列表 (not a list)",
    "dict_type": "应为映射（键: 值）(not a mapping)",
    "model_type": "应为映射（键: 值）(not a mapping)",
    "model_attributes_type": "应为映射（键: 值）(not a mapping)",
    "date_type": "不是有效日期，应写作 YYYY-MM-DD (not a valid date)",
    "datetime_type": "不是有效时间，应写作 ISO 8601 (not a valid date-time)",
    "union_tag_not_found": "缺少 kind（征集类型）(missing kind)",
}


def _reason(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error["msg"])).removeprefix("Value error, ")
    if kind == "string_too_short":
        return "不能为空 (must not be empty)"
    if kind == "string_too_long":
        return f"太长，最多 {ctx.get('max_length')} 个字符 (too long)"
    if kind == "too_short":
        return f"至少要有 {ctx.get('min_length')} 项 (too few items)"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项 (too many items)"
    if kind == "literal_error":
        return f"只能是 {ctx.get('expected')} 之一 (not an allowed value)"
    if kind == "greater_than_equal":
        return f"应不小于 {ctx.get('ge')} (must be ≥ {ctx.get('ge')})"
    if kind == "less_than_equal":
        return f"应不大于 {ctx.get('le')} (must be ≤ {ctx.get('le')})"
    if kind == "union_tag_invalid":
        return f"不认识的类型“{ctx.get('tag')}”，应为 {ctx.get('expected_tags')} 之一 (unknown kind)"
    if kind in _REASONS:
        return _REASONS[kind]
    return f"不符合要求 (invalid): {error['msg']}"


def error_lines(exc: ValidationError, data: Any = None) -> list[str]:
    """Every error of ``exc`` as ``<yaml path>: <reason>``, in document order of pydantic."""
    lines: list[str] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if error["type"] == "plan_problems":
            for sub_loc, message in error["ctx"]["problems"]:
                lines.append(f"{loc_to_path(loc + tuple(sub_loc), data)}: {message}")
            continue
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "kind")
        lines.append(f"{loc_to_path(loc, data)}: {_reason(error)}")
    return lines
