"""The public activity list (活动列表): filters from GET parameters, search, keyset pagination.

Public lists show only published activities (plan §八(一): activities are published "供公众了解
参与"). A list is read in three steps::

    activity_filter = ActivityFilter.from_params(request.GET)      # never raises
    page = list_activities(activity_filter, campaign=campaign,
                           cursor=request.GET.get("cursor"), page=request.GET.get("page"))
    page.items, page.next_cursor, page.prev_cursor, page.number, page.messages

Pagination is keyset over ``(starts_at, id)`` — the order of the ``act_*`` indexes of
:class:`~kepuyue.activities.models.Activity` — with an opaque signed cursor, so page 5,000 costs
what page 1 costs. A ``?page=N`` deep link is resolved to a keyset position with one index-only
query (see ``docs/decisions/0002-search-backends.md`` for the figures). Pages sorted by relevance
(a search only) use offsets: they are read in the order of ``act_search_density_idx`` and people
rarely go deep into them.

Every bad parameter is ignored and explained in ``messages`` (Chinese, naming the parameter);
nothing here raises on user input.
"""

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import CharField, DateTimeField, F, Func, IntegerField, Q, QuerySet, Value
from django.utils.translation import gettext as _

from kepuyue.activities.models import Activity, Audience, Form, Status, Topic
from kepuyue.activities.spans import ongoing_keys, ongoing_q
from kepuyue.common import clock
from kepuyue.common.clock import Phase
from kepuyue.common.text import MAX_DATE, MIN_DATE, int_or_none, parse_date, strip_controls
from kepuyue.search.segment import visible
from kepuyue.search.services import (
    SORT_MATCHES,
    order_by_relevance,
    order_by_start,
    query_words,
    search_activities,
)

SORT_START = "start"
SORT_RELEVANCE = "relevance"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# ``?page=N`` is resolved by skipping (N-1)×limit index entries; past this depth the list asks for
# filters or the "next" links (keyset cursors have no depth limit).
MAX_PAGE = 2500
MAX_QUERY_CHARS = 100

CURSOR_SALT = "kepuyue.activities.listing.cursor"

# What a card shows: one query for the page, no query per card.
CARD_RELATED = ("joint_action", "brand", "organizer", "region")
# The ``joint_action`` value that asks for campaign-wide activities (全国科普月活动, no joint action).
NO_JOINT_ACTION = "none"


class Notice(str):
    """A message about a parameter that was ignored: the Chinese sentence the pages show, and
    ``param``, the GET parameter it is about (``""`` for a remark on several). The open API turns
    notices with a ``param`` into a 422 with one message per field instead of ignoring them."""

    param: str = ""
    #: The sentence says what is wrong with this value (not only what the parameter must be): the API
    #: answers it as the field's message instead of the parameter's general hint.
    specific: bool = False

    def __new__(cls, text: str, param: str = "", specific: bool = False) -> "Notice":
        notice = super().__new__(cls, text)
        notice.param = param
        notice.specific = specific
        return notice

    def __reduce__(self):
        return (Notice, (str(self), self.param, self.specific))


def refused_params(messages) -> list[str]:
    """The parameters named by the notices among ``messages``, in order, once each."""
    return list(dict.fromkeys(m.param for m in messages if isinstance(m, Notice) and m.param))


_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")
_CODE = re.compile(r"^\d{6}$")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


