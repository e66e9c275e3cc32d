"""The campaign domain: loading a plan file into rows, and reading where the campaign stands.

Writing: :func:`load_campaign` is the only writer of campaign rows (``campaigns/<slug>.yaml`` →
database), idempotent and in one transaction.

Reading, on the campaign clock (``kepuyue.common.clock``, Asia/Shanghai): :func:`current_campaign`,
:func:`campaign_phase`, :func:`deadline_state`, :func:`key_deadlines`,
:func:`joint_action_window_phase` and :func:`zone` (one joint action's zone, 联合行动专区).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Prefetch
from django.utils.translation import gettext_lazy as _

from kepuyue.common import clock
from kepuyue.common.clock import BEIJING, Phase
from kepuyue.orgs.models import OrganizationType

from .models import (
    Brand,
    Call,
    Campaign,
    Contact,
    Deadline,
    DeadlineKind,
    JointAction,
    KeyCity,
    KeyTask,
    Target,
)
from .schema import CampaignFile, CampaignFileError, parse_campaign

__all__ = [
    "CampaignFileError",
    "DeadlineState",
    "LoadResult",
    "ModelCounts",
    "campaign_phase",
    "current_campaign",
    "deadline_state",
    "joint_action_window_phase",
    "key_deadlines",
    "load_campaign",
    "zone",
]

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


# --- Loading ---------------------------------------------------------------------------------


@dataclass
class ModelCounts:
    """What a load did to one model's rows."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0


@dataclass
class LoadResult:
    """The outcome of :func:`load_campaign`: the campaign and row counts, in total and per model
    (``by_model`` is keyed by the model's Chinese verbose name, in load order).
    """

    campaign: Campaign
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    by_model: dict[str, ModelCounts] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """True when any row was created, updated or deleted."""
        return bool(self.created or self.updated or self.deleted)


def _add_yaml_key_cities(joint_action: JointAction, codes: list[str]) -> None:
    """The file's key cities, added when missing; those chosen on the staff page are kept (the plan
    names no city: the list is made during the campaign, see ``KeyCitiesSpec``)."""
    from kepuyue.regions.models import Level, Region

    known = set(Region.objects.filter(code__in=codes, level=Level.PREFECTURE).values_list("code", flat=True))
    missing = sorted(set(codes) - known)
    if missing:
        raise CampaignFileError(
            [f"key_cities.codes: 不是地级行政区划代码 (not a prefecture): {'、'.join(missing)}"]
        )
    have = set(KeyCity.objects.filter(joint_action=joint_action).values_list("region_id", flat=True))
    KeyCity.objects.bulk_create(
        [KeyCity(joint_action=joint_action, region_id=c) for c in codes if c not in have]
    )


def key_city_codes(joint_action: JointAction) -> list[str]:
    """The key cities' prefecture codes (重点城市, plan 七(四)1), in code order."""
    return list(
        KeyCity.objects.filter(joint_action=joint_action)
        .order_by("region_id")
        .values_list("region_id", flat=True)
    )


class KeyCityError(ValueError):
    """A key city that cannot be added or removed; the message is Chinese, for the page."""


