"""The whole campaign file and the rules across its parts (unique slugs, references, cycles)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import (
    Field,
    model_validator,
)

from .call_specs import CallSpec, DeadlineSpec
from .errors import loc_to_path
from .fields import Slug, _problems, _Spec, _text
from .measures import ALL
from .plan import CampaignSpec, GeneralRequirementSpec, JointActionSpec, ReviewSpec

# --- The file --------------------------------------------------------------------------------


class CampaignFile(_Spec):
    """The whole campaign file. ``organization_types`` maps code → name, in display order."""

    campaign: CampaignSpec
    organization_types: dict[Slug, _text(64)] = Field(min_length=1)
    joint_actions: list[JointActionSpec] = Field(min_length=1)
    general_requirements: list[GeneralRequirementSpec] = []
    deadlines: list[DeadlineSpec] = []
    calls: list[CallSpec] = []
    review: ReviewSpec = ReviewSpec()

    @model_validator(mode="after")
    def _references(self) -> CampaignFile:
        problems = list(self._reference_problems())
        if problems:
            raise _problems(problems)
        return self

    def _reference_problems(self) -> Iterable[tuple[tuple, str]]:
        names: dict[str, str] = {}
        for code, name in self.organization_types.items():
            if name in names:
                yield ("organization_types", code), f"名称“{name}”与 {names[name]} 重复 (duplicate name)"
            names.setdefault(name, code)
        types = set(self.organization_types)

        def unknown_type(code: str) -> str:
            return f"未声明的单位类型“{code}”，请先在 organization_types 中声明 (unknown organization type)"

        yield from _duplicates(
            (("joint_actions", i, "slug"), ja.slug) for i, ja in enumerate(self.joint_actions)
        )
        yield from _duplicates(
            (("joint_actions", i, "number"), ja.number) for i, ja in enumerate(self.joint_actions)
        )
        campaign = self.campaign
        for i, ja in enumerate(self.joint_actions):
            at = ("joint_actions", i)
            for j, code in enumerate(ja.participant_types):
                if code not in types:
                    yield (*at, "participant_types", j), unknown_type(code)
            yield from _duplicates(
                ((*at, "participant_types", j), c) for j, c in enumerate(ja.participant_types)
            )
            if ja.window and (ja.window.end < campaign.starts or ja.window.start > campaign.ends):
                yield (
                    (*at, "window"),
                    f"活动时间 {ja.window.start}—{ja.window.end} 与科普月 {campaign.starts}—{campaign.ends} "
                    "没有重叠 (window outside the campaign)",
                )
            yield from _duplicates(
                ((*at, "key_tasks", k, "slug"), t.slug) for k, t in enumerate(ja.key_tasks)
            )
            yield from _duplicates(
                ((*at, "key_tasks", k, "number"), t.number) for k, t in enumerate(ja.key_tasks)
            )
            yield from _duplicates(((*at, "brands", b, "slug"), br.slug) for b, br in enumerate(ja.brands))
            yield from _duplicates(((*at, *path, "slug"), t.slug) for path, t, _ in ja.all_targets())
            yield from _measure_problems(at, ja, {j.slug for j in self.joint_actions}, types)
            task_slugs = {t.slug for t in ja.key_tasks}
            parents = {br.slug: br.parent for br in ja.brands}
            for b, brand in enumerate(ja.brands):
                if brand.key_task is not None and brand.key_task not in task_slugs:
                    yield (
                        (*at, "brands", b, "key_task"),
                        f"本联合行动没有重点任务“{brand.key_task}” (unknown key task)",
                    )
                if brand.parent is not None:
                    if brand.parent not in parents:
                        yield (
                            (*at, "brands", b, "parent"),
                            f"本联合行动没有品牌活动“{brand.parent}” (unknown parent brand)",
                        )
                    elif _in_cycle(brand.slug, parents):
                        yield (
                            (*at, "brands", b, "parent"),
                            "品牌活动的上下级关系形成了循环 (parent cycle)",
                        )

        # Units mark activities with a brand's name or an alias: each label must mean one brand.
        labels = []
        for i, ja in enumerate(self.joint_actions):
            for b, brand in enumerate(ja.brands):
                labels.append((("joint_actions", i, "brands", b, "name"), brand.name.casefold()))
                labels.extend(
                    (("joint_actions", i, "brands", b, "aliases", a), alias.casefold())
                    for a, alias in enumerate(brand.aliases)
                )
        yield from _duplicates(labels)

        ja_by_slug = {ja.slug: ja for ja in self.joint_actions}
        yield from _duplicates((("deadlines", d, "slug"), x.slug) for d, x in enumerate(self.deadlines))
        for d, deadline in enumerate(self.deadlines):
            if deadline.joint_action is not None and deadline.joint_action not in ja_by_slug:
                yield (
                    ("deadlines", d, "joint_action"),
                    f"没有联合行动“{deadline.joint_action}” (unknown joint action)",
                )
        yield from _duplicates((("calls", c, "slug"), x.slug) for c, x in enumerate(self.calls))
        for c, call in enumerate(self.calls):
            ja = ja_by_slug.get(call.joint_action)
            if ja is None:
                yield (
                    ("calls", c, "joint_action"),
                    f"没有联合行动“{call.joint_action}” (unknown joint action)",
                )
            elif call.brand is not None and call.brand not in {b.slug for b in ja.brands}:
                yield (
                    ("calls", c, "brand"),
                    f"联合行动“{ja.slug}”没有品牌活动“{call.brand}” (unknown brand)",
                )
            for e, code in enumerate(call.eligible_types):
                if code not in types:
                    yield ("calls", c, "eligible_types", e), unknown_type(code)

        review = self.review
        deadlines = {d.slug for d in self.deadlines}
        if review.recommendations_due is not None and review.recommendations_due not in deadlines:
            yield (
                ("review", "recommendations_due"),
                f"没有截止时间“{review.recommendations_due}” (unknown deadline)",
            )
        for slug in review.joint_action_quotas:
            if slug not in ja_by_slug:
                yield ("review", "joint_action_quotas", slug), f"没有联合行动“{slug}” (unknown joint action)"
        yield from _duplicates(
            (("review", "return_reasons", r), reason) for r, reason in enumerate(review.return_reasons)
        )


def _measure_problems(at: tuple, ja, joint_actions: set[str], types: set[str]) -> Iterable[tuple[tuple, str]]:
    """A measure's joint action, brand and unit types must exist (``all`` lifts the first two)."""
    brands = {b.slug for b in ja.brands}
    for path, target, _brand in ja.all_targets():
        measure = target.measure
        if measure is None:
            continue
        where = (*at, *path, "measure", "filters")
        filters = measure.filters
        if filters.joint_action not in (None, ALL) and filters.joint_action not in joint_actions:
            yield (*where, "joint_action"), f"没有联合行动“{filters.joint_action}” (unknown joint action)"
        if filters.brand not in (None, ALL) and filters.brand not in brands:
            if filters.joint_action in (None, ja.slug):
                yield (*where, "brand"), f"联合行动“{ja.slug}”没有品牌活动“{filters.brand}” (unknown brand)"
        for u, code in enumerate(filters.unit_type):
            if code not in types:
                yield (
                    (*where, "unit_type", u),
                    f"未声明的单位类型“{code}”，请先在 organization_types 中声明 (unknown organization type)",
                )


def _duplicates(items: Iterable[tuple[tuple, Any]]) -> Iterable[tuple[tuple, str]]:
    first: dict[Any, tuple] = {}
    for loc, value in items:
        if value in first:
            yield loc, f"“{value}”重复，已用于 {loc_to_path(first[value])} (duplicate)"
        else:
            first[value] = loc


def _in_cycle(slug: str, parents: dict[str, str | None]) -> bool:
    seen = {slug}
    current = parents.get(slug)
    while current is not None and current in parents:
        if current in seen:
            return True
        seen.add(current)
        current = parents[current]
    return False
