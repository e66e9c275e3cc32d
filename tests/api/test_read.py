"""Public reads of /api/v1/: the plan, regions, activities (the portal's filters and cursors),
detail with ETag / Last-Modified, availability, rate limits, one Chinese error body, and the query
count of every list."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kepuyue.activities.listing import ActivityFilter, list_activities

from .conftest import BJ, make_activity

pytestmark = pytest.mark.django_db


def test_openapi_is_3_1_and_generated_from_the_code(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert "/api/v1/activities" in schema["paths"]
    assert "/api/v1/org/activities/bulk" in schema["paths"]
    assert schema["components"]["schemas"]["ErrorOut"]["required"] == ["detail", "code"]


def test_docs_use_the_vendored_swagger_ui_not_a_cdn(client):
    response = client.get("/api/v1/docs")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_plan_reads(client, plan):
    campaigns = client.get("/api/v1/campaigns").json()
    assert [c["slug"] for c in campaigns] == ["kepuyue-2025"]
    assert campaigns[0]["platforms"]  # 八(一): the two publishing platforms
    actions = client.get("/api/v1/campaigns/kepuyue-2025/joint-actions").json()
    assert "science-museums" in [a["slug"] for a in actions]
    assert client.get("/api/v1/campaigns/kepuyue-2025/brands").json()
    assert client.get("/api/v1/campaigns/kepuyue-2025/key-tasks").json()
    assert client.get("/api/v1/campaigns/kepuyue-2025/calls").json()
    missing = client.get("/api/v1/campaigns/no-such")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "未找到，或无权查看", "code": "not_found", "errors": {}}


def test_regions(client, plan):
    provinces = client.get("/api/v1/regions").json()
    assert {"code": "330000", "name": "浙江省"}.items() <= next(
        r for r in provinces if r["code"] == "330000"
    ).items()
    cities = client.get("/api/v1/regions?parent=330000").json()
    assert "330100" in [r["code"] for r in cities]


def test_activities_are_the_portal_list(client, plan, unit):
    published = [
        make_activity(unit, title=f"活动{i}", starts_at=datetime(2025, 9, 1 + i, 9, tzinfo=BJ))
        for i in range(5)
    ]
    make_activity(unit, publish=False, title="草稿不公开")
    body = client.get("/api/v1/activities?limit=2").json()
    assert [a["id"] for a in body["items"]] == [published[0].pk, published[1].pk]
    assert body["items"][0]["joint_action"] == {
        "slug": "science-museums",
        "name": published[0].joint_action.name,
    }
    # Follow the cursor to the end: every published activity once, the draft never.
    seen, cursor = [], None
    while True:
        url = "/api/v1/activities?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url).json()
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [a.pk for a in published]
    # The same filter gives the same rows as the portal's query.
    params = {"from": "2025-09-03", "to": "2025-09-04", "county": "330106", "topic": ["1"]}
    api_ids = [a["id"] for a in client.get("/api/v1/activities", params).json()["items"]]
    portal = list_activities(ActivityFilter.from_params(params), campaign=plan)
    assert api_ids == [a.pk for a in portal.items]


def test_bad_parameters_are_refused_in_chinese_per_field(client, plan, unit):
    """Unlike the portal page (which ignores a bad parameter and says so), the API refuses it."""
    make_activity(unit)
    response = client.get("/api/v1/activities?province=abc&form=car&cursor=forged&limit=x")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation"
    assert body["errors"]["limit"] == ["应为整数，且在允许范围内"]
    response = client.get("/api/v1/activities?province=abc&form=car&cursor=forged")
    errors = response.json()["errors"]
    assert set(errors) == {"province", "form"}  # the filter is judged before the cursor is read
    assert "省级行政区划代码" in errors["province"][0]
    assert "offline" in errors["form"][0]
    assert client.get("/api/v1/activities?cursor=forged").json()["errors"]["cursor"]


def test_detail_etag_and_last_modified(client, plan, unit):
    activity = make_activity(unit, contact_phone="13812345678", description="**重要**")
    response = client.get(f"/api/v1/activities/{activity.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["contact_phone"] == "138****5678"
    assert "<strong>重要</strong>" in body["description_html"]
    etag, modified = response["ETag"], response["Last-Modified"]
    assert client.get(f"/api/v1/activities/{activity.pk}", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(f"/api/v1/activities/{activity.pk}", HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    # A change gives a new ETag (a save, as the admin makes it: the change feed sees it).
    activity.refresh_from_db()
    activity.updated = activity.updated + timedelta(seconds=5)
    activity.venue = "新场馆"
    activity.save()
    changed = client.get(f"/api/v1/activities/{activity.pk}", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["venue"] == "新场馆"


def test_list_etag(client, plan, unit):
    make_activity(unit)
    first = client.get("/api/v1/activities")
    assert client.get("/api/v1/activities", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    make_activity(unit, title="新活动")
    assert client.get("/api/v1/activities", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_unpublished_activity_is_404(client, plan, unit):
    draft = make_activity(unit, publish=False)
    response = client.get(f"/api/v1/activities/{draft.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert client.get("/api/v1/activities/99999999999999999999").status_code == 404


def test_availability(client, plan, unit):
    activity = make_activity(unit)
    body = client.get(f"/api/v1/activities/{activity.pk}/availability").json()
    assert body == {"activity": activity.pk, "mode": "none", "closed": False, "sessions": []}


def test_anonymous_reads_are_rate_limited(client, plan, settings):
    # Hourly, not per minute: a minute's window can roll over between the four requests of a slow run.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_read": "3/h"}
    codes = [client.get("/api/v1/campaigns").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/api/v1/regions")
    assert refused.json()["code"] == "rate_limited"
    assert refused.json()["detail"] == "请求过于频繁，请稍后再试"
    assert refused["Retry-After"] == "3600"


def test_validation_error_is_the_one_error_body(client, plan):
    response = client.get("/api/v1/activities/abc")
    assert response.status_code in (404, 422)
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/campaigns",
        "/api/v1/campaigns/kepuyue-2025/joint-actions",
        "/api/v1/campaigns/kepuyue-2025/key-tasks",
        "/api/v1/campaigns/kepuyue-2025/brands",
        "/api/v1/campaigns/kepuyue-2025/calls",
        "/api/v1/campaigns/kepuyue-2025/calls/citywalk-routes/entries",
        "/api/v1/regions?parent=330000",
        "/api/v1/activities?limit=50",
        "/api/v1/activities?limit=50&brand=science-nights&joint_action=science-museums",
        "/api/v1/activities?limit=50&province=330000&city=330100&county=330106&from=2025-09-01",
        "/api/v1/dashboard",
        "/api/v1/dashboard/map",
        "/api/v1/dashboard/map?region=330000",
        "/api/v1/changes?limit=100",
    ],
)
def test_query_counts_do_not_grow_with_rows(client, plan, unit, url, settings):
    """Every list costs the same number of queries for 3 rows as for 12 (caches off: the real reads)."""
    settings.API_READ_CACHE_SECONDS = 0
    settings.DASHBOARD_CACHE_SECONDS = 0
    settings.API_CHANGES_SETTLE_SECONDS = 0

    def count() -> int:
        client.get(url)  # warm caches (current campaign, sessions)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    for i in range(3):
        make_activity(unit, title=f"活动{i}")
    few = count()
    for i in range(9):
        make_activity(unit, title=f"更多活动{i}")
    assert count() == few
    # The dashboard reads its roll-ups once per figure and target (as its page does, then caches).
    assert few <= (40 if url == "/api/v1/dashboard" else 14)
