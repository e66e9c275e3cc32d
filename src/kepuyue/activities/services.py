"""Activity 活动 services: the rules of an activity, creating and editing it, and its workflow.

Every rule here explains itself in Chinese and names the field it is about; the publishing form,
the Excel/CSV import (``kepuyue.activities.importing``) and the API call the same functions, so
they accept and refuse the same things. Times are aware datetimes; a naive one is Beijing time
(Asia/Shanghai). Dates compared with a joint action's window are Beijing calendar days.

Plan sources: activities are marked with their joint action and brand (plan 八(一) “发布活动时请突出
标记活动品牌”); the joint actions' time windows are 五(二) (2025年7—10月), 六(二)2 (9月15—25日) and
七(三) (9月1—30日); the others run in the campaign month. An activity of no joint action is a
campaign-wide activity (全国科普月活动, e.g. a science association's main-venue activity): it has no
brand or key task and runs in the campaign month (plan 八(一) “8月10日起，各方可……发布重点活动信息”).
"""

from __future__ import annotations

import logging
import re
import uuid
import warnings
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from kepuyue.audit import services as audit
from kepuyue.common import clock
from kepuyue.common.text import MAX_DATE, MIN_DATE, clean_text, date_range_message, normalize_phone
from kepuyue.search.segment import index_text

from .models import Activity, Audience, Form, SpecialArea, Status, Topic

logger = logging.getLogger(__name__)

# --- poster images ------------------------------------------------------------------------------

POSTER_MAX_BYTES = 10 * 1024 * 1024
# 25 megapixels (e.g. 5000 × 5000) is far above any poster and keeps a decoded image under ~100 MB.
POSTER_MAX_PIXELS = 25_000_000
# Pillow format name → file extension; the stored name takes the sniffed type, never the client's.
POSTER_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}

# Fields the services read from ``data`` (a mapping, e.g. a form's cleaned_data or an import row).
TEXT_FIELDS = (
    "title",
    "summary",
    "description",
    "co_organizers",
    "online_url",
    "venue",
    "contact_name",
    "contact_phone",
    "external_id",
)
# Longest text of each field, in characters (the columns' sizes; the description's bounds the work of
# rendering it, issue 9). Refused with a message naming the field, never cut.
TEXT_LIMITS = {
    "title": 200,
    "summary": 500,
    "description": 20000,
    "co_organizers": 500,
    "online_url": 500,
    "venue": 255,
    "contact_name": 64,
    "contact_phone": 32,
    "external_id": 64,
}
TEXT_LABELS = {
    "title": "活动名称",
    "summary": "活动简介",
    "description": "活动详情",
    "co_organizers": "协办/承办单位",
    "online_url": "线上地址",
    "venue": "活动地点",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "external_id": "外部编号",
}
# Texts kept on several lines (Markdown); the others are one line.
MULTILINE_FIELDS = frozenset({"description"})
VALUE_FIELDS = ("expected_participants", "science_workers", "latitude", "longitude")
BIT_FIELDS = {"audiences": Audience, "topics": Topic, "special_areas": SpecialArea}
# Labels used in messages (the model's verbose names, plus the place field of the form).
FIELD_LABELS = {
    "campaign": "科普月",
    "joint_action": "联合行动",
    "key_task": "重点任务",
    "brand": "品牌活动",
    "title": "活动名称",
    "starts_at": "开始时间",
    "ends_at": "结束时间",
    "form": "活动形式",
    "online_url": "线上地址",
    "region": "所在地区",
    "poster": "海报",
}

_url_validator = URLValidator(schemes=["http", "https"])

# What an activity of no joint action is called where a joint action's name would be (pages,
# exports; the import reads it back as "no joint action").
CAMPAIGN_WIDE_LABEL = "全国科普月活动"


# --- single rules (also used row by row by the importer, without queries) -----------------------


def window_text(joint_action) -> str:
    """How a joint action's window reads in messages, e.g.
    ``现代科技馆体系联合行动的活动时间为2025年7—10月（2025-07-01至2025-10-31）``.

    The plan's own label (``window_label``) is quoted when it is a short date phrase; a long label
    (六(二)2 is a whole sentence) is left out and only the dates are given.
    """
    span = f"{joint_action.window_start.isoformat()}至{joint_action.window_end.isoformat()}"
    label = (joint_action.window_label or "").strip()
    if label and len(label) <= 20:
        return _("%(name)s的活动时间为%(label)s（%(span)s）") % {
            "name": joint_action.name,
            "label": label,
            "span": span,
        }
    return _("%(name)s的活动时间为%(span)s") % {"name": joint_action.name, "span": span}


