"""Profile of an import's commit at 500,000 activities (issue 17 point 4): the sheet of
``bench/import_speed.py`` with a per-run tag on titles and external ids (every run imports new rows,
so nothing is deleted between runs — deleting 10,000 activities row by row takes longer than the
import), then validate and commit with query counts by statement shape and a cProfile of the commit.

    KEPUYUE_VAR_DIR=/tmp/x-sqlite TAG=run1 .venv/bin/python bench/import_profile.py
    PROFILE=0 ...                     # timings and query counts only, no cProfile
    ROOT=/tmp/main-src ...            # another checkout's src/ and bench/ (git archive main | tar -x)
    DATABASE_URL=postgres://... KEPUYUE_VAR_DIR=/tmp/x-pg ...   # a seed_demo template works too

Seeds like ``import_speed.py`` when the database holds fewer than 500,000 bench rows.
"""

import collections
import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(os.environ.get("ROOT", Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(ROOT / "bench"))
import importlib.util  # noqa: E402

spec = importlib.util.spec_from_file_location("import_speed", ROOT / "bench" / "import_speed.py")
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
from django.db import connection  # noqa: E402

from kepuyue.activities import importing  # noqa: E402
from kepuyue.activities.models import Activity  # noqa: E402

rows = int(os.environ.get("ROWS", "10000"))
TAG = os.environ.get("TAG", "p1")
_orig_sheet = m.sheet


def sheet(path, rows):
    # same sheet as bench/import_speed.py, with a per-run tag on titles and external ids (new rows each run)
    from openpyxl import Workbook, load_workbook

    from kepuyue.orgs.models import Organization

    if Organization.objects.filter(name__startswith="基准测试").exists():
        _orig_sheet(path, rows)
    else:  # a template seeded by seed_demo: its 5,000 units with the most activities instead
        from django.db.models import Count

        names = list(
            Organization.objects.annotate(n=Count("activities"))
            .order_by("-n")
            .values_list("name", flat=True)[:5000]
        )

        class Shim:
            class objects:
                @staticmethod
                def filter(**kw):
                    class Q:
                        def values_list(self, *a, **k):
                            return names

                    return Q()

        saved = m.Organization
        m.Organization = Shim
        try:
            _orig_sheet(path, rows)
        finally:
            m.Organization = saved
    src = load_workbook(path, read_only=True)["活动信息表"]
    book = Workbook(write_only=True)
    ws = book.create_sheet("活动信息表")
    for i, r in enumerate(src.iter_rows(values_only=True)):
        r = list(r)
        if i:
            r[0] = f"{TAG}-{r[0]}"
            r[1] = f"{m.TITLE_TAG}{TAG}{r[1][len(m.TITLE_TAG) :]}"
        ws.append(r)
    book.save(path)


m.sheet = sheet
print("before", Activity.objects.count())
shapes = collections.Counter()
times = collections.Counter()


def wrapper(execute, sql, params, many, context):
    t = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        s = re.sub(r"\(%s(, %s)*\)(, \(%s(, %s)*\))*", "(…)", sql)
        s = re.sub(r"%s(, %s)+", "…", s)[:160]
        shapes[s] += 1
        times[s] += time.perf_counter() - t


with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "speed.xlsx"
    m.sheet(path, rows)
    sec, job = m.run(path, importing.validate_import)
    print("validate", sec, job.state)
    prof = cProfile.Profile()
    with connection.execute_wrapper(wrapper):

        def step(job):
            if os.environ.get("PROFILE", "1") == "1":
                prof.enable()
            try:
                return importing.commit_import(job)
            finally:
                prof.disable()

        sec, job = m.run(path, step)
    print(
        "commit",
        importing.__file__,
        f"{sec:.2f}s",
        f"{rows / sec:.0f} rows/s",
        job.state,
        job.created_count,
        job.error,
        os.getloadavg(),
    )
    tot = sum(shapes.values())
    print("queries", tot, "db time", f"{sum(times.values()):.2f}")
    for s, n in sorted(shapes.items(), key=lambda kv: -times[kv[0]])[:25]:
        print(f"{n:6d} {times[s]:7.3f}s  {s}")
    if os.environ.get("PROFILE", "1") != "1":
        sys.exit(0)
    st = pstats.Stats(prof)
    st.sort_stats("cumulative").print_stats(45)
    st.sort_stats("tottime").print_stats(25)
