"""The rules of an activity (活动), one by one and for a whole activity: times inside the windows,
brand and key task of the joint action, online address, poster, place. Messages are Chinese and
name the field."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from PIL import Image, UnidentifiedImageError

from kepuyue.common import clock
from kepuyue.common.text import MAX_DATE, MIN_DATE, clean_text, date_range_message, normalize_phone

from ..models import Audience, Form, SpecialArea, Topic
from .brands import brand_required_error

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
    "title": gettext_noop("活动名称"),
    "summary": gettext_noop("活动简介"),
    "description": gettext_noop("活动详情"),
    "co_organizers": gettext_noop("协办/承办单位"),
    "online_url": gettext_noop("线上地址"),
    "venue": gettext_noop("活动地点"),
    "contact_name": gettext_noop("联系人"),
    "contact_phone": gettext_noop("联系电话"),
    "external_id": gettext_noop("外部编号"),
}
# Texts kept on several lines (Markdown); the others are one line.
MULTILINE_FIELDS = frozenset({"description"})
VALUE_FIELDS = ("expected_participants", "science_workers", "latitude", "longitude", "book_signing")
BIT_FIELDS = {"audiences": Audience, "topics": Topic, "special_areas": SpecialArea}
# Labels used in messages (the model's verbose names, plus the place field of the form).
FIELD_LABELS = {
    "campaign": gettext_noop("科普月"),
    "joint_action": gettext_noop("联合行动"),
    "key_task": gettext_noop("重点任务"),
    "brand": gettext_noop("品牌活动"),
    "title": gettext_noop("活动名称"),
    "starts_at": gettext_noop("开始时间"),
    "ends_at": gettext_noop("结束时间"),
    "form": gettext_noop("活动形式"),
    "online_url": gettext_noop("线上地址"),
    "region": gettext_noop("所在地区"),
    "poster": gettext_noop("海报"),
}

# Counts of an activity (预计参与人数, 参与科技工作者人数): whole numbers in 0..COUNT_MAX — one rule
# for the form, the API and the import (:func:`count_error`).
COUNT_FIELDS = {"expected_participants": "预计参与人数", "science_workers": "参与科技工作者人数"}
COUNT_MAX = 2_000_000_000
# The messages after the field's name; the form shows them under the field (``%(limit_value)s`` is
# Django's parameter), the import after the column.
COUNT_MIN_MESSAGE = gettext_noop("不能小于 %(limit_value)s")
COUNT_MAX_MESSAGE = gettext_noop("不能超过 %(limit_value)s")


def count_error(value: int) -> str | None:
    """Why a count (人数) cannot be stored, or ``None``: below 0 or above :data:`COUNT_MAX`."""
    if value < 0:
        return _(COUNT_MIN_MESSAGE) % {"limit_value": 0}
    if value > COUNT_MAX:
        return _(COUNT_MAX_MESSAGE) % {"limit_value": COUNT_MAX}
    return None


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


def date_tolerance(joint_action, campaign=None) -> int:
    """Days a date may lie outside its window and still be accepted, with a note the reviewer sees
    (YAML ``review.date_tolerance_days``; real launch ceremonies on 8月27–31日 and follow-ups in early
    October sit just outside the plan's windows, issue 11 point 1). 0 when the YAML sets none."""
    campaign = joint_action.campaign if joint_action is not None else campaign
    if campaign is None:
        return 0
    return int((campaign.review or {}).get("date_tolerance_days", 0) or 0)


def _window_bounds(joint_action, campaign):
    """``(first day, last day)`` of the window :func:`_window` describes, without its text."""
    if joint_action is not None:
        return (joint_action.window_start, joint_action.window_end)
    if campaign is not None:
        return (campaign.starts, campaign.ends)
    return None


def _window(joint_action, campaign):
    if joint_action is not None:
        return (joint_action.window_start, joint_action.window_end), window_text(joint_action)
    if campaign is not None:
        return (campaign.starts, campaign.ends), campaign_window_text(campaign)
    return None, ""


def date_errors(
    starts_at, ends_at, joint_action, *, campaign=None, tolerance_days=None
) -> list[tuple[str, str]]:
    """Rules on the time of an activity: both given, end ≥ start, and both Beijing days inside its
    window (inclusive): the joint action's (plan 五(二), 六(二)2, 七(三), else the campaign month), or
    for a campaign-wide activity (``joint_action`` None) the campaign month ``campaign.starts`` ..
    ``campaign.ends`` (plan 八(一)) — widened on both sides by :func:`date_tolerance` days
    (``tolerance_days`` overrides it; :func:`window_notes` says when a date uses the tolerance).
    With neither, only the first two rules are checked.

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
    window = _window_bounds(joint_action, campaign)
    if window is None:
        return errors
    tolerance = date_tolerance(joint_action, campaign) if tolerance_days is None else tolerance_days
    low, high = window[0] - timedelta(days=tolerance), window[1] + timedelta(days=tolerance)
    first, last = beijing_day(starts_at), beijing_day(ends_at)
    if low <= first <= high and low <= last <= high:
        return errors  # the messages below are only built when needed (the importer checks every row)
    _bounds, text = _window(joint_action, campaign)
    if tolerance:
        text += _("（方案允许前后 %(n)d 天）") % {"n": tolerance}
    if not low <= first <= high:
        errors.append(
            ("starts_at", _("开始时间 %(day)s 不在活动时间内：%(window)s") % {"day": first, "window": text})
        )
    if not low <= last <= high:
        errors.append(
            ("ends_at", _("结束时间 %(day)s 不在活动时间内：%(window)s") % {"day": last, "window": text})
        )
    return errors


def window_notes(starts_at, ends_at, joint_action, *, campaign=None) -> list[str]:
    """What the reviewer should know about dates accepted through the tolerance: a note for a start
    or end day outside the window (but inside the tolerance, else :func:`date_errors` refuses it)."""
    if starts_at is None or ends_at is None:
        return []
    window = _window_bounds(joint_action, campaign)
    if window is None:
        return []
    first, last = beijing_day(starts_at), beijing_day(ends_at)
    if window[0] <= first <= window[1] and window[0] <= last <= window[1]:
        return []  # the usual case: no message is built (the importer checks every row)
    _bounds, text = _window(joint_action, campaign)
    notes = []
    for label, moment in ((_("开始时间"), starts_at), (_("结束时间"), ends_at)):
        day = beijing_day(moment)
        if day < window[0]:
            gap, side = (window[0] - day).days, _("早")
        elif day > window[1]:
            gap, side = (day - window[1]).days, _("晚")
        else:
            continue
        notes.append(
            _(
                "%(label)s %(day)s 比活动时间（%(window)s）%(side)s %(gap)d 天，在方案允许的范围内，请审核时核对"
            )
            % {"label": label, "day": day, "window": text, "side": side, "gap": gap}
        )
    return notes


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
    are none without one (plan 八(一)); an activity of a joint action with brands carries one, the
    message suggesting one from the title and summary (:mod:`.brands`, plan 八(一)); the
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
    elif message := brand_required_error(
        data.get("brand"), joint_action, title=data.get("title") or "", summary=data.get("summary") or ""
    ):
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
