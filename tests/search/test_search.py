"""The search service: the same matches on SQLite (FTS5) and PostgreSQL (GIN over to_tsvector).

``make test`` runs this file on both databases; every expectation below is the same set on both.
"""

import pytest
from django.db import connection

from kepuyue.activities.models import Activity, Status
from kepuyue.search import services
from kepuyue.search.services import (
    _search_by_scan,
    fts5_query,
    order_by_relevance,
    query_words,
    search_activities,
)
from tests.activities.factories import ActivityFactory, JointActionFactory, OrganizationFactory, bj
from tests.search.corpus import CORPUS, EXPECTED

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus():
    """The fixed corpus, published, one day apart in corpus order; returns {key: id}."""
    action = JointActionFactory()
    ids = {}
    for day, (key, (title, summary, organizer, venue, county)) in enumerate(CORPUS.items(), start=1):
        activity = ActivityFactory(
            joint_action=action,
            title=title,
            summary=summary,
            organizer=OrganizationFactory(name=organizer),
            venue=venue,
            county_code=county,
            starts_at=bj(f"2025-09-{day:02d} 09:00"),
            status=Status.PUBLISHED,
        )
        ids[key] = activity.id
    return ids


def found(ids: dict[str, int], query, queryset=None) -> set[str]:
    """Keys of the corpus rows that ``search_activities`` returns for ``query``."""
    keys = {pk: key for key, pk in ids.items()}
    queryset = Activity.objects.all() if queryset is None else queryset
    return {keys[pk] for pk in search_activities(queryset, query).values_list("id", flat=True)}


def reference(ids: dict[str, int], query: str) -> set[str]:
    """What whole-word AND matching means, computed in Python from search_text."""
    terms = set(query_words(query))
    keys = {pk: key for key, pk in ids.items()}
    return {keys[a.id] for a in Activity.objects.all() if terms <= set(a.search_text.split())}


@pytest.mark.parametrize("query", sorted(EXPECTED))
def test_search_activities_fixed_corpus_expected_set(corpus, query):
    assert found(corpus, query) == EXPECTED[query]
    assert found(corpus, query) == reference(corpus, query)


@pytest.mark.parametrize(
    "query",
    [
        '" OR 1=1 --',
        "NEAR(科普 讲座)",
        "科学*",
        "-科普",
        "title:科普",
        "科普 OR 航天",
        "科普 AND NOT 航天",
        '科普"',
        "^科普",
        "(科普",
        "C++",
        "'; DROP TABLE activities_activity; --",
        "{search_text}: 科普",
        "科普 & 航天 | !丰镇 <-> x:*",
    ],
)
def test_search_activities_query_syntax_is_plain_text(corpus, query):
    # Operators are not operators: the result is exactly the whole-word AND of the words.
    assert found(corpus, query) == reference(corpus, query)


def test_search_activities_or_is_a_word_not_an_operator(corpus):
    assert found(corpus, "科普 OR NEAR") == {"syntax_like"}
    assert found(corpus, "科普 OR 航天") == set()


@pytest.mark.parametrize("query", ["", "   ", "！？。…", "——", None])
def test_search_activities_empty_query_does_not_filter(corpus, query):
    assert found(corpus, query) == set(CORPUS)


def test_search_activities_keeps_other_filters(corpus):
    queryset = Activity.objects.filter(county_code="330106")
    assert found(corpus, "人工智能", queryset) == {"ai_lecture"}


def test_search_activities_start_order_is_identical(corpus):
    result = search_activities(Activity.objects.all(), "科普").order_by("starts_at", "id")
    ids = list(result.values_list("id", flat=True))
    expected = [corpus[key] for key in CORPUS if key in reference(corpus, "科普")]
    assert ids == expected


@pytest.mark.parametrize("query", ["科普", "人工智能", "航天", "丰镇", "科学", "科普活动"])
def test_order_by_relevance_is_density_then_start(corpus, query):
    """Fewest words first (BM25's order when every match holds each query word once), then start
    time: the same order on both databases."""
    rows = {a.id: a for a in Activity.objects.all()}
    matches = [corpus[key] for key in reference(corpus, query)]
    expected = sorted(matches, key=lambda pk: (len(rows[pk].search_text.split()), rows[pk].starts_at, pk))
    result = order_by_relevance(search_activities(Activity.objects.all(), query))
    assert list(result.values_list("id", flat=True)) == expected


def test_order_by_relevance_prefers_the_shorter_text(corpus):
    # 中国航天日主题科普活动 (14 words with organizer and venue) before 航空航天科普展 (27 words).
    result = order_by_relevance(search_activities(Activity.objects.all(), "航天"))
    assert list(result.values_list("id", flat=True)) == [corpus["space_day"], corpus["aerospace_expo"]]


