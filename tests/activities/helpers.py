"""Small helpers of the activities tests: write sheets, run an import."""

import csv
from pathlib import Path

from django.core.files import File
from openpyxl import Workbook

from kepuyue.activities import importing
from kepuyue.activities.models import ImportJob


def write_xlsx(path: Path, rows: list[list], *, title_row: str | None = None, sheet: str = "Sheet1") -> Path:
    """An .xlsx with ``rows`` (header first), optionally below a title row."""
    book = Workbook()
    ws = book.active
    ws.title = sheet
    if title_row:
        ws.append([title_row])
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def write_csv(path: Path, rows: list[list], *, encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def job_for(path: Path, organization=None) -> ImportJob:
    with open(path, "rb") as handle:
        job = ImportJob(organization=organization, original_name=path.name)
        job.file.save(path.name, File(handle), save=False)
        job.save()
    return job


def run_import(path: Path, organization=None, *, commit: bool = True) -> ImportJob:
    """Validate (or validate and commit) ``path`` as a fresh job; returns the job."""
    job = job_for(path, organization)
    if commit:
        return importing.commit_import(job)
    return importing.validate_import(job)


def issues(job: ImportJob, level: str | None = None) -> list[dict]:
    return [i for i in job.report if level is None or i["level"] == level]


def reasons(job: ImportJob, row: int) -> list[str]:
    """Errors and warnings of ``row`` (not its outcome line, level ``info``)."""
    return [i["reason"] for i in job.report if i["row"] == row and i["level"] != importing.INFO]


def outcome(job: ImportJob, row: int) -> str:
    """The row's outcome: 新增 / 更新活动 #…（字段）/ 无变化 / 可能重复 …"""
    return next((i["reason"] for i in job.report if i["row"] == row and i["level"] == importing.INFO), "")
