"""The programmes' rules (重点特色活动): the film catalogue and where films are showing (五(三)4), the
大师剧 repertoire and performances (二(二)2), the 星火馆 volunteer roster (二(二)1), online lecture
links (三(二)3) and the figures the dashboard measures.

Views, commands and the admin call these functions; permissions are checked by the views through
:mod:`.rules`. Every change a person makes writes an audit entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kepuyue.activities.models import Activity, Status
from kepuyue.audit.services import record
from kepuyue.common import clock
from kepuyue.common.text import clean_text

from .models import (
    Film,
    FilmCategory,
    LectureLinks,
    Performance,
    Play,
    Screening,
    Volunteer,
    VolunteerRole,
)

BEIJING = ZoneInfo("Asia/Shanghai")
#: The shared list the catalogue is seeded from (a copy of the research notes, see data/README.md).
FILM_LIST = Path(__file__).resolve().parents[3] / "data" / "films_books.md"
#: The heading of the de-duplicated title table in that file.
FILM_TABLE_HEADING = "片名去重清单"


class ProgrammeError(ValueError):
    """A change refused with a message for the person (in the active language)."""


# --- the film catalogue (五(三)4) ---------------------------------------------------------------

# Source label → tour part, first match wins. The sources' labels (“科学家精神电影 / 4D”, “科幻特效”,
# “往届影片 / 红色经典” …) name the part; 往届影片 without another word are films of the earlier
# 科学（家精神）电影巡映 rounds (2019 起), so they count with the scientist films.
CATEGORY_RULES: tuple[tuple[str, str], ...] = (
    ("红色", FilmCategory.RED),
    ("微电影", FilmCategory.SHORT),
    ("科学家精神", FilmCategory.SCIENTIST),
    ("往届影片", FilmCategory.SCIENTIST),
    ("科幻", FilmCategory.SCIFI),
    ("科普", FilmCategory.SCIFI),
    ("科学电影", FilmCategory.SCIFI),
)


def category_of(source_label: str) -> str:
    """The tour part (a :class:`FilmCategory` value) of a source label; raises ``ProgrammeError``."""
    for word, category in CATEGORY_RULES:
        if word in source_label:
            return str(category)
    raise ProgrammeError(_("无法判断影片类别：%(label)s") % {"label": source_label})


@dataclass(frozen=True)
class ListedFilm:
    title: str
    source_category: str
    years: str
    category: str


def parse_film_list(text: str) -> list[ListedFilm]:
    """The rows of the 片名去重清单 table of ``data/films_books.md`` (Markdown), in file order.

    The table is the one after the heading containing :data:`FILM_TABLE_HEADING`; its columns are
    片名 | 类别（按来源） | 出现年度. Raises ``ProgrammeError`` when the table is missing or empty."""
    lines = text.splitlines()
    start = next(
        (i for i, line in enumerate(lines) if line.startswith("#") and FILM_TABLE_HEADING in line), None
    )
    if start is None:
        raise ProgrammeError(_("影片清单中没有“%(h)s”表") % {"h": FILM_TABLE_HEADING})
    rows: list[ListedFilm] = []
    seen_table = False
    for line in lines[start + 1 :]:
        stripped = line.strip()
        if not stripped.startswith("|"):
            if seen_table:
                break
            continue
        seen_table = True
        cells = [cell.strip() for cell in stripped.strip("|").split("|")]
        if len(cells) < 3 or cells[0] == "片名" or set(cells[0]) <= {"-", ":"}:
            continue
        title, label, years = cells[0], cells[1], cells[2]
        rows.append(ListedFilm(title, label, years, category_of(label)))
    if not rows:
        raise ProgrammeError(_("影片清单为空"))
    return rows


def load_films(path: Path | str = FILM_LIST) -> dict[str, int]:
    """Seed the catalogue from the shared list (idempotent: a second run changes nothing).

    Films are matched by title; a seeded film's category and years follow the file; films added on the
    staff page are left alone. Returns ``{"created": n, "updated": n, "unchanged": n}``."""
    listed = parse_film_list(Path(path).read_text(encoding="utf-8"))
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction.atomic():
        existing = {film.title: film for film in Film.objects.filter(title__in=[f.title for f in listed])}
        for item in listed:
            values = {"category": item.category, "source_category": item.source_category, "years": item.years}
            film = existing.get(item.title)
            if film is None:
                Film.objects.create(title=item.title, seeded=True, **values)
                counts["created"] += 1
            elif any(getattr(film, k) != v for k, v in values.items()) or not film.seeded:
                for k, v in values.items():
                    setattr(film, k, v)
                film.seeded = True
                film.save()
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
    return counts


def add_film(*, title: str, category: str, description: str = "", actor) -> Film:
    """Add a film to the catalogue from the staff page (the catalogue grows toward the plan's
    7 + 39 + 22 + 10). Raises ``ProgrammeError`` for an empty or duplicate title or unknown category."""
    try:
        title = clean_text(title, max_length=100, label=_("片名")).strip("《》 ")
        description = clean_text(description, max_length=500, label=_("简介"))
    except ValidationError as exc:
        raise ProgrammeError(exc.messages[0]) from exc
    if not title:
        raise ProgrammeError(_("请填写片名"))
    if category not in FilmCategory.values:
        raise ProgrammeError(_("请选择影片类别"))
    try:
        with transaction.atomic():
            film = Film.objects.create(
                title=title, category=category, description=description, added_by=actor
            )
    except IntegrityError as exc:
        raise ProgrammeError(_("片库中已有《%(title)s》") % {"title": title}) from exc
    record("film.add", actor=actor, obj=film, data={"title": title, "category": category})
    return film


def link_screening(activity: Activity, film: Film, *, actor) -> Screening:
    """Say that ``activity`` (the unit's own, checked by the view) shows ``film``. Idempotent."""
    screening, created = Screening.objects.get_or_create(activity=activity, film=film)
    if created:
        record("film.screening", actor=actor, obj=activity, data={"film": film.title})
    return screening


def unlink_screening(screening: Screening, *, actor) -> None:
    record("film.screening_removed", actor=actor, obj=screening.activity, data={"film": screening.film.title})
    screening.delete()


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=BEIJING)
    return start, start + timedelta(days=1)


