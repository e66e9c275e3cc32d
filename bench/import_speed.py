"""Import speed into a large database (issue 17 point 4; not a timed test): rows per second for
validating and committing a 10,000-row ``.xlsx`` into a database that already holds 500,000
activities (target ≥ 2,000 rows/s), then re-importing the same file (every row unchanged).

The existing activities are ``bench/seed_and_query.py``'s (5,000 synthetic organizers, about 100
activities each); the sheet is an administrator's import whose rows belong to those same organizers
— the worst case for finding existing rows — with new titles. Prints a Markdown table and the load
average (the machine is shared: figures are pessimistic).

    # SQLite, in var/bench-sqlite/ (shared with seed_and_query.py) — never the development database
    .venv/bin/python bench/import_speed.py --existing 500000 --rows 10000
    # PostgreSQL; createdb -h 127.0.0.1 -U postgres kepuyue_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kepuyue_bench .venv/bin/python bench/import_speed.py

``--cleanup`` deletes this script's imported rows afterwards (the seeded 500,000 stay for reuse).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("seed_and_query", ROOT / "bench" / "seed_and_query.py")
seeding = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(seeding)  # sets up Django (its own var/ or DATABASE_URL) and the seeding helpers

from django.core.files import File  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from kepuyue.activities import importing  # noqa: E402
from kepuyue.activities.models import Activity, ImportJob  # noqa: E402
from kepuyue.orgs.models import Organization  # noqa: E402

TITLE_TAG = "导入测速"


def _plain(value):
    """A model attribute as the writer takes it (a file field's stored name)."""
    from django.db.models.fields.files import FieldFile

    return (value.name or "") if isinstance(value, FieldFile) else value


def seed(total: int, batch: int = 5000) -> None:
    """Top the bench activities up to ``total`` like ``seed_and_query.seed`` (same synthetic rows, same
    tag, so both scripts share them), but through the importer's multi-row writer
    (``importing.insert_rows``), several times faster than ``bulk_create`` on a loaded machine."""
    from django.db import connection, transaction
    from django.utils import timezone

    campaign, actions, brands, counties = seeding.prepare()
    have = Activity.objects.filter(external_id__startswith=seeding.TAG).count()
    if have >= total:
        seeding.log(f"{have:,} bench activities already there")
        return
    brands_by_action = {a.id: [b for b in brands if b.joint_action_id == a.id] for a in actions}
    orgs = seeding.organizations(counties, 5000)
    rng = random.Random(have)
    fields = [f.attname for f in Activity._meta.concrete_fields if not f.primary_key and not f.generated]
    started = time.perf_counter()
    for first in range(have, total, batch):
        rows = []
        for n in range(first, min(first + batch, total)):
            activity = seeding.synthetic(rng, n, campaign, actions, brands_by_action, counties, orgs)
            rows.append({name: _plain(getattr(activity, name)) for name in fields})
        with transaction.atomic():
            importing.insert_rows(Activity, rows, now=timezone.now())
        done = first + len(rows) - have
        seeding.log(f"  {first + len(rows):,} rows, {done / (time.perf_counter() - started):,.0f} rows/s")
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE activities_activity" if connection.vendor == "postgresql" else "ANALYZE"
        )


def sheet(path: Path, rows: int) -> None:
    """A 10,000-row 信息表 of the bench organizers (write-only openpyxl, real dates and places)."""
    orgs = list(
        Organization.objects.filter(name__startswith="基准测试").values_list("name", flat=True)[:5000]
    )
    rng = random.Random(17)
    book = Workbook(write_only=True)
    ws = book.create_sheet("活动信息表")
    ws.append(
        [
            "活动编号",
            "活动名称",
            "主办单位",
            "联合行动",
            "品牌活动",
            "开始时间",
            "结束时间",
            "活动形式",
            "省份",
            "城市",
            "区县",
            "活动地点",
            "面向对象",
            "活动简介",
        ]
    )
    places = [("浙江省", "杭州市", "西湖区"), ("四川省", "成都市", "武侯区"), ("河南省", "郑州市", "金水区")]
    for i in range(rows):
        province, city, county = places[i % len(places)]
        day = 10 + i % 18
        ws.append(
            [
                f"speed-{i}",
                f"{TITLE_TAG}{i}“科学之夜”互动体验",
                rng.choice(orgs),
                "现代科技馆体系联合行动",
                "科学之夜",  # 八(一): the joint action has brands, a row without one is refused
                f"2025-09-{day:02d} 09:00",
                f"2025-09-{day:02d} 17:00",
                "线下",
                province,
                city,
                county,
                "科技馆一楼大厅",
                "青少年、家庭",
                "面向公众开展科学实验秀和互动体验。",
            ]
        )
    book.save(path)


def run(path: Path, step) -> tuple[float, ImportJob]:
    with open(path, "rb") as handle:
        job = ImportJob(original_name=path.name)
        job.file.save(path.name, File(handle), save=False)
        job.save()
    started = time.perf_counter()
    job = step(job)
    return time.perf_counter() - started, job


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--existing", type=int, default=500_000, help="seeded activities already there")
    parser.add_argument("--rows", type=int, default=10_000, help="rows in the imported sheet")
    parser.add_argument("--cleanup", action="store_true", help="delete the imported rows afterwards")
    args = parser.parse_args()
    seed(args.existing)
    Activity.objects.filter(title__startswith=TITLE_TAG).delete()
    before = Activity.objects.count()
    from django.db import connection

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speed.xlsx"
        sheet(path, args.rows)
        for label, step in (
            ("validate (new rows)", importing.validate_import),
            ("commit (new rows)", importing.commit_import),
            ("commit again (all unchanged)", importing.commit_import),
        ):
            seconds, job = run(path, step)
            assert job.state in (ImportJob.State.VALIDATED, ImportJob.State.DONE), job.error
            if step is importing.commit_import:
                # A refused row is not a written row: the figure counts only a sheet written whole.
                written = job.created_count + job.updated_count + job.unchanged_count
                assert written == job.total, f"{label}: {written} of {job.total} rows written"
            results.append((label, job.total, seconds, job))
    load = os.getloadavg()
    print(
        f"\n{connection.vendor}, {before:,} activities before, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n"
    )
    print("| step | rows | seconds | rows/s | created / updated / unchanged |")
    print("|---|---:|---:|---:|---|")
    for label, total, seconds, job in results:
        print(
            f"| {label} | {total:,} | {seconds:.1f} | **{total / seconds:,.0f}** | "
            f"{job.created_count} / {job.updated_count} / {job.unchanged_count} |"
        )
    if args.cleanup:
        Activity.objects.filter(title__startswith=TITLE_TAG).delete()


if __name__ == "__main__":
    main()