def add_key_city(joint_action: JointAction, code: str, *, actor) -> KeyCity:
    """Choose the prefecture ``code`` as a key city of ``joint_action`` (plan 七(四)1 选取 10~15 个重点城市).

    Rules: the joint action has key cities (``key_cities_rule`` from the YAML); ``code`` is a
    prefecture-level region (地级); at most ``max`` cities. Permission is checked by the view (CAST or the
    joint action's manager). Audited as ``key_city.add``. Raises :class:`KeyCityError`."""
    from kepuyue.audit.services import record
    from kepuyue.regions.models import Level, Region

    rule = joint_action.key_cities_rule or {}
    if not rule:
        raise KeyCityError(_("该联合行动没有重点城市"))
    code = (code or "").strip()
    region = Region.objects.filter(code=code, level=Level.PREFECTURE).first() if code.isdigit() else None
    if region is None:
        raise KeyCityError(_("请选择一个地级城市"))
    with transaction.atomic():
        # One chooser at a time per joint action: the count and the insert agree.
        JointAction.objects.select_for_update().filter(pk=joint_action.pk).first()
        if KeyCity.objects.filter(joint_action=joint_action, region=region).exists():
            raise KeyCityError(_("%(city)s 已是重点城市") % {"city": region.name})
        if KeyCity.objects.filter(joint_action=joint_action).count() >= rule["max"]:
            raise KeyCityError(_("重点城市最多 %(max)s 个（方案 七(四)1）") % {"max": rule["max"]})
        city = KeyCity.objects.create(joint_action=joint_action, region=region)
        record(
            "key_city.add", actor=actor, obj=city, data={"joint_action": joint_action.slug, "region": code}
        )
    return city


def remove_key_city(joint_action: JointAction, code: str, *, actor) -> None:
    """Remove a key city (audited as ``key_city.remove``); raises :class:`KeyCityError` if it is not one."""
    from kepuyue.audit.services import record

    with transaction.atomic():
        city = KeyCity.objects.filter(joint_action=joint_action, region_id=(code or "").strip()).first()
        if city is None:
            raise KeyCityError(_("该城市不是重点城市"))
        record(
            "key_city.remove", actor=actor, obj=city, data={"joint_action": joint_action.slug, "region": code}
        )
        city.delete()


def load_campaign(path: str | Path) -> LoadResult:
    """Load the campaign file at ``path`` into the database; return what changed.

    Rows are matched by their keys in the file (campaign slug; joint action slug; key task,
    brand and target slug within the joint action; deadline and call slug within the campaign;
    contact position within the joint action). A matched row is saved only when a value differs,
    so loading the same file again changes nothing, ``updated`` timestamps included. Rows of this
    campaign that are no longer in the file are deleted. Organization types are upserted by
    code and never deleted (organizations refer to them). The file's SHA-256 is stored on the
    campaign. Everything happens in one transaction.

    Raises :class:`CampaignFileError` (``errors``: lines ``<yaml path>: <reason>``) when the file
    is unreadable or invalid, or when a row to delete is still referenced elsewhere; nothing is
    written then.
    """
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise CampaignFileError(
            [f"{path}: 无法读取文件 (cannot read the file): {exc.strerror or exc}"]
        ) from None
    plan = parse_campaign(content)
    loader = _Loader(plan, source_file=_source_name(path), sha256=hashlib.sha256(content).hexdigest())
    try:
        with transaction.atomic():
            return loader.run()
    except models.ProtectedError as exc:
        rows = "、".join(sorted({str(obj) for obj in exc.protected_objects})[:5])
        raise CampaignFileError(
            [f"（文件）: 文件中删去的条目仍被其他数据引用，不能删除 (still referenced): {rows}"]
        ) from None


def _source_name(path: Path) -> str:
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(settings.PROJECT_DIR))
    except ValueError:
        return str(resolved)