def chinese_date(day: date, *, year: bool = True) -> str:
    """A date as Chinese text: ``2025年9月1日`` (``9月1日`` with ``year=False``)."""
    text = f"{day.month}月{day.day}日"
    return f"{day.year}年{text}" if year else text


def campaign_window_text(campaign) -> str:
    """How the campaign month reads in messages about a campaign-wide activity (全国科普月活动), e.g.
    ``全国科普月活动时间为2025年9月1日至9月30日`` (the year is repeated only when the end's differs)."""
    return _("全国科普月活动时间为%(start)s至%(end)s") % {
        "start": chinese_date(campaign.starts),
        "end": chinese_date(campaign.ends, year=campaign.ends.year != campaign.starts.year),
    }


def beijing_day(moment: datetime) -> date:
    """The Beijing calendar day of an aware (or naive Beijing) datetime."""
    if timezone.is_naive(moment):
        return moment.date()
    return moment.astimezone(clock.BEIJING).date()


def as_beijing(moment: datetime) -> datetime:
    """An aware datetime; a naive one is taken as Beijing time."""
    if timezone.is_naive(moment):
        return moment.replace(tzinfo=clock.BEIJING)
    return moment


def date_errors(starts_at, ends_at, joint_action, *, campaign=None) -> list[tuple[str, str]]:
    """Rules on the time of an activity: both given, end ≥ start, and both Beijing days inside its
    window (inclusive): the joint action's (plan 五(二), 六(二)2, 七(三), else the campaign month), or
    for a campaign-wide activity (``joint_action`` None) the campaign month ``campaign.starts`` ..
    ``campaign.ends`` (plan 八(一)). With neither, only the first two rules are checked.

    Returns ``[(field, message), …]``; empty when the times are fine.
    """
    errors: list[tuple[str, str]] = []
    if starts_at is None:
        errors.append(("starts_at", _("开始时间：必须填写")))
    if ends_at is None:
        errors.append(("ends_at", _("结束时间：必须填写")))
    if starts_at is None or ends_at is None:
        return errors
    for name, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not MIN_DATE <= moment.date() <= MAX_DATE:
            errors.append((name, date_range_message(_(FIELD_LABELS[name]))))
    if errors:
        return errors
    if as_beijing(ends_at) < as_beijing(starts_at):
        errors.append(("ends_at", _("结束时间不能早于开始时间")))
    if joint_action is not None:
        window = (joint_action.window_start, joint_action.window_end)
        text = window_text(joint_action)
    elif campaign is not None:
        window = (campaign.starts, campaign.ends)
        text = campaign_window_text(campaign)
    else:
        return errors
    first, last = beijing_day(starts_at), beijing_day(ends_at)
    if not window[0] <= first <= window[1]:
        errors.append(
            ("starts_at", _("开始时间 %(day)s 不在活动时间内：%(window)s") % {"day": first, "window": text})
        )
    if not window[0] <= last <= window[1]:
        errors.append(
            ("ends_at", _("结束时间 %(day)s 不在活动时间内：%(window)s") % {"day": last, "window": text})
        )
    return errors


def brand_error(brand, joint_action) -> str | None:
    """The brand (品牌活动) must be one of the joint action's brands (plan 八(一)), and a campaign-wide
    activity (no joint action) has none; ``None`` if fine."""
    if brand is None:
        return None
    if joint_action is None:
        return _(
            "品牌活动“%(brand)s”属于联合行动，请同时选择其联合行动；不属于联合行动的全国科普月活动不能标记品牌活动"
        ) % {"brand": brand.name}
    if brand.joint_action_id == joint_action.pk:
        return None
    return _("品牌活动“%(brand)s”不属于%(action)s，请选择该联合行动的品牌活动或更换联合行动") % {
        "brand": brand.name,
        "action": joint_action.name,
    }


