"""Markdown renderers on pathological input (issue 9, class 1): seconds per render at 10 KB / 100 KB / 1 MB.

Renders hostile texts (nested brackets, emphasis runs, deep block quotes, link reference chains,
backtick runs, deep lists …) with each candidate and prints one Markdown table row per input and
size. Each render runs in a child process killed after ``--timeout`` seconds (shown as ``>N``), so a
super-linear renderer cannot hang the run.

    .venv/bin/python bench/markdown_render.py                     # every renderer, every input
    .venv/bin/python bench/markdown_render.py --sizes 10000,100000 --timeout 20
    .venv/bin/python bench/markdown_render.py --renderers kepuyue  # the platform's own render_description

Renderers: ``python-markdown`` (Markdown 3, the extensions the platform used: sane_lists, tables,
nl2br), ``markdown-it-py`` (CommonMark, ``html`` off, tables, breaks on), ``cmarkgfm`` (GitHub's
cmark-gfm, table extension, unsafe HTML off), ``kepuyue`` (``kepuyue.common.markup.render_markdown``:
the chosen renderer plus heading renumbering and nh3).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def _nested(open_: str, close: str, size: int) -> str:
    depth = size // (len(open_) + len(close))
    return open_ * depth + close * depth


# name → function(size in characters) → text
INPUTS = {
    "nested brackets [[[…]]](": lambda n: _repeat("[", n // 2) + _repeat("](", n // 2),
    "nested links [a](b [c](d …": lambda n: _repeat("[a](b ", n),
    "emphasis runs *a **a ***": lambda n: _repeat("*a **a ***a ", n),
    "emphasis alternating *_*_": lambda n: _repeat("*_", n),
    "deep block quotes >>>>": lambda n: _repeat(">", n - 1) + "a",
    "link reference chains [a]: [b]": lambda n: "".join(
        f"[r{i}]: /u{i}\n[x][r{i}]\n" for i in range(n // 20)
    )[:n],
    "backticks ```` (100k-style run)": lambda n: _repeat("`", n),
    "backtick pairs `a``b```c": lambda n: _repeat("`a``b```c", n),
    "deep lists - - - -": lambda n: "".join("  " * i + "- a\n" for i in range(int((n / 2) ** 0.5)))[:n],
    "nested list markers 1. - * +": lambda n: _repeat("1. - * + ", n),
    "html-ish <a <b <c": lambda n: _repeat("<a ", n),
    "autolinks <http://a <http://": lambda n: _repeat("<http://a", n),
    "table pipes | | |": lambda n: "|a|b|\n|-|-|\n" + _repeat("|", n),
    "plain Chinese paragraph (control)": lambda n: _repeat("全国科普月活动介绍，欢迎参加。\n", n),
}


def _renderer(name: str):
    if name == "python-markdown":
        import markdown

        return lambda text: markdown.markdown(text, extensions=["sane_lists", "tables", "nl2br"])
    if name == "markdown-it-py":
        from markdown_it import MarkdownIt

        md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False}).enable("table")
        return md.render
    if name == "cmarkgfm":
        import cmarkgfm
        from cmarkgfm.cmark import Options

        return lambda text: cmarkgfm.github_flavored_markdown_to_html(
            text, options=Options.CMARK_OPT_HARDBREAKS
        )
    if name == "kepuyue":
        from kepuyue.common.markup import render_markdown

        return render_markdown
    raise SystemExit(f"unknown renderer {name}")


def _child(name: str, text: str, runs: int, queue) -> None:
    render = _renderer(name)
    times = []
    try:
        for _ in range(runs):
            start = time.perf_counter()
            render(text)
            times.append(time.perf_counter() - start)
        queue.put(("ok", statistics.median(times)))
    except RecursionError:
        queue.put(("recursion", 0.0))
    except Exception as exc:  # noqa: BLE001 - a crash is a result here
        queue.put((type(exc).__name__, 0.0))


def measure(name: str, text: str, *, runs: int, timeout: float) -> str:
    queue = mp.Queue()
    process = mp.Process(target=_child, args=(name, text, runs, queue))
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join()
        return f">{timeout:g}"
    status, seconds = queue.get() if not queue.empty() else ("died", 0.0)
    if status != "ok":
        return status
    return f"{seconds:.3f}" if seconds >= 0.001 else "<0.001"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renderers", default="python-markdown,markdown-it-py,cmarkgfm")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="characters, comma-separated")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a render is killed")
    parser.add_argument("--runs", type=int, default=3, help="renders per cell (median)")
    parser.add_argument("--inputs", default="", help="substring filter on the input names")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepuyue.settings")
    renderers = [r.strip() for r in args.renderers.split(",") if r.strip()]
    sizes = [int(s) for s in args.sizes.split(",")]
    head = ["input", "size"] + renderers
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(["---", "---:"] + ["---:"] * len(renderers)) + "|")
    for label, make in INPUTS.items():
        if args.inputs and args.inputs not in label:
            continue
        for size in sizes:
            text = make(size)
            cells = [measure(r, text, runs=args.runs, timeout=args.timeout) for r in renderers]
            kb = f"{size // 1000} KB" if size < 1_000_000 else f"{size // 1_000_000} MB"
            print(f"| {label} | {kb} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
