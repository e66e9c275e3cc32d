"""Brand suggestion cost (issue 15 part 8): milliseconds per ``suggest_brand`` over the 107 real titles of
``data/activities.csv``, against the brands of 现代科技馆体系联合行动 (the joint action with the most brands), beside
the ceiling of the same loop doing only the segmentation (``kepuyue.search.segment.tokens``).

    .venv/bin/python bench/brand_suggestion.py            # 5 rounds
    .venv/bin/python bench/brand_suggestion.py --rounds 20

Needs no database: the brands are built from the campaign YAML in memory.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepuyue.settings")
os.environ.setdefault("SECRET_KEY", "bench")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import django
    import yaml

    django.setup()
    from kepuyue.activities.services import suggest_brand
    from kepuyue.search.segment import tokens

    plan = yaml.safe_load((ROOT / "campaigns" / "kepuyue-2025.yaml").read_text(encoding="utf-8"))
    action = next(a for a in plan["joint_actions"] if a["slug"] == "science-museums")
    brands = [
        SimpleNamespace(pk=i, name=b["name"], aliases=b.get("aliases", []), keywords=b.get("keywords", []))
        for i, b in enumerate(action["brands"])
    ]
    with open(ROOT / "data" / "activities.csv", encoding="utf-8-sig") as fh:
        titles = [row["title"] for row in csv.DictReader(fh)]
    suggest_brand(titles[0], "", brands)
    n = len(titles) * args.rounds
    start = time.perf_counter()
    for _ in range(args.rounds):
        for title in titles:
            tokens(title)
    ceiling = (time.perf_counter() - start) / n * 1000
    start = time.perf_counter()
    for _ in range(args.rounds):
        for title in titles:
            suggest_brand(title, "", brands)
    cost = (time.perf_counter() - start) / n * 1000
    load = os.getloadavg()[0]
    print(
        f"| {len(brands)} brands | {n} titles | suggest_brand {cost:.2f} ms | segmentation alone {ceiling:.2f} ms | load {load:.1f} |"
    )


if __name__ == "__main__":
    main()