@dataclass(frozen=True)
class ActivityFilter:
    """What the public asked for, parsed from GET parameters by :meth:`from_params`.

    GET parameter → field: ``joint_action`` (slug of a 联合行动 of the campaign, or ``none``
    (:data:`NO_JOINT_ACTION`) for the campaign-wide activities 全国科普月活动), ``brand`` (slug
    of a 品牌活动), ``province`` / ``city`` / ``county`` (GB/T 2260 codes: ``330000``, ``330100``,
    ``330106``), ``from`` / ``to`` (Beijing dates ``2025-09-15``; an activity is in the range when
    it overlaps it), ``form`` (``offline``/``online``/``hybrid``), ``audience`` and ``topic``
    (repeatable; a bit value, its name or its Chinese label; several mean "any of them"),
    ``phase`` (``upcoming``/``ongoing``/``ended`` on the campaign clock), ``q`` (search words) and
    ``sort`` (``start``, the default, or ``relevance``, which needs ``q``).

    ``messages`` lists, in Chinese, every parameter that was ignored and why.
    """

    joint_action: str = ""
    brand: str = ""
    province: str = ""
    city: str = ""
    county: str = ""
    date_from: date | None = None
    date_to: date | None = None
    form: str = ""
    audiences: int = 0
    topics: int = 0
    phase: str = ""
    q: str = ""
    sort: str = SORT_START
    messages: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_params(cls, params: Mapping) -> "ActivityFilter":
        """Parse a ``QueryDict`` (or a plain mapping of str or list of str). Never raises."""
        messages: list[str] = []
        values: dict = {}

        for name, label in (("joint_action", _("联合行动")), ("brand", _("品牌活动"))):
            value = _one(params, name)
            if value and not _SLUG.match(value):
                messages.append(
                    Notice(
                        _("“%(label)s”参数“%(value)s”无效，已忽略。") % {"label": label, "value": value}, name
                    )
                )
            elif value:
                values[name] = value

        for name, label, check in (
            ("province", _("省份"), lambda c: c.endswith("0000")),
            ("city", _("城市"), lambda c: c.endswith("00") and not c.endswith("0000")),
            ("county", _("区县"), lambda c: not c.endswith("00")),
        ):
            value = _one(params, name)
            if value and not (_CODE.match(value) and check(value)):
                messages.append(
                    Notice(
                        _("“%(label)s”参数“%(value)s”不是该级别的 6 位行政区划代码，已忽略。")
                        % {"label": label, "value": value},
                        name,
                    )
                )
            elif value:
                values[name] = value

        for name, key, label in (("from", "date_from", _("开始日期")), ("to", "date_to", _("结束日期"))):
            value = _one(params, name)
            if value:
                parsed = _parse_date(value)
                if parsed is None:
                    messages.append(
                        Notice(
                            _("“%(label)s”参数“%(value)s”不是日期（例如 2025-09-15），已忽略。")
                            % {"label": label, "value": value[:40]},
                            name,
                        )
                    )
                elif not MIN_DATE <= parsed <= MAX_DATE:
                    messages.append(
                        Notice(
                            _("“%(label)s”参数“%(value)s”超出 %(min)s 至 %(max)s 的范围，已忽略。")
                            % {"label": label, "value": value[:40], "min": MIN_DATE, "max": MAX_DATE},
                            name,
                        )
                    )
                else:
                    values[key] = parsed
        if values.get("date_from") and values.get("date_to") and values["date_from"] > values["date_to"]:
            values["date_from"], values["date_to"] = values["date_to"], values["date_from"]
            messages.append(_("开始日期晚于结束日期，已对调。"))

        value = _one(params, "form")
        if value and value not in Form.values:
            messages.append(Notice(_("“活动形式”参数“%(value)s”无效，已忽略。") % {"value": value}, "form"))
        elif value:
            values["form"] = value

        for name, key, choices, label in (
            ("audience", "audiences", Audience, _("面向对象")),
            ("topic", "topics", Topic, _("活动主题")),
        ):
            mask = 0
            for value in _many(params, name):
                bit = _parse_bit(value, choices)
                if bit is None:
                    messages.append(
                        Notice(
                            _("“%(label)s”参数“%(value)s”无效，已忽略。") % {"label": label, "value": value},
                            name,
                        )
                    )
                else:
                    mask |= bit
            if mask:
                values[key] = mask

        value = _one(params, "phase")
        if value and value not in Phase.values:
            messages.append(Notice(_("“活动阶段”参数“%(value)s”无效，已忽略。") % {"value": value}, "phase"))
        elif value:
            values["phase"] = value

        # Invisible format characters (zero-width, bidirectional) go before anything: they split words
        # and would reverse the text echoed back in the page's 当前条件.
        q = " ".join(visible(_one(params, "q", normalize=False)).split())
        if len(q) > MAX_QUERY_CHARS:
            q = q[:MAX_QUERY_CHARS]
            messages.append(Notice(_("关键词过长，只按前 %(n)d 个字检索。") % {"n": MAX_QUERY_CHARS}, "q"))
        if q and not query_words(q):
            # Emoji, symbols or punctuation only: nothing to look up. Say so rather than show every
            # activity as if the search had matched them all.
            messages.append(
                Notice(
                    _("搜索词“%(q)s”中没有可检索的文字（表情符号、符号和标点不参与搜索），请输入文字关键词。")
                    % {"q": q[:20]},
                    "q",
                    specific=True,
                )
            )
            q = ""
        elif q and all(len(word) == 1 for word in query_words(q)):
            # The index holds words, not characters: "科" finds only activities where 科 stands alone.
            messages.append(Notice(_("单个字只匹配单独成词的字，结果可能很少；请输入词语，如“科普”“天文”。")))
        if q:
            values["q"] = q

        sort = _one(params, "sort")
        if sort == SORT_RELEVANCE and not q:
            messages.append(Notice(_("按相关度排序需要关键词，已按开始时间排序。"), "sort"))
            sort = SORT_START
        elif sort and sort not in (SORT_START, SORT_RELEVANCE):
            messages.append(Notice(_("“排序”参数“%(value)s”无效，已忽略。") % {"value": sort}, "sort"))
            sort = ""
        values["sort"] = sort or SORT_START

        return cls(**values, messages=tuple(messages))

    def to_params(self) -> list[tuple[str, str]]:
        """The GET parameters that give this filter back (defaults left out), for links such as
        the pagination, the export and a region page's "more" link."""
        pairs = [
            ("joint_action", self.joint_action),
            ("brand", self.brand),
            ("province", self.province),
            ("city", self.city),
            ("county", self.county),
            ("from", self.date_from.isoformat() if self.date_from else ""),
            ("to", self.date_to.isoformat() if self.date_to else ""),
            ("form", self.form),
        ]
        pairs += [("audience", str(bit)) for bit in Audience.values if self.audiences & bit]
        pairs += [("topic", str(bit)) for bit in Topic.values if self.topics & bit]
        pairs += [("phase", self.phase), ("q", self.q)]
        if self.sort != SORT_START:
            pairs.append(("sort", self.sort))
        return [(name, value) for name, value in pairs if value]


