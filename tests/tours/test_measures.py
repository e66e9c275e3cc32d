"""百县 / 千车 / 万里行 on the dashboard from real tour rows (campaign YAML measures, source tours)."""

from decimal import Decimal

from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kepuyue.campaigns.schema.measures import MeasureSpec
from kepuyue.dashboard.measures import target_progress
from kepuyue.regions.models import Region
from kepuyue.tours import services
from kepuyue.tours.forms import StopForm, TourForm, VehicleForm

from .conftest import stop


def _progress(plan):
    return {(p.target.joint_action.slug, p.target.slug): p for p in target_progress(plan)}


def test_dashboard_measures_read_published_tours(
    client, plan, operator, other_unit, operator_user, caravan, tour, settings
):
    settings.DASHBOARD_CACHE_SECONDS = 0
    services.add_stops(
        tour,
        [
            stop("2025-09-16", "330127", "school"),
            stop("2025-09-17", "330824", "village"),
            stop("2025-09-18", "330127", "school"),
        ],
        actor=operator_user,
    )
    services.set_published(tour, True, actor=operator_user)
    # A second unit's 流动科技馆 set in 云南 (published), and a draft tour that counts for nothing.
    museum_set = services.save_vehicle(
        other_unit,
        actor=operator_user,
        kind="museum",
        name="流动科技馆A套",
        theme="航空航天科学",
        province=Region.objects.get(pk="530000"),
    )
    yunnan = services.save_tour(
        other_unit, actor=operator_user, campaign=plan, vehicle=museum_set, title="滇南行"
    )
    services.add_stops(
        yunnan,
        [stop("2025-09-16", "532801", "school"), stop("2025-09-17", "532823", "school")],
        actor=operator_user,
    )
    services.set_published(yunnan, True, actor=operator_user)
    draft = services.save_tour(operator, actor=operator_user, campaign=plan, vehicle=caravan, title="草稿")
    services.add_stops(draft, [stop("2025-09-16", "330106", "school")], actor=operator_user)

    progress = _progress(plan)
    assert progress[("science-museums", "counties")].value == 4  # 淳安, 开化, 景洪, 勐腊
    assert progress[("science-museums", "vehicles")].value == 2
    assert progress[("science-museums", "caravans")].value == 1  # vehicle_kind: [caravan]
    # 2 × 淳安–开化 (72.14) = 144.3, plus 景洪–勐腊 (68.96) = 69.0 → 213 whole kilometres.
    assert Decimal(tour.__class__.objects.get(pk=tour.pk).distance_km) == Decimal("144.3")
    assert progress[("science-museums", "distance")].value == 213
    html = client.get(reverse("dashboard:public")).content.decode()
    assert 'data-target="science-museums/distance"' in html and "213 / 10000" in html
    assert "4 / 100" in html


def test_special_area_and_region_filters(plan, operator_user, tour):
    services.add_stops(
        tour,
        [stop("2025-09-16", "330127", "school"), stop("2025-09-17", "532801", "school")],
        actor=operator_user,
    )
    services.set_published(tour, True, actor=operator_user)
    assert services.counties_reached(plan.pk, {"special_mask": 4}) == 1  # 民族地区: 景洪 only
    assert services.counties_reached(plan.pk, {"region": "330000"}) == 1
    assert services.vehicles_touring(plan.pk, {"region": "110000"}) == 0


def test_schema_accepts_the_tour_measures_and_refuses_nonsense():
    MeasureSpec(source="tours", kind="sum", field="distance_km")
    MeasureSpec(source="tours", kind="distinct", field="vehicle", filters={"vehicle_kind": ["caravan"]})
    for bad in (
        {"source": "tours", "kind": "sum", "field": "county"},
        {"source": "activities", "kind": "sum", "field": "distance_km"},
        {"source": "activities", "filters": {"vehicle_kind": ["caravan"]}},
        {"source": "tours", "kind": "distinct", "field": "brand"},
    ):
        try:
            MeasureSpec(**bad)
        except ValueError:
            continue
        raise AssertionError(bad)


text = st.text(max_size=300)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["caravan", "museum", "", "x" * 40]),
            "name": text,
            "plate": text,
            "model": text,
            "theme": text,
            "province": st.one_of(st.just("330000"), text),
        }
    )
)
def test_vehicle_form_never_breaks(plan, data):
    form = VehicleForm(data)
    if form.is_valid():
        assert len(form.cleaned_data["name"]) <= 100


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.fixed_dictionaries(
        {
            "date": st.one_of(st.just("2025-09-16"), text),
            "place": text,
            "venue_kind": st.one_of(st.sampled_from(["school", "village"]), text),
            "venue": text,
            "activity": st.one_of(st.just(""), st.integers(-5, 2**40).map(str), text),
            "special_areas": st.lists(st.sampled_from(["1", "2", "4", "64", "x"]), max_size=4),
            "note": text,
        }
    )
)
def test_stop_form_never_breaks(tour, data):
    form = StopForm(data, tour=tour)
    if form.is_valid():
        assert form.stop.region is not None and form.stop.date is not None
        _stop, problems = services.check_stop(tour, form.stop)
        assert problems == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.fixed_dictionaries({"title": text, "summary": text, "vehicle": text, "brand": text}))
def test_tour_form_never_breaks(plan, operator, data):
    form = TourForm(data, operator=operator, campaign=plan)
    if form.is_valid():
        assert form.cleaned_data["vehicle"].operator_id == operator.pk
