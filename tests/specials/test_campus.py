"""科学大师剧 (二(二)2) and 千名青年共探星火馆 volunteers (二(二)1): the universities keep them, another
university's rows are a 404, public pages show counts and never names, the measures count real rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kepuyue.activities.models import Status
from kepuyue.audit.models import AuditEntry
from kepuyue.dashboard.measures import target_progress
from kepuyue.specials import services
from kepuyue.specials.models import Performance, Play, Volunteer


def _progress(plan):
    return {(p.target.joint_action.slug, p.target.slug): p for p in target_progress(plan)}


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("欧阳明", "欧**"), ("李", "*"), ("阿卜杜拉·买买提", "阿***"), ("", "")],
)
def test_mask_name(name, masked):
    assert services.mask_name(name) == masked


def test_volunteers_are_kept_by_their_university_and_counted(
    client, plan, uni_a, uni_b, uni_a_staff, uni_b_staff
):
    client.force_login(uni_a_staff)
    for name, role in (("王小明", "undergraduate"), ("李红", "graduate"), ("赵老师", "teacher")):
        assert client.post("/org/programmes/volunteers/", {"name": name, "role": role}).status_code == 302
    client.force_login(uni_b_staff)
    client.post("/org/programmes/volunteers/", {"name": "钱多多", "role": "club"})
    roster_b = client.get("/org/programmes/volunteers/").content.decode()
    assert "钱多多" in roster_b and "王小明" not in roster_b
    theirs = Volunteer.objects.get(name="王小明")
    assert client.post(f"/org/programmes/volunteers/{theirs.pk}/delete/").status_code == 404
    assert Volunteer.objects.filter(pk=theirs.pk).exists()
    assert AuditEntry.objects.filter(action="volunteer.view_roster", actor=uni_b_staff).exists()
    assert services.volunteer_counts(plan)[0] == {
        "university_id": uni_a.pk,
        "university__name": "甲大学",
        "n": 3,
    }
    assert _progress(plan)[("universities", "youth")].value == 4
    client.force_login(uni_a_staff)
    assert client.post(f"/org/programmes/volunteers/{theirs.pk}/delete/").status_code == 302
    assert _progress(plan)[("universities", "youth")].value == 3


def test_only_universities_keep_rosters_and_plays(client, plan, museum_staff):
    client.force_login(museum_staff)
    assert client.get("/org/programmes/volunteers/").status_code == 403
    assert client.get("/org/programmes/plays/").status_code == 403
    client.logout()
    assert client.get("/org/programmes/volunteers/").status_code == 302  # to sign in


def test_public_pages_never_show_volunteer_names(client, plan, uni_a, uni_a_staff):
    for name in ("王小明", "李红"):
        services.add_volunteer(uni_a, plan, name=name, role="undergraduate", actor=uni_a_staff)
    for url in ("/volunteers/", f"/units/{uni_a.pk}/"):
        body = client.get(url).content.decode()
        assert "王小明" not in body and "李红" not in body
        assert "2" in body


def test_volunteer_asks_only_a_name(plan, uni_a):
    with pytest.raises(services.ProgrammeError):
        services.add_volunteer(uni_a, plan, name="13812345678", role="undergraduate", actor=None)
    with pytest.raises(services.ProgrammeError):
        services.add_volunteer(uni_a, plan, name="王<script>", role="undergraduate", actor=None)
    with pytest.raises(services.ProgrammeError):
        services.add_volunteer(uni_a, plan, name="王小明", role="admin", actor=None)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=60), role=st.text(max_size=20))
def test_volunteer_form_never_fails(client, plan, uni_a_staff, name, role):
    client.force_login(uni_a_staff)
    before = Volunteer.objects.count()
    response = client.post("/org/programmes/volunteers/", {"name": name, "role": role})
    assert response.status_code in (302, 400)
    assert Volunteer.objects.count() - before == (1 if response.status_code == 302 else 0)


def test_plays_and_performances_counted_toward_the_hundred(client, plan, uni_a, uni_b, uni_a_staff, publish):
    client.force_login(uni_a_staff)
    form = {"form": "play", "title": "《钱学森》", "scientist": "钱学森", "troupe": "学生话剧团"}
    assert client.post("/org/programmes/plays/", form).status_code == 302
    play = Play.objects.get(university=uni_a)
    assert play.title == "钱学森"
    again = client.post("/org/programmes/plays/", form)
    assert again.status_code == 400 and "已有" in again.content.decode()
    mine = publish(uni_a, ja_slug="universities")  # not marked with the brand
    draft = publish(uni_a, ja_slug="universities", status=Status.DRAFT)
    theirs = publish(uni_b, ja_slug="universities")
    post = {"form": "performance", "play": play.pk}
    assert client.post("/org/programmes/plays/", {**post, "activity": theirs.pk}).status_code == 404
    assert client.post("/org/programmes/plays/", {**post, "activity": mine.pk}).status_code == 302
    assert client.post("/org/programmes/plays/", {**post, "activity": draft.pk}).status_code == 302
    other_play = Play.objects.create(university=uni_b, title="邓稼先", scientist="邓稼先")
    assert (
        client.post(
            "/org/programmes/plays/", {**post, "play": other_play.pk, "activity": mine.pk}
        ).status_code
        == 404
    )
    # Marked with the brand (counted by the roll-ups) and also registered: counted once.
    marked = publish(uni_a, ja_slug="universities", brand_slug="scientist-plays")
    services.link_performance(marked, play, actor=None)
    publish(uni_b, ja_slug="universities", brand_slug="scientist-plays")  # marked only
    assert Performance.objects.count() == 3
    assert _progress(plan)[("universities", "plays")].value == 3  # mine, marked, the other marked one
    page = client.get("/plays/").content.decode()
    assert "钱学森" in page and "甲大学" in page


def test_unit_page_shows_activities_plays_and_videos(client, plan, uni_a, publish):
    from kepuyue.calls.models import Entry, EntryStatus
    from kepuyue.campaigns.models import Call

    publish(uni_a, ja_slug="universities", title="星火馆开放日")
    Play.objects.create(university=uni_a, title="马兰花开", scientist="邓稼先")
    call = Call.objects.get(campaign=plan, slug="xinghuo-videos")
    Entry.objects.create(call=call, organization=uni_a, title="走进星火馆", status=EntryStatus.PUBLISHED)
    Entry.objects.create(call=call, organization=uni_a, title="草稿视频", status=EntryStatus.DRAFT)
    body = client.get(f"/units/{uni_a.pk}/").content.decode()
    assert "星火馆开放日" in body and "马兰花开" in body and "走进星火馆" in body
    assert "草稿视频" not in body
    assert client.get("/units/999999/").status_code == 404


def _count(client, url):
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_public_lists_query_count_does_not_grow(client, plan, uni_a, uni_b, publish):
    from kepuyue.calls.models import Entry, EntryStatus
    from kepuyue.campaigns.models import Call

    call = Call.objects.get(campaign=plan, slug="xinghuo-videos")

    def add(unit, i):
        play = Play.objects.create(university=unit, title=f"剧{unit.pk}-{i}", scientist="某科学家")
        services.link_performance(publish(unit, ja_slug="universities"), play, actor=None)
        services.add_volunteer(unit, plan, name=f"王{i}", role="undergraduate", actor=None)
        Entry.objects.create(call=call, organization=unit, title=f"视频{i}", status=EntryStatus.PUBLISHED)

    urls = ["/plays/", "/volunteers/", f"/units/{uni_a.pk}/"]
    add(uni_a, 0)
    one = [_count(client, u) for u in urls]
    add(uni_a, 1)
    add(uni_b, 2)
    three = [_count(client, u) for u in urls]
    assert one == three


def test_staff_lists_query_count_does_not_grow(client, plan, uni_a, uni_a_staff, publish):
    client.force_login(uni_a_staff)

    def add(i):
        play = Play.objects.create(university=uni_a, title=f"剧{i}", scientist="某科学家")
        services.link_performance(publish(uni_a, ja_slug="universities"), play, actor=None)
        services.add_volunteer(uni_a, plan, name=f"王{i}", role="undergraduate", actor=None)

    urls = ["/org/programmes/plays/", "/org/programmes/volunteers/"]
    add(0)
    one = [_count(client, u) for u in urls]
    add(1)
    add(2)
    assert [_count(client, u) for u in urls] == one


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.text(max_size=120), scientist=st.text(max_size=120), troupe=st.text(max_size=120))
def test_play_form_never_fails(client, plan, uni_a_staff, title, scientist, troupe):
    client.force_login(uni_a_staff)
    response = client.post(
        "/org/programmes/plays/", {"form": "play", "title": title, "scientist": scientist, "troupe": troupe}
    )
    assert response.status_code in (302, 400)
