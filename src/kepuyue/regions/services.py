"""Region 行政区划 services: load the division tables, look codes up, and map free text to a code.

Every activity and organization of the campaign is counted by where it happens (plan 八(一): the
provincial science associations mobilise the units of their region; the reporting forms in
``data/form_fields.md`` ask for 省/市/县). These functions turn what people write into GB/T 2260 codes.
"""

from __future__ import annotations

import csv
import functools
import json
import re
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.db import transaction

from .matching import PLACEHOLDER_NAMES, RegionIndex, normalise
from .models import Level, Region

# The three areas that the statistics data does not cover, with their GB/T 2260 province codes.
SPECIAL_PROVINCES = {"香港特别行政区": "81", "澳门特别行政区": "82", "台湾省": "71"}
REGION_FIELDS = (
    "name",
    "level",
    "parent_id",
    "province_code",
    "full_name",
    "is_official",
    "longitude",
    "latitude",
)
CODE_PATTERN = re.compile(r"\d{2}(\d{2}(\d{2})?)?")


class RegionDataError(Exception):
    """The region files are missing or malformed; the message (Chinese) names the file and row."""


@dataclass(frozen=True)
class LoadCounts:
    """What ``load_regions`` did: rows created, updated, unchanged, and ``stale`` — codes in the
    database that the files no longer contain (kept, since organizations may point at them)."""

    created: int
    updated: int
    unchanged: int
    stale: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True)
class RegionMatch:
    """The answer of ``match_region`` / ``resolve_place``.

    ``region`` is the matched division (a shared, read-only instance from the index); ``score`` runs
    from 0 to 1 (≥ 0.9: names given with their province or city; 0.7–0.85: one unambiguous name;
    ≤ 0.6: the best of several readings, a common division of several places, or a place coarser than
    the text named); ``matched`` is the normalised text that was read as the place; ``unresolved``
    lists the input parts (``resolve_place``) that named no known division.
    """

    region: Region
    score: float
    matched: str
    unresolved: tuple[str, ...] = ()


# --- loading -------------------------------------------------------------------------------------


def default_directory() -> Path:
    """``$KEPUYUE_DATA_DIR/regions`` (``data/regions`` in the repository)."""
    return Path(settings.KEPUYUE_DATA_DIR) / "regions"


DATA_FILES = ("provinces.json", "cities.json", "areas.json", "HK-MO-TW.json")
#: Optional: the divisions' centroids (``scripts/build_region_centroids.py``); without it they stay empty.
CENTROIDS_FILE = "centroids.csv"


def read_region_files(directory: Path | str | None = None) -> list[dict]:
    """Read the china-division tables in ``directory`` into row dicts, parents before children.

    Each dict has ``code`` (six digits), ``name``, ``level``, ``parent_id``, ``province_code``,
    ``full_name`` and ``is_official``; the derivation of codes is in ``data/regions/SOURCE.md``.
    Raises ``RegionDataError`` naming the file and entry that is missing or malformed. Parsed files
    are kept per process until they change on disk.
    """
    directory = Path(directory) if directory else default_directory()
    stamps = []
    for name in DATA_FILES:
        try:
            stat = (directory / name).stat()
        except FileNotFoundError as exc:
            raise RegionDataError(f"区划数据文件不存在：{directory / name}") from exc
        stamps.append((stat.st_mtime_ns, stat.st_size))
    try:
        stat = (directory / CENTROIDS_FILE).stat()
        stamps.append((stat.st_mtime_ns, stat.st_size))
    except FileNotFoundError:
        stamps.append(None)
    return [dict(row) for row in _read_region_files(str(directory.resolve()), tuple(stamps))]


