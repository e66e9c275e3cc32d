"""The 光影科学梦 catalogue (五(三)4): seeded exactly from the shared list's copy in data/, grown by staff."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kepuyue.specials import services
from kepuyue.specials.models import Film, FilmCategory
from tests.fixtures_accounts import login_staff

DATA = Path(__file__).resolve().parents[2] / "data" / "films_books.md"


def _table_rows_by_hand() -> list[tuple[str, str, str]]:
    """The 片名去重清单 table read independently of the product's parser: the rows between its heading
    and the next blank line, first three cells."""
    text = DATA.read_text(encoding="utf-8")
    part = text.split("### 片名去重清单", 1)[1]
    rows = []
    for line in part.splitlines()[1:]:
        if not line.strip():
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in ("片名",) or re.fullmatch(r"-+", cells[0]):
            continue
        rows.append((cells[0], cells[1], cells[2]))
    return rows


def test_the_data_copy_is_the_shared_list():
    # The shared research notes sit beside the checkout (../shared), or at /work/shared for a worktree.
    candidates = [
        DATA.parents[2] / "shared" / "data" / "films_books.md",
        Path("/work/shared/data/films_books.md"),
    ]
    shared = next((p for p in candidates if p.exists()), None)
    if shared is None:
        pytest.skip("the shared research notes are not on this machine")
    assert DATA.read_bytes() == shared.read_bytes()


def test_catalogue_is_seeded_exactly_from_the_shared_list(films):
    expected = _table_rows_by_hand()
    assert len(expected) == 25  # the sources name 25 distinct titles; the plan's 7+39+22+10 are targets
    rows = set(Film.objects.values_list("title", "source_category", "years"))
    assert rows == set(expected)
    assert Film.objects.count() == len(expected)
    assert not Film.objects.filter(seeded=False).exists()


def test_every_listed_film_gets_the_tour_part_its_source_label_names(films):
    by_title = {f.title: f.category for f in Film.objects.all()}
    assert by_title["星河一叶"] == FilmCategory.SCIENTIST
    assert by_title["杨振宁：百年科学之路"] == FilmCategory.SCIENTIST
    assert by_title["科学偶像（系列7部动画微电影）"] == FilmCategory.SHORT
    assert by_title["熊猫传奇：黑洞之吻"] == FilmCategory.SCIFI
    assert by_title["火星使命"] == FilmCategory.SCIFI
    assert by_title["与象同行"] == FilmCategory.SCIFI
    assert by_title["横空出世"] == FilmCategory.RED  # 往届影片 / 红色经典
    assert by_title["地道战"] == FilmCategory.RED
    assert by_title["大爱如天"] == FilmCategory.SCIENTIST  # 往届影片 of the 科学家精神 rounds
    counts = {c: sum(1 for v in by_title.values() if v == c) for c in FilmCategory.values}
    assert counts == {"scientist": 12, "short": 3, "scifi": 5, "red": 5}


def test_loading_twice_changes_nothing_and_keeps_staff_films(films, cast_admin):
    services.add_film(title="新片", category="scifi", actor=cast_admin)
    assert services.load_films() == {"created": 0, "updated": 0, "unchanged": 25}
    assert Film.objects.filter(title="新片", seeded=False).exists()


def test_a_list_without_the_table_is_refused(tmp_path):
    bad = tmp_path / "films.md"
    bad.write_text("# nothing here\n", encoding="utf-8")
    with pytest.raises(services.ProgrammeError):
        services.load_films(bad)


def test_staff_page_adds_a_film_only_for_cast_and_the_tour_managers(client, films, cast_admin, museum_staff):
    client.force_login(museum_staff)
    assert client.get("/org/programmes/films/").status_code == 403
    login_staff(client, cast_admin)
    response = client.post("/org/programmes/films/", {"title": "《新的科学家电影》", "category": "scientist"})
    assert response.status_code == 302
    assert Film.objects.get(title="新的科学家电影").added_by == cast_admin
    again = client.post("/org/programmes/films/", {"title": "新的科学家电影", "category": "scientist"})
    assert again.status_code == 400 and "片库中已有" in again.content.decode()


def test_film_tour_manager_may_add_films(client, films, django_user_model, plan):
    from kepuyue.campaigns.models import JointAction
    from kepuyue.roles.services import grant_role

    manager = django_user_model.objects.create_user("ja5", "ja5@example.org", "pw-manager-1")
    grant_role(
        manager,
        "joint_action_manager",
        joint_action=JointAction.objects.get(campaign=plan, slug="science-museums"),
    )
    login_staff(client, manager)
    assert client.get("/org/programmes/films/").status_code == 200


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.text(max_size=150), category=st.text(max_size=20), description=st.text(max_size=600))
def test_film_form_never_fails_on_any_input(client, films, cast_admin, title, category, description):
    login_staff(client, cast_admin)
    before = Film.objects.count()
    response = client.post(
        "/org/programmes/films/", {"title": title, "category": category, "description": description}
    )
    assert response.status_code in (302, 400)
    assert Film.objects.count() - before == (1 if response.status_code == 302 else 0)


def test_catalogue_staff_list_query_count_does_not_grow(client, films, cast_admin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login_staff(client, cast_admin)
    with CaptureQueriesContext(connection) as before:
        assert client.get("/org/programmes/films/").status_code == 200
    for i in range(3):
        services.add_film(title=f"新片{i}", category="short", actor=cast_admin)
    with CaptureQueriesContext(connection) as after:
        assert client.get("/org/programmes/films/").status_code == 200
    assert len(before) == len(after)