def showings(*, film: Film | None = None, province: str = "", day: date | None = None) -> QuerySet:
    """Where films are showing (放映查询): screenings of published activities, upcoming and ongoing
    first, then the ended ones (each by start). ``province`` a GB/T 2260 province code;
    ``day`` a Beijing date the screening runs on. Rows carry ``activity``, ``film`` and the organizer
    (one query with joins); slice it."""
    now = clock.now()
    qs = Screening.objects.filter(activity__status=Status.PUBLISHED).select_related(
        "film",
        "activity",
        "activity__organizer",
        "activity__organizer__long_march",
        # Whether it can be booked on the platform (报名方式), from registrations' settings row.
        "activity__registration_config",
    )
    if film is not None:
        qs = qs.filter(film=film)
    if province:
        qs = qs.filter(activity__province_code=province)
    if day is not None:
        start, end = _day_bounds(day)
        qs = qs.filter(activity__starts_at__lt=end, activity__ends_at__gte=start)
    qs = qs.annotate(
        ended=Case(
            When(activity__ends_at__lt=now, then=Value(1)), default=Value(0), output_field=IntegerField()
        )
    )
    return qs.order_by("ended", "activity__starts_at", "activity_id", "film_id")


def screened_films(activity: Activity) -> list[Film]:
    """The films ``activity`` shows (one query)."""
    return list(Film.objects.filter(screenings__activity=activity).order_by("title"))


def film_shown_counts(film_ids) -> dict[int, int]:
    """Published screenings per film (one ``GROUP BY``)."""
    rows = (
        Screening.objects.filter(film_id__in=list(film_ids), activity__status=Status.PUBLISHED)
        .values("film_id")
        .annotate(n=Count("id"))
    )
    return {row["film_id"]: row["n"] for row in rows}


# --- 科学大师剧 (二(二)2) -----------------------------------------------------------------------