@functools.lru_cache(maxsize=4)
def _read_region_files(directory: str, stamps: tuple) -> tuple[dict, ...]:
    directory = Path(directory)
    provinces = _read_json(directory / "provinces.json")
    cities = _read_json(directory / "cities.json")
    areas = _read_json(directory / "areas.json")
    special = _read_json(directory / "HK-MO-TW.json")

    rows: dict[str, dict] = {}

    def add(code: str, name: str, level: int, parent: str | None, official: bool, source: str) -> None:
        if code in rows:
            raise RegionDataError(f"{source}：区划代码 {code}（{name}）重复")
        if parent is not None and parent not in rows:
            raise RegionDataError(f"{source}：{name}（{code}）的上级代码 {parent} 不存在")
        province_code = code[:2] + "0000"
        if level == Level.PROVINCE:
            full_name = name
        elif level == Level.PREFECTURE:
            full_name = rows[province_code]["name"] + name
        else:
            prefecture = rows[parent]
            shown = "" if prefecture["name"] in PLACEHOLDER_NAMES else prefecture["name"]
            full_name = rows[province_code]["name"] + shown + name
        rows[code] = {
            "code": code,
            "name": name,
            "level": level,
            "parent_id": parent,
            "province_code": province_code,
            "full_name": full_name,
            "is_official": official,
        }

    for position, item in enumerate(provinces, start=1):
        code, name = _entry(item, 2, f"provinces.json 第{position}项")
        add(code + "0000", name, Level.PROVINCE, None, True, "provinces.json")
    for position, item in enumerate(cities, start=1):
        code, name = _entry(item, 4, f"cities.json 第{position}项")
        add(code + "00", name, Level.PREFECTURE, code[:2] + "0000", True, "cities.json")
    for position, item in enumerate(areas, start=1):
        code, name = _entry(item, 6, f"areas.json 第{position}项")
        if code == code[:4] + "00" and rows.get(code, {}).get("name") == name:
            # 东莞市, 中山市, 儋州市 have no counties; the data repeats the city as its own "area".
            continue
        add(code, name, Level.COUNTY, code[:4] + "00", True, "areas.json")

    if not isinstance(special, dict):
        raise RegionDataError("HK-MO-TW.json：应为“名称 → {下级名称: [区县名称]}”的对象")
    for province_name, prefectures in special.items():
        prefix = SPECIAL_PROVINCES.get(province_name)
        if prefix is None:
            raise RegionDataError(f"HK-MO-TW.json：不认识的省级名称“{province_name}”")
        add(prefix + "0000", province_name, Level.PROVINCE, None, True, "HK-MO-TW.json")
        if not isinstance(prefectures, dict) or len(prefectures) > 99:
            raise RegionDataError(f"HK-MO-TW.json：“{province_name}”的下级应为不超过99项的对象")
        for p_index, (prefecture_name, counties) in enumerate(prefectures.items(), start=1):
            p_code = f"{prefix}{p_index:02d}00"
            add(p_code, prefecture_name, Level.PREFECTURE, prefix + "0000", False, "HK-MO-TW.json")
            if not isinstance(counties, list) or len(counties) > 99:
                raise RegionDataError(f"HK-MO-TW.json：“{prefecture_name}”的下级应为不超过99项的列表")
            for c_index, county_name in enumerate(counties, start=1):
                add(
                    f"{p_code[:4]}{c_index:02d}",
                    str(county_name),
                    Level.COUNTY,
                    p_code,
                    False,
                    "HK-MO-TW.json",
                )

    centroids = _read_centroids(directory / CENTROIDS_FILE)
    for code, row in rows.items():
        row["longitude"], row["latitude"] = centroids.get(code, (None, None))
    return tuple(sorted(rows.values(), key=lambda row: (row["level"], row["code"])))


def _read_centroids(path: Path) -> dict[str, tuple[Decimal, Decimal]]:
    """``code → (longitude, latitude)`` from ``centroids.csv`` (absent: empty)."""
    if not path.exists():
        return {}
    found = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                lon, lat = Decimal(row["longitude"]), Decimal(row["latitude"])
            except (KeyError, TypeError, InvalidOperation) as exc:
                raise RegionDataError(f"{path.name} 第{number}行：经纬度不是数字") from exc
            if not (70 <= lon <= 140 and 0 <= lat <= 60):
                raise RegionDataError(f"{path.name} 第{number}行：经纬度 {lon}, {lat} 不在中国范围内")
            found[str(row.get("code", ""))] = (lon.quantize(_PLACES), lat.quantize(_PLACES))
    return found


_PLACES = Decimal("0.00001")


