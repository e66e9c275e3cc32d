"""Token reads and writes of ``/api/v1/org/`` (单位与管理范围): a token's own activities, create,
update, submit, withdraw, bulk upsert by external id, and the registrations of its activities.

Every write goes through the same service functions as the unit's pages
(``activities.services.create_activity`` / ``update_activity`` / ``transition``), so it accepts and
refuses the same data with the same Chinese messages, field by field (422 ``errors``). The token
acts as its account: what the account's pages would not show is a 404 here too.
"""

import hashlib
from datetime import datetime, timedelta

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from ninja import Field as NinjaField
from ninja import Header, Query, Router, Schema
from ninja import Status as Reply

from kepuyue.activities import services as activity_services
from kepuyue.activities.importing import default_campaign
from kepuyue.activities.models import Activity, Audience, SpecialArea, Status, Topic
from kepuyue.activities.rules import visible_activities
from kepuyue.campaigns.models import Brand, Campaign, JointAction, KeyTask
from kepuyue.common.text import strip_controls
from kepuyue.roles.rules import check

from .core import COMMON_ERRORS, error_body, token_auth
from .models import IdempotentRequest, TokenKind
from .read import PARAM_MAX, ActivityQuery, activity_page, detail, refuse
from .schemas import (
    ActivityDetail,
    ActivityIn,
    ActivityPage,
    BulkIn,
    BulkOut,
    ErrorOut,
    ReasonIn,
    RegistrationPage,
)

router = Router(tags=["单位与管理范围（需令牌）"], auth=token_auth)