def key_task_error(key_task, joint_action) -> str | None:
    """The key task (重点任务) must be one of the joint action's, and a campaign-wide activity (no
    joint action) has none; ``None`` if fine."""
    if key_task is None:
        return None
    if joint_action is None:
        return _(
            "重点任务“%(task)s”属于联合行动，请同时选择其联合行动；不属于联合行动的全国科普月活动不能标记重点任务"
        ) % {"task": key_task.name}
    if key_task.joint_action_id == joint_action.pk:
        return None
    return _("重点任务“%(task)s”不属于%(action)s") % {"task": key_task.name, "action": joint_action.name}


def online_url_error(form: str, url: str) -> str | None:
    """Online and hybrid activities need an http(s) address; ``None`` if fine."""
    url = (url or "").strip()
    if form in (Form.ONLINE, Form.HYBRID) and not url:
        return _("活动形式为“%(form)s”时必须填写线上地址（直播或参与链接）") % {"form": Form(form).label}
    if url:
        try:
            _url_validator(url)
        except ValidationError:
            return _("线上地址“%(url)s”不是有效的网址（应以 http:// 或 https:// 开头）") % {"url": url[:100]}
    return None


def check_poster(upload) -> str:
    """Check a poster upload by its content: JPEG, PNG or WebP (sniffed with Pillow, the file name and
    the browser's content type are ignored), at most 10 MB and 25 megapixels; decompression bombs
    are refused.

    Returns the file extension of the sniffed type (``"jpg"``, ``"png"``, ``"webp"``). Raises
    ``ValidationError({"poster": …})`` with a Chinese message. Leaves the file positioned at 0.
    """
    size = getattr(upload, "size", None)
    if size is not None and size > POSTER_MAX_BYTES:
        raise ValidationError(
            {"poster": _("海报文件过大（%(mb).1f MB），不能超过 10 MB") % {"mb": size / 1024 / 1024}}
        )
    if size == 0:
        raise ValidationError({"poster": _("海报文件是空的")})
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and raises at twice that; both are refusals here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload, formats=list(POSTER_FORMATS)) as image:
                kind = image.format
                width, height = image.size
                if width * height > POSTER_MAX_PIXELS:
                    raise ValidationError(
                        {
                            "poster": _("海报像素过多（%(w)d×%(h)d），不能超过 2500 万像素")
                            % {"w": width, "h": height}
                        }
                    )
                image.verify()
    except ValidationError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ValidationError({"poster": _("海报图片尺寸异常（疑似压缩炸弹），已拒绝")}) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError({"poster": _("海报只能是 JPEG、PNG 或 WebP 图片（按文件内容识别）")}) from None
    finally:
        upload.seek(0)
    return POSTER_FORMATS[kind]


# --- the whole activity ---------------------------------------------------------------------------


def _region_of(data: Mapping):
    """The ``Region`` named by ``data["region"]`` (instance) or ``data["region_code"]`` (six digits)."""
    from kepuyue.regions.models import Region

    region = data.get("region")
    if region is not None:
        return region, None
    code = str(data.get("region_code") or "").strip()
    if not code:
        return None, None
    region = Region.objects.filter(code=code).first()
    if region is None:
        return None, _("区划代码 %(code)s 不存在，请填写6位县级行政区划代码或选择地区") % {"code": code}
    return region, None


def clean_texts(data: Mapping) -> tuple[dict, list[tuple[str, str]]]:
    """The free texts of ``data`` (those of :data:`TEXT_FIELDS` it holds) cleaned by
    ``kepuyue.common.text`` — NFC, no NUL or control characters, one line except the description,
    trimmed — and the phone in its canonical form (``normalize_phone``, several numbers allowed).

    Returns ``(cleaned, errors)``: ``cleaned`` maps each field to its clean text, ``errors`` is
    ``[(field, message), …]`` for a text over :data:`TEXT_LIMITS` or a phone that is not one.
    """
    cleaned: dict = {}
    errors: list[tuple[str, str]] = []
    for name in TEXT_FIELDS:
        if name not in data:
            continue
        label = _(TEXT_LABELS[name])
        try:
            value = clean_text(
                data.get(name),
                multiline=name in MULTILINE_FIELDS,
                max_length=TEXT_LIMITS[name],
                label=label,
            )
            if name == "contact_phone":
                value = normalize_phone(value, label=label, several=True)
                if len(value) > TEXT_LIMITS[name]:
                    value = clean_text(value, max_length=TEXT_LIMITS[name], label=label)
        except ValidationError as exc:
            errors += [(name, message) for message in exc.messages]
            continue
        cleaned[name] = value
    return cleaned, errors


