"""The review desk shows what it judges (issue 11.2) and filters by names with suggestions (11.5):
poster, full description, form and link, audiences, topics, participants, special areas; brand,
region and unit typed by name (no JavaScript needed), a scoped, capped, rate-limited JSON endpoint,
and query counts of the queue."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile

from kepuyue.activities.models import Activity, Audience, Form, SpecialArea, Status, Topic

from .conftest import login

pytestmark = pytest.mark.django_db


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (30, 40), "navy").save(out, "PNG")
    return out.getvalue()


def full_activity(world, **extra):
    item = world.activity(world.units.zj, Status.SUBMITTED, title="海报活动")
    item.description = "## 活动安排\n\n- 上午：**机器人**展示\n- 下午：讲座\n\n<script>alert(1)</script>"
    item.form = Form.HYBRID
    item.online_url = "https://live.example.org/room/1"
    item.audiences = Audience.YOUTH | Audience.FAMILIES
    item.topics = Topic.AI
    item.special_areas = SpecialArea.RURAL | SpecialArea.BORDER
    item.expected_participants = 1200
    item.poster.save("poster.png", ContentFile(png()), save=False)
    for name, value in extra.items():
        setattr(item, name, value)
    item.save()
    return item


def test_detail_shows_everything_the_return_reasons_refer_to(world, client):
    item = full_activity(world)
    login(client, world.users.admin_zj)
    page = client.get(f"/org/review/{item.pk}/").content.decode()
    assert f'href="{item.poster.url}"' in page and f'src="{item.poster.url}"' in page  # click for full
    assert 'alt="活动海报：海报活动"' in page and 'loading="lazy"' in page and 'width="240"' in page
    assert "<h3>活动安排</h3>" in page or "活动安排</h" in page
    assert "<strong>机器人</strong>" in page and "<script>alert(1)</script>" not in page
    assert "线上线下结合" in page and "https://live.example.org/room/1" in page
    assert "青少年、家庭亲子" in page
    assert "人工智能" in page
    assert "农村地区、边疆地区" in page
    assert "1200" in page
    assert "一楼大厅" in page and "杭州低碳科技馆" in page and "王老师" in page
    assert 'href="tel:13812345678"' in page  # in scope: the full number, callable


def test_detail_says_what_is_missing(world, client):
    item = world.activity(world.units.zj, Status.SUBMITTED, title="空白活动")
    Activity.objects.filter(pk=item.pk).update(form=Form.ONLINE)
    login(client, world.users.admin_zj)
    page = client.get(f"/org/review/{item.pk}/").content.decode()
    assert "未上传海报" in page and "未填写活动详情" in page
    assert page.count("未填写") >= 4  # link, audiences, topics, participants


def test_detail_fits_a_phone_layout(world, client):
    item = full_activity(world)
    login(client, world.users.admin_zj)
    page = client.get(f"/org/review/{item.pk}/").content.decode()
    assert 'name="viewport"' in page and "max-width:100%" in page


# --- filters by name ------------------------------------------------------------------------------


def test_filters_by_region_name_unit_name_and_brand_name(world, client):
    hz = world.activity(world.units.zj, Status.SUBMITTED, title="杭州的活动")
    nb = world.activity(world.units.zj2, Status.SUBMITTED, title="宁波的活动")
    # Every activity of the joint action carries its first brand (plan 八(一)); this one another.
    brand = world.ja.brands.order_by("order")[1]
    Activity.objects.filter(pk=nb.pk).update(brand=brand)
    login(client, world.users.admin_zj)

    page = client.get("/org/review/", {"region": "杭州市"}).content.decode()
    assert "杭州的活动" in page and "宁波的活动" not in page
    page = client.get("/org/review/", {"region": "浙江省宁波市"}).content.decode()
    assert "宁波的活动" in page and "杭州的活动" not in page
    page = client.get("/org/review/", {"unit": "宁波科学探索中心"}).content.decode()
    assert "宁波的活动" in page and "杭州的活动" not in page
    page = client.get("/org/review/", {"unit": "低碳"}).content.decode()  # a unique part of a name
    assert "杭州的活动" in page and "宁波的活动" not in page
    page = client.get("/org/review/", {"brand": brand.name}).content.decode()
    assert "宁波的活动" in page and "杭州的活动" not in page
    assert hz.pk


def test_old_links_with_codes_still_filter(world, client):
    world.activity(world.units.zj, Status.SUBMITTED, title="杭州的活动")
    world.activity(world.units.zj2, Status.SUBMITTED, title="宁波的活动")
    login(client, world.users.admin_zj)
    page = client.get("/org/review/", {"region": "330100"}).content.decode()
    assert "杭州的活动" in page and "宁波的活动" not in page


def test_unknown_or_ambiguous_names_say_so_and_show_nothing(world, client):
    world.activity(world.units.zj, Status.SUBMITTED, title="杭州的活动")
    login(client, world.users.admin_zj)
    page = client.get("/org/review/", {"unit": "广东科学中心"}).content.decode()  # another province
    assert "没有找到单位“广东科学中心”" in page and "杭州的活动" not in page
    page = client.get("/org/review/", {"unit": "科"}).content.decode()  # several units
    assert "有多个匹配" in page and "杭州的活动" not in page


def test_queue_page_has_no_codes_or_slugs_to_type(world, client):
    login(client, world.users.admin_zj)
    page = client.get("/org/review/").content.decode()
    assert "6 位行政区划代码" not in page and 'pattern="[0-9]{6}"' not in page
    assert 'list="region-names"' in page and 'list="unit-names"' in page and 'list="brand-names"' in page
    assert "/org/review/suggest/region.json" in page


# --- the suggestion endpoint ----------------------------------------------------------------------


def test_suggestions_are_scoped(world, client):
    login(client, world.users.admin_zj)
    names = client.get("/org/review/suggest/organization.json", {"q": "科"}).json()["results"]
    assert "杭州低碳科技馆" in names and "广东科学中心" not in names and "北京科学中心" not in names
    regions = client.get("/org/review/suggest/region.json", {"q": "西湖"}).json()["results"]
    assert regions and all(r.startswith("浙江省") for r in regions)
    assert client.get("/org/review/suggest/region.json", {"q": "天河"}).json()["results"] == []


def test_suggestions_are_capped_and_start_matches_first(world, client):
    login(client, world.users.cast)
    regions = client.get("/org/review/suggest/region.json", {"q": "区"}).json()["results"]
    assert len(regions) == 10
    hz = client.get("/org/review/suggest/region.json", {"q": "杭州"}).json()["results"]
    assert hz[0] == "浙江省杭州市"


@pytest.mark.parametrize(
    "who,status", [("pub_zj", 403), ("public", 403), ("manager", 403), ("admin_zj", 200)]
)
def test_suggestion_permissions(world, client, who, status):
    login(client, getattr(world.users, who))
    assert client.get("/org/review/suggest/organization.json", {"q": "科"}).status_code == status


def test_suggestion_unknown_kind_and_anonymous(world, client):
    assert client.get("/org/review/suggest/organization.json", {"q": "科"}).status_code == 302
    login(client, world.users.admin_zj)
    assert client.get("/org/review/suggest/users.json", {"q": "a"}).status_code == 404
    assert client.get("/org/review/suggest/organization.json", {"q": ""}).json() == {"results": []}
    long = client.get("/org/review/suggest/organization.json", {"q": "科" * 50_000})
    assert long.status_code == 200


def test_suggestions_are_rate_limited(world, client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "suggest": "3/h"}
    login(client, world.users.admin_zj)
    codes = [client.get("/org/review/suggest/region.json", {"q": "杭"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


# --- query counts ---------------------------------------------------------------------------------


def test_queue_query_count_does_not_grow_with_rows(world, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, world.users.admin_zj)
    counts = []
    for n in (1, 3):
        while Activity.objects.filter(status=Status.SUBMITTED).count() < n:
            world.activity(world.units.zj, Status.SUBMITTED)
        client.get("/org/review/")
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/org/review/", {"unit": "低碳", "region": "杭州市"})
        assert response.content.decode().count('name="ids"') == n
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 24, counts