ERRORS = {**dict.fromkeys(COMMON_ERRORS, ErrorOut), 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
WRITE_ERRORS = {**ERRORS, 409: ErrorOut}
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 128
# A first request that has not answered after this many seconds is taken as lost (its process died).
IDEMPOTENCY_STALE_SECONDS = 120
REGISTRATION_PAGE = 100
REGISTRATION_CURSOR_SALT = "kepuyue.api.registrations"


# --- scope ----------------------------------------------------------------------------------------


def visible(request):
    """The activities the token may read: a unit token its unit's (every status), a scope token
    what its account sees on the staff pages (``activities.rules.visible_activities``)."""
    token = request.auth
    if token.kind == TokenKind.UNIT:
        return Activity.objects.filter(organizer_id=token.organization_id)
    return visible_activities(request.user)


def own_activity(request, pk: int) -> Activity:
    """The token's activity ``pk``, or 404 (another unit's activity is never found)."""
    if not 0 < pk < 2**63:
        raise Http404
    found = (
        visible(request)
        .select_related("campaign", "joint_action", "brand", "key_task", "organizer", "region")
        .filter(pk=pk)
        .first()
    )
    if found is None or not check(request.user, "activities.view_activity", found):
        raise Http404
    return found


def unit_of(request):
    token = request.auth
    if token.kind != TokenKind.UNIT or token.organization is None:
        raise PermissionDenied(_("管理范围令牌不能发布或修改活动，请使用单位令牌"))
    return token.organization


# --- idempotency ----------------------------------------------------------------------------------


def idempotent(request, operation, key: str | None) -> Reply:
    """:func:`_idempotent` as ninja's ``Status`` reply."""
    return Reply(*_idempotent(request, operation, key))


IdempotencyKey = Header(
    None,
    alias=IDEMPOTENCY_HEADER,
    description="幂等键（1–128 个 ASCII 字符）：同一键重试时返回首次结果，不会重复写入",
)


def _idempotent(request, operation, key: str | None):
    """Run ``operation`` (→ ``(status, body)``) once per ``Idempotency-Key`` of this token.

    The first request with a key stores its answer; the same key with the same method, path and
    body gets that answer again (header ``Idempotent-Replayed: true``) and writes nothing; with
    anything else a 422. While the first is still running, a second gets 409. Without the header
    the operation simply runs. Refusals (4xx) are stored like successes: a retry is refused alike.
    """
    if key is None:
        return _run(operation)
    key = strip_controls(key, multiline=False).strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isascii():
        return 422, error_body(
            _("Idempotency-Key 须为 1–%(n)d 个 ASCII 字符") % {"n": IDEMPOTENCY_KEY_MAX},
            "validation",
            {IDEMPOTENCY_HEADER: [_("格式不正确")]},
        )
    fingerprint = hashlib.sha256(
        b"\n".join([request.method.encode(), request.path.encode(), request.body])
    ).hexdigest()
    token = request.auth
    try:
        with transaction.atomic():
            record = IdempotentRequest.objects.create(token=token, key=key, fingerprint=fingerprint)
    except IntegrityError:
        record = IdempotentRequest.objects.get(token=token, key=key)
        if record.fingerprint != fingerprint:
            return 422, error_body(
                _("这个 Idempotency-Key 已用于另一个请求（请求内容不同），请换一个新的键"),
                "idempotency_mismatch",
                {IDEMPOTENCY_HEADER: [_("已用于内容不同的请求")]},
            )
        if record.status:
            request._idempotent_replay = True
            return record.status, record.body
        age = (timezone.now() - record.created).total_seconds()
        if age < IDEMPOTENCY_STALE_SECONDS or not IdempotentRequest.objects.filter(
            pk=record.pk, status=0, created=record.created
        ).update(created=timezone.now()):
            return 409, error_body(_("同一 Idempotency-Key 的请求正在处理，请稍后重试"), "in_progress")
    try:
        status, body = _run(operation)
    except Exception:
        IdempotentRequest.objects.filter(pk=record.pk).delete()
        raise
    if status >= 500:
        IdempotentRequest.objects.filter(pk=record.pk).delete()
    else:
        IdempotentRequest.objects.filter(pk=record.pk).update(status=status, body=_jsonable(body))
    return status, body


def purge_idempotency_keys(now: datetime | None = None) -> int:
    """Delete the stored requests of ``Idempotency-Key`` older than ``API_IDEMPOTENCY_RETENTION_HOURS``
    (72): a client retries within minutes, not days. A key reused after that runs as a new request.
    Returns how many were deleted. Run hourly by Celery beat or ``manage.py purge_idempotency_keys``."""
    from django.conf import settings

    cutoff = (now or timezone.now()) - timedelta(hours=settings.API_IDEMPOTENCY_RETENTION_HOURS)
    deleted = 0
    while True:  # in slices: a long table is never locked at once
        ids = list(IdempotentRequest.objects.filter(created__lt=cutoff).values_list("pk", flat=True)[:5000])
        if not ids:
            return deleted
        deleted += IdempotentRequest.objects.filter(pk__in=ids).delete()[0]


def _jsonable(body):
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False))


def _run(operation):
    """``operation()``, its refusals turned into ``(status, error body)`` so they can be stored."""
    try:
        return operation()
    except DjangoValidationError as exc:
        if hasattr(exc, "error_dict"):
            return 422, error_body(_("数据未通过校验"), "validation", exc.message_dict)
        return 409, error_body("；".join(exc.messages), "conflict")
    except PermissionDenied as exc:
        return 403, error_body(str(exc) or _("没有权限"), "forbidden")
    except Http404:
        return 404, error_body(_("未找到，或无权查看"), "not_found")


def replayed(request, response: HttpResponse) -> None:
    if getattr(request, "_idempotent_replay", False):
        response["Idempotent-Replayed"] = "true"


# --- input → the services' data -------------------------------------------------------------------


def _bits(values, enum, field: str, label: str, errors: list) -> int:
    total = 0
    for value in values:
        text = str(value).strip()
        member = next(
            (m for m in enum if text == str(m.value) or text == m.label or text.lower() == m.name.lower()),
            None,
        )
        if member is None:
            errors.append((field, _("%(label)s“%(value)s”无效") % {"label": label, "value": text[:40]}))
        else:
            total |= member.value
    return total


def _moment(value: str | None, field: str, label: str, errors: list) -> datetime | None:
    if value is None or not str(value).strip():
        return None
    text = strip_controls(str(value), multiline=False).strip()[:64]
    try:
        moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None:
        errors.append((field, _("%(label)s：格式不正确，应如 2025-09-15T09:00:00+08:00") % {"label": label}))
    return moment