def validate_activity(data: Mapping) -> list[tuple[str, str]]:
    """Check an activity's data against every rule; returns ``[(field, message), …]`` (empty: valid).

    ``data`` keys (all optional except as the rules require): ``joint_action`` (JointAction, or
    None for a campaign-wide activity 全国科普月活动), ``campaign`` (Campaign; needed without a joint
    action, must be the joint action's with one), ``key_task`` (KeyTask), ``brand`` (Brand), ``title``, ``starts_at``/``ends_at`` (aware datetimes,
    naive = Beijing), ``form`` (``Form`` value), ``online_url``, ``region`` (Region) or
    ``region_code`` (six-digit GB/T 2260 code, must exist), ``poster`` (an uploaded file, sniffed).
    Messages are Chinese and name the field; ``field`` is the data key.

    Rules: free texts within :data:`TEXT_LIMITS` and a valid phone (:func:`clean_texts`); the
    campaign known (from the joint action, else ``campaign``); title given; end ≥ start;
    dates inside the joint action's window (plan 五(二), 六(二)2, 七(三)), or inside the campaign month
    without a joint action (plan 八(一)); brand and key task belong to the joint action, and there
    are none without one (plan 八(一)); the
    county code exists; online/hybrid activities have an online address; the poster is a JPEG, PNG
    or WebP of at most 10 MB.
    """
    texts, errors = clean_texts(data)
    data = {**data, **texts}
    joint_action = data.get("joint_action")
    campaign = data.get("campaign")
    if joint_action is None and campaign is None:
        errors.append(("campaign", _("科普月：未选择联合行动时必须指定所属科普月（按全国科普月活动发布）")))
    elif joint_action is not None and campaign is not None and joint_action.campaign_id != campaign.pk:
        errors.append(
            (
                "joint_action",
                _("联合行动“%(action)s”不属于%(campaign)s")
                % {"action": joint_action.name, "campaign": campaign.name},
            )
        )
    if not str(data.get("title") or "").strip():
        errors.append(("title", _("活动名称：必须填写")))
    errors += date_errors(data.get("starts_at"), data.get("ends_at"), joint_action, campaign=campaign)
    if message := brand_error(data.get("brand"), joint_action):
        errors.append(("brand", message))
    if message := key_task_error(data.get("key_task"), joint_action):
        errors.append(("key_task", message))
    form = data.get("form") or Form.OFFLINE
    if form not in Form.values:
        errors.append(("form", _("活动形式“%(form)s”无效，应为线下、线上或线上线下结合") % {"form": form}))
    elif message := online_url_error(form, data.get("online_url") or ""):
        errors.append(("online_url", message))
    _region, message = _region_of(data)
    if message:
        errors.append(("region_code", message))
    poster = data.get("poster")
    if isinstance(poster, UploadedFile):
        try:
            check_poster(poster)
        except ValidationError as exc:
            errors += [("poster", m) for m in exc.message_dict["poster"]]
    return errors


def _raise(errors: list[tuple[str, str]]) -> None:
    if errors:
        grouped: dict[str, list[str]] = {}
        for field, message in errors:
            grouped.setdefault(field, []).append(message)
        raise ValidationError(grouped)


def region_codes(region) -> tuple[str, str, str]:
    """``(province_code, prefecture_code, county_code)`` of a region's chain; empty strings where
    the region is coarser (a province gives ``("330000", "", "")``)."""
    if region is None:
        return "", "", ""
    if region.level == 1:
        return region.code, "", ""
    if region.level == 2:
        return region.province_code, region.code, ""
    return region.province_code, region.parent_id or "", region.code


def bits(value) -> int:
    """A bit set from an int or an iterable of ints/strings (form check boxes)."""
    if value is None or value == "":
        return 0
    if isinstance(value, int):
        return value
    total = 0
    for item in value:
        total |= int(item)
    return total


def choices_of(value: int, enum) -> list:
    """The members of ``enum`` (Audience, Topic, SpecialArea) whose bits are set in ``value``."""
    return [member for member in enum if value & member.value]