def add_play(
    university, *, title: str, scientist: str, troupe: str = "", description: str = "", actor
) -> Play:
    """Add a play to the university's repertoire. Raises ``ProgrammeError`` (empty or duplicate)."""
    try:
        title = clean_text(title, max_length=100, label=_("剧目名称")).strip("《》 ")
        scientist = clean_text(scientist, max_length=100, label=_("所演科学家"))
        troupe = clean_text(troupe, max_length=100, label=_("剧团/演出团队"))
        description = clean_text(description, max_length=500, label=_("简介"))
    except ValidationError as exc:
        raise ProgrammeError(exc.messages[0]) from exc
    if not title or not scientist:
        raise ProgrammeError(_("请填写剧目名称和所演科学家"))
    try:
        with transaction.atomic():
            play = Play.objects.create(
                university=university,
                title=title,
                scientist=scientist,
                troupe=troupe,
                description=description,
            )
    except IntegrityError as exc:
        raise ProgrammeError(_("本校剧目中已有《%(title)s》") % {"title": title}) from exc
    record("play.add", actor=actor, obj=play, organization=university, data={"title": title})
    return play


def link_performance(activity: Activity, play: Play, *, actor) -> Performance:
    """Say that ``activity`` is a performance of ``play``; both must belong to the same unit."""
    if activity.organizer_id != play.university_id:
        raise ProgrammeError(_("只能把本单位的活动登记为本校剧目的演出"))
    performance, _created = Performance.objects.update_or_create(activity=activity, defaults={"play": play})
    record("play.performance", actor=actor, obj=activity, data={"play": play.title})
    return performance


# --- 千名青年共探星火馆 volunteers (二(二)1) -----------------------------------------------------


def mask_name(name: str) -> str:
    """A name as public pages show it: the first character, the rest as ``*`` (张三 → 张*, 欧阳明 → 欧**)."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * min(len(name) - 1, 3) if len(name) > 1 else "*"


_NAME_RE = re.compile(r"^[\w·•．. \-]+$")


def add_volunteer(university, campaign, *, name: str, role: str, actor) -> Volunteer:
    """Add a young volunteer to the university's roster: a name (≤ 30 characters) and a role only."""
    try:
        name = clean_text(name, max_length=30, label=_("姓名"))
    except ValidationError as exc:
        raise ProgrammeError(exc.messages[0]) from exc
    if not name or not _NAME_RE.match(name) or name.isdigit():
        raise ProgrammeError(_("请填写志愿者姓名（只写姓名，不要填写电话、证件号等）"))
    if role not in VolunteerRole.values:
        raise ProgrammeError(_("请选择志愿者身份"))
    volunteer = Volunteer.objects.create(campaign=campaign, university=university, name=name, role=role)
    record("volunteer.add", actor=actor, obj=volunteer, organization=university, data={"role": role})
    return volunteer


def remove_volunteer(volunteer: Volunteer, *, actor) -> None:
    record("volunteer.remove", actor=actor, obj=volunteer, organization=volunteer.university, data={})
    volunteer.delete()


def volunteer_counts(campaign) -> list[dict]:
    """Volunteers per university for the campaign, most first: ``[{"university_id", "university__name", "n"}]``."""
    return list(
        Volunteer.objects.filter(campaign=campaign)
        .values("university_id", "university__name")
        .annotate(n=Count("id"))
        .order_by("-n", "university__name")
    )


# --- online lectures (三(二)3) -----------------------------------------------------------------

_https = URLValidator(schemes=["https"])