# "Ongoing" reads the end-time index when fewer rows than this end after now (after a campaign: none).
ONGOING_PROBE = 2000


def _many_end_after(campaign, now: datetime) -> bool:
    """Whether at least :data:`ONGOING_PROBE` published rows (of ``campaign``) end after ``now``:
    one index-only probe of ``act_ends_idx``."""
    rows = Activity.objects.filter(status=Status.PUBLISHED)
    if campaign is not None:
        rows = rows.filter(campaign=campaign)
    return _ends_late(rows, now)


def _ends_late(rows: QuerySet, now: datetime) -> bool:
    """Whether the :data:`ONGOING_PROBE`-th latest end of ``rows`` is at or after ``now``: the index
    read backwards by end time, ``ONGOING_PROBE`` entries. (``rows.filter(ends_at__gte=now)[:N]
    .count()`` kept the model's start-time ordering and sorted every later-ending row: 4.6 s at
    500,000 rows — most of what "ongoing" used to cost.)"""
    nth = rows.order_by("-ends_at").values_list("ends_at", flat=True)[ONGOING_PROBE - 1 : ONGOING_PROBE]
    latest = list(nth)
    return bool(latest) and latest[0] >= now


def _in_phase(queryset: QuerySet, phase: Phase, now: datetime, *, busy: bool | None = None) -> QuerySet:
    """Restrict to activities upcoming / ongoing / ended at ``now``, steering SQLite to the right
    index (its planner has no statistics; PostgreSQL's does and is left to choose).

    Measured at 500,000 rows on SQLite, left to itself: "ended" took the end-time index and sorted
    every row (2.7 s); "ongoing" walked the whole start-time index after the campaign (2.7 s).
    Here "ended" walks the list index in start order (most rows qualify), and "ongoing" starts from
    the end-time index when few rows end after ``now`` (``busy`` false; ``None``: probe here), else
    — during the campaign, where walking the list index read every started row (p50 9 s on SQLite,
    4 s on PostgreSQL) — reads one start range per duration class (:func:`~.spans.ongoing_q`).
    """
    if phase == Phase.UPCOMING:
        return queryset.filter(starts_at__gt=now)
    if phase == Phase.ENDED:
        return _unindexed(queryset, "ends_at", "lt", now)
    ending_later = queryset.filter(ends_at__gte=now)
    if busy is None:
        busy = _ends_late(queryset, now)
    if not busy:
        return _unindexed(ending_later, "starts_at", "lte", now)
    # During the campaign: one short start range per duration class on ``act_ongoing_idx``, so the
    # rows read are about twice the rows ongoing, not every started row (issue 17 §2, spans.py).
    ongoing = queryset.filter(ongoing_q(now))
    if connections[queryset.db].vendor == "postgresql":
        # PostgreSQL overestimates the matches (54,000 for 8,800) and would walk act_list_idx in
        # start order through every started row (2.6 s); an order no index provides leaves it the
        # per-class ranges (BitmapOr) and a sort of the few thousand ongoing rows, as for searches.
        ongoing = ongoing.alias(**{SORT_MATCHES: Value(True)})
    return ongoing


