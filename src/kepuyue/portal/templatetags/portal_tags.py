"""Template helpers for the portal: names in the active language, dates on the campaign clock,
and a call's submission spec (作品要求) in words.
"""

from datetime import date, datetime, time

from django import template
from django.template.defaultfilters import date as format_date
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import get_language, gettext, ngettext, pgettext

from kepuyue.common.clock import BEIJING

register = template.Library()


@register.filter
def ja_name(joint_action) -> str:
    """A joint action's name: ``name_en`` while English is active and the plan data has one.
    ``None`` (an activity of no joint action) reads 全国科普月活动 (plan 八(一))."""
    if joint_action is None:
        return gettext("全国科普月活动")
    if (get_language() or "").startswith("en") and joint_action.name_en:
        return joint_action.name_en
    return joint_action.name


@register.filter
def shows_english_name(joint_action) -> bool:
    """True when :func:`ja_name` returns the English name (the Chinese one is then shown beside it)."""
    return bool(joint_action is not None and (get_language() or "").startswith("en") and joint_action.name_en)


@register.filter
def participants_short(joint_action) -> str:
    """The participant types in a few words (全国学会、高校科协), else the plan's own text."""
    names = [t.name for t in joint_action.participant_types.all()]
    if names:
        return "、".join(names)
    return joint_action.participants


@register.simple_tag
def date_range(first: date, last: date) -> str:
    """A range of days in the active language: ``2025年9月1日至9月30日``, ``Sept. 1 to Sept. 30, 2025``."""
    if first == last:
        return format_date(first, "DATE_FORMAT")
    if first.year == last.year:
        # Translators: a date without its year, in Django's date format syntax.
        short = pgettext("date without year", "n月j日")
        return gettext("%(first)s至%(last)s") % {
            "first": format_date(first, "DATE_FORMAT"),
            "last": format_date(last, short),
        }
    return gettext("%(first)s至%(last)s") % {
        "first": format_date(first, "DATE_FORMAT"),
        "last": format_date(last, "DATE_FORMAT"),
    }


@register.filter
def window(joint_action) -> str:
    """A joint action's time window as dates: ``2025年7月1日至10月31日``."""
    return date_range(joint_action.window_start, joint_action.window_end)


@register.filter
def instant(value: datetime | None) -> str:
    """An aware datetime in Beijing time: the date alone at 00:00 or at the end of a day (a
    deadline "8月20日前" is stored as 23:59:59.999999), else the date and the time.
    """
    if value is None:
        return ""
    local = timezone.localtime(value, BEIJING)
    if local.time() in (time.min, time.max) or local.time().replace(microsecond=0) == time(23, 59, 59):
        return format_date(local, "DATE_FORMAT")
    return f"{format_date(local, 'DATE_FORMAT')} {format_date(local, 'TIME_FORMAT')}"