def labels_of(value: int, enum) -> list[str]:
    """The Chinese labels of the members set in a bit set, in the enum's order."""
    return [member.label for member in enum if value & member.value]


def compute_search_text(activity: Activity) -> str:
    """``Activity.search_text``: segmented words of title, summary, organizer name and venue."""
    return index_text(activity.title, activity.summary, activity.organizer.name, activity.venue)


def _apply(activity: Activity, data: Mapping) -> None:
    activity.joint_action = data.get("joint_action")
    if activity.joint_action is not None:
        activity.campaign_id = activity.joint_action.campaign_id
    else:
        activity.campaign = data["campaign"]
    activity.key_task = data.get("key_task")
    activity.brand = data.get("brand")
    if activity.key_task is None and activity.brand is not None and activity.brand.key_task_id:
        activity.key_task_id = activity.brand.key_task_id
    texts, _errors = clean_texts(data)  # validated before: no errors here
    for name, value in texts.items():
        setattr(activity, name, value)
    for name in VALUE_FIELDS:
        if name in data:
            setattr(activity, name, data.get(name))
    for name in BIT_FIELDS:
        if name in data:
            setattr(activity, name, bits(data.get(name)))
    activity.starts_at = as_beijing(data["starts_at"])
    activity.ends_at = as_beijing(data["ends_at"])
    activity.form = data.get("form") or Form.OFFLINE
    region, _message = _region_of(data)
    activity.region = region
    activity.province_code, activity.prefecture_code, activity.county_code = region_codes(region)


def _store_poster(activity: Activity, upload) -> str:
    """Write the poster under a random name with the sniffed extension; returns the stored name."""
    extension = check_poster(upload)
    activity.poster.save(f"{uuid.uuid4().hex}.{extension}", upload, save=False)
    return activity.poster.name


def _save_with_poster(activity: Activity, data: Mapping, *, is_new: bool) -> Activity:
    poster = data.get("poster")
    old_poster = activity.poster.name if activity.poster else ""
    stored = ""
    try:
        with transaction.atomic():
            if isinstance(poster, UploadedFile):
                stored = _store_poster(activity, poster)
            elif poster is False and old_poster:  # the form's "clear" box
                activity.poster = ""
            activity.search_text = compute_search_text(activity)
            activity.full_clean(exclude=["poster", "organizer", "search_text"], validate_unique=False)
            activity.save()
    except Exception:
        # A failed save leaves no file behind.
        if stored:
            activity.poster.storage.delete(stored)
            activity.poster = old_poster
        raise
    if old_poster and activity.poster.name != old_poster:
        storage = activity.poster.storage
        transaction.on_commit(lambda: storage.delete(old_poster))
    return activity


def create_activity(organization, data: Mapping, *, actor=None) -> Activity:
    """Create a draft activity (草稿) of ``organization`` from ``data`` (keys as in
    :func:`validate_activity`, plus the free texts, ``audiences``/``topics``/``special_areas`` as
    bit sets or lists of bits, ``expected_participants``, ``science_workers``, ``contact_*``).

    Sets the campaign from the joint action (else from ``data["campaign"]``: a campaign-wide
    activity 全国科普月活动), the region chain codes from the region, and
    ``search_text``. The poster is stored under a random name with the sniffed extension; if saving
    fails no file is left behind. ``actor`` is the user acting (for the audit trail).
    Raises ``ValidationError`` (a dict of field → Chinese messages).
    """
    _raise(validate_activity(data))
    activity = Activity(organizer=organization, status=Status.DRAFT)
    _apply(activity, data)
    _save_with_poster(activity, data, is_new=True)
    audit.record("activity.create", actor=actor, obj=activity)
    return activity


EDITABLE_STATUSES = frozenset({Status.DRAFT, Status.RETURNED})


