"""cProfile of one 500-item ``POST /api/v1/org/activities/bulk`` in-process (decision 0032).

Uses the SQLite database of ``bench/api_writes.py`` (``--prepare`` it first; default ``var/bench-sqlite``)::

    KEPUYUE_BENCH_VAR_DIR=/tmp/apiwrite-bench-sqlite2 .venv/bin/python bench/profile_bulk.py

Prints the time of a create request (new external ids) and the functions that took it.
"""

import contextlib
import cProfile
import io
import json
import os
import pstats
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.update(
    SECRET_KEY="bench-" + "k" * 40,
    DEBUG="0",
    KEPUYUE_HTTPS="0",
    KEPUYUE_VAR_DIR=os.environ.get(
        "KEPUYUE_BENCH_VAR_DIR", str(Path(__file__).resolve().parents[1] / "var" / "bench-sqlite")
    ),
    KEPUYUE_RATE_LIMITS="0",
    REDIS_URL="",
    DJANGO_SETTINGS_MODULE="kepuyue.settings",
)


def main() -> None:
    import django

    django.setup()
    from api_writes import SETUP_UNIT, item
    from django.test import Client

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(SETUP_UNIT, {})  # noqa: S102 - the bench's own setup code
    secret = out.getvalue().strip().splitlines()[-1]
    client = Client(HTTP_HOST="127.0.0.1")

    def once(first: int) -> None:
        body = json.dumps({"items": [item(n) for n in range(first, first + 500)]})
        response = client.post(
            "/api/v1/org/activities/bulk",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )
        assert response.status_code == 200 and response.json()["failed"] == 0, response.content[:300]

    base = random.randrange(10**6, 10**9)  # noqa: S311 - fresh external ids, not a secret
    once(base)  # warm the caches and the connection
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    once(base + 1000)
    profile.disable()
    print(f"create 500 under cProfile: {time.perf_counter() - started:.2f} s")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(r"kepuyue|insert_rows|full_clean", 30)


if __name__ == "__main__":
    main()
