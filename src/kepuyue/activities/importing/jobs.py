"""The import job: the :class:`Importer` (every lookup once) and the two steps on an ``ImportJob``,
:func:`validate_import` then :func:`commit_import`."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _

from kepuyue.common import clock

from ..models import ImportJob
from .cells import ERROR, WARNING, key
from .headers import TEMPLATE_COLUMNS, header_field
from .reading import _FORMULA_STARTS, ImportFileError, Sheet, local_path, open_sheet
from .validation import Result, Row, RowReader
from .writing import RowWriter, bulk_load_settings

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
PROGRESS_EVERY = 1000
REPORT_LIMIT = 50_000

# --- the import context: everything looked up once ----------------------------------------------------


def default_campaign():
    """The campaign rows are imported into when none is named: the current campaign by the
    campaign clock (``kepuyue.campaigns.services.current_campaign``), else the latest one."""
    from kepuyue.campaigns.models import Campaign

    try:
        from kepuyue.campaigns.services import current_campaign
    except ImportError:  # the campaigns service not installed yet
        current_campaign = None
    if current_campaign is not None:
        found = current_campaign()
        if found is not None:
            return found
    return Campaign.objects.order_by("-starts").first()


class Importer(RowReader, RowWriter):
    """Reads one file into activity values, with every lookup done once (campaign, joint actions,
    brands, key tasks, organizations, regions) so that rows cost no queries."""

    def __init__(self, job: ImportJob, *, campaign=None):
        from kepuyue.campaigns.models import JointAction
        from kepuyue.orgs.models import Organization, OrganizationType
        from kepuyue.regions.models import Region

        self.job = job
        self.organization = job.organization
        self.campaign = campaign or default_campaign()
        if self.campaign is None:
            raise ImportFileError(_("还没有导入科普月方案（manage.py load_campaign），无法导入活动"))
        self.year = self.campaign.year
        self.now = clock.now()
        actions = list(
            JointAction.objects.filter(campaign=self.campaign)
            .prefetch_related("brands", "key_tasks", "participant_types")
            .order_by("number")
        )
        self.actions = actions
        self.action_by_key: dict[str, object] = {}
        self.brands_by_key: dict[str, list] = {}
        self.tasks_by_key: dict[tuple[int, str], object] = {}
        self.actions_by_type: dict[str, list] = {}
        for action in actions:
            short = re.sub(r"(联合)?行动$", "", action.name)
            for name in (action.name, short, action.slug, str(action.number), action.name_en):
                if name:
                    self.action_by_key.setdefault(key(name), action)
            for brand in action.brands.all():
                for name in (brand.name, brand.slug, *(brand.aliases or [])):
                    bucket = self.brands_by_key.setdefault(key(name), [])
                    if brand not in bucket:
                        bucket.append(brand)
            for task in action.key_tasks.all():
                for name in (task.name, task.slug, str(task.number)):
                    self.tasks_by_key.setdefault((action.pk, key(name)), task)
            for kind in action.participant_types.all():
                self.actions_by_type.setdefault(kind.code, []).append(action)
        self.type_names = dict(OrganizationType.objects.values_list("code", "name"))
        self.regions = {
            r.code: r
            for r in Region.objects.only("code", "name", "level", "parent_id", "province_code", "full_name")
        }
        self.org_ids: dict[str, int] = {}
        self.org_types: dict[str, str] = {}
        self.org_names: dict[int, str] = {}
        self.new_orgs: set[int] = set()
        if self.organization is None:
            for pk, name, kind in Organization.objects.values_list("pk", "name", "type_id").iterator(
                chunk_size=5000
            ):
                self.org_ids[key(name)] = pk
                self.org_types[key(name)] = kind
                self.org_names[pk] = name
        else:
            self.org_names[self.organization.pk] = self.organization.name
        self._places: dict[tuple, tuple] = {}
        self.seen: dict[tuple, int] = {}
        self.result = Result()
        self.errors = 0  # errors reported so far (the report itself stops at REPORT_LIMIT)
        self.present: set[str] = set()
        self.columns: dict[str, int] = {}
        self.headers: list[str] = []

    # -- reporting --

    def issue(self, row: int, column: str, value, reason: str, level: str = ERROR) -> None:
        if level == ERROR:
            self.result.failed_rows.add(row)
            self.errors += 1
        if len(self.result.issues) < REPORT_LIMIT:
            text = value if isinstance(value, str) else ("" if value is None else str(value))
            self.result.issues.append(
                {"row": row, "column": column, "value": text[:200], "reason": reason, "level": level}
            )

    def header_of(self, name: str) -> str:
        index = self.columns.get(name)
        return (
            self.headers[index]
            if index is not None
            else dict((f, h) for f, h, _r, _n in TEMPLATE_COLUMNS).get(name, name)
        )

    # -- the header --

    def read_header(self, sheet: Sheet) -> None:
        self.headers = [str(h) for h in sheet.headers]
        for index, text in enumerate(self.headers):
            if not text.strip():
                continue
            name = header_field(text)
            if name is None:
                self.issue(sheet.header_row, text, "", _("未识别的列，已忽略"), WARNING)
            elif name in self.columns:
                self.issue(
                    sheet.header_row,
                    text,
                    "",
                    _("与“%(other)s”列重复，已忽略") % {"other": self.headers[self.columns[name]]},
                    WARNING,
                )
            else:
                self.columns[name] = index
        self.present = set(self.columns)
        if not ({"start", "when"} & self.present):
            raise ImportFileError(_("找不到“开始时间”列（也可写作 开始日期、活动时间、start_date）"))
        if self.organization is None and "organizer" not in self.present:
            raise ImportFileError(_("管理员导入需要“主办单位”列（按单位名称匹配或新建单位）"))
        if self.organization is not None and "organizer" in self.present:
            self.issue(
                sheet.header_row,
                self.header_of("organizer"),
                "",
                _("本单位导入：主办单位一律为“%(org)s”，此列不导入") % {"org": self.organization.name},
                WARNING,
            )

    # -- one row --

    def row_cells(self, cells: tuple) -> dict:
        """A file row as ``{field: value}`` for the recognised columns, blank cells left out."""
        width = len(cells)
        found = {}
        for name, index in self.columns.items():
            if index < width:
                value = cells[index]
                if value is not None and value != "" and not (isinstance(value, str) and value.isspace()):
                    if isinstance(value, str) and value[:1] == "'" and value[1:2] in _FORMULA_STARTS:
                        value = value[1:]  # a cell our export neutralised: '=… is the text =…
                    found[name] = value
        return found

    # -- the whole file --

    def rows(self, path: Path) -> Iterator[Row | None]:
        """Every data row of the file, read and checked: a ``Row`` or ``None`` (failed/empty)."""
        sheet = open_sheet(path, self.job.original_name)
        self.read_header(sheet)
        self.job.total = sheet.estimated_rows
        ImportJob.objects.filter(pk=self.job.pk).update(total=self.job.total, processed=0)
        count = 0
        for number, cells in sheet.rows:
            if not any(c not in (None, "") and not (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            count += 1
            row = self.read_row(number, self.row_cells(cells))
            if row is not None:
                self.result.valid += 1
            yield row
            if count % PROGRESS_EVERY == 0:
                self.job.processed = count
                ImportJob.objects.filter(pk=self.job.pk).update(
                    processed=count, total=max(count, self.job.total)
                )
        self.result.total = count


# --- the two steps -----------------------------------------------------------------------------------


def _finish(job: ImportJob, importer: Importer | None, state: str, *, error: str = "") -> ImportJob:
    if importer is not None:
        result = importer.result
        issues = sorted(result.issues, key=lambda i: (i["row"], i["level"] != ERROR))
        if len(result.issues) >= REPORT_LIMIT:
            issues.append(
                {
                    "row": 0,
                    "column": "",
                    "value": "",
                    "reason": _("问题过多，只列出前 %(n)d 条") % {"n": REPORT_LIMIT},
                    "level": WARNING,
                }
            )
        job.report = issues
        job.total = result.total
        job.processed = result.total
        job.valid_rows = result.valid
    job.state = state
    job.error = error
    job.save()
    return job


def validate_import(job: ImportJob, *, campaign=None) -> ImportJob:
    """Step 1: read the whole file and record, for every row, what is wrong with it.

    Sets ``job.report`` (``[{"row", "column", "value", "reason", "level"}, …]``, level ``error`` or
    ``warning``, rows numbered as the file shows them), ``total`` and ``valid_rows``, and the state
    ``validated`` — or ``failed`` with ``job.error`` when the file cannot be read at all. Writes no
    activity. ``campaign`` defaults to :func:`default_campaign`. Returns the job.
    """
    job.state = ImportJob.State.VALIDATING
    job.save(update_fields=["state", "updated"])
    importer = None
    try:
        importer = Importer(job, campaign=campaign)
        with local_path(job) as path:
            for _row in importer.rows(path):
                pass
    except ImportFileError as exc:
        return _finish(job, importer, ImportJob.State.FAILED, error=str(exc))
    return _finish(job, importer, ImportJob.State.VALIDATED)


def commit_import(job: ImportJob, *, campaign=None) -> ImportJob:
    """Step 2: write the file's valid rows (read and checked again, so the result does not depend on
    the file having been validated in this process), in batches of ``BATCH_SIZE`` with
    ``bulk_create``/``bulk_update``, updating ``job.processed`` as it goes.

    Idempotent: a row that matches an existing activity of the same organizer (external id, else
    title + start) updates it only where the file's columns differ, else counts as unchanged.
    Rows of a unit's import become drafts (a unit cannot change a submitted or published activity
    by import: such rows are reported); rows of an administrator's import are published.
    Sets ``created_count``, ``updated_count``, ``unchanged_count``, the report and state ``done``
    (or ``failed``). Returns the job.
    """
    job.state = ImportJob.State.COMMITTING
    job.save(update_fields=["state", "updated"])
    bulk_load_settings()
    importer = None
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    try:
        importer = Importer(job, campaign=campaign)
        batch: list[Row] = []
        with local_path(job) as path:
            for row in importer.rows(path):
                if row is not None:
                    batch.append(row)
                if len(batch) >= BATCH_SIZE:
                    importer.write(batch, counts)
                    batch = []
            importer.write(batch, counts)
    except ImportFileError as exc:
        return _finish(job, importer, ImportJob.State.FAILED, error=str(exc))
    job.created_count, job.updated_count, job.unchanged_count = (
        counts["created"],
        counts["updated"],
        counts["unchanged"],
    )
    from kepuyue.audit import services as audit

    audit.record(
        "activity.import",
        actor=job.created_by,
        obj=job,
        organization=job.organization,
        data={"created": counts["created"], "updated": counts["updated"], "unchanged": counts["unchanged"]},
    )
    return _finish(job, importer, ImportJob.State.DONE)