def load_regions(directory: Path | str | None = None) -> LoadCounts:
    """Load (or refresh) every division from the china-division files into ``Region``.

    ``directory`` defaults to ``data/regions``. Idempotent: a second run changes nothing; a row whose
    name or parent changed in the files is updated in place; a code that left the files is kept and
    reported in ``LoadCounts.stale``. One transaction, bulk inserts and updates (about 3,400 rows).
    The match index of this process is rebuilt on next use. Raises ``RegionDataError``.
    """
    rows = read_region_files(directory)
    with transaction.atomic():
        existing = Region.objects.in_bulk()
        to_create, to_update = [], []
        unchanged = 0
        for row in rows:
            current = existing.get(row["code"])
            if current is None:
                to_create.append(Region(**row))
                continue
            changed = False
            for name in REGION_FIELDS:
                if getattr(current, name) != row[name]:
                    setattr(current, name, row[name])
                    changed = True
            if changed:
                to_update.append(current)
            else:
                unchanged += 1
        Region.objects.bulk_create(to_create)
        Region.objects.bulk_update(to_update, list(REGION_FIELDS), batch_size=500)
        codes = {row["code"] for row in rows}
        stale = tuple(sorted(code for code in existing if code not in codes))
    # The table now holds exactly the files' rows unless stale codes remain; an index built from
    # the same rows (a reload of unchanged files, as every test does) stays valid.
    current = _index
    if stale or current is None or current.fingerprint != fingerprint(rows):
        invalidate_index()
    return LoadCounts(created=len(to_create), updated=len(to_update), unchanged=unchanged, stale=stale)


def fingerprint(rows) -> int:
    """A hash of region rows (dicts or ``Region`` objects) in (level, code) order."""

    def values(row):
        if isinstance(row, dict):
            return (row["code"], *(row[name] for name in REGION_FIELDS))
        return (row.code, *(getattr(row, name) for name in REGION_FIELDS))

    return hash(tuple(values(row) for row in rows))


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RegionDataError(f"区划数据文件不存在：{path}") from exc
    except json.JSONDecodeError as exc:
        raise RegionDataError(f"{path.name}：不是合法的 JSON（第{exc.lineno}行第{exc.colno}列）") from exc


def _entry(item, digits: int, where: str) -> tuple[str, str]:
    code = str(item.get("code", "")) if isinstance(item, dict) else ""
    name = str(item.get("name", "")).strip() if isinstance(item, dict) else ""
    if not (len(code) == digits and code.isdigit()):
        raise RegionDataError(f"{where}：代码“{code}”应为{digits}位数字")
    if not name:
        raise RegionDataError(f"{where}：名称为空")
    return code, name


# --- lookups -------------------------------------------------------------------------------------


def normalise_code(code: str | int) -> str:
    """``"11"`` → ``"110000"``, ``"1101"`` → ``"110100"``, six digits unchanged.

    Raises ``Region.DoesNotExist`` (Chinese message) when ``code`` is not 2, 4 or 6 digits.
    """
    text = normalise(str(code))
    if not CODE_PATTERN.fullmatch(text):
        raise Region.DoesNotExist(f"区划代码“{code}”格式不对：应为2、4或6位数字")
    return text.ljust(6, "0")


def get_region(code: str | int) -> Region:
    """The division with GB/T 2260 ``code`` given as 2, 4 or 6 digits (``"33"``, ``"3301"``, ``"330106"``).

    Raises ``Region.DoesNotExist`` when the code is malformed or unknown.
    """
    six = normalise_code(code)
    try:
        return Region.objects.get(code=six)
    except Region.DoesNotExist:
        raise Region.DoesNotExist(f"没有区划代码为 {six} 的行政区划") from None


def ancestors(region: Region) -> list[Region]:
    """The divisions containing ``region``, province first, not including ``region`` itself.

    Grouping rows count: 东城区 → [北京市, 北京市市辖区]. Uses the in-memory index (no query) when it
    knows the region, else walks the parents in the database.
    """
    index = get_index()
    place = index.places.get(region.code)
    if place is not None:
        return [index.rows[code] for code in place.lineage]
    chain = []
    parent = region.parent
    while parent is not None:
        chain.append(parent)
        parent = parent.parent
    return list(reversed(chain))


def province_of(region: Region) -> Region:
    """The province-level division of ``region`` (itself for a province)."""
    if region.level == Level.PROVINCE:
        return region
    index = get_index()
    row = index.rows.get(region.province_code)
    return row if row is not None else Region.objects.get(code=region.province_code)


# --- matching ------------------------------------------------------------------------------------

_index: RegionIndex | None = None
_index_lock = threading.Lock()


def aliases_file() -> Path:
    """``data/regions/aliases.yaml``: the 兵团 divisions and other names not in the statistics data."""
    return default_directory() / "aliases.yaml"


def get_index() -> RegionIndex:
    """The process's match index, built from the ``Region`` table on first use (one query).

    An empty table gives an empty index that is not kept, so loading regions later is seen.
    """
    global _index
    if _index is not None:
        return _index
    with _index_lock:
        if _index is None:
            rows = list(Region.objects.order_by("level", "code"))
            index = RegionIndex.build(rows, aliases_file())
            index.fingerprint = fingerprint(rows)
            if not len(index):
                return index
            _index = index
    return _index