def _duration(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return ngettext("%(n)d分钟", "%(n)d分钟", minutes) % {"n": minutes}
    return ngettext("%(n)d秒", "%(n)d秒", seconds) % {"n": seconds}


def _spec_words(spec: dict) -> list[str]:
    """Phrases for the spec keys of every call kind (see ``kepuyue.campaigns.schema``)."""
    rest = {key: value for key, value in spec.items() if value not in (None, "", [])}
    words: list[str] = []
    container = rest.pop("container", None)
    if container:
        words.append(str(container).upper())
    formats = rest.pop("formats", None)
    if formats:
        # "/" inside, so the phrase stays one item when the phrases are joined with "、".
        words.append(
            gettext("%(formats)s格式")
            % {"formats": "/".join(str(f).upper().replace("WEBP", "WebP") for f in formats)}
        )
    width, height = rest.pop("min_width", None), rest.pop("min_height", None)
    if width and height:
        words.append(gettext("分辨率不低于%(w)d×%(h)d") % {"w": width, "h": height})
    advised = rest.pop("max_seconds_advised", None)
    if advised:
        words.append(gettext("时长建议不超过%(d)s") % {"d": _duration(int(advised))})
    limit = rest.pop("max_seconds", None)
    if limit:
        words.append(gettext("时长不超过%(d)s") % {"d": _duration(int(limit))})
    own = rest.pop("includes_own_venue", None)
    others = rest.pop("min_other_venues", None)
    if others:
        if own:
            words.append(gettext("本基地及周边不少于%(n)d家其他场所") % {"n": others})
        else:
            words.append(gettext("不少于%(n)d家场所") % {"n": others})
    elif own:
        words.append(gettext("包含本基地"))
    low, high = rest.pop("min_chars", None), rest.pop("max_chars", None)
    if low and high:
        words.append(gettext("字数%(low)d至%(high)d字") % {"low": low, "high": high})
    elif low:
        words.append(gettext("字数不少于%(n)d字") % {"n": low})
    elif high:
        words.append(gettext("字数不超过%(n)d字") % {"n": high})
    submit_to = rest.pop("submit_to", None)
    if submit_to:
        words.append(gettext("报送至%(unit)s") % {"unit": submit_to})
    max_items = rest.pop("max_items", None)
    if max_items:
        words.append(gettext("最多推荐%(n)d项") % {"n": max_items})
    kinds = rest.pop("product_kinds", None)
    if kinds:
        either = pgettext("alternatives", "或")
        words.append(gettext("作品形式：%(kinds)s") % {"kinds": either.join(kinds)})
    max_bytes = rest.pop("max_bytes", None)
    if max_bytes:
        words.append(gettext("文件不超过%(size)s") % {"size": filesizeformat(max_bytes)})
    max_images, image_bytes = rest.pop("max_images", None), rest.pop("max_image_bytes", None)
    image_pixels = rest.pop("max_image_pixels", None)
    if max_images:
        words.append(gettext("图片最多%(n)d张") % {"n": max_images})
    if image_bytes:
        words.append(gettext("每张不超过%(size)s") % {"size": filesizeformat(image_bytes)})
    if image_pixels:
        words.append(gettext("每张不超过%(mp)s万像素") % {"mp": f"{image_pixels / 10_000:g}"})
    # Whatever else the spec holds is still shown, never dropped.
    for key, value in rest.items():
        words.append(f"{key}: {value}")
    return words


@register.filter
def spec_words(call) -> list[str]:
    """A call's ``spec`` as short phrases: ``["MP4", "分辨率不低于1920×1080", "时长建议不超过3分钟"]``."""
    return _spec_words(call.spec or {})


@register.filter
def spec_text(call) -> str:
    """:func:`spec_words` as one line: ``MP4、分辨率不低于1920×1080、时长建议不超过3分钟``."""
    return pgettext("list separator", "、").join(spec_words(call))


@register.simple_tag
def deadline_label(deadline, state) -> str:
    """What a timeline item says about a deadline (issue 11.6): a ``due`` one counts down —
    ``还剩 N 天``, ``今天截止`` — then ``已截止``; an ``opens`` one says ``N 天后开始``, ``已开始``, then
    ``已结束`` with its campaign. Never 进行中: a deadline is a moment, not a period. Days are Beijing
    calendar days on the campaign clock."""
    from kepuyue.common import clock

    days = (deadline.at.astimezone(BEIJING).date() - clock.today()).days
    value = getattr(state, "value", state)
    if deadline.kind == "due":
        if value == "passed":
            return gettext("已截止")
        if days <= 0:
            return gettext("今天截止")
        return ngettext("还剩 %(n)d 天", "还剩 %(n)d 天", days) % {"n": days}
    if value == "upcoming":
        return ngettext("%(n)d 天后开始", "%(n)d 天后开始", max(days, 1)) % {"n": max(days, 1)}
    if value == "open":
        return gettext("已开始")
    return gettext("已结束")


_PHONE_SPLIT = __import__("re").compile(r"([、,，;；/／\s]+)")


@register.filter
def tel_links(value):
    """Phone numbers as ``tel:`` links (several numbers separated by 、 , ; / each get one); text
    that is not a number stays text, escaped. Used for public office lines and the plan's contacts;
    personal mobiles are masked before they get here (``activities.services.mask_phone``)."""
    import re

    from django.utils.html import format_html, format_html_join

    pieces = []
    for part in _PHONE_SPLIT.split(str(value or "")):
        digits = re.sub(r"[^\d+]", "", part)
        if len(re.sub(r"\D", "", part)) >= 5 and re.fullmatch(r"[\d+()（）\-\s—]+", part):
            pieces.append(format_html('<a href="tel:{}">{}</a>', digits, part))
        else:
            pieces.append(format_html("{}", part))
    return format_html_join("", "{}", ((piece,) for piece in pieces))