def _unindexed(queryset: QuerySet, field_name: str, lookup: str, value, output_field=None) -> QuerySet:
    """``queryset.filter(<field>__<lookup>=value)`` tested row by row rather than through an
    index on SQLite (SQLite's unary ``+`` is a no-op that keeps the column off the index)."""
    if connections[queryset.db].vendor != "sqlite":
        return queryset.filter(**{f"{field_name}__{lookup}": value})
    alias = f"_plain_{field_name}"
    return queryset.alias(
        **{
            alias: Func(
                F(field_name), template="+%(expressions)s", output_field=output_field or DateTimeField()
            )
        }
    ).filter(**{f"{alias}__{lookup}": value})


def _one(params: Mapping, name: str, *, normalize: bool = True) -> str:
    """The last value of ``name`` (as ``QueryDict.get`` does), NFKC-normalised and stripped."""
    values = _many(params, name, normalize=normalize)
    return values[-1] if values else ""


def _many(params: Mapping, name: str, *, normalize: bool = True) -> list[str]:
    if hasattr(params, "getlist"):
        raw = params.getlist(name)
    else:
        raw = params.get(name, [])
        raw = [raw] if isinstance(raw, str) else list(raw)
    values = []
    for item in raw:
        # Control characters (NUL: PostgreSQL refuses it in text) are never part of a parameter.
        text = strip_controls(str(item), multiline=False)
        # NFKC folds full-width letters and digits (a Chinese input method types them), but not a
        # value holding ² ① ½ or another script's digits: those are refused by the strict parsers.
        text = unicodedata.normalize("NFKC", text) if normalize and not _exotic_digits(text) else text
        for part in text.split(",") if normalize else [text]:
            if part.strip():
                values.append(part.strip())
    return values


def _exotic_digits(text: str) -> bool:
    """Whether ``text`` holds a numeric character other than ASCII and full-width digits."""
    return not text.isascii() and any(
        unicodedata.category(ch) in ("Nd", "No", "Nl") and not ("０" <= ch <= "９") and not ch.isascii()
        for ch in text
    )


def _parse_date(value: str) -> date | None:
    """A date in any of ``parse_date``'s spellings (ASCII or full-width digits only), whatever its
    year (the caller says when it is out of range); ``None`` when it is no date."""
    try:
        return parse_date(value)
    except ValidationError as exc:
        if exc.code != "date_range":
            return None
    match = _DATE.fullmatch(value.strip())
    if not match or not all(part.isascii() for part in match.groups()):
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _parse_bit(value: str, choices) -> int | None:
    """A member of ``choices`` (an ``IntegerChoices`` of bits) by value, name or label."""
    number = int_or_none(value, min_value=0)
    if number is not None:
        return number if number in choices.values else None
    if value.isdigit():  # ² ① ٣: digits to isdigit(), not to int()
        return None
    for member in choices:
        if value.lower() == member.name.lower() or value == member.label:
            return member.value
    return None


