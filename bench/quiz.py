"""The 科普法 quiz under load (issue 14): concurrent takers start, answer and submit through the real
HTTP stack; then the leaderboards (比比看) read at 1,000,000 attempts.

1. **Takers** — ``--takers`` signed-in accounts with a taker's profile, all at once (a barrier releases
   the first wave together, ``--concurrency`` at a time): each POSTs ``/quiz/<round>/start/`` (draw and
   shuffle on the server), GETs the attempt page (20 questions), POSTs its 20 answers (scoring, the best
   result and three roll-up rows in the submitting transaction, ADR 0019). Reported: attempts and answers
   per second (answers = questions answered and scored), p50/p95 per request and per whole attempt, and
   afterwards a check that the roll-ups equal a recount from the attempts.
2. **Leaderboards at scale** — ``--attempts`` (default 1,000,000) submitted attempts of
   ``--attempts / 4`` people over 31 provinces and 2,000 units are bulk-inserted with their best rows and
   roll-ups (the rows the services would have written; ``paper`` left empty to save disk), then
   ``GET /quiz/<round>/`` (round page with the province, unit and top-list boards) is timed
   ``--reads`` times, 10 at a time, and ``boards.board()`` in-process.

The server is ``python -m kepuyue.serve`` (granian, 2 workers) on ``--port`` against a fresh database:
SQLite under ``var/bench-quiz/`` or, with ``--db postgres``, the database ``bench_quiz`` on 127.0.0.1.

    .venv/bin/python bench/quiz.py --takers 1000                       # SQLite
    .venv/bin/python bench/quiz.py --takers 1000 --db postgres         # PostgreSQL

Prints JSON lines and Markdown rows for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bookings  # noqa: E402  (the shared helpers: accounts with sessions, the server, CPU time)

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-quiz"
PG_URL = "postgres://postgres@127.0.0.1:5432/bench_quiz"
CSRF = bookings.CSRF
NOW = "2025-09-16T10:00+08:00"
SLUG = "kepufa-2025"


def environment(db: str) -> dict:
    env = bookings.environment(db)
    env.update({"KEPUYUE_NOW": NOW, "KEPUYUE_VAR_DIR": str(VAR)})
    if db == "postgres":
        env["DATABASE_URL"] = PG_URL
    return env


def fresh_database(db: str, env: dict) -> None:
    if db == "postgres":
        for sql in ("DROP DATABASE IF EXISTS bench_quiz", "CREATE DATABASE bench_quiz"):
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql, "postgres"], check=True)
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    manage = [sys.executable, str(ROOT / "manage.py")]
    for step in (
        ["migrate", "--noinput"],
        ["collectstatic", "--noinput"],
        ["load_regions"],
        ["load_campaign", "campaigns/kepuyue-2025.yaml"],
        ["load_quiz", "data/quiz/bank-2024.yaml", "data/quiz/rounds-kepuyue-2025.yaml"],
    ):
        subprocess.run([*manage, *step, "-v", "0"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def provinces() -> list:
    from kepuyue.regions.models import Level, Region

    return list(Region.objects.filter(level=Level.PROVINCE).order_by("code")[:31])


def make_takers(n: int, start: int) -> list[tuple[int, str]]:
    from kepuyue.quiz.models import Profile

    users = bookings.make_users(n, start)
    regions = provinces()
    Profile.objects.bulk_create(
        [
            Profile(user_id=pk, name=f"答题者{start + i}", age=30, province=regions[i % len(regions)])
            for i, (pk, _) in enumerate(users)
        ]
    )
    return users


def request(port: int, method: str, path: str, key: str, body: dict | None = None):
    headers = {
        "Cookie": f"sessionid={key}; csrftoken={CSRF}",
        "X-CSRFToken": CSRF,
        "Accept-Language": "zh-CN",
    }
    data = None
    if body is not None:
        data = urllib.parse.urlencode(body, doseq=True)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(method, path, data, headers)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    conn.close()
    return response.status, response.getheader("Location") or "", text, time.perf_counter() - started


def take(port: int, key: str) -> dict:
    """One taker: start, read the questions, answer the first option of each, submit."""
    times = []
    status, location, _, t = request(port, "POST", f"/quiz/{SLUG}/start/", key, {})
    times.append(t)
    if status != 302 or "/quiz/attempt/" not in location:
        return {"outcome": f"error:start:{status}", "times": times}
    status, _, page, t = request(port, "GET", location, key)
    times.append(t)
    count = page.count('<fieldset class="question"')
    if status != 200 or not count:
        return {"outcome": f"error:page:{status}", "times": times}
    answers = {f"q{n}": "0" for n in range(1, count + 1)}
    status, result, _, t = request(port, "POST", location, key, answers)
    times.append(t)
    if status != 302 or not result.endswith("/result/"):
        return {"outcome": f"error:submit:{status}", "times": times}
    return {"outcome": "submitted", "times": times, "answers": count}


def pct(values, q):
    values = sorted(values)
    return round(values[max(0, int(len(values) * q) - 1)] * 1000, 1)


def fire_takers(port: int, keys: list[str], concurrency: int) -> dict:
    gate = threading.Barrier(min(concurrency, len(keys)))

    def run(item):
        n, key = item
        if n < concurrency:
            try:
                gate.wait(timeout=120)
            except threading.BrokenBarrierError:
                pass
        return take(port, key)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(run, enumerate(keys)))
    wall = time.perf_counter() - started
    outcomes = {}
    for r in results:
        outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
    requests = [t for r in results for t in r["times"]]
    whole = [sum(r["times"]) for r in results if r["outcome"] == "submitted"]
    answers = sum(r.get("answers", 0) for r in results if r["outcome"] == "submitted")
    return {
        "takers": len(keys),
        "concurrency": concurrency,
        "wall_s": round(wall, 2),
        "attempts_per_s": round(outcomes.get("submitted", 0) / wall, 1),
        "answers_per_s": round(answers / wall, 1),
        "requests_per_s": round(len(requests) / wall, 1),
        "request_p50_ms": pct(requests, 0.5),
        "request_p95_ms": pct(requests, 0.95),
        "attempt_p95_ms": pct(whole, 0.95) if whole else None,
        "outcomes": outcomes,
    }


def check_rollups() -> dict:
    """The roll-ups equal a recount from the submitted attempts (best per person)."""
    from django.db.models import Max

    from kepuyue.quiz.models import Attempt, Tally

    best = Attempt.objects.filter(status="submitted").values("user").annotate(s=Max("score"))
    people = len(best)
    total = sum(b["s"] for b in best)
    row = Tally.objects.get(scope="all")
    assert (row.participants, row.score_sum) == (people, total), (
        row.participants,
        row.score_sum,
        people,
        total,
    )
    return {"rollup_participants": row.participants, "recount_participants": people}


def seed_attempts(n_attempts: int) -> float:
    """Bulk-insert ``n_attempts`` submitted attempts of n/4 people, their bests and the roll-ups."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from kepuyue.common import clock
    from kepuyue.orgs.models import Organization, OrganizationType
    from kepuyue.quiz.models import Attempt, Best, Round, Scope, Tally

    started = time.perf_counter()
    rng = random.Random(14)
    round = Round.objects.get(slug=SLUG)
    regions = provinces()
    kind, _ = OrganizationType.objects.get_or_create(code="rural_association", defaults={"name": "农技协"})
    Organization.objects.bulk_create(
        [
            Organization(name=f"基准农技协{i}", type=kind, region=regions[i % len(regions)])
            for i in range(2000)
        ],
        batch_size=2000,
    )
    units = list(Organization.objects.filter(name__startswith="基准农技协").order_by("pk"))
    users = get_user_model()
    people = n_attempts // 4
    password = make_password(None)
    at = clock.parse_instant(NOW) - timedelta(hours=1)
    tallies: dict[tuple[str, str], list] = {}
    batch = 20_000
    for first in range(0, people, batch):
        with transaction.atomic():
            created = users.objects.bulk_create(
                [
                    users(username=f"seed{i}@example.com", email="", password=password)
                    for i in range(first, min(people, first + batch))
                ]
            )
            if created and created[0].pk is None:
                created = list(
                    users.objects.filter(username__startswith="seed").order_by("-pk")[: len(created)]
                )[::-1]
            attempts, bests = [], []
            for user in created:
                region = regions[rng.randrange(len(regions))]
                unit = units[rng.randrange(len(units))] if rng.random() < 0.6 else None
                scores = [rng.choice(range(0, 101, 5)) for _ in range(4)]
                for k, score in enumerate(scores):
                    attempts.append(
                        Attempt(
                            token=f"s{user.pk}-{k}",
                            round=round,
                            user=user,
                            status="submitted",
                            day=at.date(),
                            started_at=at,
                            deadline=at + timedelta(minutes=15),
                            submitted_at=at + timedelta(minutes=5),
                            paper=[],
                            answers=[],
                            correct=score // 5,
                            total=20,
                            score=score,
                            seconds=300 - score,
                            passed=score >= 80,
                            name=f"种子{user.pk}",
                            province=region,
                            unit=unit,
                        )
                    )
                top = max(scores)
                bests.append((user, top, region, unit))
            Attempt.objects.bulk_create(attempts, batch_size=5000)
            ids = dict(Attempt.objects.filter(user__in=[b[0] for b in bests]).values_list("user_id", "id"))
            Best.objects.bulk_create(
                [
                    Best(
                        round=round,
                        user=u,
                        attempt_id=ids[u.pk],
                        name=f"种子{u.pk}",
                        score=s,
                        seconds=300 - s,
                        passed=s >= 80,
                        province=r,
                        unit=un,
                        achieved_at=at,
                    )
                    for u, s, r, un in bests
                ],
                batch_size=5000,
            )
            for _u, s, r, un in bests:
                for key in [(Scope.ALL, "all", "全部"), (Scope.PROVINCE, r.code, r.name)] + (
                    [(Scope.UNIT, str(un.pk), un.name)] if un else []
                ):
                    row = tallies.setdefault(key[:2], [key[2], 0, 0, 0])
                    row[1] += 1
                    row[2] += s
                    row[3] += s >= 80
    Tally.objects.filter(round=round).delete()
    Tally.objects.bulk_create(
        [
            Tally(
                round=round, scope=scope, key=key, label=v[0], participants=v[1], score_sum=v[2], passed=v[3]
            )
            for (scope, key), v in tallies.items()
        ],
        batch_size=5000,
    )
    return round_(time.perf_counter() - started)


