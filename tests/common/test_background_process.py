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


def _start(tmp_path: Path, sock: Path) -> subprocess.Popen:
    """The background process on ``sock``, as ``kepuyue.serve`` starts it (SQLite under tmp_path)."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in {background.SOCKET_ENV, "DATABASE_URL"}},
        "SECRET_KEY": "background-process-test-" + "k" * 30,
        "KEPUYUE_VAR_DIR": str(tmp_path / "var"),
        "KEPUYUE_BACKGROUND": "thread",
        "PYTHONPATH": str(ROOT / "src"),
    }
    return subprocess.Popen(
        [sys.executable, "-c", "from kepuyue.common.background import main; main()", str(sock)],
        env=env,
        cwd=tmp_path,
    )


@pytest.fixture
def process(tmp_path):
    sock = tmp_path / "jobs.sock"
    child = _start(tmp_path, sock)
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


RAN_HERE: list = []


def one_ticket(arg):  # a task: importable by name, as the booking's ticket task is
    RAN_HERE.append(("one", arg))


def many_tickets(args):  # its batch function
    RAN_HERE.append(("many", list(args)))


@pytest.fixture
def busy_process(tmp_path, settings, monkeypatch):
    """A socket nobody reads: the background process of a burst, waiting for a core."""
    import socket

    settings.KEPUYUE_BACKGROUND = "thread"
    path = tmp_path / "busy.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    monkeypatch.setenv(background.SOCKET_ENV, str(path))
    RAN_HERE.clear()
    yield sock
    sock.close()
    with background._held_lock:
        background._held.clear()


def _received(sock) -> list:
    import json

    ids = []
    while True:
        try:
            job = json.loads(sock.recv(background.MAX_DATAGRAM + 1))
        except BlockingIOError:
            return ids
        ids.extend(job["many"] if "many" in job else job["args"])


def test_a_burst_the_busy_process_cannot_take_yet_waits_for_it_never_runs_here(busy_process):
    """Decision 0034: the socket's queue holds ~10 datagrams; a burst of 300 bookings used to build the
    tickets beyond them on the workers' own threads. Now they are held and follow in few datagrams."""
    for i in range(300):
        background.enqueue(one_ticket, i, batch=many_tickets)
    assert RAN_HERE == [] and background._jobs.unfinished_tasks == 0  # nothing built here
    got = _received(busy_process)  # the process takes its queue…
    deadline = time.monotonic() + 10
    while len(got) < 300 and time.monotonic() < deadline:  # …and the flusher sends the rest at once
        time.sleep(0.05)
        got += _received(busy_process)
    assert sorted(got) == list(range(300)) and RAN_HERE == []


def test_what_a_process_never_takes_runs_here_after_all(busy_process, monkeypatch):
    monkeypatch.setattr(background, "HOLD_SECONDS", 0.3)
    for i in range(100):
        background.enqueue(one_ticket, i, batch=many_tickets)
    time.sleep(1.0)
    assert background.drain(20)
    here = sorted(i for kind, args in RAN_HERE if kind == "many" for i in args)
    sent = _received(busy_process)
    assert sorted(here + sent) == list(range(100)) and here  # every job once: sent or run here


def test_an_orderly_exit_runs_what_is_still_held(busy_process):
    for i in range(30):
        background.enqueue(one_ticket, i, batch=many_tickets)
    sent = _received(busy_process)
    background._flush_at_exit(str(busy_process.getsockname()))  # what atexit calls; the queue is full again
    sent += _received(busy_process)
    here = sorted(i for kind, args in RAN_HERE if kind == "many" for i in args)
    assert sorted(here + sent) == list(range(30)) and not background._held


def test_a_stopped_process_removes_its_socket_and_folder(tmp_path):
    """``kill`` (SIGTERM, as a server's process group is stopped) ends the process as a gone server
    does: its socket and the folder ``kepuyue.serve`` made for it are removed (fresh try: one
    ``/tmp/kepuyue-background-*`` folder was left behind per run)."""
    folder = tmp_path / "kepuyue-background-x"
    folder.mkdir()
    sock = folder / "jobs.sock"
    child = _start(tmp_path, sock)
    try:
        assert _wait_for(sock), "the background process did not open its socket"
        child.terminate()
        assert child.wait(30) == 0
        assert not sock.exists() and not folder.exists()
    finally:
        if child.poll() is None:
            child.kill()
