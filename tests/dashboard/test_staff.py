"""The staff dashboard and coverage gaps, scoped like the review desk (the review tests' world)."""

import csv
import io

import pytest

from kepuyue.activities.models import Status
from tests.review.conftest import login, world  # noqa: F401 (the review tests' fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy(world):  # noqa: F811
    """Published activities in 杭州 (two), 宁波 and 广东; one waiting in the queue in 杭州."""
    u = world.units
    for unit, status in (
        (u.zj, Status.PUBLISHED),
        (u.hz2, Status.PUBLISHED),
        (u.zj2, Status.PUBLISHED),
        (u.gd, Status.PUBLISHED),
        (u.zj, Status.SUBMITTED),
    ):
        world.activity(unit, status)
    return world


def test_cast_sees_the_country(client, busy):
    login(client, busy.users.cast)
    page = client.get("/org/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "各省份" in html and "广东省" in html
    assert "1 天内" in html


def test_a_province_sees_its_prefectures_and_counties(client, busy):
    login(client, busy.users.admin_zj)
    html = client.get("/org/dashboard/").content.decode()
    assert "浙江省 · 已发布活动 3" in html
    assert "杭州市" in html and "宁波市" in html
    assert "广东省" not in html and "各省份" not in html
    assert "已覆盖区县 3 / " in html


def test_pages_refuse_or_hide_what_is_out_of_scope(client, busy):
    login(client, busy.users.pub_zj)
    assert client.get("/org/dashboard/").status_code == 403
    client.logout()
    assert client.get("/org/dashboard/").status_code == 302  # sign in first
    login(client, busy.users.admin_zj)
    assert client.get("/org/dashboard/coverage/440000/").status_code == 404
    assert client.get("/org/dashboard/coverage/440000.csv").status_code == 404
    assert client.get("/org/dashboard/coverage/330100/").status_code == 404  # not a province
    assert client.get("/org/dashboard/coverage/330000/").status_code == 200


def test_coverage_gaps_and_csv(client, busy):
    from kepuyue.regions.models import Region

    login(client, busy.users.admin_zj)
    counties = Region.objects.filter(level=3, province_code="330000").count()
    response = client.get("/org/dashboard/coverage/330000.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "区划代码"
    codes = {row[0] for row in rows[1:]}
    assert len(codes) == counties - 3
    assert not {"330106", "330102", "330212"} & codes
    ethnic = [row for row in rows[1:] if row[4] == "是"]
    assert any("景宁畲族自治县" in row[1] for row in ethnic)
    # A prefecture's administrator sees the gaps of its own prefecture only.
    client.logout()
    login(client, busy.users.admin_hz)
    rows = list(
        csv.reader(io.StringIO(client.get("/org/dashboard/coverage/330000.csv").content.decode("utf-8-sig")))
    )
    assert rows[1:] and all(row[0].startswith("3301") for row in rows[1:])


def test_query_counts(client, busy, django_assert_max_num_queries):
    login(client, busy.users.admin_zj)
    with django_assert_max_num_queries(30):
        client.get("/org/dashboard/")
    with django_assert_max_num_queries(15):
        client.get("/org/dashboard/coverage/330000/")
    login(client, busy.users.cast)
    with django_assert_max_num_queries(30):
        client.get("/org/dashboard/")
