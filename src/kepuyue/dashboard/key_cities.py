"""重点城市 (plan 七(四)1 “将在全国范围内选取 10~15 个重点城市”): who may choose a joint action's key
cities, and the figures of its staff page — for every city with a published activity of the joint action,
its activities and book signings (图书签售), key cities first. The list itself is written by
``kepuyue.campaigns.services.add_key_city`` / ``remove_key_city``."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from kepuyue.activities.models import Activity, Status
from kepuyue.campaigns.models import JointAction, KeyCity
from kepuyue.regions.models import Level, Region
from kepuyue.roles import services as roles


def choosable_joint_actions(user, campaign) -> list[JointAction]:
    """The campaign's joint actions with key cities that ``user`` may choose them for: all for CAST
    (中国科协管理员), the managed ones for a joint action's manager (e.g. 中国科普作家协会); else none."""
    actions = JointAction.objects.filter(campaign=campaign).exclude(key_cities_rule={}).order_by("number")
    if roles.is_cast_admin(user):
        return list(actions)
    managed = roles.managed_joint_action_ids(user)
    return [ja for ja in actions if ja.pk in managed]


@dataclass(frozen=True)
class CityRow:
    code: str
    name: str
    key: bool
    activities: int
    book_signings: int


def city_rows(joint_action: JointAction) -> list[CityRow]:
    """Key cities (with or without activities) then the other cities with activities, by count; three
    queries whatever the number of cities."""
    keys = set(KeyCity.objects.filter(joint_action=joint_action).values_list("region_id", flat=True))
    counts = {
        row["prefecture_code"]: row
        for row in Activity.objects.filter(joint_action=joint_action, status=Status.PUBLISHED)
        .exclude(prefecture_code="")
        .values("prefecture_code")
        .annotate(n=Count("id"), signings=Count("id", filter=Q(book_signing=True)))
    }
    names = dict(Region.objects.filter(code__in=keys | set(counts)).values_list("code", "name"))
    rows = [
        CityRow(
            code,
            names.get(code, code),
            code in keys,
            counts.get(code, {}).get("n", 0),
            counts.get(code, {}).get("signings", 0),
        )
        for code in keys | set(counts)
    ]
    return sorted(rows, key=lambda r: (not r.key, -r.activities, r.code))


def prefectures():
    """Every prefecture-level city, for the chooser (code, name, province code)."""
    return Region.objects.filter(level=Level.PREFECTURE).order_by("code").values_list("code", "name")