def round_(x):
    return round(x, 1)


def read_boards(port: int, key: str, reads: int) -> dict:
    """The round page and, in the same run and the same way, ``/healthz`` (the stack's ceiling)."""

    def timed(path):
        def one(_):
            return request(port, "GET", path, key)[3]

        with ThreadPoolExecutor(max_workers=10) as pool:
            list(pool.map(one, range(20)))  # warm
            return list(pool.map(one, range(reads)))

    ceiling = timed("/healthz")
    times = timed(f"/quiz/{SLUG}/")
    return {
        "reads": reads,
        "p50_ms": pct(times, 0.5),
        "p95_ms": pct(times, 0.95),
        "max_ms": round(max(times) * 1000, 1),
        "ceiling_p50_ms": pct(ceiling, 0.5),
        "ceiling_p95_ms": pct(ceiling, 0.95),
    }


def inprocess_board(n: int) -> dict:
    from kepuyue.quiz.models import Round
    from kepuyue.quiz.services import boards

    round = Round.objects.get(slug=SLUG)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        boards.board(round)
        times.append(time.perf_counter() - started)
    # The same number of trivial round trips (``SELECT 1``): what the database's latency alone costs now.
    from django.db import connection

    floor = []
    for _ in range(n):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for _q in range(4):
                cursor.execute("SELECT 1")
        floor.append(time.perf_counter() - started)
    return {
        "board_p50_ms": pct(times, 0.5),
        "board_p95_ms": pct(times, 0.95),
        "four_select_1_p50_ms": pct(floor, 0.5),
        "four_select_1_p95_ms": pct(floor, 0.95),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--port", type=int, default=8160)
    parser.add_argument("--takers", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=500)
    args = parser.parse_args()
    env = environment(args.db)
    fresh_database(args.db, env)
    bookings.setup_django(env)
    from django.db import connection

    keys = [key for _pk, key in make_takers(args.takers, 0)]
    warm = [key for _pk, key in make_takers(20, args.takers)]
    connection.close()
    bookings.VAR.mkdir(parents=True, exist_ok=True)  # the server's log goes there
    server = bookings.start_server(env, args.port, args.db)
    rows = {}
    try:
        fire_takers(args.port, warm, 20)
        cpu = bookings.group_cpu_seconds(server.pid)
        takers = fire_takers(args.port, keys, min(args.concurrency, args.takers))
        takers["server_cpu_s"] = round(bookings.group_cpu_seconds(server.pid) - cpu, 2)
        takers["load_average"] = os.getloadavg()
        print(json.dumps({"db": args.db, **takers}, ensure_ascii=False), flush=True)
        takers.update(check_rollups())
        rows["takers"] = takers
        print(json.dumps({"db": args.db, **takers}, ensure_ascii=False), flush=True)

        if args.attempts:
            seconds = seed_attempts(args.attempts)
            connection.close()
            boards = read_boards(args.port, keys[0], args.reads)
            boards.update(inprocess_board(200))
            boards.update({"attempts": args.attempts, "seed_s": seconds, "load_average": os.getloadavg()})
            rows["boards"] = boards
            print(json.dumps({"db": args.db, **boards}, ensure_ascii=False), flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    t, b = rows["takers"], rows.get("boards", {})
    if not t.get("outcomes"):
        t["outcomes"] = {"submitted": 0}
    print()
    print(
        "| database | takers (at once) | attempts/s | answers/s | request p50 / p95 ms | attempt p95 ms "
        "| server CPU ms/attempt | errors | load average |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    errors = sum(v for k, v in t["outcomes"].items() if k.startswith("error"))
    print(
        f"| {args.db} | {t['takers']} ({t['concurrency']}) | {t['attempts_per_s']} | {t['answers_per_s']} | "
        f"{t['request_p50_ms']} / {t['request_p95_ms']} | {t['attempt_p95_ms']} | "
        f"{round(t['server_cpu_s'] * 1000 / max(1, t['outcomes'].get('submitted', 1)), 1)} | {errors} | "
        f"{' '.join(f'{x:.1f}' for x in t['load_average'])} |"
    )
    if b:
        print()
        print(
            "| database | attempts | round page p50 / p95 / max ms (10 at once) | /healthz p50 / p95 ms (ceiling) "
            "| board() p50 / p95 ms | 4 × SELECT 1 p50 / p95 ms | load average |"
        )
        print("|---|---|---|---|---|---|---|")
        print(
            f"| {args.db} | {b['attempts']:,} | {b['p50_ms']} / {b['p95_ms']} / {b['max_ms']} | "
            f"{b['ceiling_p50_ms']} / {b['ceiling_p95_ms']} | "
            f"{b['board_p50_ms']} / {b['board_p95_ms']} | "
            f"{b['four_select_1_p50_ms']} / {b['four_select_1_p95_ms']} | "
            f"{' '.join(f'{x:.1f}' for x in b['load_average'])} |"
        )


if __name__ == "__main__":
    main()