class Lookups:
    """The plan's rows an input names (campaign, joint action, brand, key task) and regions, each
    read once per request: a bulk request of 500 items names the same few (decision 0032)."""

    def __init__(self):
        self._rows: dict = {}

    def get(self, key, load):
        if key not in self._rows:
            self._rows[key] = load()
        return self._rows[key]

    def campaign(self, slug: str):
        return self.get(("campaign", slug), lambda: Campaign.objects.filter(slug=slug).first())

    def default_campaign(self):
        return self.get(("campaign", None), default_campaign)

    def joint_action(self, campaign, slug: str):
        return self.get(
            ("joint_action", campaign.pk, slug),
            lambda: JointAction.objects.select_related("campaign")
            .filter(campaign=campaign, slug=slug)
            .first(),
        )

    def marks(self, model, campaign, slug: str) -> list:
        return self.get(
            (model.__name__, campaign.pk, slug),
            lambda: list(
                model.objects.filter(joint_action__campaign=campaign, slug=slug).select_related(
                    "joint_action"
                )
            ),
        )

    def regions(self, codes) -> None:
        """Read the regions of ``codes`` in one query (an unknown code stays unknown: the service
        names it in its message)."""
        from kepuyue.regions.models import Region

        wanted = {c for c in codes if c and ("region", c) not in self._rows}
        if wanted:
            found = Region.objects.in_bulk(list(wanted), field_name="code")
            for code in wanted:
                self._rows[("region", code)] = found.get(code)

    def region(self, code: str):
        return self._rows.get(("region", code))


def to_data(
    payload: ActivityIn, *, campaign: Campaign | None = None, lookups: Lookups | None = None
) -> tuple[dict, list]:
    """The mapping ``create_activity`` / ``update_activity`` read, from the API's input; slugs are
    looked up in the campaign (through ``lookups``, read once per request). Returns ``(data,
    errors)`` (errors of the lookups and formats)."""
    lookups = lookups or Lookups()
    errors: list[tuple[str, str]] = []
    if payload.campaign:
        campaign = lookups.campaign(payload.campaign[:64])
        if campaign is None:
            errors.append(("campaign", _("科普月“%(slug)s”不存在") % {"slug": payload.campaign[:64]}))
    elif campaign is None:
        campaign = lookups.default_campaign()
    joint_action = brand = key_task = None
    if payload.joint_action and campaign is not None:
        joint_action = lookups.joint_action(campaign, payload.joint_action[:64])
        if joint_action is None:
            errors.append(
                (
                    "joint_action",
                    _("联合行动“%(slug)s”不属于%(campaign)s")
                    % {"slug": payload.joint_action[:64], "campaign": campaign.name},
                )
            )
    for field, model, label in (("brand", Brand, _("品牌活动")), ("key_task", KeyTask, _("重点任务"))):
        slug = getattr(payload, field)
        if not slug or campaign is None:
            continue
        rows = lookups.marks(model, campaign, slug[:64])
        found = next((r for r in rows if joint_action and r.joint_action_id == joint_action.pk), None)
        found = found or next(iter(rows), None)
        if found is None:
            errors.append((field, _("%(label)s“%(slug)s”不存在") % {"label": label, "slug": slug[:64]}))
        elif field == "brand":
            brand = found
        else:
            key_task = found
    data = {
        "campaign": campaign,
        "joint_action": joint_action,
        "brand": brand,
        "key_task": key_task,
        "starts_at": _moment(payload.starts_at, "starts_at", _("开始时间"), errors),
        "ends_at": _moment(payload.ends_at, "ends_at", _("结束时间"), errors),
        "form": payload.form,
        "region_code": payload.region_code,
        "audiences": _bits(payload.audiences, Audience, "audiences", _("面向对象"), errors),
        "topics": _bits(payload.topics, Topic, "topics", _("活动主题"), errors),
        "special_areas": _bits(payload.special_areas, SpecialArea, "special_areas", _("特殊地区"), errors),
        "expected_participants": payload.expected_participants,
        "science_workers": payload.science_workers,
    }
    region = lookups.region(str(payload.region_code or "").strip())
    if region is not None:
        data["region"] = region
    for name in activity_services.TEXT_FIELDS:
        data[name] = getattr(payload, name)
    return data, errors