@dataclass
class Page:
    """One page of a list.

    ``items`` are activities with their joint action, brand, organizer and region loaded.
    ``next_cursor`` / ``prev_cursor`` are opaque tokens for ``list_activities(cursor=…)`` (``None``
    at either end). ``number`` is the 1-based page number when it is known (first page, ``?page=N``
    and every page reached from them by cursor). ``messages`` explain ignored parameters.
    """

    items: list[Activity]
    next_cursor: str | None = None
    prev_cursor: str | None = None
    number: int | None = None
    messages: list[str] = field(default_factory=list)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_prev(self) -> bool:
        return self.prev_cursor is not None


@dataclass
class OngoingRows:
    """A list filtered by "ongoing" during the campaign, read one duration class at a time
    (:func:`~kepuyue.activities.spans.ongoing_keys`): ``base`` holds every other filter, ``now`` the
    instant. What :func:`filter_activities` returns for a page (``split_ongoing=True``)."""

    base: QuerySet
    now: datetime

    def queryset(self) -> QuerySet:
        """The same rows as one ordered queryset (a ``?page=N`` deep link skips through it)."""
        rows = _in_phase(self.base, Phase.ONGOING, self.now, busy=True)
        return order_by_start(search_activities(rows, ""))


def filter_activities(
    activity_filter: ActivityFilter,
    *,
    campaign=None,
    queryset: QuerySet | None = None,
    paged: bool = True,
    split_ongoing: bool = False,
):
    """The activities matching ``activity_filter``, ordered by its sort; ``(queryset, messages)``.

    ``queryset`` defaults to the published activities (``status="published"``); pass another one
    (e.g. an organization's own activities) to filter that instead. ``campaign`` (a
    :class:`~kepuyue.campaigns.models.Campaign`, or ``None`` for all campaigns) scopes the rows and
    the slugs. A slug that names no joint action or brand is ignored and reported in
    ``messages``; the filter's own parse messages are not repeated here. Order: ``starts_at, id``,
    or best match first for ``sort="relevance"`` (ties by ``starts_at, id``). ``paged=True`` means
    the caller reads only the first rows (a page): a search for a common word then walks the
    list's index; pass ``False`` to read every row (a count, an export).
    """
    from kepuyue.campaigns.models import Brand, JointAction

    messages: list[str] = []
    now = clock.now()
    # "Ongoing" while many rows end later (the campaign is on) reads act_ongoing_idx (span_class
    # first); SQLite, with no statistics, would rather walk the list index by campaign and status,
    # so those two are then tested on the rows it reads.
    busy = activity_filter.phase == Phase.ONGOING and _many_end_after(campaign, now)
    # A page of "ongoing" in start order reads each duration class's first rows on
    # act_ongoing_list_idx (campaign and status first): no steering then.
    split = (
        split_ongoing
        and busy
        and campaign is not None
        and not query_words(activity_filter.q)
        and activity_filter.sort == SORT_START
    )
    steer = busy and not split and queryset is None and connections[Activity.objects.db].vendor == "sqlite"
    # Each class's range of that index reads rows in list order until a page matches, so a coarse
    # filter (a province, a joint action, a brand) costs a few hundred rows a class. SQLite's planner,
    # unaware of the LIMIT, would rather take the filter's own index and read *every* row of the
    # province (or joint action) in the class's start range: 0.1–1.1 s at 500,000 activities. Those
    # filters are then tested on the rows read; a county or a city is narrow enough for its own index.
    plain_filters = (
        split
        and connections[Activity.objects.db].vendor == "sqlite"
        and not activity_filter.county
        and not activity_filter.city
    )

    def narrow(rows: QuerySet, field_name: str, lookup: str, value, output_field) -> QuerySet:
        if plain_filters:
            return _unindexed(rows, field_name, lookup, value, output_field)
        return rows.filter(**{f"{field_name}__{lookup}": value})

    if queryset is None:
        queryset = Activity.objects.all()
        if steer:
            queryset = _unindexed(queryset, "status", "exact", Status.PUBLISHED, CharField())
        else:
            queryset = queryset.filter(status=Status.PUBLISHED)
    if campaign is not None:
        if steer:
            queryset = _unindexed(queryset, "campaign_id", "exact", campaign.pk, IntegerField())
        else:
            queryset = queryset.filter(campaign=campaign)

    joint_action_ids: list[int] = []
    if activity_filter.joint_action == NO_JOINT_ACTION:
        queryset = queryset.filter(joint_action__isnull=True)
    elif activity_filter.joint_action:
        actions = JointAction.objects.filter(slug=activity_filter.joint_action)
        if campaign is not None:
            actions = actions.filter(campaign=campaign)
        joint_action_ids = list(actions.values_list("id", flat=True))
        if joint_action_ids:
            queryset = narrow(queryset, "joint_action_id", "in", joint_action_ids, IntegerField())
        else:
            messages.append(
                Notice(
                    _("没有找到联合行动“%(slug)s”，已忽略。") % {"slug": activity_filter.joint_action},
                    "joint_action",
                )
            )
    if activity_filter.brand:
        brands = Brand.objects.filter(slug=activity_filter.brand)
        if campaign is not None:
            brands = brands.filter(joint_action__campaign=campaign)
        if joint_action_ids:
            brands = brands.filter(joint_action_id__in=joint_action_ids)
        brand_ids = list(brands.values_list("id", flat=True))
        if brand_ids:
            queryset = narrow(queryset, "brand_id", "in", brand_ids, IntegerField())
        else:
            messages.append(
                Notice(_("没有找到品牌活动“%(slug)s”，已忽略。") % {"slug": activity_filter.brand}, "brand")
            )

    if activity_filter.county:
        queryset = queryset.filter(county_code=activity_filter.county)
    if activity_filter.city:
        queryset = queryset.filter(prefecture_code=activity_filter.city)
    if activity_filter.province:
        queryset = narrow(queryset, "province_code", "exact", activity_filter.province, CharField())

    # An activity is "in" the range when it overlaps it: a 9/15–9/25 exhibition is on 9/20.
    if activity_filter.date_to:
        queryset = queryset.filter(starts_at__lte=clock.end_of_day(activity_filter.date_to))
    if activity_filter.date_from:
        queryset = queryset.filter(ends_at__gte=clock.start_of_day(activity_filter.date_from))

    if activity_filter.form:
        queryset = queryset.filter(form=activity_filter.form)
    if activity_filter.audiences:
        queryset = queryset.alias(_audience_bits=F("audiences").bitand(activity_filter.audiences)).exclude(
            _audience_bits=0
        )
    if activity_filter.topics:
        queryset = queryset.alias(_topic_bits=F("topics").bitand(activity_filter.topics)).exclude(
            _topic_bits=0
        )

    if split:
        return OngoingRows(base=queryset.order_by(), now=now), messages
    if activity_filter.phase:
        queryset = _in_phase(queryset, Phase(activity_filter.phase), now, busy=busy)

    relevance = activity_filter.sort == SORT_RELEVANCE
    queryset = search_activities(queryset, activity_filter.q, in_index_order=paged)
    queryset = order_by_relevance(queryset) if relevance else order_by_start(queryset)
    return queryset, messages