class _Loader:
    """One load: upserts in dependency order, then deletes what the file no longer has."""

    def __init__(self, plan: CampaignFile, *, source_file: str, sha256: str):
        self.plan = plan
        self.source_file = source_file
        self.sha256 = sha256
        self.counts: dict[str, ModelCounts] = {}

    # Each sync returns the row and whether it was created, updated or left unchanged.
    def _sync(self, model: type[models.Model], existing: dict, key: Any, values: dict) -> tuple[Any, str]:
        obj = existing.pop(key, None)
        if obj is None:
            return model.objects.create(**values), CREATED
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if not changed:
            return obj, UNCHANGED
        for name in changed:
            setattr(obj, name, values[name])
        self._save(obj, changed)
        return obj, UPDATED

    @staticmethod
    def _save(obj: models.Model, changed: list[str]) -> None:
        fields = [obj._meta.get_field(name).name for name in changed]
        if any(f.name == "updated" for f in obj._meta.concrete_fields):
            fields.append("updated")
        obj.save(update_fields=fields)

    def _count(self, model: type[models.Model], state: str) -> None:
        counts = self.counts.setdefault(str(model._meta.verbose_name), ModelCounts())
        setattr(counts, state, getattr(counts, state) + 1)

    def _delete(self, model: type[models.Model], leftovers: Iterable[models.Model]) -> None:
        counts = self.counts.setdefault(str(model._meta.verbose_name), ModelCounts())
        pks = [obj.pk for obj in leftovers]
        if pks:
            model.objects.filter(pk__in=pks).delete()
            counts.deleted += len(pks)

    def _set_m2m(self, obj: models.Model, name: str, codes: list[str], current: set[str] | None) -> bool:
        if current is not None and current == set(codes):
            return False
        getattr(obj, name).set(codes)
        return current is not None

    def run(self) -> LoadResult:
        plan = self.plan
        self._organization_types()
        campaign = self._campaign()

        jas = {ja.slug: ja for ja in campaign.joint_actions.prefetch_related("participant_types")}
        in_campaign = {"joint_action__campaign": campaign}
        key_tasks = {(o.joint_action_id, o.slug): o for o in KeyTask.objects.filter(**in_campaign)}
        brands = {(o.joint_action_id, o.slug): o for o in Brand.objects.filter(**in_campaign)}
        targets = {(o.joint_action_id, o.slug): o for o in Target.objects.filter(**in_campaign)}
        contacts = {(o.joint_action_id, o.order): o for o in Contact.objects.filter(**in_campaign)}
        deadlines = {o.slug: o for o in campaign.deadlines.all()}
        calls = {o.slug: o for o in campaign.calls.prefetch_related("eligible_types")}

        self._free_numbers(jas)
        ja_rows: dict[str, JointAction] = {}
        brand_rows: dict[tuple[int, str], Brand] = {}
        for spec in plan.joint_actions:
            window = spec.window
            values = {
                "campaign_id": campaign.pk,
                "slug": spec.slug,
                "number": spec.number,
                "name": spec.name,
                "name_en": spec.name_en,
                "theme": spec.theme,
                "summary": spec.summary,
                "participants": spec.participants,
                "managing_unit": spec.managing_unit,
                "window_start": window.start if window else plan.campaign.starts,
                "window_end": window.end if window else plan.campaign.ends,
                "window_label": window.label if window else "",
                "plan_ref": spec.plan_ref,
                "key_cities_rule": spec.key_cities.model_dump(exclude={"codes"}) if spec.key_cities else {},
            }
            current = {t.code for t in jas[spec.slug].participant_types.all()} if spec.slug in jas else None
            ja, state = self._sync(JointAction, jas, spec.slug, values)
            if self._set_m2m(ja, "participant_types", spec.participant_types, current) and state == UNCHANGED:
                self._save(ja, [])  # only the types changed: still an update of this joint action
                state = UPDATED
            self._count(JointAction, state)
            ja_rows[spec.slug] = ja
            if spec.key_cities and spec.key_cities.codes:
                _add_yaml_key_cities(ja, spec.key_cities.codes)

            task_rows = {}
            for task in spec.key_tasks:
                values = {
                    "joint_action_id": ja.pk,
                    "slug": task.slug,
                    "number": task.number,
                    "name": task.name,
                    "description": task.description,
                    "plan_ref": task.plan_ref,
                }
                row, state = self._sync(KeyTask, key_tasks, (ja.pk, task.slug), values)
                self._count(KeyTask, state)
                task_rows[task.slug] = row

            states = {}
            for order, brand in enumerate(spec.brands, start=1):
                values = {
                    "joint_action_id": ja.pk,
                    "slug": brand.slug,
                    "order": order,
                    "name": brand.name,
                    "aliases": list(brand.aliases),
                    "keywords": list(brand.keywords),
                    "description": brand.description,
                    "themes": [t.model_dump() for t in brand.themes],
                    "key_task_id": task_rows[brand.key_task].pk if brand.key_task else None,
                    "plan_ref": brand.plan_ref,
                }
                row, states[brand.slug] = self._sync(Brand, brands, (ja.pk, brand.slug), values)
                brand_rows[(ja.pk, brand.slug)] = row
            # Parents point at rows that may have been created just now, hence a second pass.
            for brand in spec.brands:
                row = brand_rows[(ja.pk, brand.slug)]
                parent_id = brand_rows[(ja.pk, brand.parent)].pk if brand.parent else None
                if row.parent_id != parent_id:
                    row.parent_id = parent_id
                    self._save(row, ["parent_id"])
                    if states[brand.slug] == UNCHANGED:
                        states[brand.slug] = UPDATED
                self._count(Brand, states[brand.slug])

            for order, (_path, target, brand) in enumerate(spec.all_targets(), start=1):
                values = {
                    "joint_action_id": ja.pk,
                    "brand_id": brand_rows[(ja.pk, brand.slug)].pk if brand else None,
                    "slug": target.slug,
                    "order": order,
                    "label": target.label,
                    "value": target.value,
                    "value_max": target.value_max,
                    "unit": target.unit,
                    "approx": target.approx,
                    "plan_text": target.plan_text,
                    "measure": target.measure.model_dump(mode="json") if target.measure else None,
                }
                _, state = self._sync(Target, targets, (ja.pk, target.slug), values)
                self._count(Target, state)

            for order, contact in enumerate(spec.contacts, start=1):
                values = {
                    "joint_action_id": ja.pk,
                    "order": order,
                    "unit": contact.unit,
                    "topic": contact.topic,
                    "person": contact.person,
                    "phone": contact.phone,
                    "email": contact.email,
                }
                _, state = self._sync(Contact, contacts, (ja.pk, order), values)
                self._count(Contact, state)

        for spec in plan.deadlines:
            values = {
                "campaign_id": campaign.pk,
                "joint_action_id": ja_rows[spec.joint_action].pk if spec.joint_action else None,
                "slug": spec.slug,
                "kind": spec.kind,
                "title": spec.title,
                "at": spec.instant,
                "description": spec.description,
                "plan_ref": spec.plan_ref,
            }
            _, state = self._sync(Deadline, deadlines, spec.slug, values)
            self._count(Deadline, state)

        for spec in plan.calls:
            ja = ja_rows[spec.joint_action]
            values = {
                "campaign_id": campaign.pk,
                "joint_action_id": ja.pk,
                "brand_id": brand_rows[(ja.pk, spec.brand)].pk if spec.brand else None,
                "slug": spec.slug,
                "kind": spec.kind,
                "title": spec.title,
                "description": spec.description,
                "opens_at": spec.opens_at,
                "closes_at": spec.closes_at,
                "themes": [t.model_dump() for t in spec.themes],
                "spec": {
                    **spec.spec.model_dump(exclude_unset=True),
                    **({"selects": spec.selects} if spec.selects else {}),
                },
                "criteria": [c.model_dump(exclude_none=True) for c in spec.criteria],
                "publication": spec.publication,
                "plan_ref": spec.plan_ref,
            }
            current = {t.code for t in calls[spec.slug].eligible_types.all()} if spec.slug in calls else None
            call, state = self._sync(Call, calls, spec.slug, values)
            if self._set_m2m(call, "eligible_types", spec.eligible_types, current) and state == UNCHANGED:
                self._save(call, [])
                state = UPDATED
            self._count(Call, state)

        # Children first, so a joint action's cascade never removes rows uncounted.
        self._delete(Call, calls.values())
        self._delete(Deadline, deadlines.values())
        self._delete(Target, targets.values())
        self._delete(Brand, brands.values())
        self._delete(Contact, contacts.values())
        self._delete(KeyTask, key_tasks.values())
        self._delete(JointAction, jas.values())
        return self._result(campaign)

    def _organization_types(self) -> None:
        existing = {t.code: t for t in OrganizationType.objects.all()}
        for order, (code, name) in enumerate(self.plan.organization_types.items(), start=1):
            _, state = self._sync(
                OrganizationType, existing, code, {"code": code, "name": name, "order": order}
            )
            self._count(OrganizationType, state)

    def _campaign(self) -> Campaign:
        spec = self.plan.campaign
        values = {
            "slug": spec.slug,
            "year": spec.year,
            "name": spec.name,
            "subtitle": spec.subtitle,
            "theme": spec.theme,
            "starts": spec.starts,
            "ends": spec.ends,
            "platform_url": spec.platform_url,
            "platforms": [p.model_dump() for p in spec.platforms],
            "plan_title": spec.plan_title,
            "summary": spec.summary,
            "general_requirements": [r.model_dump() for r in self.plan.general_requirements],
            "review": self.plan.review.model_dump(),
            "source_file": self.source_file,
            "source_sha256": self.sha256,
        }
        # Locks the row on PostgreSQL, so two loads of one campaign run one after the other.
        existing = {c.slug: c for c in Campaign.objects.select_for_update().filter(slug=spec.slug)}
        campaign, state = self._sync(Campaign, existing, spec.slug, values)
        self._count(Campaign, state)
        return campaign

    def _free_numbers(self, jas: dict[str, JointAction]) -> None:
        """Move joint actions whose number changes out of the way first: numbers are unique per
        campaign, and two joint actions that swap numbers would collide mid-load.
        """
        wanted = {spec.slug: spec.number for spec in self.plan.joint_actions}
        moving = [
            ja for ja in jas.values() if wanted.get(ja.slug, ja.number) != ja.number or ja.slug not in wanted
        ]
        for offset, ja in enumerate(moving):
            # Above any plan number (the schema allows 1–999); the row is saved again below.
            ja.number = 32767 - offset
            JointAction.objects.filter(pk=ja.pk).update(number=ja.number)

    def _result(self, campaign: Campaign) -> LoadResult:
        result = LoadResult(campaign=campaign, by_model=self.counts)
        for counts in self.counts.values():
            result.created += counts.created
            result.updated += counts.updated
            result.deleted += counts.deleted
            result.unchanged += counts.unchanged
        return result