def checked(payload: ActivityIn, organization, *, activity: Activity | None = None) -> dict:
    """``to_data`` plus the services' own rules; raises ``ValidationError`` (field → messages)
    with every problem at once, as the form shows them."""
    data, errors = to_data(payload, campaign=activity.campaign if activity and not payload.campaign else None)
    errors = with_rules(data, errors)
    external_id = (payload.external_id or "").strip()
    if external_id:
        others = Activity.objects.filter(organizer=organization, external_id=external_id)
        if activity is not None:
            others = others.exclude(pk=activity.pk)
        if others.exists():
            errors.append(
                ("external_id", _("外部编号“%(id)s”已用于本单位的另一项活动") % {"id": external_id[:64]})
            )
    activity_services._raise(errors)
    return data


def group(errors: list) -> dict:
    """``[(field, message), …]`` as the error body's ``{field: [messages]}``."""
    grouped: dict[str, list[str]] = {}
    for field, message in errors:
        grouped.setdefault(field, []).append(message)
    return grouped


def with_rules(data: dict, errors: list) -> list:
    """``errors`` of the input's lookups and formats plus the services' rules on ``data``, a field
    named once (a slug that was not found is not also "missing")."""
    refused = {field for field, _message in errors}
    return errors + [
        (field, message)
        for field, message in activity_services.validate_activity(data)
        if field not in refused and not (field == "campaign" and "campaign" in refused)
    ]


def _save(operation):
    try:
        with transaction.atomic():
            return operation()
    except IntegrityError:
        raise DjangoValidationError(
            _("外部编号与本单位的另一项活动重复，或数据已被他人修改，请重试")
        ) from None


# --- endpoints ------------------------------------------------------------------------------------


class OrgActivityQuery(ActivityQuery):
    """The public list's filters (:class:`~.read.ActivityQuery`) and ``status``."""

    status: str | None = NinjaField(
        None, max_length=PARAM_MAX, description="draft / submitted / returned / published / withdrawn"
    )


@router.get("/activities", response={200: ActivityPage, 304: None, **ERRORS}, summary="本单位/管理范围的活动")
def org_activities(request, query: Query[OrgActivityQuery], response: HttpResponse):
    """Every activity the token may read (a unit: its own, drafts included), with the filters of the
    public list and ``status``."""
    rows = visible(request)
    status = (query.status or "").strip()
    if status and status not in Status.values:
        raise refuse("status")
    if status:
        rows = rows.filter(status=status)
    return activity_page(request, response, queryset=rows, limit=query.limit)


@router.get(
    "/activities/{int:pk}", response={200: ActivityDetail, **ERRORS}, summary="活动详情（含完整联系电话）"
)
def org_activity(request, pk: int):
    found = own_activity(request, pk)
    return detail(found, full_phone=check(request.user, "activities.view_phone", found))


@router.post("/activities", response={201: ActivityDetail, **WRITE_ERRORS}, summary="发布活动（保存为草稿）")
def create(
    request, payload: ActivityIn, response: HttpResponse, idempotency_key: str | None = IdempotencyKey
):
    def operation():
        organization = unit_of(request)
        data = checked(payload, organization)
        activity = _save(lambda: activity_services.create_activity(organization, data, actor=request.user))
        return 201, detail(own_activity(request, activity.pk), full_phone=True)

    result = idempotent(request, operation, idempotency_key)
    replayed(request, response)
    return result


