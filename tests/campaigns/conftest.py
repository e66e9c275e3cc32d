"""Helpers for the campaigns tests: the real plan as editable data, and writing it back out."""

import copy
from pathlib import Path

import pytest
import yaml

from kepuyue.campaigns.schema import load_yaml
from tests.fixtures_campaigns import CAMPAIGN_FILE

_PLAN = load_yaml(CAMPAIGN_FILE.read_text(encoding="utf-8"))


@pytest.fixture
def plan_data() -> dict:
    """The real 2025 plan file as plain data (dates as text), a fresh copy to edit."""
    return copy.deepcopy(_PLAN)


@pytest.fixture
def write_plan(tmp_path):
    """``write_plan(data, name="plan.yaml") -> Path``: dump edited plan data into ``tmp_path``."""

    def write(data: dict | str, name: str = "plan.yaml") -> Path:
        path = tmp_path / name
        text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return write


def find(items: list[dict], slug: str) -> dict:
    """The entry of ``items`` with ``slug``."""
    return next(item for item in items if item["slug"] == slug)