def list_activities(
    activity_filter: ActivityFilter,
    *,
    campaign=None,
    cursor: str | None = None,
    page: int | str | None = None,
    limit: int = DEFAULT_LIMIT,
    queryset: QuerySet | None = None,
    card_fields: tuple[str, ...] | None = None,
) -> Page:
    """One page of published activities of ``campaign`` matching ``activity_filter``.

    ``cursor`` is a token from a previous :class:`Page` (``next_cursor`` or ``prev_cursor``);
    ``page`` a 1-based page number from a deep link (used when there is no cursor; at most
    :data:`MAX_PAGE`). ``limit`` is the page size (1–100). ``queryset`` replaces the published
    activities (the open API lists a unit's own activities of every status this way).
    ``card_fields`` loads only those columns of the cards (``QuerySet.only`` names, the
    ``CARD_RELATED`` relations' included); the default loads every column but ``search_text``. A tampered, expired or foreign cursor,
    or a bad page number, gives the first page and a message. Queries: one per slug filter
    given, one for a ``page`` deep link, two for the page itself (its ids, then its cards).
    """
    number = int_or_none(limit)
    limit = max(1, min(DEFAULT_LIMIT if number is None else number, MAX_LIMIT))
    queryset, messages = filter_activities(
        activity_filter, campaign=campaign, queryset=queryset, split_ongoing=True
    )
    messages = [*activity_filter.messages, *messages]
    relevance = activity_filter.sort == SORT_RELEVANCE

    position = _read_cursor(cursor, relevance, messages) if cursor else None
    if position is None and page not in (None, ""):
        number = _page_number(page, messages)
        if number and number > 1:
            ordered = queryset.queryset() if isinstance(queryset, OngoingRows) else queryset
            position = _position_of_page(ordered, number, limit, relevance)
            if position is None:
                messages.append(_("没有第 %(n)d 页，已显示第一页。") % {"n": number})

    if position is None:
        return _forward(queryset, limit, relevance, messages, after=None, number=1, fields=card_fields)
    if position["d"] == "p":
        return _backward(queryset, limit, relevance, messages, before=position, fields=card_fields)
    return _forward(
        queryset, limit, relevance, messages, after=position, number=position.get("n"), fields=card_fields
    )