def test_order_by_relevance_without_query_is_start_order(corpus):
    result = order_by_relevance(search_activities(Activity.objects.all(), ""))
    assert list(result.values_list("id", flat=True)) == list(corpus.values())


def test_order_by_relevance_unsearched_queryset_raises():
    with pytest.raises(ValueError, match="search_activities"):
        order_by_relevance(Activity.objects.all())


def test_query_words_normalises_width_case_and_punctuation():
    assert query_words("ＡＩ！") == ["ai"]
    assert query_words("“科学之夜”") == ["科学之夜"]
    assert query_words("航天 航天") == ["航天"]


@pytest.mark.parametrize(
    "pasted",
    ["科\u200b普", "\ufeff科普", "科\u00ad普", "\u202e科普\u202c", "科\u2060普", "\u200d科\u200c普\u200e"],
)
def test_invisible_characters_pasted_into_a_query_change_nothing(corpus, pasted):
    """Text copied from WeChat or a web page carries zero-width and bidirectional characters inside
    words; the query means what it shows."""
    assert query_words(pasted) == query_words("科普")
    assert found(corpus, pasted) == found(corpus, "科普") != set()


def test_query_words_drops_parts_of_longer_words():
    # 人工智能 is indexed with its parts 人工 and 智能, so looking it up alone finds the same rows.
    assert query_words("人工智能") == ["人工智能"]
    assert query_words("西湖区 航天") == ["西湖区", "航天"]
    assert query_words("科学 科学之夜") == ["科学之夜"]


def test_query_words_caps_length():
    assert len(query_words("科普" * 500)) <= 12


def test_fts5_query_quotes_every_term():
    assert fts5_query(["科普", 'a"b', "NEAR"]) == '"科普" "a""b" "NEAR"'


def test_search_index_tokens_are_the_words_on_postgresql(corpus):
    """PostgreSQL's parser must keep each segmented word whole, as FTS5 does."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL parser check")
    with connection.cursor() as cursor:
        for activity in Activity.objects.all():
            cursor.execute("SELECT tsvector_to_array(to_tsvector('simple', %s))", [activity.search_text])
            assert set(cursor.fetchone()[0]) == set(activity.search_text.split())


def test_search_index_tokens_are_the_words_on_sqlite(corpus):
    """FTS5's unicode61 must keep each segmented word whole, as PostgreSQL does."""
    if connection.vendor != "sqlite":
        pytest.skip("FTS5 tokenizer check")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE VIRTUAL TABLE temp.vocab_check USING fts5vocab(main, search_activity_fts, row)"
        )
        cursor.execute("SELECT term FROM temp.vocab_check")
        terms = {row[0] for row in cursor.fetchall()}
        cursor.execute("DROP TABLE temp.vocab_check")
    words = {word for activity in Activity.objects.all() for word in activity.search_text.split()}
    assert terms == words


@pytest.mark.parametrize("query", sorted(EXPECTED))
def test_search_by_scan_fallback_agrees_with_index(corpus, query):
    keys = {pk: key for key, pk in corpus.items()}
    result = _search_by_scan(Activity.objects.all(), query_words(query)).values_list("id", flat=True)
    assert {keys[pk] for pk in result} == EXPECTED[query]


@pytest.mark.parametrize("query", sorted(EXPECTED))
def test_search_activities_index_walk_gives_the_same_matches(corpus, query, monkeypatch):
    # Force the plan SQLite uses for common words in a start-ordered list.
    monkeypatch.setattr(services, "WALK_FROM", 0)
    monkeypatch.setattr(services, "PG_WALK_FROM", 0)
    keys = {pk: key for key, pk in corpus.items()}
    result = services.order_by_start(search_activities(Activity.objects.all(), query, in_index_order=True))
    assert {keys[pk] for pk in result.values_list("id", flat=True)} == EXPECTED[query]


@pytest.mark.parametrize("plan", ["probe", "walk", "fetch"])
@pytest.mark.parametrize("query", ["科普", "人工智能", "丰镇", ""])
def test_search_activities_every_plan_gives_the_same_order(corpus, query, plan, monkeypatch):
    monkeypatch.setattr(services, "PROBE_FROM", 0 if plan == "probe" else 10**9)
    monkeypatch.setattr(services, "WALK_FROM", 0 if plan != "fetch" else 10**9)
    monkeypatch.setattr(services, "PG_WALK_FROM", 0 if plan != "fetch" else 10**9)
    searched = search_activities(Activity.objects.all(), query, in_index_order=True)
    plain = search_activities(Activity.objects.all(), query)
    for order in (services.order_by_start, order_by_relevance):
        assert list(order(searched).values_list("id", flat=True)) == list(
            order(plain).values_list("id", flat=True)
        )
        reverse = list(order(searched).reverse().values_list("id", flat=True))
        assert reverse == list(reversed(list(order(plain).values_list("id", flat=True))))