def invalidate_index() -> None:
    """Forget the match index and cached matches; ``load_regions`` calls this. Other processes keep
    theirs until they restart (the tables change once a year)."""
    global _index
    with _index_lock:
        _index = None
        _match_cached.cache_clear()


@functools.lru_cache(maxsize=65536)
def _match_cached(text: str, within: str | None) -> tuple[str, float, str] | None:
    return get_index().match(text, within)


def match_region(text: str, *, within: Region | str | None = None) -> RegionMatch | None:
    """Map a free-text place to the division it names best.

    ``text``: anything from "浙江杭州西湖区" or "凉山州西昌市" to "活动地点：湖北省鄂州市梁子湖区沼山镇";
    full-width characters and spaces are fine. ``within``: a ``Region`` or a 2/4/6-digit code; only
    divisions inside it (or it itself) are considered; a malformed code raises ``Region.DoesNotExist``.

    Returns a ``RegionMatch`` or ``None`` when the text names no division, or names several with no
    common division (朝阳区 alone: 北京 or 长春). Rules (details in ``kepuyue.regions.matching``):

    - suffixes may be left out (省, 市, 自治区, 壮族自治区, 自治州, 地区, 盟, 区, 县, 旗, 特别行政区);
      province, city and county may be run together ("广西南宁", "内蒙古乌兰察布丰镇");
    - a name found in several places is decided by the province or city written before it
      ("北京朝阳区" → 110105, "辽宁朝阳" → 朝阳市 211300, "福州鼓楼区" → 350102); left undecided it
      gives their common division at score 0.5 (鼓楼区 in 南京 and 徐州 → 江苏省), or ``None``;
    - a list ("西昌市、金阳县、昭觉县") gives the division common to all items (凉山彝族自治州), score
      lowered; items on one line of descent give the deepest;
    - a place below the last known division ("鄂州市临空经济区（沙窝乡）") gives that division, score
      lowered;
    - 新疆生产建设兵团 and its divisions (第八师 → 石河子市 659001) and other aliases come from
      ``data/regions/aliases.yaml``; the Corps alone maps to 659000, which holds exactly its cities.

    Fast: the index is built once per process; results are cached per (text, within).
    """
    normalised = normalise(text)
    if not normalised:
        return None
    within_code = None
    if within is not None:
        within_code = within.code if isinstance(within, Region) else normalise_code(within)
    if not len(get_index()):  # nothing loaded yet: answer, but cache nothing
        return None
    found = _match_cached(normalised, within_code)
    if found is None:
        return None
    code, score, matched = found
    return RegionMatch(region=get_index().rows[code], score=score, matched=matched)


def resolve_place(province: str, city: str = "", county: str = "") -> RegionMatch | None:
    """Resolve split place columns (省, 市, 县 as in ``data/bases.csv`` and ``data/activities.csv``).

    Each non-empty part is matched inside the division found so far; a city equal to its province
    (北京市/北京市, 澳门特别行政区/澳门) adds nothing. A part that names no division inside it is listed
    in ``unresolved`` and the answer stays at the last known division with the score × 0.6 (重庆市/
    两江新区 → 重庆市). Lists in a part ("西昌市、金阳县、昭觉县") give their common division. ``None``
    when no part resolves.
    """
    current: Region | None = None
    score = 1.0
    matched: list[str] = []
    unresolved: list[str] = []
    for part in (province, city, county):
        if not normalise(part or "") or normalise(part) in PLACEHOLDER_NAMES:
            continue
        found = match_region(part, within=current) if current is not None else match_region(part)
        if found is None:
            unresolved.append(part.strip())
            continue
        score = min(score, found.score)
        if current is None or found.region.code != current.code:
            current = found.region
            matched.append(found.matched)
    if current is None:
        return None
    if unresolved:
        score *= 0.6
    return RegionMatch(
        region=current, score=round(score, 3), matched="".join(matched), unresolved=tuple(unresolved)
    )


def children_of(code: str | None) -> list[list[str]]:
    """``[[code, name], …]`` of the divisions directly under ``code`` (the provinces when ``None``), ordered
    by code: the options of one cascading select (省 → 市 → 县)."""
    rows = (
        Region.objects.filter(level=Level.PROVINCE) if code is None else Region.objects.filter(parent_id=code)
    )
    return [[c, n] for c, n in rows.order_by("code").values_list("code", "name")]
