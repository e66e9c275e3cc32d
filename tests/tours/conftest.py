"""Tours fixtures: the 2025 plan, the real regions (with their centroids), two operating units."""

import io
from datetime import date

import pytest

from kepuyue.regions.models import Region


@pytest.fixture
def plan(regions, campaign_2025, clock):
    clock("2025-09-10T10:00+08:00")
    return campaign_2025


@pytest.fixture
def operator(plan):
    """浙江省科技馆 runs caravans."""
    from kepuyue.orgs.models import Organization

    return Organization.objects.create(name="浙江省科技馆", type_id="science_museum", region_id="330000")


@pytest.fixture
def other_unit(plan):
    from kepuyue.orgs.models import Organization

    return Organization.objects.create(name="云南省科技馆", type_id="science_museum", region_id="530000")


@pytest.fixture
def operator_user(operator):
    from tests.fixtures_accounts import create_staff

    return create_staff("zj-caravan", membership=operator)


@pytest.fixture
def operator_client(client, operator_user):
    from tests.fixtures_accounts import login_staff

    return login_staff(client, operator_user)


@pytest.fixture
def caravan(operator, operator_user):
    from kepuyue.tours import services

    return services.save_vehicle(
        operator,
        actor=operator_user,
        kind="caravan",
        name="浙江科普大篷车1号",
        plate="浙A 12345",
        model="Ⅱ型",
        province=Region.objects.get(pk="330000"),
    )


@pytest.fixture
def tour(plan, operator, operator_user, caravan):
    from kepuyue.tours import services

    return services.save_tour(
        operator,
        actor=operator_user,
        campaign=plan,
        vehicle=caravan,
        title="科普大篷车浙西行",
        brand=services.tour_brands(plan).get(slug="science-caravans"),
    )


def stop(day: str, code: str, kind: str, venue: str = "", special: int = 0):
    from kepuyue.tours.services import StopInput

    return StopInput(
        date=date.fromisoformat(day),
        region=Region.objects.get(pk=code),
        venue_kind=kind,
        venue=venue,
        special_areas=special,
    )


def xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
