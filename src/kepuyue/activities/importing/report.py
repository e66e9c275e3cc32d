"""Workbooks of the import: the template to fill in (with drop-down lists) and the per-row report."""

from __future__ import annotations

import io
import re

from django.utils.translation import gettext as _

from .. import services
from ..models import Form, ImportJob
from .cells import ERROR, INFO, LEVEL_LABELS, WARNING
from .headers import INSTRUCTIONS_SHEET, LISTS_SHEET, TEMPLATE_COLUMNS, TEMPLATE_SHEET
from .jobs import default_campaign


def failed_rows(job: ImportJob) -> list[tuple[int, list[dict]]]:
    """The job's rows that failed, each with its error issues: ``[(row, [issue, …]), …]``."""
    grouped: dict[int, list[dict]] = {}
    for issue in job.report:
        if issue.get("level", ERROR) == ERROR and issue["row"]:
            grouped.setdefault(issue["row"], []).append(issue)
    return sorted(grouped.items())


def row_report(job: ImportJob) -> list[dict]:
    """The report row by row, as the validation page and ``import_activities`` both show it:
    ``[{"row", "outcome", "errors", "warnings"}, …]`` — the outcome is 新增 / 更新活动 #…（字段）/
    无变化 / 可能重复 … (empty for a failed row), errors and warnings are every issue of the row
    as ``{"column", "value", "reason"}``. Row 0 holds the file-wide notes; the header row its own."""
    rows: dict[int, dict] = {}
    for issue in job.report:
        entry = rows.setdefault(
            issue["row"], {"row": issue["row"], "outcome": "", "errors": [], "warnings": []}
        )
        level = issue.get("level", ERROR)
        if level == INFO:
            entry["outcome"] = issue["reason"]
        else:
            entry["errors" if level == ERROR else "warnings"].append(issue)
    for entry in rows.values():
        if entry["errors"]:
            entry["outcome"] = _("不导入（有错误）")
    return [rows[n] for n in sorted(rows)]


def report_lines(job: ImportJob) -> list[str]:
    """:func:`row_report` as text lines (``import_activities``): one line per row with its outcome,
    then every error and warning of the row."""

    def said(issue: dict) -> str:
        value = f"“{issue['value'][:40]}”" if issue.get("value") else ""
        column = f"{issue['column']}{value}：" if issue.get("column") else ""
        return column + issue["reason"]

    lines = []
    for entry in row_report(job):
        head = _("第 %(row)d 行") % {"row": entry["row"]} if entry["row"] else _("整个文件")
        lines.append(f"{head}：{entry['outcome']}" if entry["outcome"] else f"{head}：")
        lines += [f"    {_('错误')}　{said(i)}" for i in entry["errors"]]
        lines += [f"    {_('提醒')}　{said(i)}" for i in entry["warnings"]]
    return lines


def counts_line(job: ImportJob) -> str:
    """``共 N 行：新增 a 行，更新 b 行，无变化 c 行，有错误 d 行，提醒 e 条`` from the row outcomes."""
    entries = [e for e in row_report(job) if e["row"]]
    new = sum(1 for e in entries if not e["errors"] and e["outcome"].startswith(_("新增")))
    updated = sum(1 for e in entries if not e["errors"] and e["outcome"].startswith(_("更新")))
    same = sum(1 for e in entries if not e["errors"] and e["outcome"].startswith(_("无变化")))
    failed = sum(1 for e in entries if e["errors"])
    warnings = sum(1 for i in job.report if i.get("level") == WARNING)
    return _("共 %(t)d 行：新增 %(n)d 行，更新 %(u)d 行，无变化 %(s)d 行，有错误 %(f)d 行，提醒 %(w)d 条") % {
        "t": job.total,
        "n": new,
        "u": updated,
        "s": same,
        "f": failed,
        "w": warnings,
    }


# --- workbooks: the template and the report ---------------------------------------------------------


def _regions_tree():
    """Provinces → prefectures → counties from the Region table, as display names."""
    from kepuyue.regions.models import Region

    rows = list(Region.objects.order_by("code").values_list("code", "name", "level", "parent_id"))
    names = {code: name for code, name, _l, _p in rows}
    provinces = [(code, name) for code, name, level, _p in rows if level == 1]
    prefectures: dict[str, list[tuple[str, str]]] = {}
    counties: dict[str, list[str]] = {}
    for code, name, level, parent in rows:
        if level == 2:
            # The 市辖区/县 grouping rows of the municipalities read as the municipality itself.
            shown = names[parent] if name in ("市辖区", "县") else name
            prefectures.setdefault(parent, []).append((code, shown))
        elif level == 3:
            counties.setdefault(parent, []).append(name)
    return provinces, prefectures, counties


_NAME_OK = re.compile(r"^\w+$")


