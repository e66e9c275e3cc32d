"""The layers of ``docs/architecture.md``, checked by import-linter (contracts in ``pyproject.toml``).

``make lint`` runs ``lint-imports`` too; running it here means ``make test`` also catches an import
that goes the wrong way. The second test shows that the contracts really bite: a copy of the source
with one deliberately added upward import (``kepuyue.activities`` importing ``kepuyue.review``, the
loop this project once had) fails them, naming the import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "kepuyue"


def lint_imports(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess:
    """``lint-imports --no-cache`` (no cache folder in the working tree) in ``cwd``."""
    executable = Path(sys.executable).with_name("lint-imports")
    if not executable.exists():
        found = shutil.which("lint-imports")
        if found is None:
            pytest.fail("lint-imports is not installed: pip install -e '.[dev]'")
        executable = Path(found)
    env = {**os.environ, "PYTHONPATH": str(pythonpath), "COLUMNS": "200"}
    return subprocess.run(
        [str(executable), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_import_contracts_hold():
    result = lint_imports(ROOT, ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_app_is_in_the_layers():
    """A new app must be placed in the layers, or the contract would not look at it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [layers] = [c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "layers"]
    named = {name.strip() for line in layers["layers"] for name in line.split("|")}
    apps = {p.name for p in SRC.iterdir() if (p / "__init__.py").exists() and p.name != "locale"}
    assert apps <= named, f"apps missing from the layers in pyproject.toml: {sorted(apps - named)}"


def test_an_upward_import_breaks_the_contracts(tmp_path):
    shutil.copytree(
        SRC,
        tmp_path / "src" / "kepuyue",
        ignore=shutil.ignore_patterns("__pycache__", "locale", "templates", "static", "migrations"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "src" / "kepuyue" / "activities" / "upward.py").write_text(
        '"""A lower app calling a higher one directly: what domain events replace."""\n\n'
        "from kepuyue.review.services import release_recommendation  # noqa: F401\n",
        encoding="utf-8",
    )
    result = lint_imports(tmp_path, tmp_path / "src")
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "kepuyue.activities.upward -> kepuyue.review.services" in result.stdout