# --- Reading ---------------------------------------------------------------------------------


class DeadlineState(models.TextChoices):
    """Where a deadline stands: 未开始 (an ``opens`` not yet reached), 进行中, 已截止 (a ``due``
    passed), 已结束 (what an ``opens`` started has ended with its campaign)."""

    UPCOMING = "upcoming", _("未开始")
    OPEN = "open", _("进行中")
    PASSED = "passed", _("已截止")
    CLOSED = "closed", _("已结束")


def current_campaign(at: datetime | None = None) -> Campaign | None:
    """The campaign to show at ``at`` (default: the campaign clock's now), or ``None`` if none.

    The running campaign (its dates contain ``at``'s Beijing date); else the most recent one
    that has started; else the nearest upcoming one.
    """
    day = (at or clock.now()).astimezone(BEIJING).date()
    # One query for all three cases (was up to two round trips on every page and API read between
    # campaigns): a campaign is a year's plan, so the table holds a row per year.
    campaigns = list(Campaign.objects.order_by("-starts", "-pk"))
    started = [c for c in campaigns if c.starts <= day]
    running = next((c for c in started if c.ends >= day), None)
    if running is not None:
        return running
    if started:
        return started[0]
    upcoming = [c for c in campaigns if c.starts > day]
    return min(upcoming, key=lambda c: (c.starts, c.pk)) if upcoming else None