def clean_link(value: str, label: str) -> str:
    """An ``https`` link of at most 500 characters, or ``""``; raises ``ProgrammeError``."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > 500:
        raise ProgrammeError(_("%(label)s不能超过500个字符") % {"label": label})
    try:
        _https(value)
    except ValidationError as exc:
        raise ProgrammeError(_("%(label)s须是以 https:// 开头的有效网址") % {"label": label}) from exc
    return value


def set_lecture_links(
    activity: Activity, *, live_url: str = "", replay_url: str = "", actor
) -> LectureLinks | None:
    """Set (or clear, with two empty links) the live and replay links of an online lecture."""
    live = clean_link(live_url, _("直播链接"))
    replay = clean_link(replay_url, _("回放链接"))
    if not live and not replay:
        LectureLinks.objects.filter(activity=activity).delete()
        record("lecture.links", actor=actor, obj=activity, data={"cleared": True})
        return None
    links, _created = LectureLinks.objects.update_or_create(
        activity=activity, defaults={"live_url": live, "replay_url": replay}
    )
    record("lecture.links", actor=actor, obj=activity, data={"live": bool(live), "replay": bool(replay)})
    return links


def replays(joint_action) -> QuerySet:
    """The replay archive of a joint action: published activities with a replay link, latest first."""
    return (
        LectureLinks.objects.filter(activity__joint_action=joint_action, activity__status=Status.PUBLISHED)
        .exclude(replay_url="")
        .select_related("activity", "activity__organizer")
        .order_by("-activity__starts_at", "-activity_id")
    )


# --- figures for the dashboard -----------------------------------------------------------------


def count_screenings(campaign_id: int, *, categories=()) -> int:
    """Published screening activities of the campaign (an activity counted once)."""
    qs = Screening.objects.filter(activity__campaign_id=campaign_id, activity__status=Status.PUBLISHED)
    if categories:
        qs = qs.filter(film__category__in=list(categories))
    return qs.values("activity_id").distinct().count()


def count_films_shown(campaign_id: int, *, categories=()) -> int:
    """Distinct films with a published screening in the campaign."""
    qs = Screening.objects.filter(activity__campaign_id=campaign_id, activity__status=Status.PUBLISHED)
    if categories:
        qs = qs.filter(film__category__in=list(categories))
    return qs.values("film_id").distinct().count()


def films_shown_by_category(campaign_id: int) -> dict[str, int]:
    """Distinct films with a published screening in the campaign, per category (one ``GROUP BY``)."""
    rows = (
        Screening.objects.filter(activity__campaign_id=campaign_id, activity__status=Status.PUBLISHED)
        .values("film__category")
        .annotate(n=Count("film_id", distinct=True))
    )
    return {row["film__category"]: row["n"] for row in rows}


def count_performances(campaign_id: int, *, exclude_brand_ids=()) -> int:
    """Published performances of 科学大师剧 in the campaign, leaving out activities marked with one of
    ``exclude_brand_ids`` (counted from the roll-ups by the dashboard)."""
    qs = Performance.objects.filter(activity__campaign_id=campaign_id, activity__status=Status.PUBLISHED)
    if exclude_brand_ids:
        qs = qs.exclude(activity__brand_id__in=list(exclude_brand_ids))
    return qs.count()


def count_volunteers(campaign_id: int) -> int:
    """Volunteers on the universities' rosters for the campaign."""
    return Volunteer.objects.filter(campaign_id=campaign_id).count()


#: Brands of the plan (slugs of ``campaigns/*.yaml``) whose programmes have pages here, with the pages.
BRAND_PAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "science-films": ((gettext_noop("“光影科学梦”哪里在放映"), "specials:films"),),
    "scientist-plays": ((gettext_noop("科学大师剧剧目与演出"), "specials:plays"),),
    "youth-explore-xinghuo": ((gettext_noop("各高校青年志愿者"), "specials:volunteers"),),
    "frontier-lectures": ((gettext_noop("讲座回放"), "specials:replays"),),
}


def programme_links(brand, campaign) -> list[tuple[str, str]]:
    """``[(label, url)]`` of the programme pages of ``brand`` (none for most brands)."""
    from django.urls import reverse

    links = []
    for label, name in BRAND_PAGES.get(brand.slug, ()):
        args = [campaign.slug, brand.joint_action.slug] if name == "specials:replays" else []
        links.append((_(label), reverse(name, args=args)))
    return links


def programme_figures(campaign_id: int) -> dict[str, int]:
    """The dashboard's programme totals (four counts): 光影科学梦 screenings and films shown, registered
    科学大师剧 performances and 星火馆 volunteers — published activities only."""
    return {
        "screenings": count_screenings(campaign_id),
        "films_shown": count_films_shown(campaign_id),
        "performances": count_performances(campaign_id),
        "volunteers": count_volunteers(campaign_id),
    }


def org_page(organization) -> dict:
    """What an organization's public page shows (bounded): its next and latest published activities,
    its plays with their published performance counts and its volunteer count per campaign."""
    activities = list(
        Activity.objects.filter(organizer=organization, status=Status.PUBLISHED)
        .select_related("campaign", "brand")
        .order_by("-starts_at", "-id")[:50]
    )
    plays = list(
        Play.objects.filter(university=organization)
        .annotate(shown=Count("performances", filter=Q(performances__activity__status=Status.PUBLISHED)))
        .order_by("title")[:100]
    )
    volunteers = Volunteer.objects.filter(university=organization).count()
    return {"activities": activities, "plays": plays, "volunteers": volunteers}
