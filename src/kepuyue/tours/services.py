"""The rules of the tours (流动科普百县千车万里行, plan 五(三)2).

- Distance (万里行): the great-circle length (haversine, mean Earth radius 6,371.0088 km) of the
  legs between consecutive stops' county centroids (``Region.longitude/latitude``, from the map
  data, ``data/regions/centroids.csv``), stops in itinerary order (day, then position). Two stops
  in one county add nothing; a county without a centroid uses its parent's (the file already
  carries the parent's point for the divisions the map does not draw).
- Counties reached (百县): the distinct county-level divisions of the stops (a prefecture-level
  city without counties, such as 东莞市, counts as its own county).
- Vehicles touring (千车): the distinct vehicles and sets with a published tour that has stops.
- Special areas reached: per stop, what the operator declares, plus 民族地区 where the county's
  name or a parent's says 自治 (autonomous region, prefecture or county — the rule the dashboard's
  coverage gaps use) and 农村地区 where the stop is 进乡村. The platform holds no per-county list of
  革命老区, 边疆 or 欠发达 counties, so those are the operator's word.

Every change goes through these functions; each writes its audit entry and recomputes the tour's
summary in the same transaction.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from kepuyue.activities.models import Activity, SpecialArea
from kepuyue.activities.models import Status as ActivityStatus
from kepuyue.activities.services import date_tolerance
from kepuyue.audit.services import record
from kepuyue.campaigns.models import Brand, Target
from kepuyue.common import clock
from kepuyue.common.text import clean_text
from kepuyue.regions.models import Level, Region

from .models import Stop, Tour, TourStatus, Vehicle, VehicleKind, VenueKind

EARTH_RADIUS_KM = 6371.0088
#: Stops of one tour, and rows of one itinerary file.
MAX_STOPS = 1000
#: 民族地区 as the division names say it (自治区 / 自治州 / 自治县 / 自治旗).
ETHNIC_MARK = "自治"
# 省份简称 + 发牌机关代号 + 5 letters/digits (6 on new-energy plates, or 4 and 挂/学/警); no I or O.
PLATE_PATTERN = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z]"
    r"(?:[A-HJ-NP-Z0-9]{5,6}|[A-HJ-NP-Z0-9]{4}[挂学警])"
)


# --- geometry ------------------------------------------------------------------------------------


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """The great-circle distance in kilometres between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def point_of(region: Region) -> tuple[float, float] | None:
    """``(longitude, latitude)`` of a division's centroid, or ``None`` when the data has none."""
    if region.longitude is None or region.latitude is None:
        return None
    return float(region.longitude), float(region.latitude)


def leg_lengths(regions: list[Region]) -> list[float | None]:
    """Kilometres of each leg between consecutive ``regions`` (``None``: an end has no centroid)."""
    legs: list[float | None] = []
    for a, b in zip(regions, regions[1:], strict=False):
        if a.pk == b.pk:
            legs.append(0.0)
            continue
        pa, pb = point_of(a), point_of(b)
        legs.append(None if pa is None or pb is None else haversine_km(*pa, *pb))
    return legs


def is_ethnic(region: Region) -> bool:
    """Whether a division lies in a 民族地区 by its names (its full name carries its parents')."""
    return ETHNIC_MARK in (region.full_name or region.name)


def stop_special_areas(stop: Stop) -> int:
    """The special-area bits a stop reaches: declared, plus 民族地区 and 农村地区 as the platform
    can tell (see the module docstring)."""
    bits = stop.special_areas
    if is_ethnic(stop.region):
        bits |= SpecialArea.ETHNIC
    if stop.venue_kind == VenueKind.VILLAGE:
        bits |= SpecialArea.RURAL
    return bits


def ordered_stops(tour: Tour):
    return tour.stops.select_related("region", "activity").order_by("date", "position", "pk")


