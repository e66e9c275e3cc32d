"""The import fault test (issue 9 class 6, ADR 0013): kill the worker and drop its database connection
in the middle of a commit; the job ends committed exactly once or retryable — never stuck, never half.

The import runs as a real process (``manage.py import_activities``) against a database of its own —
a SQLite file in a temporary directory, or, when the suite runs on PostgreSQL, a database created for
this module on the same server — so that the process can be killed (SIGKILL) or its connection
terminated (``pg_terminate_backend``) while its one write transaction is open. Row counts are read
with plain SQL from outside.
"""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
ROWS = 20_000
POSTGRES = os.environ.get("KEPUYUE_TEST_DB") == "postgres" and os.environ.get("DATABASE_URL", "").startswith(
    "postgres"
)


class Database:
    """The module's own database: how subprocesses reach it and how the test counts rows."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.env = {
            k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "PYTEST_VERSION"}
        }
        self.env.update(
            {
                "KEPUYUE_VAR_DIR": str(tmp / "var"),
                "MEDIA_ROOT": str(tmp / "media"),
                "PRIVATE_MEDIA_ROOT": str(tmp / "private"),
                "SECRET_KEY": "import-fault-test-" + "k" * 40,
                "KEPUYUE_NOW": "2025-08-20T10:00+08:00",
                "LOG_LEVEL": "WARNING",
            }
        )
        if POSTGRES:
            import psycopg

            base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
            self.name = f"kepuyue_fault_{os.environ.get('KEPUYUE_TEST_DB_SUFFIX', 'x')}"
            self.admin_url = base + "/postgres"
            with psycopg.connect(self.admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{self.name}"')
            self.env["DATABASE_URL"] = f"{base}/{self.name}"
            self.url = self.env["DATABASE_URL"]

    def manage(self, *args, check=True, timeout=600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=check,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def spawn(self, *args) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def query(self, sql: str, params=()):
        if POSTGRES:
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as connection:
                cursor = connection.execute(sql.replace("?", "%s"), params)
                return cursor.fetchall() if cursor.description else []
        connection = sqlite3.connect(self.tmp / "var" / "kepuyue.sqlite3", timeout=30)
        try:
            with connection:
                return connection.execute(sql, params).fetchall()
        finally:
            connection.close()

    def activities(self) -> int:
        return self.query("SELECT COUNT(*) FROM activities_activity")[0][0]

    def job(self, pk: int) -> dict:
        state, retryable, attempts, error = self.query(
            "SELECT state, retryable, attempts, error FROM activities_importjob WHERE id = ?", (pk,)
        )[0]
        return {"state": state, "retryable": bool(retryable), "attempts": attempts, "error": error}

    def last_job(self) -> int | None:
        rows = self.query("SELECT MAX(id) FROM activities_importjob")
        return rows[0][0]

    def drop(self) -> None:
        if POSTGRES:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def writer_pid(self) -> int | None:
        """PostgreSQL: the backend of the import whose transaction has written (has an xid)."""
        rows = self.query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL "
            "AND query ILIKE '%%activities_activity%%'"
        )
        return rows[0][0] if rows else None


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("import-faults")
    db = Database(tmp)
    db.manage("migrate", "--noinput", "-v0")
    db.manage("load_campaign", "campaigns/kepuyue-2025.yaml")
    sheet = tmp / "big.csv"
    with open(sheet, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        # 八(一): the joint action has brands, so every row carries one (decision 0024).
        writer.writerow(["活动名称", "主办单位", "联合行动", "品牌活动", "开始时间", "结束时间", "活动地点"])
        for i in range(ROWS):
            writer.writerow(
                [
                    f"故障测试活动{i}",
                    f"测试科技馆{i % 50}",
                    "现代科技馆体系联合行动",
                    "科学之夜",
                    "2025-09-20 09:00",
                    "2025-09-20 17:00",
                    "展厅",
                ]
            )
    db.sheet = sheet
    yield db
    db.drop()


def _wait_for_writing(db: Database, process: subprocess.Popen, timeout: float = 300) -> int:
    """Wait until the import is inside its write transaction; returns the job id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        pk = db.last_job()
        if pk is not None:
            state, processed = db.query(
                "SELECT state, processed FROM activities_importjob WHERE id = ?", (pk,)
            )[0]
            if state == "committing":
                if POSTGRES:
                    if db.writer_pid() is not None:
                        return pk
                elif processed >= ROWS:  # reading done: the write transaction is open now
                    time.sleep(0.3)
                    return pk
        time.sleep(0.05)
    raise AssertionError("the import never reached its write transaction")


def _finish_with_retry(db: Database, pk: int) -> None:
    """The job is committed exactly once: stale → retryable → retried → done with every row."""
    db.env["KEPUYUE_IMPORT_STALE_SECONDS"] = "0"
    try:
        db.manage("import_activities", "--recover-stale")
    finally:
        del db.env["KEPUYUE_IMPORT_STALE_SECONDS"]
    job = db.job(pk)
    if job["state"] == "done":
        assert db.activities() == ROWS
    else:
        assert job["state"] == "failed" and job["retryable"], job
        assert "导入中断" in job["error"]
        retried = db.manage("import_activities", "--retry", str(pk))
        assert "导入 20000 条" in retried.stdout or db.job(pk)["state"] == "done"
    assert db.job(pk)["state"] == "done"
    assert db.activities() == ROWS
    # Exactly once: a second retry is refused and writes nothing.
    again = db.manage("import_activities", "--retry", str(pk), check=False)
    assert again.returncode != 0 and "不需要重试" in again.stderr
    assert db.activities() == ROWS


def test_sigkill_mid_commit_leaves_nothing_half(database):
    database.query("DELETE FROM activities_activity")
    process = database.spawn("import_activities", str(database.sheet))
    pk = _wait_for_writing(database, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    time.sleep(0.5)  # PostgreSQL notices the dead client and rolls back
    count = database.activities()
    assert count in (0, ROWS), count  # never half
    job = database.job(pk)
    assert job["state"] in ("committing", "done")  # the stale check below turns the first into retryable
    _finish_with_retry(database, pk)


@pytest.mark.skipif(not POSTGRES, reason="pg_terminate_backend needs PostgreSQL")
def test_connection_terminated_mid_commit_is_retryable(database):
    database.query("DELETE FROM activities_activity")
    process = database.spawn("import_activities", str(database.sheet))
    pk = _wait_for_writing(database, process)
    pid = database.writer_pid()
    assert pid is not None
    database.query("SELECT pg_terminate_backend(?)", (pid,))
    out, err = process.communicate(timeout=120)
    assert process.returncode != 0 and "导入中断" in err, (out, err)
    assert database.activities() == 0  # never half
    job = database.job(pk)
    assert job["state"] == "failed" and job["retryable"], job  # not stuck: recorded at once
    _finish_with_retry(database, pk)