@router.put(
    "/activities/{int:pk}", response={200: ActivityDetail, **WRITE_ERRORS}, summary="修改草稿或已退回的活动"
)
def update(
    request,
    pk: int,
    payload: ActivityIn,
    response: HttpResponse,
    idempotency_key: str | None = IdempotencyKey,
):
    def operation():
        organization = unit_of(request)
        activity = own_activity(request, pk)
        if activity.organizer_id != organization.pk:
            raise Http404
        if activity.status not in activity_services.EDITABLE_STATUSES:
            return activity_services.update_activity(activity, {})  # its Chinese refusal (409)
        data = checked(payload, organization, activity=activity)
        _save(lambda: activity_services.update_activity(activity, data, actor=request.user))
        return 200, detail(own_activity(request, pk), full_phone=True)

    result = idempotent(request, operation, idempotency_key)
    replayed(request, response)
    return result


def _move(request, pk: int, to: str, reason: str = ""):
    organization = unit_of(request)
    activity = own_activity(request, pk)
    if activity.organizer_id != organization.pk:
        raise Http404
    if to == Status.WITHDRAWN and not check(request.user, "activities.withdraw_activity", activity):
        raise DjangoValidationError(_("只有已发布的活动可以撤回"))
    activity_services.transition(activity, to, actor=request.user, reason=reason)
    return 200, detail(own_activity(request, pk), full_phone=True)


@router.post(
    "/activities/{int:pk}/submit", response={200: ActivityDetail, **WRITE_ERRORS}, summary="提交审核"
)
def submit(request, pk: int, response: HttpResponse, idempotency_key: str | None = IdempotencyKey):
    result = idempotent(request, lambda: _move(request, pk, Status.SUBMITTED), idempotency_key)
    replayed(request, response)
    return result


@router.post(
    "/activities/{int:pk}/withdraw",
    response={200: ActivityDetail, **WRITE_ERRORS},
    summary="撤回已发布的活动",
)
def withdraw(
    request, pk: int, payload: ReasonIn, response: HttpResponse, idempotency_key: str | None = IdempotencyKey
):
    result = idempotent(
        request, lambda: _move(request, pk, Status.WITHDRAWN, payload.reason), idempotency_key
    )
    replayed(request, response)
    return result


def _unchanged(activity: Activity, data: dict) -> bool:
    """Whether saving ``data`` would change nothing the unit gave (a re-sent batch)."""
    texts, _errors = activity_services.clean_texts(data)
    if any(getattr(activity, name) != value for name, value in texts.items()):
        return False
    region_code = str(data.get("region_code") or "").strip() or None
    return (
        activity.joint_action_id == getattr(data["joint_action"], "pk", None)
        and activity.brand_id == getattr(data["brand"], "pk", None)
        and (data["key_task"] is None or activity.key_task_id == data["key_task"].pk)
        and activity.campaign_id == getattr(data["campaign"], "pk", None)
        and activity.starts_at == data["starts_at"]
        and activity.ends_at == data["ends_at"]
        and activity.form == (data.get("form") or "offline")
        and activity.region_id == region_code
        and all(getattr(activity, n) == data[n] for n in ("audiences", "topics", "special_areas"))
        and all(getattr(activity, n) == data[n] for n in ("expected_participants", "science_workers"))
    )


BULK_MAX_ITEMS = BulkIn.model_fields["items"].metadata[-1].max_length  # 500, the documented cap


@router.post("/activities/bulk", response={200: BulkOut, **WRITE_ERRORS}, summary="按外部编号批量新增或更新")
def bulk(request, payload: BulkIn, response: HttpResponse, idempotency_key: str | None = IdempotencyKey):
    """Upsert up to 500 activities by the unit's own ``external_id``: a new id creates a draft, a
    known one updates it (drafts and returned activities only; a published one that is sent again
    unchanged is ``unchanged``). Each item succeeds or fails alone; failures carry their Chinese
    messages per field. Written in one transaction of bulk statements
    (``activities.services.bulk.upsert_drafts``, decision 0032)."""

    def operation():
        organization = unit_of(request)
        return 200, upsert(request, organization, payload.items)

    result = idempotent(request, operation, idempotency_key)
    replayed(request, response)
    return result