@transaction.atomic
def recompute(tour: Tour) -> Tour:
    """Recompute the tour's distance, counties, stops, special areas and first/last day from its
    stops, and save them (one query to read, one to write)."""
    stops = list(ordered_stops(tour))
    legs = leg_lengths([s.region for s in stops])
    tour.distance_km = Decimal(str(round(sum(x for x in legs if x), 1)))
    tour.county_count = len({s.region_id for s in stops})
    tour.stop_count = len(stops)
    special = 0
    for stop in stops:
        special |= stop_special_areas(stop)
    tour.special_areas = special
    tour.starts_on = stops[0].date if stops else None
    tour.ends_on = stops[-1].date if stops else None
    tour.save(
        update_fields=[
            "distance_km",
            "county_count",
            "stop_count",
            "special_areas",
            "starts_on",
            "ends_on",
            "updated",
        ]
    )
    return tour


# --- vehicles ------------------------------------------------------------------------------------


def normalize_plate(text: str) -> str:
    """A plate in one form: NFKC (full-width letters and digits), upper case, no spaces, dots or
    dashes; ``ValidationError`` (Chinese) when it is not a Chinese plate."""
    plate = unicodedata.normalize("NFKC", clean_text(text or "")).upper()
    plate = re.sub(r"[\s·.\-•]", "", plate)
    if not plate:
        return ""
    if not PLATE_PATTERN.fullmatch(plate):
        raise ValidationError(_("车牌号“%(plate)s”格式不对，例如：浙A12345") % {"plate": plate[:16]})
    return plate


def save_vehicle(operator, *, actor, vehicle: Vehicle | None = None, **fields) -> Vehicle:
    """Create or change a vehicle of ``operator``: ``kind``, ``name``, ``plate``, ``model``,
    ``theme``, ``province`` (a province-level Region). A caravan needs a plate, a set a theme.
    Raises ``ValidationError`` with Chinese messages per field."""
    errors: dict[str, list[str]] = {}
    kind = fields.get("kind")
    if kind not in VehicleKind.values:
        errors.setdefault("kind", []).append(_("请选择类别"))
    name = clean_text(fields.get("name", ""), max_length=100, label=_("名称"))
    if not name:
        errors.setdefault("name", []).append(_("请填写名称"))
    try:
        plate = normalize_plate(fields.get("plate", ""))
    except ValidationError as exc:
        errors.setdefault("plate", []).extend(exc.messages)
        plate = ""
    if kind == VehicleKind.CARAVAN and not plate and "plate" not in errors:
        errors.setdefault("plate", []).append(_("科普大篷车请填写车牌号"))
    theme = clean_text(fields.get("theme", ""), max_length=64, label=_("展览主题"))
    if kind == VehicleKind.MUSEUM and not theme:
        errors.setdefault("theme", []).append(_("流动科技馆请填写展览主题"))
    province = fields.get("province")
    if province is None or province.level != Level.PROVINCE:
        errors.setdefault("province", []).append(_("请选择所在省份"))
    if plate and Vehicle.objects.filter(plate=plate).exclude(pk=getattr(vehicle, "pk", None)).exists():
        errors.setdefault("plate", []).append(_("车牌号 %(plate)s 已登记") % {"plate": plate})
    if (
        name
        and Vehicle.objects.filter(operator=operator, name=name)
        .exclude(pk=getattr(vehicle, "pk", None))
        .exists()
    ):
        errors.setdefault("name", []).append(_("本单位已有同名车辆/展品"))
    if errors:
        raise ValidationError(errors)
    created = vehicle is None
    vehicle = vehicle or Vehicle(operator=operator)
    vehicle.kind, vehicle.name, vehicle.plate, vehicle.theme = kind, name, plate, theme
    vehicle.model = clean_text(fields.get("model", ""), max_length=32, label=_("车型"))
    vehicle.province = province
    with transaction.atomic():
        vehicle.save()
        record(
            "tours.vehicle_created" if created else "tours.vehicle_changed",
            actor=actor,
            obj=vehicle,
            organization=operator,
            data={"kind": kind, "plate": plate},
        )
    return vehicle


# --- tours ---------------------------------------------------------------------------------------


