"""An import's commit costs a fixed number of queries per batch, whatever the rows (issue 17 point 4).

At 500,000 activities the commit of a 10,000-row sheet must stay ≥ 2,000 rows/s; what breaks that is
work that grows with the rows — a query per row in the importer or in a subscriber of
``activities_imported`` (change feed, roll-ups, page cache), or a per-row ORM path. These tests
count the queries of committing 8 and 80 rows of an administrator's import (published rows: every
subscriber has work) and require the same count: a per-row query makes the second 72 larger."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kepuyue.activities import importing
from kepuyue.activities.models import Activity, Status
from kepuyue.api.models import ActivityChange
from kepuyue.dashboard.models import Fact
from kepuyue.orgs.models import Organization
from tests.activities.helpers import job_for, write_xlsx

pytestmark = pytest.mark.django_db

HEADER = ["活动编号", "活动名称", "主办单位", "联合行动", "品牌活动", "开始时间", "结束时间", "活动形式"]
HEADER += ["省份", "城市", "区县", "活动地点", "面向对象", "活动简介"]
UNITS = ("杭州科技馆", "宁波科技馆")


def sheet(path, tag: str, n: int):
    rows = [HEADER]
    for i in range(n):
        rows.append(
            [
                f"{tag}-{i}",
                f"{tag}科学之夜互动体验{i}",
                UNITS[i % 2],
                "现代科技馆体系联合行动",
                "科学之夜",
                "2025-09-20 09:00",
                "2025-09-20 17:00",
                "线下",
                "浙江省",
                "杭州市",
                "西湖区",
                "科技馆一楼大厅",
                "青少年",
                "科学实验秀。",
            ]
        )
    return write_xlsx(path, rows)


def commit_counting(path):
    job = job_for(path)
    with CaptureQueriesContext(connection) as queries:
        job = importing.commit_import(job)
    assert job.state == job.State.DONE, job.error
    return job, len(queries), [q["sql"] for q in queries]


@pytest.fixture
def units(plan):
    for name in UNITS:
        Organization.objects.create(name=name, type_id="science_museum")


def test_commit_queries_do_not_grow_with_rows(units, tmp_path):
    # Existing rows of the same units, so the look-up of existing activities has something to find.
    commit_counting(sheet(tmp_path / "seed.xlsx", "旧", 6))
    small, few, _ = commit_counting(sheet(tmp_path / "small.xlsx", "甲", 8))
    large, many, sql = commit_counting(sheet(tmp_path / "large.xlsx", "乙", 80))
    assert (small.created_count, large.created_count) == (8, 80)
    assert many == few, f"{many - few} more queries for 72 more rows:\n" + "\n".join(s[:150] for s in sql)
    # What the subscribers must still do for every row: the change feed and the roll-ups count them.
    written = Activity.objects.filter(title__startswith="乙", status=Status.PUBLISHED)
    ids = set(written.values_list("pk", flat=True))
    assert len(ids) == 80
    assert (
        set(ActivityChange.objects.filter(activity_id__in=ids).values_list("activity_id", flat=True)) == ids
    )
    assert Fact.objects.filter(activity_id__in=ids).count() == 80


def test_recommit_of_unchanged_rows_costs_no_more_queries(units, tmp_path):
    path = sheet(tmp_path / "a.xlsx", "丙", 80)
    commit_counting(path)
    again, count_80, _ = commit_counting(path)
    assert again.unchanged_count == 80
    small = sheet(tmp_path / "b.xlsx", "丁", 8)
    commit_counting(small)
    again_small, count_8, _ = commit_counting(small)
    assert again_small.unchanged_count == 8
    assert count_80 == count_8
