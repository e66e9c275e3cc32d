"""The public dashboard's pages: content, query counts, CSV downloads, the map's JSON per level."""

import csv
import io
import json

import pytest
from django.urls import reverse

from kepuyue.campaigns.models import Brand

# Queries of /dashboard/ whatever the number of activities (roll-ups only; sessions and campaign too).
# Raised from 30 for issue 15: the programmes' measures (the four film targets share one GROUP BY) and
# the programme totals; and one for the 大讲堂 attendance measure (issue 14). None of them grows with rows.
DASHBOARD_QUERIES = 38  # + the tours' 百县 / 千车 / 万里 (issue 15 part 1)


@pytest.fixture
def published(plan, counties, publish, museum):
    plays = Brand.objects.get(joint_action__campaign=plan, slug="scientist-plays")
    for county in counties:
        publish(joint_action=plays.joint_action, brand=plays, organizer=museum, region=county)
    return plan


def test_dashboard_shows_totals_targets_and_tables(client, published):
    page = client.get("/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-figure="activities">6<' in html
    assert "6 / 100场（6%）" in html  # 百场科学大师剧
    assert "暂无数据来源" not in html  # every 2025 target is measured (the tours, issue 15, were the last)
    for table in ("每日发布活动数", "各省份发布活动数", "各联合行动发布活动数", "各品牌活动发布活动数"):
        assert f"<caption>{table}</caption>" in html
    assert "dashboard/vendor/echarts.min.js" in html
    assert "2025-08-20" in html  # a deadline of the plan marked on the curve


def test_dashboard_queries_do_not_grow_with_activities(
    client, published, publish, museum, counties, django_assert_max_num_queries
):
    with django_assert_max_num_queries(DASHBOARD_QUERIES) as first:
        client.get("/dashboard/")
    plays = Brand.objects.get(joint_action__campaign=published, slug="scientist-plays")
    for county in counties:
        publish(joint_action=plays.joint_action, brand=plays, organizer=museum, region=county)
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get("/dashboard/")


def test_csv_downloads(client, published):
    for table in ("provinces", "daily", "targets", "joint-actions", "brands", "units"):
        response = client.get(f"/dashboard/{table}.csv")
        assert response.status_code == 200, table
        assert response["Content-Type"].startswith("text/csv")
        text = response.content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) >= 2, table
    rows = list(csv.reader(io.StringIO(client.get("/dashboard/provinces.csv").content.decode("utf-8-sig"))))
    counts = {row[0]: row[2] for row in rows[1:]}
    assert counts["浙江省"] == "3" and counts["云南省"] == "3" and counts["北京市"] == "0"
    targets = client.get("/dashboard/targets.csv").content.decode("utf-8-sig")
    assert "暂无数据来源" not in targets and "1000名" in targets
    assert client.get("/dashboard/secrets.csv").status_code == 404
    assert client.get("/dashboard/provinces.csv?campaign=nope").status_code == 404


def test_map_json_per_level_is_small(client, published, counties):
    china = client.get("/dashboard/map.json")
    assert china.status_code == 200
    data = json.loads(china.content)
    assert data["level"] == 1 and len(data["regions"]) >= 34
    assert dict((c, n) for c, _, n in data["regions"])["330000"] == 3
    assert len(china.content) <= 20_000
    province = client.get("/dashboard/map.json?region=330000")
    data = json.loads(province.content)
    assert data["level"] == 2 and dict((c, n) for c, _, n in data["regions"])["330100"] == 2
    assert len(province.content) <= 20_000
    city = client.get("/dashboard/map.json?region=330100")
    data = json.loads(city.content)
    assert data["level"] == 3 and dict((c, n) for c, _, n in data["regions"])[counties[0].code] == 1
    assert len(city.content) <= 20_000
    for bad in ("abc", "999999", counties[0].code, "3" * 200):
        response = client.get(f"/dashboard/map.json?region={bad}")
        assert response.status_code == 404
        assert "区划代码" in json.loads(response.content)["error"]


def test_map_json_queries(client, published, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        client.get("/dashboard/map.json?region=330000")


def test_no_campaign_and_unknown_campaign(client, db):
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/dashboard/?campaign=kepuyue-1999").status_code == 404
    assert client.get("/dashboard/?campaign=" + "x" * 500).status_code == 404
    assert reverse("dashboard:public") == "/dashboard/"


def test_csv_query_counts(client, published, django_assert_max_num_queries):
    for table in ("provinces", "daily", "targets", "joint-actions", "brands", "units"):
        # The targets' table: one query per measured target (issues 14 and 15 included).
        with django_assert_max_num_queries(18):
            client.get(f"/dashboard/{table}.csv")


def test_figures_are_cached_for_a_minute(
    client, published, publish, museum, counties, settings, django_assert_max_num_queries
):
    from django.core.cache import cache

    settings.DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    assert 'data-figure="activities">6<' in client.get("/dashboard/").content.decode()
    plays = Brand.objects.get(joint_action__campaign=published, slug="scientist-plays")
    publish(joint_action=plays.joint_action, brand=plays, organizer=museum, region=counties[0])
    with django_assert_max_num_queries(3):  # the campaign, and nothing of the figures
        assert 'data-figure="activities">6<' in client.get("/dashboard/").content.decode()
    cache.clear()
    assert 'data-figure="activities">7<' in client.get("/dashboard/").content.decode()


def test_the_tables_speak_english_in_english(client, published, settings):
    """Titles, column headers and the toggles of the tables follow the language (fresh try: 省份,
    区划代码, 当日发布 … stayed Chinese on the English dashboard)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/dashboard/").content.decode()
    for english in ("View as a table: Activities published per province", "Division code", "Cumulative"):
        assert english in html
    for chinese in ("以表格查看", "区划代码", "当日发布", "各省份发布活动数"):
        assert chinese not in html