def tour_brands(campaign):
    """Brands a tour may carry: those the campaign's plan measures with tours (a target whose
    ``measure.source`` is ``tours``), and their sub-brands — read from the YAML, never named here."""
    measured = set(
        Target.objects.filter(joint_action__campaign=campaign, measure__source="tours")
        .exclude(brand=None)
        .values_list("brand_id", flat=True)
    )
    return (
        Brand.objects.filter(joint_action__campaign=campaign)
        .filter(Q(pk__in=measured) | Q(parent_id__in=measured))
        .select_related("joint_action")
        .order_by("joint_action__number", "order")
    )


def save_tour(operator, *, actor, campaign, tour: Tour | None = None, **fields) -> Tour:
    """Create or change a tour of ``operator``: ``vehicle`` (the unit's own), ``title``, ``summary``,
    ``brand`` (one of :func:`tour_brands`, optional). ``ValidationError`` per field."""
    errors: dict[str, list[str]] = {}
    title = clean_text(fields.get("title", ""), max_length=100, label=_("巡展名称"))
    if not title:
        errors.setdefault("title", []).append(_("请填写巡展名称"))
    summary = clean_text(fields.get("summary", ""), max_length=500, label=_("简介"), multiline=True)
    vehicle = fields.get("vehicle")
    if vehicle is None or vehicle.operator_id != operator.pk:
        errors.setdefault("vehicle", []).append(_("请选择本单位的车辆或展品"))
    brand = fields.get("brand")
    if brand is not None and not tour_brands(campaign).filter(pk=brand.pk).exists():
        errors.setdefault("brand", []).append(_("这个品牌不属于流动科普巡展"))
    if errors:
        raise ValidationError(errors)
    created = tour is None
    tour = tour or Tour(operator=operator, campaign=campaign)
    tour.title, tour.summary, tour.vehicle, tour.brand = title, summary, vehicle, brand
    with transaction.atomic():
        tour.save()
        record("tours.created" if created else "tours.changed", actor=actor, obj=tour, organization=operator)
    return tour


def set_published(tour: Tour, published: bool, *, actor) -> Tour:
    """Publish (发布) or withdraw (撤回) a tour; a tour without stops cannot be published."""
    if published and not tour.stops.exists():
        raise ValidationError(_("巡展还没有站点，不能发布"))
    with transaction.atomic():
        tour.status = TourStatus.PUBLISHED if published else TourStatus.DRAFT
        tour.published_at = clock.now() if published else None
        tour.save(update_fields=["status", "published_at", "updated"])
        record(
            "tours.published" if published else "tours.withdrawn",
            actor=actor,
            obj=tour,
            organization=tour.operator,
        )
    return tour


# --- stops ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StopInput:
    """One stop as given (a form or an itinerary row), before it is checked."""

    date: date | None
    region: Region | None
    venue_kind: str
    venue: str = ""
    activity: Activity | None = None
    special_areas: int = 0
    note: str = ""


def date_range(tour: Tour) -> tuple[date, date]:
    """The days a stop may fall on: the window of the brand's joint action (the campaign month
    without a brand), widened by the campaign's ``review.date_tolerance_days``."""
    campaign = tour.campaign
    joint_action = tour.brand.joint_action if tour.brand_id else None
    start, end = (
        (joint_action.window_start, joint_action.window_end)
        if joint_action
        else (campaign.starts, campaign.ends)
    )
    slack = timedelta(days=date_tolerance(joint_action, campaign))
    return start - slack, end + slack


def is_county(region: Region | None) -> bool:
    """A county-level division, or a prefecture-level city that has none (东莞市, 中山市, 儋州市)."""
    if region is None:
        return False
    if region.level == Level.COUNTY:
        return True
    return region.level == Level.PREFECTURE and not region.children.exists()


