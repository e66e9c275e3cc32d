"""Public tour pages and the operating units' pages: scopes (another unit's tour is a 404), query
counts on the lists, the import page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kepuyue.tours import services
from kepuyue.tours.models import Stop, Tour

from .conftest import stop, xlsx


def _published_tours(n, plan, operator, operator_user, caravan):
    tours = []
    for i in range(n):
        tour = services.save_tour(
            operator, actor=operator_user, campaign=plan, vehicle=caravan, title=f"巡展{i}"
        )
        services.add_stops(
            tour,
            [stop("2025-09-16", "330127", "school"), stop("2025-09-17", "330824", "village")],
            actor=operator_user,
        )
        services.set_published(tour, True, actor=operator_user)
        tours.append(tour)
    return tours


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_public_list_query_count_does_not_grow(client, plan, operator, operator_user, caravan):
    _published_tours(1, plan, operator, operator_user, caravan)
    one = _queries(client, reverse("tours:list"))
    _published_tours(2, plan, operator, operator_user, caravan)
    three = _queries(client, reverse("tours:list"))
    assert one == three
    assert one <= 12


def test_public_list_shows_totals_and_only_published(client, plan, operator, operator_user, caravan, tour):
    _published_tours(1, plan, operator, operator_user, caravan)
    html = client.get(reverse("tours:list")).content.decode()
    assert "巡展0" in html and "科普大篷车浙西行" not in html  # the draft is not listed
    assert 'data-figure="counties">2<' in html and 'data-figure="vehicles">1<' in html


def test_public_detail_shows_route_and_counties(client, plan, operator, operator_user, caravan):
    (tour,) = _published_tours(1, plan, operator, operator_user, caravan)
    response = client.get(reverse("tours:detail", args=[tour.pk]))
    html = response.content.decode()
    assert "浙江省杭州市淳安县" in html and "浙江省衢州市开化县" in html
    assert '"map": "330000"' in html and "118.88915" in html  # the route's points, one province's map
    assert "stop_delete" not in html and "删除" not in html  # no staff controls on the public page
    detail_queries = _queries(client, reverse("tours:detail", args=[tour.pk]))
    services.add_stops(tour, [stop("2025-09-18", "330106", "school")], actor=operator_user)
    assert _queries(client, reverse("tours:detail", args=[tour.pk])) == detail_queries


def test_a_draft_tour_is_not_public(client, tour):
    assert client.get(reverse("tours:detail", args=[tour.pk])).status_code == 404


def test_staff_pages_need_a_unit(client, plan, make_staff):
    from tests.fixtures_accounts import login_staff

    assert client.get(reverse("tours_org:index")).status_code == 302  # anonymous: sign in
    login_staff(client, make_staff("no-unit"))
    assert client.get(reverse("tours_org:index")).status_code == 403


def test_another_units_tour_is_a_404(client, plan, tour, other_unit, make_staff):
    from tests.fixtures_accounts import login_staff

    login_staff(client, make_staff("yn-staff", membership=other_unit))
    for name in ("tours_org:tour", "tours_org:import", "tours_org:publish", "tours_org:stop_add"):
        url = reverse(name, args=[tour.pk])
        response = client.get(url) if name == "tours_org:tour" else client.post(url, {"publish": "1"})
        assert response.status_code == 404, name
    Tour.objects.get(pk=tour.pk, status="draft")


def test_staff_index_query_count_does_not_grow(operator_client, plan, operator, operator_user, caravan):
    _published_tours(1, plan, operator, operator_user, caravan)
    one = _queries(operator_client, reverse("tours_org:index"))
    _published_tours(2, plan, operator, operator_user, caravan)
    assert _queries(operator_client, reverse("tours_org:index")) == one


def test_operator_adds_a_stop_and_publishes(operator_client, tour):
    response = operator_client.post(
        reverse("tours_org:stop_add", args=[tour.pk]),
        {"date": "2025-09-16", "place": "浙江杭州淳安", "venue_kind": "school", "venue": "中心小学"},
    )
    assert response.status_code == 302
    assert Stop.objects.get(tour=tour).region_id == "330127"
    operator_client.post(reverse("tours_org:publish", args=[tour.pk]), {"publish": "1"})
    assert Tour.objects.get(pk=tour.pk).status == "published"


def test_a_bad_stop_is_refused_in_chinese(operator_client, tour):
    response = operator_client.post(
        reverse("tours_org:stop_add", args=[tour.pk]),
        {"date": "2025-12-25", "place": "浙江杭州淳安", "venue_kind": "school"},
    )
    assert response.status_code == 400 and "不在巡展时间内" in response.content.decode()
    assert not Stop.objects.exists()


def test_vehicle_and_tour_forms(operator_client, plan):
    response = operator_client.post(
        reverse("tours_org:vehicle_new"),
        {"kind": "caravan", "name": "大篷车2号", "plate": "浙b-54321", "province": "330000"},
    )
    assert response.status_code == 302
    from kepuyue.tours.models import Vehicle

    vehicle = Vehicle.objects.get(name="大篷车2号")
    assert vehicle.plate == "浙B54321"
    response = operator_client.post(reverse("tours_org:tour_new"), {"title": "新巡展", "vehicle": vehicle.pk})
    assert response.status_code == 302 and Tour.objects.get(title="新巡展").vehicle == vehicle


def test_import_page_reports_bad_rows_and_writes_nothing(operator_client, tour):
    data = xlsx(
        [
            ["日期", "区县", "场所类型"],
            ["2025-09-16", "浙江省杭州市淳安县", "进学校"],
            ["2025-09-17", "火星", "进学校"],
        ]
    )
    response = operator_client.post(
        reverse("tours_org:import", args=[tour.pk]), {"file": SimpleUploadedFile("trip.xlsx", data)}
    )
    html = response.content.decode()
    assert response.status_code == 400 and "第 3 行" in html and "火星" in html
    assert not Stop.objects.exists()


@pytest.mark.parametrize("dry_run", [True, False])
def test_import_page_good_file(operator_client, tour, dry_run):
    data = xlsx(
        [
            ["日期", "区县", "场所类型"],
            ["2025-09-16", "330127", "学校"],
            ["2025-09-17", "浙江省衢州市开化县", "进乡村"],
        ]
    )
    form = {"file": SimpleUploadedFile("trip.xlsx", data)}
    if dry_run:
        form["dry_run"] = "on"
    response = operator_client.post(reverse("tours_org:import", args=[tour.pk]), form)
    assert Stop.objects.filter(tour=tour).count() == (0 if dry_run else 2)
    assert response.status_code == (200 if dry_run else 302)


def test_template_downloads(operator_client):
    response = operator_client.get(reverse("tours_org:template"))
    assert response.status_code == 200 and response.content[:2] == b"PK"


def test_admin_shows_tours_read_only(admin_client, tour, operator_user):
    services.add_stops(tour, [stop("2025-09-16", "330127", "school")], actor=operator_user)
    for url in ("/admin/tours/tour/", f"/admin/tours/tour/{tour.pk}/change/", "/admin/tours/vehicle/"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    assert admin_client.get("/admin/tours/tour/add/").status_code == 403
