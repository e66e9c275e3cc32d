"""The loopback cluster's req/s with 1, 2 and 3 app nodes behind nginx (issue 17, benchmarks; docs/capacity.md).

    .venv/bin/python bench/cluster_nodes.py [--seconds 10] [--connections 16]

Starts the cluster of ``make cluster`` if it is not running (``bench/cluster.py``: nginx, three app nodes of one
granian worker each, Celery, PostgreSQL ``kepuyue_cluster``, Redis, the S3 stand-in), then for 1, 2 and 3
nodes rewrites nginx's upstream (reload, no restart) and runs wrk through nginx on a mix of public pages
(home, list, list filtered, detail, a zone) and on ``/healthz`` (the Django ceiling through the same path).
Prints a Markdown table with the load average beside each row. On a 2-core machine the nodes, nginx,
PostgreSQL, Redis and wrk share the same two cores: the figures show the shape (does a second node add
throughput until the cores are used? does nginx cost much?), not what separate machines would do.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster import Cluster  # noqa: E402

MIX = """
paths = {PATHS}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1], {{["Accept-Language"] = "zh-hans"}})
end
done = function(summary, latency, requests)
  io.write(string.format('{{"requests": %d, "seconds": %f, "p50": %f, "p95": %f, "errors": %d, "non2xx": %d}}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def wrk(url: str, paths: list[str], seconds: int, connections: int) -> dict:
    lua = (
        MIX.replace("{PATHS}", "{" + ", ".join(json.dumps(p) for p in paths) + "}")
        .replace("{{", "{")
        .replace("}}", "}")
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua)
    try:
        result = subprocess.run(  # noqa: S603
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", fh.name, url],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(fh.name)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["rps"] = figures["requests"] / figures["seconds"]
    return figures


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)
    cluster = Cluster(nodes=3)
    if cluster.pid("nginx") is None:
        cluster.up()
    with urllib.request.urlopen(f"{cluster.url}/activities/", timeout=30) as response:  # noqa: S310 - loopback
        html = response.read().decode()
    import re

    detail = re.search(r'href="(/activities/\d+/)"', html)
    zone = re.search(r'href="(/zones/[^"/]+/)"', html)
    # No search (?q=): it is rate-limited per address (120/min), and every wrk request comes from 127.0.0.1.
    pages = ["/", "/activities/", "/activities/?form=online"]
    pages += [m.group(1) for m in (detail, zone) if m]
    rows = []
    try:
        for nodes in (1, 2, 3):
            cluster.reload_nginx(nodes)
            wrk(cluster.url, ["/healthz"], 2, args.connections)  # warm every node's connections
            ceiling = wrk(cluster.url, ["/healthz"], args.seconds, args.connections)
            ceiling_load = load_average()
            mix = wrk(cluster.url, pages, args.seconds, args.connections)
            rows.append((nodes, ceiling, ceiling_load, mix, load_average()))
    finally:
        cluster.reload_nginx(3)
    print(
        f"pages: {', '.join(pages)}; {args.connections} connections, {args.seconds} s each, wrk through nginx\n"
    )
    print(
        "| app nodes | /healthz req/s (p95 ms) | load avg | page mix req/s | p50 / p95 ms | errors | load avg | mix ÷ ceiling |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for nodes, ceiling, cl, mix, ml in rows:
        print(
            f"| {nodes} | {ceiling['rps']:,.0f} ({ceiling['p95']:.0f}) | {cl} | {mix['rps']:,.0f} | "
            f"{mix['p50']:.0f} / {mix['p95']:.0f} | {mix['errors'] + mix['non2xx']} | {ml} | "
            f"{mix['rps'] / ceiling['rps']:.0%} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
