"""重点城市 (issue 14, plan 七(四)1): CAST or the reading joint action's manager (中国科普作家协会) chooses
10–15 key cities on a staff page; 阅见科普 events carry a city and an optional 图书签售 flag; the dashboard
counts key cities with events against the 10~15 target."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kepuyue.audit.models import AuditEntry
from kepuyue.campaigns.models import JointAction, KeyCity
from kepuyue.campaigns.services import KeyCityError, add_key_city, remove_key_city
from kepuyue.dashboard.measures import target_progress
from kepuyue.orgs.models import Organization
from kepuyue.regions.models import Level, Region
from kepuyue.roles.models import RoleGrant
from tests.calls.conftest import login

URL = "/org/dashboard/key-cities/"


@pytest.fixture
def reading(plan):
    return JointAction.objects.get(campaign=plan, slug="science-reading")


@pytest.fixture
def writers_manager(reading, django_user_model):
    """The 中国科普作家协会's account: manager of the reading joint action."""
    user = django_user_model.objects.create_user("kpzx", password="pw-kpzx-2025")
    RoleGrant.objects.create(user=user, role="joint_action_manager", joint_action=reading)
    return user


@pytest.fixture
def cast(plan, django_user_model):
    user = django_user_model.objects.create_user("cast", password="pw-cast-2025")
    RoleGrant.objects.create(user=user, role="cast_admin")
    return user


def test_the_plan_gives_the_reading_action_10_to_15_key_cities(reading):
    assert reading.key_cities_rule == {"min": 10, "max": 15, "selected_by": "中国科普作家协会"}
    assert not KeyCity.objects.exists()  # the plan names none


def test_key_city_rules(reading, writers_manager):
    add_key_city(reading, "330100", actor=writers_manager)
    with pytest.raises(KeyCityError, match="已是重点城市"):
        add_key_city(reading, "330100", actor=writers_manager)
    for code in ("330000", "330106", "999999", "", "abc"):
        with pytest.raises(KeyCityError, match="请选择一个地级城市"):
            add_key_city(reading, code, actor=writers_manager)
    others = Region.objects.filter(level=Level.PREFECTURE).exclude(code="330100").order_by("code")[:14]
    for region in others:
        add_key_city(reading, region.code, actor=writers_manager)
    with pytest.raises(KeyCityError, match="最多 15 个"):
        add_key_city(reading, "530100", actor=writers_manager)
    remove_key_city(reading, "330100", actor=writers_manager)
    add_key_city(reading, "530100", actor=writers_manager)
    assert KeyCity.objects.count() == 15
    assert AuditEntry.objects.filter(action="key_city.add").count() == 16
    assert AuditEntry.objects.filter(action="key_city.remove", actor=writers_manager).count() == 1
    bases = JointAction.objects.get(campaign=reading.campaign, slug="science-education-bases")
    with pytest.raises(KeyCityError, match="没有重点城市"):
        add_key_city(bases, "330100", actor=writers_manager)


def test_the_dashboard_counts_key_cities_with_events_and_the_page_shows_signings(
    client, reading, writers_manager, publish, counties
):
    brand = reading.brands.get(slug="reading-events")
    press = Organization.objects.create(name="某出版社", type_id="publisher")
    # Hangzhou: two events, one with a book signing; Ningbo: one event but not a key city.
    publish(joint_action=reading, brand=brand, organizer=press, region=counties[0], book_signing=True)
    publish(joint_action=reading, brand=brand, organizer=press, region=counties[1])
    publish(joint_action=reading, brand=brand, organizer=press, region=counties[2])
    add_key_city(reading, "330100", actor=None)
    add_key_city(reading, "530100", actor=None)
    [cities] = [p for p in target_progress(reading.campaign) if p.target.slug == "cities"]
    assert (cities.value, cities.status_text) == (1, "1 / 10~15个")
    login(client, writers_manager)
    page = client.get(URL).content.decode()
    assert "已选 2 个（方案 10~15 个），其中 1 个已有发布的活动。" in page
    rows = page.split('<table id="key-cities">')[1]
    # Key cities first (Hangzhou 2 events, 1 signing; Kunming none), then Ningbo as a candidate.
    assert rows.index("杭州市") < rows.index("昆明市") < rows.index("宁波市")
    assert "<td>是</td><td>2</td><td>1</td>" in rows


def test_choosing_on_the_page(client, reading, writers_manager):
    login(client, writers_manager)
    response = client.post(URL + "science-reading/", {"action": "add", "code": "330100"})
    assert response.status_code == 302
    assert list(KeyCity.objects.values_list("region_id", flat=True)) == ["330100"]
    page = client.post(URL + "science-reading/", {"action": "add", "code": "330106"}, follow=True)
    assert "请选择一个地级城市" in page.content.decode()
    client.post(URL + "science-reading/", {"action": "remove", "code": "330100"})
    assert not KeyCity.objects.exists()


@pytest.mark.parametrize("who", ["anonymous", "unit", "other_manager", "judge"])
def test_who_may_not_choose_gets_a_404_or_the_login(client, reading, plan, django_user_model, who):
    if who == "anonymous":
        assert client.get(URL)["Location"].startswith("/accounts/login/")
        return
    user = django_user_model.objects.create_user(who, password="pw-someone-2025")
    if who == "unit":
        from kepuyue.orgs.models import Membership

        Membership.objects.create(
            user=user, organization=Organization.objects.create(name="某图书馆", type_id="library")
        )
    elif who == "other_manager":
        RoleGrant.objects.create(
            user=user,
            role="joint_action_manager",
            joint_action=JointAction.objects.get(campaign=plan, slug="universities"),
        )
    login(client, user)
    assert client.get(URL).status_code == 404
    assert client.post(URL + "science-reading/", {"action": "add", "code": "330100"}).status_code == 404
    assert not KeyCity.objects.exists()


def test_cast_may_choose_too(client, reading, cast):
    login(client, cast)
    assert client.get(URL + "science-reading/").status_code == 200
    client.post(URL + "science-reading/", {"action": "add", "code": "110100"})
    assert KeyCity.objects.filter(region_id="110100").exists()
    assert client.get(URL + "universities/").status_code == 404  # no key cities there


@pytest.mark.parametrize("n", [1, 3])
def test_key_city_page_query_count(client, reading, writers_manager, django_assert_num_queries, n):
    for region in Region.objects.filter(level=Level.PREFECTURE).order_by("code")[:n]:
        add_key_city(reading, region.code, actor=None)
    login(client, writers_manager)
    client.get(URL)
    # session, user, OTP device, campaign, joint actions, grants, key cities, counts, names, prefectures,
    # messages — the same number for 1 and 3 cities.
    with django_assert_num_queries(_queries(client)):
        page = client.get(URL).content.decode()
    assert page.count('class="key-city"') == n


def _queries(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(URL)
    assert len(ctx.captured_queries) <= 14
    return len(ctx.captured_queries)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.text(max_size=20), code=st.text(max_size=20))
def test_the_form_never_fails_on_any_input(client, reading, writers_manager, action, code):
    login(client, writers_manager)
    response = client.post(
        URL + "science-reading/", {"action": action.replace("\x00", ""), "code": code.replace("\x00", "")}
    )
    assert response.status_code == 302
    assert KeyCity.objects.count() <= 1
    KeyCity.objects.all().delete()