def upsert(request, organization, payload_items) -> dict:
    """The bulk upsert of ``payload_items`` for ``organization``: lookups read once, the unit's
    known external ids in one query, the rows written by ``upsert_drafts``; ``BulkOut``'s body."""
    from kepuyue.activities.services.bulk import Item, upsert_drafts

    lookups = Lookups()
    lookups.regions(str(i.region_code or "").strip() for i in payload_items)
    ids = [(item.external_id or "").strip() for item in payload_items]
    items: list[Item] = []
    refused: set[int] = set()  # items refused before any lookup (no or a repeated external id)
    seen: set[str] = set()
    for index, external_id in enumerate(ids):
        entry = Item(external_id=external_id, data=None)
        items.append(entry)
        if not external_id:
            entry.errors = {"external_id": [_("外部编号：批量导入时必须填写")]}
        elif external_id in seen:
            entry.errors = {"external_id": [_("外部编号在本批数据中重复")]}
        else:
            seen.add(external_id)
            continue
        refused.add(index)
    for attempt in range(2):
        existing = {
            a.external_id: a
            for a in Activity.objects.filter(
                organizer=organization, external_id__in=list(seen)
            ).select_related("campaign", "joint_action", "brand", "key_task", "region", "organizer")
        }
        for index, (entry, item) in enumerate(zip(items, payload_items, strict=True)):
            if index in refused:
                continue
            current = entry.existing = existing.get(entry.external_id)
            entry.result, entry.activity = "error", None
            data, errors = to_data(
                item, campaign=current.campaign if current and not item.campaign else None, lookups=lookups
            )
            entry.data, entry.errors = (None, group(with_rules(data, errors))) if errors else (data, {})
        try:
            counts = upsert_drafts(organization, items, actor=request.user, unchanged=_unchanged)
            break
        except IntegrityError:
            # Another request of the unit wrote one of these external ids meanwhile: read them again
            # (they are updates now) and write once more; a second clash is the client's to retry.
            if attempt:
                raise DjangoValidationError(
                    _("外部编号与本单位的另一项活动重复，或数据已被他人修改，请重试")
                ) from None
    results = [
        {
            "index": index,
            "external_id": entry.external_id[:64],
            "result": entry.result,
            "id": entry.activity.pk if entry.activity is not None and entry.result != "error" else None,
            "errors": entry.errors if entry.result == "error" else {},
        }
        for index, entry in enumerate(items)
    ]
    return {**counts, "results": results}


class RegistrationQuery(Schema):
    cursor: str | None = NinjaField(None, max_length=PARAM_MAX, description="上一页返回的 next_cursor")


@router.get(
    "/activities/{int:pk}/registrations",
    response={200: RegistrationPage, **ERRORS},
    summary="本单位活动的报名（个人信息已脱敏）",
)
def registrations(request, pk: int, query: Query[RegistrationQuery]):
    from kepuyue.registrations.rules import managed_bookings
    from kepuyue.registrations.services.privacy import mask_booking

    activity = own_activity(request, pk)
    if not check(request.user, "registrations.manage_activity", activity):
        raise Http404
    rows = managed_bookings(request.user).filter(activity=activity).order_by("id")
    if query.cursor:
        try:
            after = int(signing.loads(query.cursor, salt=REGISTRATION_CURSOR_SALT))
        except (signing.BadSignature, ValueError, TypeError, OverflowError):
            raise refuse("cursor") from None
        if not 0 <= after < 2**63:
            raise refuse("cursor")
        rows = rows.filter(id__gt=after)
    page = list(rows[: REGISTRATION_PAGE + 1])
    more = len(page) > REGISTRATION_PAGE
    items = []
    for booking in page[:REGISTRATION_PAGE]:
        masked = mask_booking(booking, full=False)
        items.append(
            {
                "code": booking.code,
                "session_id": booking.session_id,
                "kind": booking.kind,
                "status": booking.status,
                "seats": booking.seats,
                "name": masked["name"],
                "phone": masked["phone"],
                "group_name": booking.group_name,
                "created_at": booking.created_at,
                "checked_in_at": booking.checked_in_at,
            }
        )
    cursor = signing.dumps(page[REGISTRATION_PAGE - 1].pk, salt=REGISTRATION_CURSOR_SALT) if more else None
    return {"items": items, "next_cursor": cursor}
