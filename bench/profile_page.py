"""Where one page's time goes, in-process (no HTTP, no load): SQL versus Python, and a cProfile.

    .venv/bin/python bench/profile_page.py /activities/            # SQLite bench DB (var/bench-sqlite)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kepuyue_bench .venv/bin/python bench/profile_page.py /activities/

Run after bench/http_pages.py has seeded the database. The figures explain the share of the
framework ceiling a page reaches in BENCHMARKS.md.
"""

import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepuyue.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 40)
os.environ.setdefault("KEPUYUE_HTTPS", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
if not os.environ.get("DATABASE_URL"):
    os.environ.setdefault("KEPUYUE_VAR_DIR", str(ROOT / "var" / "bench-sqlite"))

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main(paths: list[str], repeat: int = 30) -> None:
    client = Client()
    for path in paths:
        assert client.get(path).status_code == 200, path  # warm caches
        started = time.perf_counter()
        for _ in range(repeat):
            client.get(path)
        per_request = (time.perf_counter() - started) / repeat * 1000
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        sql = sum(float(q["time"]) for q in queries.captured_queries) * 1000
        print(
            f"{path}: {per_request:.1f} ms a request in-process; {len(queries.captured_queries)} queries "
            f"taking {sql:.1f} ms; Python (view, templates, middleware) {per_request - sql:.1f} ms"
        )
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(repeat):
        client.get(paths[0])
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(15)
    print(out.getvalue())


if __name__ == "__main__":
    main(sys.argv[1:] or ["/activities/"])
