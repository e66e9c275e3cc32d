"""A search with nothing searchable in it (emoji, symbols, punctuation) is explained, not silently
dropped (fresh tester, issue 17 follow-up)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kepuyue.activities.listing import ActivityFilter
from kepuyue.search.segment import visible
from kepuyue.search.services import query_words

pytestmark = pytest.mark.django_db

MESSAGE = "没有可检索的文字"


@pytest.fixture
def plan(campaign_2025, clock):
    clock("2025-09-10T10:00+08:00")
    return campaign_2025


@pytest.mark.parametrize("q", ["😀", "😀🎉🔬", "🚀 ！？", "♥♥♥", "👨‍👩‍👧"])
def test_an_emoji_only_search_says_why_nothing_was_searched(client, plan, q):
    html = client.get("/activities/", {"q": q}).content.decode()
    assert MESSAGE in html


def test_a_word_with_an_emoji_is_searched_without_the_message(client, plan):
    html = client.get("/activities/", {"q": "机器人🤖"}).content.decode()
    assert MESSAGE not in html


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    q=st.text(
        alphabet=st.characters(categories=("So", "Sk", "Sm", "Po", "Ps", "Pe", "Zs", "Cf")),
        min_size=1,
        max_size=20,
    )
)
def test_every_query_without_words_gets_the_message(q):
    activity_filter = ActivityFilter.from_params({"q": q})
    texts = [str(m) for m in activity_filter.messages]
    if query_words(q):
        assert not any(MESSAGE in t for t in texts)
    elif visible(q).split():  # invisible characters alone are no query at all
        assert any(MESSAGE in t for t in texts)
        assert not activity_filter.q


@pytest.mark.parametrize("q", ["🚀", "'\"<>", "！？"])
def test_the_api_says_the_same_as_the_page(client, plan, q):
    """The 422 of a query without words is that sentence, not the parameter's length rule."""
    response = client.get("/api/v1/activities", {"q": q})
    assert response.status_code == 422
    assert MESSAGE in response.json()["errors"]["q"][0]


def test_a_reversing_character_is_not_echoed_back():
    """U+202E in the query would reverse the 当前条件 chip ("关键词：普科cba")."""
    activity_filter = ActivityFilter.from_params({"q": "\u202eabc科\u200b普"})
    assert activity_filter.q == "abc科普"


@pytest.mark.parametrize(
    ("q", "hinted"), [("科", True), ("星 科", True), ("科普", False), ("科 普及", False)]
)
def test_single_characters_get_a_hint(q, hinted):
    texts = [str(m) for m in ActivityFilter.from_params({"q": q}).messages]
    assert any("单个字" in t for t in texts) is hinted
