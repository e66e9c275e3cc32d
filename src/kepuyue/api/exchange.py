"""Pulling another platform's change feed (平台间交换, issue 16 §4; plan 八(一) names two publishing
platforms): ``manage.py pull_exchange <base URL> --organization <id>``.

Each ``upsert`` of the remote feed becomes a local published activity of ``organization`` through
the same services as the pages (``create_activity``, ``transition``, ``update_activity``): the same
rules, so a remote activity that breaks one (an unknown joint action, dates outside its window) is
reported, not imported. Each ``delete`` withdraws the local copy. Provenance is kept in
:class:`~.models.ExchangeLink` (source, remote id and address, digest of what was applied) and the
copy's ``external_id`` (``x<source>-<remote id>``). Pulling again applies nothing twice: the cursor
is saved after every page, and an item whose digest did not change is ``unchanged``. A copy changed
locally since it was synced is a **conflict**: the remote change is reported and not applied.
The remote contact phone is masked in its public feed and is not copied.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kepuyue.activities import services
from kepuyue.activities.models import Status
from kepuyue.campaigns.models import Brand, Campaign, JointAction

from .models import ExchangeLink, ExchangeSource

TIMEOUT_SECONDS = 30
PAGE_LIMIT = 100
MAX_RESPONSE_BYTES = 20 * 1024 * 1024
USER_AGENT = "Kepuyue-Exchange/1"


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"新增 {self.created}，更新 {self.updated}，未变 {self.unchanged}，撤回 {self.withdrawn}，"
            f"冲突或错误 {len(self.problems)}"
        )


def fetch(url: str) -> dict:
    # http(s) only: pull() refuses any other scheme before building the URL.
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        return json.loads(response.read(MAX_RESPONSE_BYTES))


def digest(remote: dict) -> str:
    kept = {k: v for k, v in remote.items() if k not in ("updated", "url", "id", "status", "contact_phone")}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def to_data(remote: dict, *, source: ExchangeSource) -> dict:
    """The services' data from a remote activity (its slugs looked up locally)."""
    campaign = Campaign.objects.filter(slug=remote.get("campaign") or "").first()
    joint_action = brand = None
    if campaign is not None and remote.get("joint_action"):
        joint_action = JointAction.objects.filter(
            campaign=campaign, slug=remote["joint_action"]["slug"]
        ).first()
    if joint_action is not None and remote.get("brand"):
        brand = Brand.objects.filter(joint_action=joint_action, slug=remote["brand"]["slug"]).first()
    data = {
        "campaign": campaign,
        "joint_action": joint_action,
        "brand": brand,
        "key_task": None,
        "starts_at": _moment(remote.get("starts_at")),
        "ends_at": _moment(remote.get("ends_at")),
        "form": remote.get("form") or "offline",
        "region_code": remote.get("region_code") or "",
        "audiences": sum(set(remote.get("audiences") or [])),
        "topics": sum(set(remote.get("topics") or [])),
        "special_areas": sum(set(remote.get("special_areas") or [])),
        "expected_participants": remote.get("expected_participants"),
        "external_id": f"x{source.pk}-{remote['id']}",
    }
    for name in ("title", "summary", "description", "co_organizers", "online_url", "venue", "contact_name"):
        data[name] = remote.get(name) or ""
    data["contact_phone"] = ""
    if remote.get("joint_action") and joint_action is None:
        data["_missing"] = ("joint_action", f"本平台没有联合行动“{remote['joint_action'].get('slug')}”")
    return data


def _moment(value):
    from django.utils.dateparse import parse_datetime

    try:
        return parse_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def _problem(report: Report, remote_id, message: str) -> None:
    report.problems.append(f"来源活动 {remote_id}：{message}")


