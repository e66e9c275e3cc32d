"""Reading the campaign file: YAML (duplicate keys refused) to a checked :class:`CampaignFile`."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import (
    ValidationError,
)

from .errors import error_lines
from .fields import CampaignFileError
from .file import CampaignFile

# --- Reading the file ------------------------------------------------------------------------


class _PlanLoader(yaml.SafeLoader):
    """YAML's safe loader, minus two surprises: duplicate keys fail (the last one would silently
    win) and dates stay text, so a wrong date is reported by path instead of crashing the parser.
    """

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=deep)
                try:
                    duplicate = key in seen
                except TypeError:
                    continue  # an unhashable key: the base constructor reports it
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"重复的键“{key}” (duplicate key)",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_PlanLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """Parse YAML text (safe subset, dates kept as text). Raises :class:`CampaignFileError` with
    ``第 L 行第 C 列 (line L, column C): …`` for syntax errors and duplicate keys.
    """
    try:
        return yaml.load(text, Loader=_PlanLoader)  # noqa: S506 - _PlanLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        detail = f"{context}: {problem}" if context and "duplicate key" not in problem else problem
        if mark is None:
            where = "（文件）"
        else:
            line, column = mark.line + 1, mark.column + 1
            where = f"第 {line} 行第 {column} 列 (line {line}, column {column})"
        raise CampaignFileError([f"{where}: YAML 语法错误 (YAML syntax error): {detail}"]) from None


def parse_campaign(content: bytes | str) -> CampaignFile:
    """Validate a campaign file's content (UTF-8 bytes or text) into a :class:`CampaignFile`.

    Raises :class:`CampaignFileError` listing every problem as ``<yaml path>: <reason>``.
    """
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CampaignFileError([f"（文件）: 不是 UTF-8 编码的文本 (not UTF-8): {exc}"]) from None
    data = load_yaml(content)
    if not isinstance(data, dict):
        raise CampaignFileError(["（文件）: 顶层应为映射，以 campaign: 开头 (top level must be a mapping)"])
    try:
        return CampaignFile.model_validate(data)
    except ValidationError as exc:
        raise CampaignFileError(error_lines(exc, data)) from None