def count_activities(activity_filter: ActivityFilter, *, campaign=None) -> int:
    """How many published activities match (an exact ``COUNT``: it reads every matching index
    entry, so call it for the numbers on a summary, not for every page view)."""
    queryset, _messages = filter_activities(activity_filter, campaign=campaign, paged=False)
    return queryset.order_by().count()


# --- keyset machinery -------------------------------------------------------------------------
# A position is a dict: {"d": "n"|"p" (items after / before it), "n": page number of the page it
# leads to or None, and either "t"/"i" (starts_at ISO, id) for sort=start or "o" (offset) for
# sort=relevance}.


def _make_cursor(position: dict) -> str:
    return signing.dumps(position, salt=CURSOR_SALT, compress=True)


def _read_cursor(token: str, relevance: bool, messages: list[str]) -> dict | None:
    try:
        position = signing.loads(token, salt=CURSOR_SALT)
        if not isinstance(position, dict) or position.get("d") not in ("n", "p"):
            raise ValueError(token)
        if position.get("n") is not None and not isinstance(position["n"], int):
            raise ValueError(token)
        if relevance:
            if not isinstance(position.get("o"), int) or position["o"] < 0:
                raise ValueError(token)
        else:
            if not isinstance(position.get("i"), int) or not isinstance(position.get("t"), str):
                raise ValueError(token)
            position["t"] = datetime.fromisoformat(position["t"])
        return position
    except (signing.BadSignature, ValueError, TypeError):
        messages.append(Notice(_("翻页链接无效或已过期，已显示第一页。"), "cursor"))
        return None


def _key(activity: Activity) -> dict:
    return {"t": activity.starts_at.isoformat(), "i": activity.id}


def _page_number(value: int | str, messages: list[str]) -> int | None:
    number = int_or_none(value)
    if number is None or number < 1:
        messages.append(Notice(_("页码“%(value)s”无效，已显示第一页。") % {"value": str(value)[:40]}, "page"))
        return None
    if number > MAX_PAGE:
        messages.append(
            _("最多可直接跳转到第 %(max)d 页，请缩小筛选范围或使用“下一页”。") % {"max": MAX_PAGE}
        )
        return None
    return number


def _position_of_page(queryset: QuerySet, number: int, limit: int, relevance: bool) -> dict | None:
    """The cursor position just before page ``number``, found by skipping index entries only."""
    skip = (number - 1) * limit
    if relevance:
        return {"d": "n", "n": number, "o": skip} if queryset.values("id")[skip : skip + 1].exists() else None
    # Only (starts_at, id) are read, so the skip walks the (…, starts_at, id) index without
    # touching table rows or the card joins. Two rows: the last one before the page (the
    # position) and the page's first one (so that the page is not empty).
    rows = list(queryset.values_list("starts_at", "id")[skip - 1 : skip + 1])
    if len(rows) < 2:
        return None
    return {"d": "n", "n": number, "t": rows[0][0], "i": rows[0][1]}


def _after(queryset: QuerySet, starts_at: datetime, pk: int) -> QuerySet:
    # (starts_at, id) > (t, i), written so both databases range-scan the index on starts_at.
    return queryset.filter(starts_at__gte=starts_at).filter(Q(starts_at__gt=starts_at) | Q(id__gt=pk))