def campaign_phase(campaign: Campaign, at: datetime | None = None) -> Phase:
    """The campaign's phase at ``at``: its whole Beijing-time days ``starts``..``ends``."""
    return clock.date_phase(campaign.starts, campaign.ends, at)


def deadline_state(deadline: Deadline, at: datetime | None = None) -> DeadlineState:
    """State of ``deadline`` at ``at`` (default: the campaign clock's now).

    Kind ``due``: OPEN until ``deadline.at`` inclusive, then PASSED. Kind ``opens``: UPCOMING
    before ``deadline.at``, OPEN until the end of the campaign's last day, then CLOSED (what
    opened on Aug 10 — publishing, uploads — does not stay open in the archive). A date-only plan
    deadline was stored at the end of that day ("8月20日前") or its start ("8月10日起"), Beijing
    time (plan §八). Reads ``deadline.campaign``: select it with the deadline.
    """
    at = at or clock.now()
    if deadline.kind == DeadlineKind.OPENS:
        if at < deadline.at:
            return DeadlineState.UPCOMING
        return DeadlineState.OPEN if at <= clock.end_of_day(deadline.campaign.ends) else DeadlineState.CLOSED
    return DeadlineState.OPEN if at <= deadline.at else DeadlineState.PASSED


def call_phase(call: Call, at: datetime | None = None) -> Phase:
    """Where a call for works (征集) stands at ``at``: open from ``opens_at`` to ``closes_at``, or
    to the end of the campaign's last day (Beijing time) when ``closes_at`` is empty. Reads
    ``call.campaign``: select it with the call.
    """
    return clock.phase_of(call.opens_at, call.closes_at or clock.end_of_day(call.campaign.ends), at)