def check_stop(tour: Tour, given: StopInput) -> tuple[StopInput, list[str]]:
    """Check one stop against the rules; returns the stop (with the activity's day and county
    filled in) and Chinese problems (empty when it is good)."""
    problems: list[str] = []
    day, region = given.date, given.region
    activity = given.activity
    if activity is not None:
        if activity.status != ActivityStatus.PUBLISHED or activity.campaign_id != tour.campaign_id:
            problems.append(_("关联活动须是本届科普月已发布的活动"))
        else:
            day = day or activity.starts_at.astimezone(clock.BEIJING).date()
            if region is None and activity.county_code:
                region = Region.objects.filter(pk=activity.county_code).first()
    if day is None:
        problems.append(_("请填写日期"))
    else:
        low, high = date_range(tour)
        if not low <= day <= high:
            problems.append(
                _("日期 %(day)s 不在巡展时间内（%(low)s 至 %(high)s）")
                % {"day": day, "low": low, "high": high}
            )
    if region is None:
        problems.append(_("请填写所在区县"))
    elif not is_county(region):
        problems.append(
            _("“%(name)s”不是区县，请写到县级（例如：浙江省杭州市淳安县）") % {"name": region.full_name}
        )
    if given.venue_kind not in VenueKind.values:
        problems.append(_("场所类型须是“六进”之一：%(kinds)s") % {"kinds": "、".join(VenueKind.labels)})
    if given.special_areas & ~sum(SpecialArea.values):
        problems.append(_("特殊地区不正确"))
    stop = StopInput(
        date=day,
        region=region,
        venue_kind=given.venue_kind,
        venue=given.venue,
        activity=activity,
        special_areas=given.special_areas,
        note=given.note,
    )
    return stop, problems


def _next_position(tour: Tour) -> int:
    last = tour.stops.order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 1


def _key(stop) -> tuple:
    return (stop.date, stop.region.pk if stop.region else None, stop.venue_kind, stop.venue)


def add_stops(tour: Tour, stops: list[StopInput], *, actor, source: str = "form") -> tuple[int, int]:
    """Append checked ``stops`` to ``tour`` in one transaction and recompute it. A stop equal to
    one the tour has (same day, county, venue kind and venue) is skipped, so re-importing a sheet
    adds nothing twice. Returns ``(added, skipped)``. ``ValidationError`` past :data:`MAX_STOPS`."""
    with transaction.atomic():
        tour = Tour.objects.select_for_update().get(pk=tour.pk)
        existing = {_key(s) for s in tour.stops.select_related("region")}
        fresh, seen = [], set(existing)
        for stop in stops:
            key = _key(stop)
            if key in seen:
                continue
            seen.add(key)
            fresh.append(stop)
        if len(existing) + len(fresh) > MAX_STOPS:
            raise ValidationError(_("一次巡展最多 %(n)d 个站点") % {"n": MAX_STOPS})
        position = _next_position(tour)
        Stop.objects.bulk_create(
            [
                Stop(
                    tour=tour,
                    position=position + i,
                    date=s.date,
                    region=s.region,
                    venue_kind=s.venue_kind,
                    venue=s.venue,
                    activity=s.activity,
                    special_areas=s.special_areas,
                    note=s.note,
                )
                for i, s in enumerate(fresh)
            ]
        )
        recompute(tour)
        record(
            "tours.stops_added",
            actor=actor,
            obj=tour,
            organization=tour.operator,
            data={"added": len(fresh), "skipped": len(stops) - len(fresh), "source": source},
        )
    return len(fresh), len(stops) - len(fresh)


def delete_stop(stop: Stop, *, actor) -> None:
    """Remove a stop and recompute its tour; a published tour keeps at least one stop."""
    tour = stop.tour
    with transaction.atomic():
        if tour.status == TourStatus.PUBLISHED and tour.stops.count() <= 1:
            raise ValidationError(_("已发布的巡展至少保留一个站点；请先撤回"))
        data = {"date": str(stop.date), "region": stop.region_id, "venue_kind": stop.venue_kind}
        stop.delete()
        recompute(tour)
        record("tours.stop_deleted", actor=actor, obj=tour, organization=tour.operator, data=data)


# --- reading for pages and the dashboard -----------------------------------------------------------


def tours_of(operator):
    """The staff querysets: an operating unit's tours (another unit's are never in it)."""
    return Tour.objects.filter(operator=operator)