def _before(queryset: QuerySet, starts_at: datetime, pk: int) -> QuerySet:
    return queryset.filter(starts_at__lte=starts_at).filter(Q(starts_at__lt=starts_at) | Q(id__lt=pk))


def _cards(queryset: QuerySet, fields: tuple[str, ...] | None = None) -> list[Activity]:
    """The activities of a sliced, ordered queryset, with what a card shows, in two queries.

    The first reads only ids — for a plain list an index-only scan, for a search the matches
    without any join — and the second loads the page's cards by primary key. One query with the
    joins would make the database join every match before sorting: 25,000 matches of a popular
    word at 500,000 rows cost hundreds of milliseconds that way.

    The second query has no ``ORDER BY`` (the first one's order is kept in Python): sorting 21 rows
    cost nothing in the database, but compiling the ordering was a tenth of the ORM's time.
    """
    return cards_of(list(queryset.values_list("id", flat=True)), fields)


def cards_of(keys: list[int], fields: tuple[str, ...] | None = None) -> list[Activity]:
    """The activities of ``keys``, in that order, with what a card shows (one query; only
    ``fields`` when given, see :func:`list_activities`)."""
    cards = Activity.objects.select_related(*CARD_RELATED).order_by()
    cards = cards.only(*fields) if fields else cards.defer("search_text")
    cards = cards.in_bulk(keys)
    return [cards[key] for key in keys if key in cards]


def _forward(
    queryset, limit, relevance, messages, *, after: dict | None, number: int | None, fields=None
) -> Page:
    offset = 0
    if relevance:
        offset = after["o"] if after else 0
        rows = _cards(queryset[offset : offset + limit + 1], fields)
    elif isinstance(queryset, OngoingRows):
        position = (after["t"], after["i"]) if after else None
        rows = cards_of(ongoing_keys(queryset.base, queryset.now, limit=limit + 1, after=position), fields)
    else:
        if after:
            queryset = _after(queryset, after["t"], after["i"])
        rows = _cards(queryset[: limit + 1], fields)
    items, more = rows[:limit], len(rows) > limit
    page = Page(items=items, number=number, messages=messages)
    next_number = number + 1 if number else None
    prev_number = number - 1 if number and number > 1 else None
    if relevance:
        if more:
            page.next_cursor = _make_cursor({"d": "n", "n": next_number, "o": offset + limit})
        if offset > 0:
            page.prev_cursor = _make_cursor({"d": "p", "n": prev_number, "o": offset})
        return page
    if more:
        page.next_cursor = _make_cursor({"d": "n", "n": next_number, **_key(items[-1])})
    if after and items:
        page.prev_cursor = _make_cursor({"d": "p", "n": prev_number, **_key(items[0])})
    elif after:
        # Past the end (rows deleted since the link was made): offer the way back.
        page.prev_cursor = _make_cursor(
            {"d": "p", "n": prev_number, "t": after["t"].isoformat(), "i": after["i"]}
        )
    return page


def _backward(queryset, limit, relevance, messages, *, before: dict, fields=None) -> Page:
    number = before.get("n")
    if relevance:
        start = max(0, before["o"] - limit)
        return _forward(
            queryset,
            limit,
            relevance,
            messages,
            after={"o": start},
            number=1 if start == 0 else number,
            fields=fields,
        )
    if isinstance(queryset, OngoingRows):
        position = (before["t"], before["i"])
        rows = cards_of(
            ongoing_keys(queryset.base, queryset.now, limit=limit + 1, descending=True, before=position),
            fields,
        )
    else:
        rows = _cards(_before(queryset, before["t"], before["i"]).reverse()[: limit + 1], fields)
    more = len(rows) > limit
    items = list(reversed(rows[:limit]))
    if not more:
        # Reached the start: serve a full first page (rows may have been added meanwhile).
        return _forward(queryset, limit, relevance, messages, after=None, number=1, fields=fields)
    page = Page(items=items, number=number, messages=messages)
    prev_number = number - 1 if number and number > 1 else None
    next_number = number + 1 if number else None
    page.prev_cursor = _make_cursor({"d": "p", "n": prev_number, **_key(items[0])})
    page.next_cursor = _make_cursor({"d": "n", "n": next_number, **_key(items[-1])})
    return page