def build_template(campaign=None) -> bytes:
    """The downloadable 重点科普活动信息表 template (``.xlsx``): a sheet to fill in with Chinese
    headers and drop-down lists (data validation) for joint action, brand (of the chosen joint
    action), form, province, city (of the province) and county (of the city); an instructions
    sheet; the lists on a hidden sheet. Returns the file's bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    campaign = campaign or default_campaign()
    book = Workbook()
    sheet = book.active
    sheet.title = TEMPLATE_SHEET
    notes = book.create_sheet(INSTRUCTIONS_SHEET)
    lists = book.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    quoted = quote_sheetname(LISTS_SHEET)

    # Lists: one column per list; dependent lists get a defined name (联合行动 → its brands, 省 → its
    # cities, 省+市 → its counties) that INDIRECT() finds from the chosen value.
    column = 0

    def put(values: list[str], name: str | None = None) -> str:
        nonlocal column
        column += 1
        letter = get_column_letter(column)
        for row, value in enumerate(values or [""], start=1):
            lists.cell(row=row, column=column, value=value)
        ref = f"{quoted}!${letter}$1:${letter}${max(1, len(values))}"
        if name and _NAME_OK.match(name):
            book.defined_names[name] = DefinedName(name, attr_text=ref)
        return ref

    actions = list(campaign.joint_actions.prefetch_related("brands").order_by("number")) if campaign else []
    action_ref = put([*(a.name for a in actions), services.CAMPAIGN_WIDE_LABEL])
    for action in actions:
        put([b.name for b in action.brands.all()], f"品牌_{action.name}")
    form_ref = put([label for _v, label in Form.choices])
    provinces, prefectures, counties = _regions_tree()
    province_ref = put([name for _c, name in provinces])
    province_names = dict(provinces)
    for code, name in provinces:
        put([shown for _c, shown in prefectures.get(code, [])], f"市_{name}")
    for province_code, items in prefectures.items():
        for code, shown in items:
            put(counties.get(code, []), f"县_{province_names[province_code]}_{shown}")

    headers = [header for _f, header, _r, _n in TEMPLATE_COLUMNS]
    sheet.append(headers)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    for index, (_f, _h, required, _n) in enumerate(TEMPLATE_COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = bold
        if required:
            cell.fill = fill
        sheet.column_dimensions[get_column_letter(index)].width = (
            30 if _f in ("title", "summary", "venue") else 16
        )
    sheet.freeze_panes = "A2"
    letter = {f: get_column_letter(i) for i, (f, _h, _r, _n) in enumerate(TEMPLATE_COLUMNS, start=1)}
    last = 5001

    def validate(field_name: str, formula: str, prompt: str) -> None:
        rule = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True)
        rule.error, rule.errorTitle = _("请从下拉列表中选择"), _("无效的值")
        rule.prompt, rule.promptTitle = prompt, dict((f, h) for f, h, _r, _n in TEMPLATE_COLUMNS)[field_name]
        rule.add(f"{letter[field_name]}2:{letter[field_name]}{last}")
        sheet.add_data_validation(rule)

    validate("joint_action", action_ref, _("选择联合行动；不属于联合行动的选“全国科普月活动”"))
    validate("brand", f'INDIRECT("品牌_"&${letter["joint_action"]}2)', _("先选联合行动，再选其品牌活动"))
    validate("form", form_ref, _("线下、线上或线上线下结合"))
    validate("province", province_ref, _("选择省份"))
    validate("city", f'INDIRECT("市_"&${letter["province"]}2)', _("先选省份"))
    validate("county", f'INDIRECT("县_"&${letter["province"]}2&"_"&${letter["city"]}2)', _("先选省份和城市"))
    for name in ("start", "end"):
        for row in range(2, 200):
            sheet[f"{letter[name]}{row}"].number_format = "yyyy-mm-dd hh:mm"

    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 12
    notes.column_dimensions["C"].width = 80
    title = _("重点科普活动信息表 · 填写说明")
    if campaign:
        title = f"{campaign.name} {title}"
    notes.append([title])
    notes["A1"].font = Font(bold=True, size=14)
    notes.append([])
    notes.append([_("列"), _("是否必填"), _("说明")])
    for cell in notes[3]:
        cell.font = bold
    for _f, header, required, note in TEMPLATE_COLUMNS:
        notes.append([header, _("必填") if required else _("选填"), note])
    notes.append([])
    notes.append([_("联合行动及活动时间")])
    notes[notes.max_row][0].font = bold
    for action in actions:
        brands = "、".join(b.name for b in action.brands.all())
        notes.append(
            [action.name, "", services.window_text(action) + (f"；品牌活动：{brands}" if brands else "")]
        )
    notes.append([])
    for line in (
        _("时间均为北京时间；只写日期时，开始按当天0点、结束按当天24点计。"),
        _("同一单位再次导入同一文件不会重复：有活动编号时按编号，没有时按活动名称和开始时间识别同一活动。"),
        _("导入分两步：先校验并下载问题报告，确认后再导入。"),
    ):
        notes.append([line])
    for row in notes.iter_rows(min_row=4):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def report_workbook(job: ImportJob) -> bytes:
    """The job's problem report as ``.xlsx`` bytes: 行号, 列, 内容, 问题, 级别 (values from the file
    are neutralised so that a formula in it is shown, never run)."""
    from openpyxl import Workbook

    from ..exporting import neutralise

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("问题报告"))
    sheet.append([_("行号"), _("列"), _("内容"), _("问题"), _("级别")])
    for issue in job.report:
        sheet.append(
            [
                issue["row"] or "",
                neutralise(issue["column"]),
                neutralise(issue["value"]),
                issue["reason"],
                LEVEL_LABELS.get(issue.get("level", ERROR), ""),
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def summary_line(job: ImportJob) -> str:
    """``导入 42 条，更新 0 条，未变 0 条，失败 65 条（原因见下）``."""
    failed = len(failed_rows(job))
    line = _("导入 %(c)d 条，更新 %(u)d 条，未变 %(n)d 条，失败 %(f)d 条") % {
        "c": job.created_count,
        "u": job.updated_count,
        "n": job.unchanged_count,
        "f": failed,
    }
    return line + (_("（原因见下）") if failed else "")
