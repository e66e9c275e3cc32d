"""``make bench``: list the benchmarks, or run one — ``make bench BENCH_ARGS="review_desk --runs 20"``.

Each script in ``bench/`` prints the figures its issue asks for; ``BENCHMARKS.md`` records them with the
exact commands. Without arguments this prints every script's first docstring line.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts() -> dict[str, str]:
    found = {}
    for path in sorted(HERE.glob("*.py")):
        if path.name == "run.py":
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        found[path.stem] = doc.strip().splitlines()[0] if doc.strip() else ""
    return found


def main(argv: list[str]) -> int:
    available = scripts()
    if not argv:
        print(
            'Benchmarks (run one with: make bench BENCH_ARGS="<name> [options]"; --help for its options):\n'
        )
        for name, summary in available.items():
            print(f"  {name:16} {summary}")
        return 0
    name, *args = argv
    if name not in available:
        print(f"unknown benchmark {name!r}; known: {', '.join(available)}", file=sys.stderr)
        return 2
    return subprocess.call([sys.executable, str(HERE / f"{name}.py"), *args])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