def key_deadlines(campaign: Campaign, at: datetime | None = None) -> list[tuple[Deadline, DeadlineState]]:
    """All of a campaign's deadlines, campaign-wide and per joint action, in time order, each
    with its :class:`DeadlineState` at ``at``. Campaign-wide ones come first at the same instant.
    """
    at = at or clock.now()
    deadlines = campaign.deadlines.select_related("joint_action", "campaign").order_by(
        "at", F("joint_action__number").asc(nulls_first=True), "slug"
    )
    return [(d, deadline_state(d, at)) for d in deadlines]


def joint_action_window_phase(joint_action: JointAction, at: datetime | None = None) -> Phase:
    """The phase of a joint action's activity window (whole Beijing-time days) at ``at``."""
    return clock.date_phase(joint_action.window_start, joint_action.window_end, at)


def zone(campaign: Campaign, slug: str) -> JointAction:
    """The joint action ``slug`` of ``campaign`` with everything its zone page shows prefetched:
    participant types, key tasks, brands (with key task, parent, targets and children), all its
    targets, contacts, deadlines (in time order) and calls (with brand and eligible types).

    A constant number of queries, however many rows. Raises ``JointAction.DoesNotExist``.
    """
    brands = Brand.objects.select_related("key_task", "parent").prefetch_related(
        Prefetch("targets", queryset=Target.objects.order_by("order")),
        Prefetch("children", queryset=Brand.objects.order_by("order")),
    )
    return (
        JointAction.objects.select_related("campaign")
        .prefetch_related(
            "participant_types",
            Prefetch("key_tasks", queryset=KeyTask.objects.order_by("number")),
            Prefetch("brands", queryset=brands.order_by("order")),
            Prefetch("targets", queryset=Target.objects.order_by("order")),
            Prefetch("contacts", queryset=Contact.objects.order_by("order")),
            Prefetch(
                "deadlines", queryset=Deadline.objects.select_related("campaign").order_by("at", "slug")
            ),
            Prefetch(
                "calls",
                queryset=Call.objects.select_related("brand", "campaign").prefetch_related("eligible_types"),
            ),
        )
        .get(campaign=campaign, slug=slug)
    )
