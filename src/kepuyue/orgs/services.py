"""Organization services: the USCC check and the import of participating units from CSV.

The participants of each joint action are types of units named in the plan (一(一) 全国学会, 二(一)
高等学校, 四(一) 科普教育基地, 五(一) 现代科技馆体系相关单位 …); ``OrganizationType`` rows come from the
campaign YAML. ``import_organizations`` loads lists of real units, such as ``data/bases.csv``.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from kepuyue.regions.services import resolve_place

from .models import Organization, OrganizationType
from .validators import validate_uscc

__all__ = ["ImportReport", "Problem", "TYPE_LABELS", "import_organizations", "validate_uscc"]

# The ``type`` labels of the unit lists, mapped to OrganizationType codes of the campaign YAML.
# 四(一) 各级各类科普教育基地 covers the autonomous region's own bases too; 五(一) 现代科技馆体系相关单位
# takes the science museums, also those that are national science-education bases; 二(一) 普通高等学校
# for the 高校星火馆 (二(二)1). The label itself is kept in ``Organization.note``.
TYPE_LABELS = {
    "全国科普教育基地": "science_education_base",
    "全国科普教育基地;科技馆": "science_museum",
    "科技馆": "science_museum",
    "自治区科普示范基地（非全国）": "science_education_base",
    "高校星火馆": "university",
}

# Column names of the file (English as in data/bases.csv, or the Chinese headings of a form).
COLUMNS = ("name", "type", "province", "city", "county", "note", "source_url")
REQUIRED = ("name", "type")
HEADINGS = {
    "单位名称": "name",
    "名称": "name",
    "单位类型": "type",
    "类型": "type",
    "省": "province",
    "省份": "province",
    "市": "city",
    "城市": "city",
    "县": "county",
    "区县": "county",
    "备注": "note",
    "来源": "source_url",
    "来源网址": "source_url",
}
NOTE_LIMIT = Organization._meta.get_field("note").max_length
NAME_LIMIT = Organization._meta.get_field("name").max_length
URL_LIMIT = Organization._meta.get_field("source_url").max_length


class Problem(NamedTuple):
    """A row that was not imported, or was imported with something left out.

    ``row`` is the spreadsheet row (the header is row 1); ``column`` the file's column name;
    ``reason`` says in Chinese what is wrong and what was done.
    """

    row: int
    column: str
    value: str
    reason: str


@dataclass
class ImportReport:
    """What ``import_organizations`` did. ``skipped`` rows were not imported (each has a problem);
    rows in ``created``/``updated``/``unchanged`` may have problems too (e.g. no region)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def rows(self) -> int:
        return self.imported + self.skipped


def _normalise_label(label: str) -> str:
    """``全国科普教育基地；科技馆`` → ``全国科普教育基地;科技馆``; spaces dropped, brackets kept as written."""
    text = "".join((label or "").split())
    return text.replace("；", ";")


