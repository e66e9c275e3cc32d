"""A search with nothing searchable in it (emoji, symbols, punctuation) is explained, not silently
dropped (fresh tester, issue 17 follow-up)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kepuyue.activities.listing import ActivityFilter
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
    elif q.split():
        assert any(MESSAGE in t for t in texts)
        assert not activity_filter.q
