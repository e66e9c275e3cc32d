"""The background process beside the server (decision 0028): workers hand their after-response jobs
to it over a Unix socket; a job it cannot take runs on the worker's own thread, never dropped."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kepuyue.common import background

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(path: Path, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def process(tmp_path):
    sock = tmp_path / "jobs.sock"
    env = {
        **{k: v for k, v in os.environ.items() if k not in {background.SOCKET_ENV, "DATABASE_URL"}},
        "SECRET_KEY": "background-process-test-" + "k" * 30,
        "KEPUYUE_VAR_DIR": str(tmp_path / "var"),
        "KEPUYUE_BACKGROUND": "thread",
        "PYTHONPATH": str(ROOT / "src"),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", "from kepuyue.common.background import main; main()", str(sock)],
        env=env,
        cwd=tmp_path,
    )
    try:
        assert _wait_for(sock), "the background process did not open its socket"
        yield sock
    finally:
        child.terminate()
        child.wait(30)


def test_a_job_goes_to_the_background_process(process, tmp_path, settings, monkeypatch):
    settings.KEPUYUE_BACKGROUND = "thread"
    monkeypatch.setenv(background.SOCKET_ENV, str(process))
    target = tmp_path / "made-by-the-process"
    background.defer(os.mkdir, str(target))  # an importable function, JSON arguments
    assert _wait_for(target, 30)
    assert background._jobs.unfinished_tasks == 0  # nothing ran on this process's thread


def test_a_job_the_process_cannot_take_runs_here(tmp_path, settings, monkeypatch):
    settings.KEPUYUE_BACKGROUND = "thread"
    monkeypatch.setenv(background.SOCKET_ENV, str(tmp_path / "nobody-listens.sock"))
    target = tmp_path / "made-here"
    background.defer(os.mkdir, str(target))  # no process: this process's own thread
    done = []
    background.defer(done.append, 1)  # a bound method cannot travel: runs here too
    assert background.drain(20)
    assert target.exists() and done == [1]


def test_only_importable_functions_and_json_arguments_travel():
    assert background._path(os.mkdir) == "posix.mkdir"
    assert background._path(lambda: None) is None
    assert background._path([].append) is None
    from kepuyue.registrations.services.messaging import send_ticket_emails
    from kepuyue.registrations.tasks import send_ticket_email_task

    assert background._path(send_ticket_email_task) == "kepuyue.registrations.tasks.send_ticket_email_task"
    assert (
        background._path(send_ticket_emails) == "kepuyue.registrations.services.messaging.send_ticket_emails"
    )