def _read_rows(path_or_file: str | Path | IO) -> tuple[list[str], list[list[str]]]:
    if isinstance(path_or_file, str | Path):
        raw = Path(path_or_file).read_bytes()
    else:
        raw = path_or_file.read()
    if isinstance(raw, bytes):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                raw = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ValidationError(_("文件不是 UTF-8 或 GB18030 编码的 CSV"))
    raw = raw.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(raw, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError(
            _("文件是空的：第1行应为表头（name,type,province,city,county,note,source_url）")
        ) from None
    return header, list(reader)


def _column_map(header: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, heading in enumerate(header):
        key = unicodedata.normalize("NFKC", heading).strip()
        key = HEADINGS.get(key, key.lower())
        if key in COLUMNS and key not in positions:
            positions[key] = index
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        raise ValidationError(
            _("表头缺少列：%(missing)s（第1行应为 name,type,province,city,county,note,source_url）"),
            params={"missing": "、".join(missing)},
        )
    return positions


def import_organizations(path_or_file: str | Path | IO, *, dry_run: bool = False) -> ImportReport:
    """Import participating units from a CSV file (columns ``name,type,province,city,county,note,
    source_url`` as in ``data/bases.csv``; Chinese headings 单位名称, 类型, 省, 市, 县, 备注, 来源 work too).

    ``path_or_file``: a path, or an open file (text or bytes; UTF-8 with or without BOM, or GB18030).
    Rules, one transaction, idempotent by ``name`` (a second import changes nothing; an edited row
    updates ``type``, ``region``, ``note`` and ``source_url`` and leaves other fields alone):

    - ``type`` maps through ``TYPE_LABELS`` (or an ``OrganizationType`` name or code as the plan
      gives it, e.g. 科普教育基地) to an ``OrganizationType`` (loaded from the campaign YAML);
      the label and the file's note are kept together in ``note`` (e.g. ``全国科普教育基地；2021-2025年度
      第一批``).
    - The region comes from ``regions.services.resolve_place(province, city, county)``. When it cannot
      be resolved the unit is still imported (it is real) without a region, or at the part that was
      resolved, and the row is reported; a region set earlier is kept when the file gives none.
    - A row with an empty name, an unknown type, a type not yet in the database, or a name already seen
      in the file is not imported and is reported. No row is dropped silently.

    ``dry_run=True`` does all of it and rolls back: the report says what would happen.
    Returns an ``ImportReport``. Raises ``ValidationError`` (Chinese) when the file cannot be read or its
    header lacks ``name`` or ``type``.
    """
    header, records = _read_rows(path_or_file)
    positions = _column_map(header)
    headings = {name: header[index].strip() for name, index in positions.items()}
    report = ImportReport(dry_run=dry_run)
    types = {t.code: t for t in OrganizationType.objects.all()}
    # Besides the list labels, a file may name a type as the plan does (科普教育基地) or by its code.
    type_names = {_normalise_label(t.name): t.code for t in types.values()} | {code: code for code in types}
    url_validator = URLValidator()

    def cell(values: list[str], name: str) -> str:
        index = positions.get(name)
        return values[index].strip() if index is not None and index < len(values) else ""

    def problem(row: int, name: str, value: str, reason: str) -> None:
        report.problems.append(Problem(row, headings.get(name, name), value, reason))

    with transaction.atomic():
        names = [cell(values, "name") for values in records]
        existing = Organization.objects.select_related("type", "region").in_bulk(
            [n for n in names if n], field_name="name"
        )
        seen: dict[str, int] = {}
        for row, values in enumerate(records, start=2):
            if not any(v.strip() for v in values):
                continue  # a blank line is no row
            name = cell(values, "name")
            label = cell(values, "type")
            if not name:
                problem(row, "name", "", _("单位名称为空，未导入"))
                report.skipped += 1
                continue
            if len(name) > NAME_LIMIT:
                problem(row, "name", name, _("单位名称超过%(limit)d字，未导入") % {"limit": NAME_LIMIT})
                report.skipped += 1
                continue
            if name in seen:
                problem(row, "name", name, _("与第%(row)d行单位名称重复，未导入") % {"row": seen[name]})
                report.skipped += 1
                continue
            seen[name] = row
            code = TYPE_LABELS.get(_normalise_label(label)) or type_names.get(_normalise_label(label))
            if code is None:
                known = "、".join([*TYPE_LABELS, *(t.name for t in types.values())])
                problem(
                    row, "type", label, _("不认识的单位类型（可用：%(known)s），未导入") % {"known": known}
                )
                report.skipped += 1
                continue
            org_type = types.get(code)
            if org_type is None:
                problem(
                    row,
                    "type",
                    label,
                    _("单位类型“%(code)s”尚未建立，请先加载活动方案（manage.py load_campaign），未导入")
                    % {"code": code},
                )
                report.skipped += 1
                continue

            place = [cell(values, "province"), cell(values, "city"), cell(values, "county")]
            region = None
            if any(place):
                match = resolve_place(*place)
                shown = " ".join(p for p in place if p)
                if match is None:
                    problem(row, "province", shown, _("无法识别地区，单位已导入，未设地区"))
                else:
                    region = match.region
                    if match.unresolved:
                        problem(
                            row,
                            "county" if place[2] else "city",
                            shown,
                            _("“%(parts)s”未能识别，地区记为%(region)s")
                            % {"parts": "、".join(match.unresolved), "region": region.full_name},
                        )
            else:
                problem(row, "province", "", _("未填写地区，单位已导入，未设地区"))

            file_note = cell(values, "note")
            note = f"{label}；{file_note}" if file_note else label
            if len(note) > NOTE_LIMIT:
                problem(row, "note", file_note, _("备注过长，只保存了前%(limit)d字") % {"limit": NOTE_LIMIT})
                note = note[: NOTE_LIMIT - 1] + "…"
            source_url = cell(values, "source_url")
            if source_url:
                try:
                    if len(source_url) > URL_LIMIT:
                        raise ValidationError("too long")
                    url_validator(source_url)
                except ValidationError:
                    problem(row, "source_url", source_url, _("来源网址无效，未保存"))
                    source_url = ""

            org = existing.get(name)
            if org is None:
                org = Organization(name=name, type=org_type, region=region, note=note, source_url=source_url)
                org.save()
                existing[name] = org
                report.created += 1
                continue
            changed = []
            if org.type_id != org_type.pk:
                org.type = org_type
                changed.append("type")
            if region is not None and org.region_id != region.pk:
                org.region = region
                changed.append("region")
            if org.note != note:
                org.note = note
                changed.append("note")
            if org.source_url != source_url:
                org.source_url = source_url
                changed.append("source_url")
            if changed:
                org.save(update_fields=[*changed, "updated"])
                report.updated += 1
            else:
                report.unchanged += 1
        if dry_run:
            transaction.set_rollback(True)
    return report