def vehicles_of(operator):
    return Vehicle.objects.filter(operator=operator)


def public_tours(campaign):
    """Published tours of ``campaign`` with what the list shows (one query)."""
    return (
        Tour.objects.filter(campaign=campaign, status=TourStatus.PUBLISHED)
        .select_related("vehicle", "operator", "brand")
        .order_by("-starts_on", "-id")
    )


def _published(campaign_id, filters: dict | None = None):
    filters = filters or {}
    tours = Tour.objects.filter(campaign_id=campaign_id, status=TourStatus.PUBLISHED, stop_count__gt=0)
    if filters.get("vehicle_kind"):
        tours = tours.filter(vehicle__kind__in=filters["vehicle_kind"])
    if filters.get("brand_ids"):
        tours = tours.filter(brand_id__in=filters["brand_ids"])
    return tours


def _stops_q(filters: dict | None) -> Q:
    filters = filters or {}
    q = Q()
    region = filters.get("region")
    if region:
        if region.endswith("0000"):
            q &= Q(region__province_code=region)
        elif region.endswith("00"):
            q &= Q(region__code__startswith=region[:4])
        else:
            q &= Q(region_id=region)
    return q


def counties_reached(campaign_id, filters: dict | None = None) -> int:
    """百县: distinct counties of the stops of published tours (``filters``: ``vehicle_kind``,
    ``brand_ids``, ``region``, ``special_area`` bits as ``special_mask`` — a county counts when a
    stop in it reaches one of them)."""
    mask = (filters or {}).get("special_mask", 0)
    stops = Stop.objects.filter(tour__in=_published(campaign_id, filters)).filter(_stops_q(filters))
    if not mask:
        return stops.values("region_id").distinct().count()
    counted = set()
    for stop in stops.select_related("region").only("region", "venue_kind", "special_areas"):
        if stop.region_id not in counted and stop_special_areas(stop) & mask:
            counted.add(stop.region_id)
    return len(counted)


def vehicles_touring(campaign_id, filters: dict | None = None) -> int:
    """千车: distinct vehicles and sets with a published tour that has stops."""
    tours = _published(campaign_id, filters)
    if _stops_q(filters):
        tours = tours.filter(pk__in=Stop.objects.filter(_stops_q(filters)).values("tour_id"))
    return tours.values("vehicle_id").distinct().count()


def distance_travelled(campaign_id, filters: dict | None = None) -> int:
    """万里: kilometres travelled by published tours, whole kilometres."""
    tours = _published(campaign_id, filters)
    if _stops_q(filters):
        tours = tours.filter(pk__in=Stop.objects.filter(_stops_q(filters)).values("tour_id"))
    total = tours.aggregate(n=Sum("distance_km"))["n"] or 0
    return int(total)


def published_count(campaign_id, filters: dict | None = None) -> int:
    """Published tours with stops."""
    tours = _published(campaign_id, filters)
    if _stops_q(filters):
        tours = tours.filter(pk__in=Stop.objects.filter(_stops_q(filters)).values("tour_id"))
    return tours.count()


def totals(campaign) -> dict:
    """The figures the public tours list leads with (four queries)."""
    published = _published(campaign.pk).aggregate(tours=Count("id"), km=Sum("distance_km"))
    return {
        "tours": published["tours"] or 0,
        "counties": counties_reached(campaign.pk),
        "vehicles": vehicles_touring(campaign.pk),
        "km": int(published["km"] or 0),
    }


def route(tour: Tour, stops: list[Stop]) -> dict:
    """What the tour page's map draws: points ``[lon, lat, label]`` in itinerary order and the map
    file that holds them all (a province's when they lie in one, else the country's)."""
    points = []
    for stop in stops:
        point = point_of(stop.region)
        if point is not None:
            points.append([point[0], point[1], f"{stop.date:%m-%d} {stop.region.name}"])
    provinces = {stop.region.province_code for stop in stops}
    return {"points": points, "map": provinces.pop() if len(provinces) == 1 else "100000"}
