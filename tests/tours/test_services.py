"""Distance, counties and special areas of a tour against a hand-made itinerary (plan 五(三)2)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kepuyue.activities.models import SpecialArea
from kepuyue.audit.models import AuditEntry
from kepuyue.tours import services
from kepuyue.tours.models import Tour

from .conftest import stop

# Centroids in data/regions/centroids.csv: 淳安县 330127 (118.88915, 29.60828), 开化县 330824
# (118.32541, 29.18434), 西湖区 330106 (120.08363, 30.20073). Worked by hand with the spherical law
# of cosines (another formula than the code's haversine), R = 6371.0088 km:
#   淳安–开化 72.14 km, 淳安–西湖 132.65 km.
HAND_ITINERARY_KM = Decimal("276.9")  # 淳安→开化 72.14 + 开化→开化 0 + 开化→淳安 72.14 + 淳安→西湖 132.65


def test_distance_and_counties_of_a_hand_made_itinerary(tour, operator_user):
    added, skipped = services.add_stops(
        tour,
        [
            stop("2025-09-16", "330127", "school", "千岛湖镇中心小学"),
            stop("2025-09-17", "330824", "village", "马金镇", SpecialArea.REVOLUTIONARY),
            stop("2025-09-17", "330824", "community", "城关社区"),
            stop("2025-09-18", "330127", "government", "县政府"),
            stop("2025-09-20", "330106", "enterprise", "某科技公司"),
        ],
        actor=operator_user,
    )
    tour.refresh_from_db()
    assert (added, skipped) == (5, 0)
    assert tour.distance_km == HAND_ITINERARY_KM
    assert tour.county_count == 3 and tour.stop_count == 5
    assert str(tour.starts_on) == "2025-09-16" and str(tour.ends_on) == "2025-09-20"
    # 进乡村 → rural; 革命老区 declared; no autonomous division on the way.
    assert tour.special_areas == SpecialArea.RURAL | SpecialArea.REVOLUTIONARY
    assert AuditEntry.objects.filter(action="tours.stops_added").count() == 1


def test_itinerary_order_is_by_day_not_by_entry(tour, operator_user):
    # Entered out of order: the route still goes 淳安 → 开化 → 西湖 (72.14 + 开化–西湖).
    services.add_stops(tour, [stop("2025-09-20", "330106", "school")], actor=operator_user)
    services.add_stops(tour, [stop("2025-09-16", "330127", "school")], actor=operator_user)
    services.add_stops(tour, [stop("2025-09-17", "330824", "school")], actor=operator_user)
    tour.refresh_from_db()
    assert [s.region_id for s in services.ordered_stops(tour)] == ["330127", "330824", "330106"]
    kaihua_xihu = services.haversine_km(118.32541, 29.18434, 120.08363, 30.20073)
    assert tour.distance_km == Decimal(str(round(72.14466887 + kaihua_xihu, 1)))


def test_ethnic_areas_are_told_by_the_names(tour, operator_user):
    # 景洪市 lies in 西双版纳傣族自治州: 民族地区 without anyone declaring it.
    services.add_stops(tour, [stop("2025-09-16", "532801", "school")], actor=operator_user)
    tour.refresh_from_db()
    assert tour.special_areas == SpecialArea.ETHNIC


def test_re_adding_the_same_stops_adds_nothing(tour, operator_user):
    stops = [stop("2025-09-16", "330127", "school", "A"), stop("2025-09-17", "330824", "school", "B")]
    services.add_stops(tour, stops, actor=operator_user)
    assert services.add_stops(tour, stops, actor=operator_user) == (0, 2)
    tour.refresh_from_db()
    assert tour.stop_count == 2


@pytest.mark.parametrize(
    "day, code, kind, problem",
    [
        ("2025-12-01", "330127", "school", "不在巡展时间内"),
        ("2025-09-16", "330100", "school", "不是区县"),
        ("2025-09-16", "330000", "school", "不是区县"),
        ("2025-09-16", "330127", "zoo", "六进"),
    ],
)
def test_a_stop_breaking_a_rule_is_refused(tour, day, code, kind, problem):
    _stop, problems = services.check_stop(tour, stop(day, code, kind))
    assert any(problem in p for p in problems), problems


def test_a_city_without_counties_is_its_own_county(tour):
    # 东莞市 (441900) has no county-level divisions.
    _stop, problems = services.check_stop(tour, stop("2025-09-16", "441900", "school"))
    assert problems == []


def test_a_stop_may_be_a_published_activity(tour, plan, operator):
    from kepuyue.activities.models import Status
    from tests.activities.factories import ActivityFactory, bj

    activity = ActivityFactory(
        campaign=plan,
        joint_action=None,
        brand=None,
        organizer=operator,
        status=Status.PUBLISHED,
        starts_at=bj("2025-09-19 09:00"),
        ends_at=bj("2025-09-19 11:00"),
        county_code="330127",
    )
    given = services.StopInput(date=None, region=None, venue_kind="school", activity=activity)
    checked, problems = services.check_stop(tour, given)
    assert problems == [] and str(checked.date) == "2025-09-19" and checked.region.pk == "330127"
    activity.status = Status.DRAFT
    _checked, problems = services.check_stop(tour, given)
    assert any("已发布" in p for p in problems)


def test_publishing_needs_a_stop_and_keeps_one(tour, operator_user):
    with pytest.raises(ValidationError):
        services.set_published(tour, True, actor=operator_user)
    services.add_stops(tour, [stop("2025-09-16", "330127", "school")], actor=operator_user)
    services.set_published(tour, True, actor=operator_user)
    assert Tour.objects.get(pk=tour.pk).status == "published"
    with pytest.raises(ValidationError):
        services.delete_stop(tour.stops.get(), actor=operator_user)


@pytest.mark.parametrize(
    "text, plate",
    [("浙A 12345", "浙A12345"), ("浙ａ·１２３４５", "浙A12345"), ("粤BD12345", "粤BD12345"), ("", "")],
)
def test_plates_are_kept_in_one_form(text, plate):
    assert services.normalize_plate(text) == plate


@pytest.mark.parametrize("text", ["A12345", "浙I12345", "浙A1234", "hello"])
def test_bad_plates_are_refused(text):
    with pytest.raises(ValidationError):
        services.normalize_plate(text)


def test_a_caravan_needs_a_plate_and_plates_are_unique(operator, other_unit, operator_user, caravan):
    from kepuyue.regions.models import Region

    province = Region.objects.get(pk="530000")
    with pytest.raises(ValidationError) as caught:
        services.save_vehicle(
            other_unit, actor=operator_user, kind="caravan", name="车", plate="", province=province
        )
    assert "plate" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.save_vehicle(
            other_unit, actor=operator_user, kind="caravan", name="车", plate="浙A12345", province=province
        )
    assert "已登记" in caught.value.message_dict["plate"][0]
    museum = services.save_vehicle(
        other_unit,
        actor=operator_user,
        kind="museum",
        name="流动科技馆A套",
        theme="航空航天科学",
        province=province,
    )
    assert museum.plate == ""


def test_a_tour_uses_the_units_own_vehicle(plan, other_unit, operator_user, caravan):
    with pytest.raises(ValidationError) as caught:
        services.save_tour(other_unit, actor=operator_user, campaign=plan, vehicle=caravan, title="借车")
    assert "vehicle" in caught.value.message_dict


def test_tour_brands_come_from_the_plans_tour_measures(plan):
    slugs = set(services.tour_brands(plan).values_list("slug", flat=True))
    assert slugs == {"hundred-counties", "science-caravans", "mobile-museums"}