def apply_upsert(source: ExchangeSource, remote: dict, report: Report) -> None:
    remote_id = int(remote["id"])
    link = ExchangeLink.objects.filter(source=source, remote_id=remote_id).select_related("activity").first()
    fingerprint = digest(remote)
    if link is not None and link.activity is not None and link.digest == fingerprint:
        report.unchanged += 1
        return
    data = to_data(remote, source=source)
    missing = data.pop("_missing", None)
    if missing:
        _problem(report, remote_id, missing[1])
        return
    activity = link.activity if link is not None else None
    if activity is not None and activity.updated > link.synced_at:
        _problem(
            report, remote_id, f"本地副本（活动 {activity.pk}）在上次同步后被修改，来源的变更未应用（冲突）"
        )
        return
    try:
        with transaction.atomic():
            if activity is None:
                activity = services.create_activity(source.organization, data)
                services.transition(activity, Status.SUBMITTED)
                services.transition(activity, Status.PUBLISHED, reason=f"从 {source.base_url} 同步")
                report.created += 1
            elif activity.status == Status.WITHDRAWN:
                _problem(report, remote_id, f"本地副本（活动 {activity.pk}）已撤回，不能重新发布")
                return
            else:
                services.update_activity(activity, data, from_source=True)
                report.updated += 1
            activity.refresh_from_db(fields=["updated"])
            ExchangeLink.objects.update_or_create(
                source=source,
                remote_id=remote_id,
                defaults={
                    "activity": activity,
                    "digest": fingerprint,
                    "remote_url": source.base_url.rstrip("/") + (remote.get("url") or ""),
                    "synced_at": activity.updated,
                },
            )
    except ValidationError as exc:
        messages = (
            [m for ms in exc.message_dict.values() for m in ms]
            if hasattr(exc, "error_dict")
            else exc.messages
        )
        _problem(report, remote_id, "；".join(messages))


def apply_delete(source: ExchangeSource, remote_id: int, report: Report) -> None:
    link = ExchangeLink.objects.filter(source=source, remote_id=remote_id).select_related("activity").first()
    if link is None or link.activity is None or link.activity.status != Status.PUBLISHED:
        report.unchanged += 1
        return
    services.transition(link.activity, Status.WITHDRAWN, reason=f"来源平台 {source.base_url} 已撤回或删除")
    ExchangeLink.objects.filter(pk=link.pk).update(digest="", synced_at=timezone.now())
    report.withdrawn += 1


def pull(base_url: str, organization, *, max_pages: int = 1000) -> Report:
    """Read ``base_url``'s change feed from where the last pull stopped and apply it."""
    base_url = base_url.rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ValueError("来源平台地址须以 http:// 或 https:// 开头")
    source, _created = ExchangeSource.objects.get_or_create(
        base_url=base_url, defaults={"organization": organization}
    )
    if source.organization_id != organization.pk:
        raise ValueError(f"来源 {base_url} 已绑定本地单位 {source.organization}，不能改为 {organization}")
    report = Report()
    resync: set[int] | None = None  # remote ids seen since a resync from 0 began
    for _page in range(max_pages):
        url = f"{base_url}/api/v1/changes?" + urlencode({"since": source.cursor, "limit": PAGE_LIMIT})
        try:
            page = fetch(url)
        except urllib.error.HTTPError as exc:
            if exc.code != 410 or resync is not None:
                raise
            # Our cursor is older than the source's retained window (decision 0032): deletions may
            # have been purged. Read the whole feed again from 0 and withdraw what it no longer has.
            report.problems.append(f"游标 {source.cursor} 已过期（410），已从头重新同步")
            resync, source.cursor = set(), "0"
            continue
        for item in page.get("items", []):
            if item.get("action") == "upsert" and isinstance(item.get("activity"), dict):
                apply_upsert(source, item["activity"], report)
                if resync is not None:
                    resync.add(int(item["activity_id"]))
            elif item.get("action") == "delete":
                apply_delete(source, int(item["activity_id"]), report)
        source.cursor = str(page.get("next") or source.cursor)[:40]
        source.pulled_at = timezone.now()
        source.save(update_fields=["cursor", "pulled_at", "updated"])
        if not page.get("has_more"):
            if resync is not None:
                gone = ExchangeLink.objects.filter(source=source, activity__status=Status.PUBLISHED).exclude(
                    remote_id__in=resync
                )
                for remote_id in gone.values_list("remote_id", flat=True):
                    apply_delete(source, remote_id, report)
            break
    return report
