"""``load_sample_tours`` (run by ``make data``): one published tour, idempotent."""

from io import StringIO

from django.core.management import call_command

from kepuyue.tours.models import Stop, Tour


def test_sample_tour_loads_once(plan):
    from kepuyue.orgs.models import Organization

    out = StringIO()
    call_command("load_sample_tours", stdout=out)
    assert "跳过" in out.getvalue()  # no 江西省科技馆 yet: nothing, and no error
    Organization.objects.create(name="江西省科技馆", type_id="science_museum", region_id="360000")
    call_command("load_sample_tours", stdout=StringIO())
    call_command("load_sample_tours", stdout=StringIO())
    tour = Tour.objects.get()
    assert tour.status == "published" and Stop.objects.count() == 5
    assert tour.county_count == 4 and tour.distance_km > 0
    assert tour.special_areas & 2  # 革命老区, declared