def update_activity(activity: Activity, data: Mapping, *, actor=None) -> Activity:
    """Change a draft or returned activity with ``data`` (as in :func:`create_activity`; a poster of
    ``False`` removes it). The old poster file is deleted once the change is committed.

    Raises ``ValidationError``: a dict of field → messages for bad data, or a plain Chinese message
    when the activity is submitted, published or withdrawn (those are changed through the review).
    """
    if activity.status not in EDITABLE_STATUSES:
        raise ValidationError(
            _("活动“%(title)s”状态为“%(status)s”，只有草稿或已退回的活动可以修改")
            % {"title": activity.title, "status": Status(activity.status).label}
        )
    _raise(validate_activity(data))
    _apply(activity, data)
    _save_with_poster(activity, data, is_new=False)
    audit.record("activity.update", actor=actor, obj=activity)
    return activity


# --- workflow -------------------------------------------------------------------------------------

# The allowed moves (from, to) → what the move is called. The review issue adds its steps here.
TRANSITIONS: dict[tuple[str, str], str] = {
    (Status.DRAFT, Status.SUBMITTED): "提交审核",
    (Status.SUBMITTED, Status.PUBLISHED): "审核通过并发布",
    (Status.SUBMITTED, Status.RETURNED): "退回修改",
    (Status.RETURNED, Status.SUBMITTED): "修改后重新提交",
    (Status.PUBLISHED, Status.WITHDRAWN): "撤回",
}
# The audit log's name of each move (``activity.<name>``).
TRANSITION_ACTIONS: dict[tuple[str, str], str] = {
    (Status.DRAFT, Status.SUBMITTED): "submit",
    (Status.SUBMITTED, Status.PUBLISHED): "approve",
    (Status.SUBMITTED, Status.RETURNED): "return",
    (Status.RETURNED, Status.SUBMITTED): "resubmit",
    (Status.PUBLISHED, Status.WITHDRAWN): "withdraw",
}
# The longest reason of a move, in characters (it is e-mailed and shown in the inbox).
REASON_MAX_LENGTH = 2000
# Moves that need a reason (the unit must know what to change).
REASON_REQUIRED = frozenset({(Status.SUBMITTED, Status.RETURNED)})


class TransitionNotAllowed(ValidationError):
    """A workflow move that ``TRANSITIONS`` does not allow, or that lacks its reason (Chinese message)."""


def allowed_transitions(activity: Activity) -> list[str]:
    """The statuses ``activity`` may move to from where it stands."""
    return [to for (frm, to) in TRANSITIONS if frm == activity.status]


def activity_data(activity: Activity) -> dict:
    """The data of a saved activity in the shape :func:`validate_activity` reads."""
    data = {name: getattr(activity, name) for name in (*TEXT_FIELDS, *VALUE_FIELDS, *BIT_FIELDS)}
    data.update(
        campaign=activity.campaign,
        joint_action=activity.joint_action,
        key_task=activity.key_task,
        brand=activity.brand,
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        form=activity.form,
        region=activity.region,
    )
    return data


def transition(activity: Activity, to: str, *, actor=None, reason: str = "") -> Activity:
    """Move ``activity`` to status ``to`` if ``TRANSITIONS`` allows it; returns the activity.

    Submitting (to ``submitted``) checks the activity against every rule again (a window may have
    been narrowed since it was saved). Sets ``submitted_at`` on submission and ``published_at`` on
    publication (campaign clock). The row is changed only if it still has the status it was read
    with, so two reviewers cannot both act on it. Every move is written to the audit log (who, when,
    from, to, why; ``kepuyue.audit``) in the same transaction; returns and publications are told
    to the unit's publishers (inbox and e-mail, ``kepuyue.notifications``) once it commits.

    Raises ``TransitionNotAllowed`` (Chinese message) for a move the table does not allow, a missing
    reason for returning, or a concurrent change; ``ValidationError`` (dict) when submitting an
    activity that breaks a rule.
    """
    to = Status(to)
    current = Status(activity.status)
    if (current, to) not in TRANSITIONS:
        allowed = "、".join(Status(s).label for s in allowed_transitions(activity)) or "无"
        raise TransitionNotAllowed(
            _("活动“%(title)s”当前为“%(from)s”，不能改为“%(to)s”（可改为：%(allowed)s）")
            % {"title": activity.title, "from": current.label, "to": to.label, "allowed": allowed}
        )
    try:
        reason = clean_text(reason, multiline=True, max_length=REASON_MAX_LENGTH, label=_("原因"))
    except ValidationError as exc:
        raise TransitionNotAllowed(exc.messages[0]) from None
    if (current, to) in REASON_REQUIRED and not reason:
        raise TransitionNotAllowed(_("%(step)s必须填写原因") % {"step": TRANSITIONS[(current, to)]})
    if to == Status.SUBMITTED:
        _raise(validate_activity(activity_data(activity)))
    changes: dict = {"status": to, "updated": clock.now()}
    if to == Status.SUBMITTED:
        changes["submitted_at"] = clock.now()
    if to == Status.PUBLISHED:
        changes["published_at"] = clock.now()
    with transaction.atomic():
        if not Activity.objects.filter(pk=activity.pk, status=current).update(**changes):
            raise TransitionNotAllowed(
                _("活动“%(title)s”已被他人修改，请刷新后重试") % {"title": activity.title}
            )
        for name, value in changes.items():
            setattr(activity, name, value)
        audit.record(
            f"activity.{TRANSITION_ACTIONS[(current, to)]}",
            actor=actor,
            obj=activity,
            data={"from": str(current), "to": str(to), "reason": reason},
        )
        if to == Status.WITHDRAWN and activity.recommended_at is not None:
            # A withdrawn activity gives its recommendation back: the scope's quota place is freed and
            # it no longer leads any page (kepuyue.review owns recommendations).
            from kepuyue.review.services import release_recommendation

            release_recommendation(activity, actor=actor)
        # The unit hears of a return or a publication once the move is committed (never of a
        # rolled-back one); a failing notification does not undo the move.
        from kepuyue.notifications import events

        transaction.on_commit(
            lambda: events.activity_moved(activity, str(current), str(to), reason), robust=True
        )
    return activity


