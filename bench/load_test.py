"""Load test: 200 users browsing the public pages for 60 s against `make run`'s server; errors and p95.

Each of ``--users`` connections is one visitor: it requests a page, "reads" it for a random 2–8 s
(wrk's ``delay()``), and goes on, picking pages by weight — home 30 %, activity list 20 %, an activity
30 %, a joint-action zone 8 %, the archive 5 %, a region page 5 %, a search 2 %. The pages are found by
reading the home page and the activity list. Latency is measured from sending a request to its last byte
(think time excluded). Any socket error, time-out (``--timeout``) or status ≥ 400 is an error.

Against a running ``make run`` (the embedded default with the sample data of ``make data``)::

    make run &                                   # serves http://127.0.0.1:8000
    .venv/bin/python bench/load_test.py --url http://127.0.0.1:8000

Without ``--url`` it prepares ``var/bench-load/`` the way ``make data`` does and starts the server the
way ``make run`` does (``python -m kepuyue.serve``: granian, 2 workers) on ``--port``. All visitors come
from one address, so searches stay few: the per-address search limit (120/min) would otherwise refuse
them. Needs ``wrk`` (``apt-get install wrk``). Prints one JSON line and a Markdown row for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
VAR = ROOT / "var" / "bench-load"

LUA = """
local paths = {PATHS}
local weights = {WEIGHTS}
local total = 0
for _, w in ipairs(weights) do total = total + w end

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

local function pick()
  local r = math.random() * total
  for i, w in ipairs(weights) do
    r = r - w
    if r <= 0 then return paths[i] end
  end
  return paths[#paths]
end

function request()
  return wrk.format("GET", pick(), {["Accept-Language"] = "zh-CN"})
end

function delay()
  return math.random(2000, 8000)
end

done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %f, "p50": %f, "p95": %f, "p99": %f, "max": %f, '
    .. '"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, summary.errors.status))
end
"""


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
        return response.read().decode("utf-8", "replace")


def page_mix(base: str) -> list[tuple[str, float]]:
    """``(path, weight)`` of the pages the visitors read, found on the home page and the list."""
    home = fetch(base + "/")
    listing = fetch(base + "/activities/")
    activities = sorted(set(re.findall(r'href="(/activities/\d+/)"', home + listing)))
    zones = sorted(set(re.findall(r'href="(/campaigns/[-\w]+/zones/[-\w]+/)"', home)))
    regions = sorted(set(re.findall(r'href="(/region/\d+/)"', home + listing))) or ["/region/330000/"]
    if not activities:
        sys.exit("no activity links on the home page or the list: load the sample data first (make data)")
    mix: list[tuple[str, float]] = [("/", 30.0), ("/activities/", 20.0), ("/campaigns/", 5.0)]
    mix += [(path, 30.0 / len(activities)) for path in activities]
    mix += [(path, 8.0 / len(zones)) for path in zones] if zones else [("/", 8.0)]
    mix += [(path, 5.0 / len(regions)) for path in regions]
    for word in ("科学", "机器人"):
        mix.append((f"/activities/?q={urllib.parse.quote(word)}", 1.0))
    return mix


def run_wrk(base: str, users: int, seconds: int, timeout: int) -> dict:
    mix = page_mix(base)
    lua = LUA.replace("{PATHS}", "{" + ", ".join(json.dumps(p) for p, _ in mix) + "}")
    lua = lua.replace("{WEIGHTS}", "{" + ", ".join(f"{w:.4f}" for _, w in mix) + "}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua)
    try:
        out = subprocess.run(
            ["wrk", "-t2", f"-c{users}", f"-d{seconds}s", "--timeout", f"{timeout}s", "-s", fh.name, base],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(fh.name)
    result = json.loads(out.strip().splitlines()[-1])
    result["pages"] = len(mix)
    return result


def prepare_and_serve(port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({"KEPUYUE_VAR_DIR": str(VAR), "SECRET_KEY": "load-" + "k" * 40, "KEPUYUE_HTTPS": "0"})
    VAR.mkdir(parents=True, exist_ok=True)
    py = str(BIN / "python")
    for args in (
        ["migrate", "--noinput", "-v0"],
        ["load_regions"],
        ["load_campaign", "campaigns/kepuyue-2025.yaml"],
        ["import_organizations", "data/bases.csv"],
        ["import_activities", "data/activities.csv", "--campaign", "kepuyue-2025"],
        ["collectstatic", "--noinput", "-v0"],
    ):
        subprocess.run(
            [py, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            check=args[0] != "import_activities",
        )
    command = [py, "-m", "kepuyue.serve", "--port", str(port), "--workers", "2", "--no-access-log"]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    for _ in range(150):
        try:
            fetch(f"http://127.0.0.1:{port}/healthz")
            return server
        except OSError:
            time.sleep(0.2)
    os.killpg(server.pid, signal.SIGTERM)
    sys.exit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server (make run), e.g. http://127.0.0.1:8000")
    parser.add_argument("--port", type=int, default=8112, help="port of the server started without --url")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--timeout", type=int, default=10, help="a request slower than this is an error")
    args = parser.parse_args()
    random.seed(1)
    server = None if args.url else prepare_and_serve(args.port)
    base = (args.url or f"http://127.0.0.1:{args.port}").rstrip("/")
    try:
        result = run_wrk(base, args.users, args.seconds, args.timeout)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)  # granian and its workers
            server.wait(40)
    errors = sum(result[k] for k in ("connect", "read", "write", "timeout", "status"))
    print(json.dumps({**result, "errors": errors}))
    print("\n| users | seconds | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.users} | {args.seconds} | {result['requests']} | {result['requests'] / result['seconds']:.1f} "
        f"| {result['p50']:.0f} | {result['p95']:.0f} | {result['p99']:.0f} | {result['max']:.0f} | {errors} |"
    )


if __name__ == "__main__":
    main()
