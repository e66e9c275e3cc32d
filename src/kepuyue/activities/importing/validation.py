"""Row validation for the import: one file row → activity values, with every problem reported
by row and column; the activity rules are those of ``kepuyue.activities.services``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from kepuyue.common import clock

from .. import services
from ..models import Form
from .cells import (
    _AUDIENCE_KEYS,
    _SPECIAL_AREA_KEYS,
    _TOPIC_KEYS,
    CAMPAIGN_WIDE_KEYS,
    CAMPAIGN_WIDE_WARNING,
    FORM_WORDS,
    ORGANIZATION_TYPE_NAMES,
    WARNING,
    DateProblem,
    _aware,
    _words_to_bits,
    first_unit,
    key,
    nfkc,
    odd_digits,
    organization_type_for,
    parse_when,
    read_count,
    shown,
    soft,
    soft_multiline,
)
from .reading import Formula, formula_problem


@dataclass
class Row:
    """A valid row: its values for Activity (model field names), its organizer and its file row."""

    number: int
    values: dict
    organizer_id: int | None
    organizer_name: str
    # Values the importer filled in rather than read (a date-only start or end): they never
    # replace a real time of an existing activity.
    defaults: frozenset = frozenset()


@dataclass
class Result:
    """What reading the file found: issues, row counts, the valid rows (when kept)."""

    issues: list[dict] = field(default_factory=list)
    total: int = 0
    valid: int = 0
    failed_rows: set = field(default_factory=set)


class RowReader:
    """The row checks of :class:`~kepuyue.activities.importing.jobs.Importer` (mixed into it)."""

    def read_row(self, number: int, cells: dict) -> Row | None:
        """Turn one file row into activity values, reporting every problem; ``None`` if it fails."""
        errors_before = len(self.result.failed_rows)
        formulas = [name for name, value in cells.items() if isinstance(value, Formula)]
        if formulas:
            # Its value would be empty or stale (nothing computes it): the row is refused, the
            # user pastes values (issue: a =HYPERLINK title was reported as “活动名称为空”).
            for name in formulas:
                column = self.header_of(name)
                self.issue(number, column, cells[name], formula_problem(column, number))
            return None
        v: dict = {}
        title = soft(cells.get("title"))
        if not title:
            self.issue(number, self.header_of("title"), "", _("活动名称为空"))
        v["title"] = title  # its length: ``check_texts``, the services' rule

        organizer_id, organizer_name, organizer_type = self.read_organizer(number, cells, v)
        errors_before_marks = self.errors
        action, brand, task = self.read_marks(number, cells, organizer_type, organizer_name)
        marks_failed = self.errors > errors_before_marks or (action is None and not organizer_name)
        v["joint_action_id"] = action.pk if action else None
        v["campaign_id"] = action.campaign_id if action else self.campaign.pk
        v["brand_id"] = brand.pk if brand else None
        v["key_task_id"] = task.pk if task else None
        # A row whose marks failed has no known window: its dates are checked for order only, not
        # against the campaign month (which would mislead for a joint action of 7—10月).
        self.read_dates(number, cells, action, v, campaign=None if marks_failed else self.campaign)
        self.read_form(number, cells, v)
        self.read_place(number, cells, v)
        self.read_words(number, cells, v)
        self.read_plain(number, cells, v)
        self.check_texts(number, v)

        if len(self.result.failed_rows) > errors_before or number in self.result.failed_rows:
            return None
        identity = (
            (organizer_id or key(organizer_name), v["external_id"])
            if v["external_id"]
            else (
                organizer_id or key(organizer_name),
                v["title"],
                v["starts_at"],
            )
        )
        earlier = self.seen.get(identity)
        if earlier is not None:
            what = _("活动编号") if v["external_id"] else _("主办单位、活动名称和开始时间")
            self.issue(
                number,
                self.header_of("title"),
                title,
                _("与第%(row)d行是同一活动（%(what)s相同），已跳过") % {"row": earlier, "what": what},
            )
            return None
        self.seen[identity] = number
        return Row(number, v, organizer_id, organizer_name, frozenset(v.pop("_defaults", ())))

    def read_organizer(self, number: int, cells: dict, v: dict) -> tuple[int | None, str, str | None]:
        if self.organization is not None:
            return self.organization.pk, self.organization.name, self.organization.type_id
        raw = soft(cells.get("organizer"))
        if not raw and self.default_organizer is not None:
            return self.default_organizer.pk, self.default_organizer.name, self.default_organizer.type_id
        if not raw:
            self.issue(
                number,
                self.header_of("organizer"),
                "",
                _("主办单位为空（管理员导入需按主办单位确定活动归属）"),
            )
            return None, "", None
        name = first_unit(raw)
        if not name:
            self.issue(number, self.header_of("organizer"), raw, _("无法从主办单位中读出单位名称"))
            return None, "", None
        if len(name) > 200:
            self.issue(number, self.header_of("organizer"), raw, _("主办单位名称超过200字"))
            return None, "", None
        if name != raw and not soft(cells.get("co_organizers")):
            v["co_organizers"] = raw[:500]
        found = self.org_ids.get(key(name))
        kind = self.org_types.get(key(name)) or organization_type_for(name)
        return found, name, kind

    def read_marks(self, number: int, cells: dict, organizer_type: str | None, organizer_name: str):
        """``(joint_action, brand, key_task)`` of a row; a joint action of ``None`` on a row that did
        not fail is a campaign-wide activity (全国科普月活动): marked so in the 联合行动 column
        (``CAMPAIGN_WIDE_NAMES``, what the export writes), or unmarked and reported as a warning."""
        action = brand = task = None
        unknown_brand = ""
        action_text = soft(cells.get("joint_action"))
        brand_text = soft(cells.get("brand"))
        task_text = soft(cells.get("key_task"))
        if action_text and key(action_text) in CAMPAIGN_WIDE_KEYS:
            if brand_text:
                candidates = self.brands_by_key.get(key(brand_text), [])
                if candidates:
                    self.issue(
                        number, self.header_of("brand"), brand_text, services.brand_error(candidates[0], None)
                    )
                    return None, None, None
                self.issue(
                    number,
                    self.header_of("brand"),
                    brand_text,
                    _("未识别的品牌活动，已留空（全国科普月活动不属于联合行动，没有品牌活动）"),
                    WARNING,
                )
            if task_text:
                self.issue(
                    number,
                    self.header_of("key_task"),
                    task_text,
                    _("全国科普月活动不属于联合行动，重点任务已留空"),
                    WARNING,
                )
            return None, None, None
        if action_text:
            action = self.action_by_key.get(key(action_text))
            if action is None:
                action = next(
                    (
                        a
                        for k, a in self.action_by_key.items()
                        if len(k) > 3 and (k in key(action_text) or key(action_text) in k)
                    ),
                    None,
                )
            if action is None:
                names = "、".join(a.name for a in self.actions)
                self.issue(
                    number,
                    self.header_of("joint_action"),
                    action_text,
                    _("未识别的联合行动（可选：%(names)s）") % {"names": names},
                )
                return None, None, None
        if brand_text:
            candidates = self.brands_by_key.get(key(brand_text), [])
            if action is not None:
                inside = [b for b in candidates if b.joint_action_id == action.pk]
                if candidates and not inside:
                    self.issue(
                        number,
                        self.header_of("brand"),
                        brand_text,
                        services.brand_error(candidates[0], action),
                    )
                    return action, None, None
                candidates = inside
            if len(candidates) == 1:
                brand = candidates[0]
                if action is None:
                    action = next(a for a in self.actions if a.pk == brand.joint_action_id)
            elif len(candidates) > 1:
                self.issue(
                    number,
                    self.header_of("brand"),
                    brand_text,
                    _("品牌活动名称对应多个联合行动，请填写“联合行动”列"),
                )
                return action, None, None
            else:
                unknown_brand = brand_text
        if action is None and not organizer_name:
            return None, None, None  # the row already failed for its missing organizer
        if action is None:
            kinds = self.actions_by_type.get(organizer_type or "", [])
            if len(kinds) == 1:
                action = kinds[0]
            else:
                type_name = self.type_names.get(
                    organizer_type or "",
                    ORGANIZATION_TYPE_NAMES.get(organizer_type or "", organizer_type or ""),
                )
                if kinds:
                    reason = CAMPAIGN_WIDE_WARNING + _(
                        "（主办单位类型“%(type)s”可参加%(names)s，如属其中之一请填写“联合行动”列）"
                    ) % {"type": type_name, "names": "、".join(a.name for a in kinds)}
                else:
                    reason = CAMPAIGN_WIDE_WARNING + _(
                        "（主办单位“%(org)s”类型“%(type)s”不属于任何联合行动的参与对象；如属联合行动请填写“联合行动”或“品牌活动”列）"
                    ) % {"org": organizer_name, "type": type_name or "-"}
                self.issue(number, self.header_of("joint_action"), action_text, reason, WARNING)
                if unknown_brand:
                    self.issue(
                        number,
                        self.header_of("brand"),
                        unknown_brand,
                        _("未识别的品牌活动，已留空（品牌须是方案中的品牌活动）"),
                        WARNING,
                    )
                if task_text:
                    self.issue(
                        number,
                        self.header_of("key_task"),
                        task_text,
                        _("全国科普月活动不属于联合行动，重点任务已留空"),
                        WARNING,
                    )
                return None, None, None
        if task_text:
            task = self.tasks_by_key.get((action.pk, key(task_text)))
            if task is None:
                self.issue(
                    number,
                    self.header_of("key_task"),
                    task_text,
                    _("不是%(action)s的重点任务，已留空") % {"action": action.name},
                    WARNING,
                )
        if task is None and brand is not None and brand.key_task_id:
            task = next((t for t in action.key_tasks.all() if t.pk == brand.key_task_id), None)
        # Plan 八(一): a row of a joint action with brands must name one; the error suggests one from the
        # title and summary (never applied: the unit decides and imports again).
        required = services.brand_required_error(
            brand, action, title=soft(cells.get("title")) or "", summary=soft(cells.get("summary")) or ""
        )
        if required:
            if unknown_brand:
                required = _("未识别的品牌活动“%(text)s”；") % {"text": unknown_brand[:100]} + required
            self.issue(number, self.header_of("brand"), unknown_brand, required)
        elif unknown_brand:
            self.issue(
                number,
                self.header_of("brand"),
                unknown_brand,
                _("未识别的品牌活动，已留空（品牌须是方案中的品牌活动）"),
                WARNING,
            )
        return action, brand, task

    def read_dates(self, number: int, cells: dict, action, v: dict, *, campaign=None) -> None:
        start_raw, end_raw, when_raw = (
            cells.get("start"),
            cells.get("end"),
            cells.get("when"),
        )
        start = end = None
        year = self.year
        failed = False
        try:
            start = parse_when(start_raw, year=year)
        except DateProblem as exc:
            self.issue(number, self.header_of("start"), start_raw, str(exc))
            failed = True
        try:
            end = parse_when(end_raw, year=start.start.year if start else year)
        except DateProblem as exc:
            self.issue(number, self.header_of("end"), end_raw, str(exc))
            failed = True
        if failed:
            return  # every date problem of the row is reported above; nothing to check further
        column = self.header_of("start")
        if start is None and when_raw is not None:
            column = self.header_of("when")
            try:
                start = parse_when(when_raw, year=year)
            except DateProblem as exc:
                self.issue(number, column, when_raw, str(exc))
                return
        if start is None:
            if end is not None:
                self.issue(number, self.header_of("start"), "", _("开始时间为空（只填写了结束时间）"))
            else:
                self.issue(number, self.header_of("start"), "", _("开始时间为空"))
            return
        starts_at = _aware(start.start, start.start_time, end=False)
        if end is not None:
            ends_at = _aware(
                end.start if end.end is None else end.end,
                end.start_time if end.end is None else end.end_time,
                end=True,
            )
            if start.end is not None:
                self.issue(number, column, start_raw, _("开始时间是一个时间段，已取其开始"), WARNING)
        elif start.end is not None:
            ends_at = _aware(start.end, start.end_time, end=True)
        else:
            ends_at = clock.end_of_day(start.start.date())
            if "end" in self.present:
                self.issue(number, self.header_of("end"), "", _("结束时间为空，按开始当天结束处理"), WARNING)
        v["starts_at"], v["ends_at"] = starts_at, ends_at
        if end is not None:
            timed_end = end.end_time if end.end is not None else end.start_time
        else:
            timed_end = start.end is not None and start.end_time
        defaults = set() if start.start_time else {"starts_at"}
        if not timed_end:
            defaults.add("ends_at")
        v["_defaults"] = defaults
        if not start.start_time and timed_end:
            self.issue(
                number,
                self.header_of("start"),
                start_raw,
                _("开始只有日期、结束有具体时间：开始按当天0点计，请补上开始时间"),
                WARNING,
            )
        if ends_at == starts_at:
            self.issue(
                number,
                self.header_of("end"),
                end_raw,
                _("活动时长为零（开始和结束时间相同），请核对结束时间"),
                WARNING,
            )
        tolerance = self.tolerance if campaign is not None or action is not None else 0
        problems = services.date_errors(
            starts_at, ends_at, action, campaign=campaign, tolerance_days=tolerance
        )
        for name, message in problems:
            self.issue(
                number,
                self.header_of("start" if name == "starts_at" else "end"),
                start_raw if name == "starts_at" else end_raw,
                message,
            )
        if not problems and tolerance and (action is not None or campaign is not None):
            for note in services.window_notes(starts_at, ends_at, action, campaign=campaign):
                self.issue(number, self.header_of("start"), start_raw, note, WARNING)

    def read_form(self, number: int, cells: dict, v: dict) -> None:
        raw = cells.get("form")
        text = key(nfkc(raw))
        if not text:
            v["form"] = Form.OFFLINE
            if "form" in self.present:
                self.issue(number, self.header_of("form"), "", _("活动形式为空，按线下处理"), WARNING)
        elif text in FORM_WORDS:
            v["form"] = FORM_WORDS[text]
        elif "线上" in text and "线下" in text:
            v["form"] = Form.HYBRID
        else:
            self.issue(number, self.header_of("form"), raw, _("活动形式应为线下、线上或线上线下结合"))
            v["form"] = Form.OFFLINE
        v["online_url"] = nfkc(cells.get("online_url"))
        if message := services.online_url_error(v["form"], v["online_url"]):
            self.issue(number, self.header_of("online_url"), v["online_url"], message)

    def resolve(self, province: str, city: str, county: str):
        """``(region, warning)`` for place names, cached per combination (``regions.resolve_place``)."""
        cache_key = (province, city, county)
        if cache_key in self._places:
            return self._places[cache_key]
        from kepuyue.regions.services import resolve_place

        match = resolve_place(province, city, county)
        warning = None
        if match is None:
            answer = (None, None)
        else:
            region = self.regions.get(match.region.code, match.region)
            wanted = 3 if county else 2 if city else 1
            finest = key(county or city or province)
            # 北京市/北京市, 香港特别行政区/香港: the finer part names the same place, nothing lost.
            same_place = finest and (
                key(region.name).startswith(finest) or finest.startswith(key(region.name))
            )
            if match.unresolved:
                warning = _("“%(parts)s”未能识别，地区记为%(region)s") % {
                    "parts": "、".join(match.unresolved),
                    "region": region.full_name,
                }
            elif region.level < wanted and not same_place:
                warning = _("未能定位到单个%(level)s，地区记为%(region)s") % {
                    "level": "区县" if wanted == 3 else "城市",
                    "region": region.full_name,
                }
            answer = (region, warning)
        self._places[cache_key] = answer
        return answer

    def read_place(self, number: int, cells: dict, v: dict) -> None:
        code_raw = cells.get("region_code")
        region = None
        if code_raw is not None:
            code = nfkc(code_raw) if not odd_digits(str(code_raw)) else str(code_raw)
            six = code.ljust(6, "0") if re.fullmatch(r"[0-9]{2}|[0-9]{4}|[0-9]{6}", code) else ""
            region = self.regions.get(six)
            if region is None:
                self.issue(
                    number,
                    self.header_of("region_code"),
                    code,
                    _("区划代码 %(code)s 不存在（应为6位行政区划代码）") % {"code": code},
                )
        else:
            parts = [soft(cells.get(name)) for name in ("province", "city", "county")]
            if any(parts):
                region, warning = self.resolve(*parts)
                if region is None:
                    self.issue(
                        number,
                        self.header_of("province"),
                        "".join(parts),
                        _("无法识别地区“%(place)s”") % {"place": " ".join(p for p in parts if p)},
                    )
                elif warning:
                    self.issue(
                        number,
                        self.header_of("county" if parts[2] else "city"),
                        " ".join(p for p in parts if p),
                        warning,
                        WARNING,
                    )
            elif v.get("form") != Form.ONLINE and ({"province", "region_code"} & self.present):
                self.issue(number, self.header_of("province"), "", _("未填写地区"), WARNING)
        v["region_id"] = region.code if region else None
        v["province_code"], v["prefecture_code"], v["county_code"] = services.region_codes(region)

    def read_words(self, number: int, cells: dict, v: dict) -> None:
        for name, table, label in (
            ("audiences", _AUDIENCE_KEYS, "面向对象"),
            ("topics", _TOPIC_KEYS, "活动主题"),
            ("special_areas", _SPECIAL_AREA_KEYS, "特殊地区"),
        ):
            raw = soft(cells.get(name))
            value, unknown = _words_to_bits(raw, table) if raw else (0, ())
            v[name] = value
            if unknown:
                self.issue(
                    number,
                    self.header_of(name),
                    raw,
                    _("%(label)s中“%(words)s”未能识别，已忽略")
                    % {"label": label, "words": "、".join(unknown)},
                    WARNING,
                )

    def check_texts(self, number: int, v: dict) -> None:
        """The free texts of the row through ``services.clean_texts`` — the rule the form, the API and
        提交 apply (lengths, control characters, the phone number: ``12345`` is refused here, at
        validation, not later at 提交) — and stored in its clean form (a phone as ``normalize_phone``
        writes it, as the form stores it)."""
        texts = {name: v[name] for name in services.TEXT_FIELDS if name in v}
        cleaned, errors = services.clean_texts(texts)
        for name, message in errors:
            self.issue(number, self.header_of(name), texts[name], message)
        v.update(cleaned)

    def read_plain(self, number: int, cells: dict, v: dict) -> None:
        for name in ("external_id", "contact_name", "contact_phone", "venue"):
            v[name] = nfkc(cells.get(name)) if name == "external_id" else soft(cells.get(name))
        co = v.get("co_organizers") or soft(cells.get("co_organizers"))
        if len(co) > 500:
            self.issue(
                number, self.header_of("co_organizers"), co, _("协办/承办单位超过500字，已截断"), WARNING
            )
        v["co_organizers"] = co[:500]
        summary = soft(cells.get("summary"))
        description = soft_multiline(cells.get("description"))
        if len(summary) > 500:
            self.issue(
                number,
                self.header_of("summary"),
                summary,
                _("活动简介超过500字，全文放入活动详情，简介截取前500字"),
                WARNING,
            )
            description = description or summary
            summary = summary[:499] + "…"
        v["summary"], v["description"] = summary, description
        for name in services.COUNT_FIELDS:
            raw = cells.get(name)
            number_value, problem = read_count(raw)
            if problem:
                # The form refuses these: so does the import, at validation (never read -5 as 5).
                self.issue(number, self.header_of(name), shown(raw), problem)
            v[name] = number_value
        for name, bound in (("latitude", 90), ("longitude", 180)):
            raw = cells.get(name)
            value = None
            if raw is not None:
                try:
                    text = nfkc(raw) if not odd_digits(str(raw)) else ""
                    if not re.fullmatch(r"[+-]?[0-9]{1,3}(?:\.[0-9]{1,12})?", text):
                        raise InvalidOperation
                    value = Decimal(text).quantize(Decimal("0.000001"))
                    if abs(value) > bound:
                        raise InvalidOperation
                except InvalidOperation:
                    self.issue(number, self.header_of(name), raw, _("坐标无效，已留空"), WARNING)
                    value = None
            v[name] = value