# --- display and querysets --------------------------------------------------------------------------

_DIGITS = re.compile(r"\d")
_PHONE_LIST = re.compile(r"([、,，;；/]+)")
_LOCAL_NUMBER = re.compile(r"(?<=\D)(\d{7,8})(?=\D*$)")


def mask_phone(phone: str) -> str:
    """A phone number for public pages and exports, its private digits replaced by ``*``.

    Mobile numbers (11 digits starting with 1, optionally after +86) keep the first 3 and last 4
    digits (``13812345678`` → ``138****5678``); landlines keep the area code and the first 4 digits
    of the local number (``010-68571988`` → ``010-6857****``, ``01068571988`` → ``0106857****``);
    anything else keeps the first half of its digits. Several numbers (``、`` ``,`` ``;`` ``/``) are
    masked one by one; separators are kept. Empty gives empty.
    """
    parts = _PHONE_LIST.split((phone or "").strip())
    return "".join(part if _PHONE_LIST.fullmatch(part) else _mask_one(part) for part in parts)


def _mask_one(text: str) -> str:
    positions = [m.start() for m in _DIGITS.finditer(text)]
    if not positions:
        return text
    digits = "".join(text[i] for i in positions)
    national = digits[2:] if digits.startswith("86") and len(digits) == 13 else digits
    offset = len(digits) - len(national)
    if len(national) == 11 and national.startswith("1"):
        keep = set(positions[: offset + 3]) | set(positions[-4:])
    elif match := _LOCAL_NUMBER.search(text):
        keep = {i for i in positions if i < match.start(1) + 4}
    elif national.startswith("0") and len(national) in (10, 11, 12):
        area = 3 if national[1] in "12" else 4
        keep = set(positions[: offset + area + 4])
    else:
        keep = set(positions[: max(1, len(positions) // 2)])
    return "".join("*" if (i in positions and i not in keep) else ch for i, ch in enumerate(text))


def public_activities() -> QuerySet[Activity]:
    """Activities the public may see: published ones only (drafts, submitted, returned and
    withdrawn activities never appear on public pages)."""
    return Activity.objects.filter(status=Status.PUBLISHED)


def activities_of(organization) -> QuerySet[Activity]:
    """All activities of ``organization`` (every status), for its own staff pages."""
    return Activity.objects.filter(organizer=organization)


def bit_choices(enum) -> list[tuple[int, str]]:
    """``(bit, label)`` pairs of an IntegerChoices bit enum, for check boxes."""
    return [(member.value, member.label) for member in enum]


def members(enum, names: Iterable[str]) -> int:
    """The bit set of the enum members whose labels are in ``names``."""
    wanted = set(names)
    return bits(member.value for member in enum if member.label in wanted)
