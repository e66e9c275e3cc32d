"""The import job: the :class:`Importer` (every lookup once) and the two steps on an ``ImportJob``,
:func:`validate_import` then :func:`commit_import`."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kepuyue.common import clock

from ..models import ImportJob
from .cells import ERROR, INFO, WARNING, key
from .headers import SILENT_HEADERS, TEMPLATE_COLUMNS, header_field
from .reading import (
    _FORMULA_STARTS,
    MAX_CELL_CHARS,
    ImportFileError,
    Sheet,
    _cap,
    local_path,
    open_sheet,
)
from .validation import Result, Row, RowReader
from .writing import RowWriter, bulk_load_settings

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
PROGRESS_EVERY = 1000
REPORT_LIMIT = 50_000
# A running step that has not written its heartbeat for this long is stale (its worker was killed or
# its database connection dropped): ``KEPUYUE_IMPORT_STALE_SECONDS`` overrides it. The commit's
# write phase (one transaction, no heartbeat inside) of ``MAX_ROWS`` rows takes well under it.
STALE_SECONDS = 600
# Runs of a job's steps (validation and commit together) after which retrying is refused.
MAX_ATTEMPTS = 6
RUNNING = (ImportJob.State.PENDING, ImportJob.State.VALIDATING, ImportJob.State.COMMITTING)
INTERRUPTED_MESSAGE = gettext_noop(
    "导入中断（处理进程停止或数据库连接中断），没有写入任何活动；请点击“重试”"
    "（管理员也可运行 manage.py import_activities --retry %(pk)d）"
)


class Superseded(Exception):
    """Another run of the same job took over (a retry after a false stale alarm): this run stops
    and writes nothing."""


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
        self.default_organizer = job.default_organizer if self.organization is None else None
        self.campaign = campaign or default_campaign()
        if self.campaign is None:
            raise ImportFileError(_("还没有导入科普月方案（manage.py load_campaign），无法导入活动"))
        self.year = self.campaign.year
        self.tolerance = int((self.campaign.review or {}).get("date_tolerance_days", 0) or 0)
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
        if self.default_organizer is not None:
            self.org_names[self.default_organizer.pk] = self.default_organizer.name
        self._places: dict[tuple, tuple] = {}
        self.seen: dict[tuple, int] = {}
        self.result = Result()
        self.errors = 0  # errors reported so far (the report itself stops at REPORT_LIMIT)
        self.present: set[str] = set()
        self.columns: dict[str, int] = {}
        self.headers: list[str] = []
        # Unrecognised columns: index → the rows whose cell in it held something (lost data).
        self.ignored: dict[int, list[int]] = {}

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
                if key(text) not in SILENT_HEADERS:
                    self.ignored[index] = []

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
        if self.organization is None and self.default_organizer is None and "organizer" not in self.present:
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
        self.beat(processed=0, total=self.job.total)
        count = 0
        cell_limit = _cap("KEPUYUE_IMPORT_MAX_CELL_CHARS", MAX_CELL_CHARS)
        for number, cells in sheet.rows:
            if not any(c not in (None, "") and not (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            count += 1
            for index, lost in self.ignored.items():
                if index < len(cells) and cells[index] not in (None, "") and str(cells[index]).strip():
                    lost.append(number)
            found = self.row_cells(cells)
            long_cells = [n for n, v in found.items() if isinstance(v, str) and len(v) > cell_limit]
            for name in long_cells:
                self.issue(
                    number,
                    self.header_of(name),
                    found[name][:50],
                    _("单元格超过 %(n)d 字（%(len)d 字），本行未导入")
                    % {"n": cell_limit, "len": len(found[name])},
                )
            row = None if long_cells else self.read_row(number, found)
            if row is not None:
                self.result.valid += 1
            yield row
            if count % PROGRESS_EVERY == 0:
                self.job.processed = count
                self.beat(processed=count, total=max(count, self.job.total))
        if count == 0:
            raise ImportFileError(_("文件只有表头，没有数据行"))
        self.result.total = count
        self.report_ignored(sheet.header_row)

    def report_ignored(self, header_row: int) -> None:
        """One warning per unrecognised column: which rows lose what (issue 11 point 1)."""
        for index, lost in self.ignored.items():
            header = self.headers[index]
            if not lost:
                reason = _("未识别的列，已忽略（此列没有内容，没有丢失数据）")
            else:
                shown = "、".join(str(n) for n in lost[:20]) + ("…" if len(lost) > 20 else "")
                reason = _(
                    "未识别的列，已忽略：第 %(rows)s 行（共 %(n)d 行）此列的内容不会导入；"
                    "如需保留，请把列名改为模板中的列名"
                ) % {"rows": shown, "n": len(lost)}
            self.issue(header_row, header, "", reason, WARNING)

    def beat(self, **fields) -> None:
        """Write the heartbeat (and progress ``fields``) of a stored job; a dry run has no row."""
        if self.job.pk:
            ImportJob.objects.filter(pk=self.job.pk).update(heartbeat=timezone.now(), **fields)


# --- the two steps -----------------------------------------------------------------------------------


def _sorted_issues(result) -> list[dict]:
    order = {ERROR: 0, WARNING: 1, INFO: 2}
    issues = sorted(result.issues, key=lambda i: (i["row"], order.get(i["level"], 3)))
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
    return issues


def _finish(job: ImportJob, importer: Importer | None, state: str, *, error: str = "", **extra) -> ImportJob:
    if importer is not None:
        result = importer.result
        job.report = _sorted_issues(result)
        job.total = result.total
        job.processed = result.total
        job.valid_rows = result.valid
    job.state = state
    job.error = error
    job.retryable = extra.pop("retryable", False)
    job.interrupted = extra.pop("interrupted", "")
    job.heartbeat = timezone.now()
    for name, value in extra.items():
        setattr(job, name, value)
    if state == ImportJob.State.FAILED and not job.retryable and job.file:
        # A refused file is kept nowhere: nothing can be retried from it, and it holds contact data.
        try:
            job.file.delete(save=False)
        except OSError:
            logger.warning("import job %s: could not delete the refused file", job.pk)
    if job.pk:
        job.save()
    return job


def _claim(job: ImportJob, state: str, allowed: tuple[str, ...]) -> bool:
    """Move a stored job to ``state`` (a running step) if it stands in ``allowed``, counting the
    attempt; ``False`` when another run has it or it is done. The job object is refreshed.

    ``attempts`` counts the runs of *this* step: a retry of the interrupted step (``interrupted``
    names it) adds one, a first run — the commit after a validation — starts again at 1 (one click
    on 确认导入 showed “第 2 次尝试”, the validation having counted as the first)."""
    if not job.pk:
        job.attempts = job.attempts + 1 if job.interrupted == state else 1
        job.state = state
        return True
    moved = ImportJob.objects.filter(pk=job.pk, state__in=allowed).update(
        state=state,
        attempts=Case(When(interrupted=state, then=F("attempts") + 1), default=Value(1)),
        heartbeat=timezone.now(),
        error="",
        retryable=False,
    )
    job.refresh_from_db()
    return bool(moved)


def _interrupted(job: ImportJob, step: str, exc: BaseException) -> ImportJob:
    """Record that ``step`` stopped on a database error or a bug: failed, retryable. With the
    connection gone, a fresh one is tried; if that fails too, the stale check finds the job later."""
    logger.warning("import job %s: %s interrupted: %r", job.pk, step, exc)
    if not job.pk:
        raise exc
    try:
        if not connection.in_atomic_block:
            connection.close()
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.FAILED,
            retryable=True,
            interrupted=step,
            heartbeat=timezone.now(),
            error=_(INTERRUPTED_MESSAGE) % {"pk": job.pk},
        )
        job.refresh_from_db()
    except DatabaseError:
        logger.exception("import job %s: could not record the interruption", job.pk)
    return job


def validate_import(job: ImportJob, *, campaign=None, path: Path | None = None) -> ImportJob:
    """Step 1: read the whole file and record, for every row, what is wrong with it and what the
    commit would do with it (新增 / 更新（字段）/ 无变化 / 可能重复, level ``info``).

    Sets ``job.report`` (``[{"row", "column", "value", "reason", "level"}, …]``, level ``error``,
    ``warning`` or ``info``, rows numbered as the file shows them), ``total`` and ``valid_rows``, and
    the state ``validated`` — or ``failed`` with ``job.error`` when the file cannot be read at all
    (a clear Chinese message; not retryable: the file must change), or failed and retryable when
    the database or a bug stopped it. Writes no activity. An unsaved ``job`` with ``path`` is a dry
    run: nothing at all is stored. ``campaign`` defaults to :func:`default_campaign`.
    """
    allowed = (ImportJob.State.PENDING, ImportJob.State.VALIDATING)
    if not _claim(job, ImportJob.State.VALIDATING, allowed):
        return job
    importer = None
    try:
        importer = Importer(job, campaign=campaign)
        with _source(job, path) as source:
            importer.plan_all(importer.rows(source))
    except ImportFileError as exc:
        return _finish(job, importer, ImportJob.State.FAILED, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a job never stays stuck in "validating"
        return _interrupted(job, ImportJob.State.VALIDATING, exc)
    return _finish(job, importer, ImportJob.State.VALIDATED)


def _source(job: ImportJob, path: Path | None):
    if path is not None:
        from contextlib import nullcontext

        return nullcontext(Path(path))
    return local_path(job)


def commit_import(job: ImportJob, *, campaign=None) -> ImportJob:
    """Step 2: write the file's valid rows — all of them or none (issue 9 class 6, ADR 0013).

    The file is read and checked again (the result does not depend on the file having been
    validated in this process), writing the heartbeat as it goes; then every row is written, the
    audit entry recorded and the job marked ``done`` in **one transaction** that first locks the
    job row and checks that this run still owns it (``attempts``): a killed worker or a dropped
    connection rolls it all back and leaves a stale job that :func:`recover_stale` turns into a
    retryable failure; a second run of the same job (a retry racing a slow first run) writes
    nothing. Exactly once: a job that is ``done`` is never committed again.

    Idempotent as before: a row that matches an existing activity of the same organizer (external
    id, else title + start, else title + start day when only the time of day changed) updates it
    only where the file has better data (never a blank, a coarser region or a default time over a
    real one), else counts as unchanged. Rows of a unit's import become drafts; rows of an
    administrator's import are published. Returns the job.
    """
    allowed = (ImportJob.State.PENDING, ImportJob.State.VALIDATED, ImportJob.State.COMMITTING)
    if not _claim(job, ImportJob.State.COMMITTING, allowed):
        return job
    attempt = job.attempts
    bulk_load_settings()
    importer = None
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    try:
        importer = Importer(job, campaign=campaign)
        with local_path(job) as path:
            rows = [row for row in importer.rows(path) if row is not None]
        with transaction.atomic():
            owner = (
                ImportJob.objects.select_for_update().filter(pk=job.pk).values("state", "attempts").first()
            )
            if owner is None or owner["state"] != ImportJob.State.COMMITTING or owner["attempts"] != attempt:
                raise Superseded
            for start in range(0, len(rows), BATCH_SIZE):
                importer.write(rows[start : start + BATCH_SIZE], counts)
            from kepuyue.audit import services as audit

            audit.record(
                "activity.import",
                actor=job.created_by,
                obj=job,
                organization=job.organization,
                data={**counts, "attempt": attempt},
            )
            _finish(
                job,
                importer,
                ImportJob.State.DONE,
                created_count=counts["created"],
                updated_count=counts["updated"],
                unchanged_count=counts["unchanged"],
            )
    except Superseded:
        job.refresh_from_db()
        return job
    except ImportFileError as exc:
        return _finish(job, importer, ImportJob.State.FAILED, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - DatabaseError above all: never stuck in "committing"
        return _interrupted(job, ImportJob.State.COMMITTING, exc)
    return job


# --- stale jobs and retries ------------------------------------------------------------------------------


def stale_seconds() -> int:
    return int(getattr(settings, "KEPUYUE_IMPORT_STALE_SECONDS", STALE_SECONDS))


def stale_q(now=None) -> Q:
    """Running jobs whose heartbeat (else last change) is older than :func:`stale_seconds`."""
    limit = (now or timezone.now()) - timedelta(seconds=stale_seconds())
    return Q(state__in=RUNNING) & (Q(heartbeat__lt=limit) | Q(heartbeat__isnull=True, updated__lt=limit))


def recover_stale(queryset=None, *, now=None) -> int:
    """Mark every stale running job failed and retryable (``interrupted`` names the step: a pending
    job's is validation). Returns how many. Run by the import pages for the jobs they show, by
    ``import_activities --recover-stale`` and by the periodic task."""
    jobs = (queryset if queryset is not None else ImportJob.objects.all()).filter(stale_q(now))
    count = 0
    for pk, state in list(jobs.values_list("pk", "state")):
        step = (
            ImportJob.State.COMMITTING if state == ImportJob.State.COMMITTING else ImportJob.State.VALIDATING
        )
        count += ImportJob.objects.filter(Q(pk=pk) & stale_q(now)).update(
            state=ImportJob.State.FAILED,
            retryable=True,
            interrupted=step,
            error=_(INTERRUPTED_MESSAGE) % {"pk": pk},
        )
    return count


def retry_import(job: ImportJob) -> str:
    """Make a retryable job ready to run its interrupted step again; returns the step to run
    (``"validate"`` or ``"commit"``). Raises ``ValidationError`` (Chinese) when the job is not
    retryable or has used its attempts. The caller runs or queues the step."""
    recover_stale(ImportJob.objects.filter(pk=job.pk))
    job.refresh_from_db()
    if job.state != ImportJob.State.FAILED or not job.retryable:
        raise ValidationError(
            _("这次导入当前状态为“%(state)s”，不需要重试") % {"state": job.get_state_display()}
        )
    if job.attempts >= MAX_ATTEMPTS:
        raise ValidationError(_("这次导入已尝试 %(n)d 次，请重新上传文件或联系管理员") % {"n": job.attempts})
    step = "commit" if job.interrupted == ImportJob.State.COMMITTING else "validate"
    state = ImportJob.State.VALIDATED if step == "commit" else ImportJob.State.PENDING
    ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.FAILED).update(
        state=state, error="", retryable=False, heartbeat=timezone.now()
    )
    job.refresh_from_db()
    return step
