"""Names instead of codes (issue 11.5): suggestions and name matching stay in scope, capped, and take
any text without failing (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kepuyue.common.text import quote_title
from kepuyue.roles import suggest
from tests.fixtures_accounts import create_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def zj(regions):
    return create_staff("zj", role="platform_admin", region="330000")


def test_region_suggestions_are_full_names_in_scope(zj):
    names = suggest.suggest("region", zj, "朝阳")
    assert names == []  # 北京 and 长春 have one; neither is in 浙江
    assert suggest.suggest("region", zj, "西湖") == ["浙江省杭州市西湖区"]


def test_resolve_prefers_the_exact_name(zj):
    region = suggest.resolve("region", zj, "杭州市")
    assert region.code == "330100"
    assert isinstance(suggest.resolve("region", zj, "区"), suggest.Ambiguous)
    assert suggest.resolve("region", zj, "天河区") is None


def test_no_scope_no_names(regions):
    nobody = create_staff("nobody")
    assert suggest.suggest("region", nobody, "杭州") == []
    assert suggest.suggest("organization", nobody, "科") == []
    assert suggest.resolve("region", nobody, "杭州市") is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_any_text_is_answered_capped(zj, text):
    for kind in ("region", "organization", "society"):
        names = suggest.suggest(kind, zj, text)
        assert len(names) <= suggest.MAX_SUGGESTIONS
        found = suggest.resolve(kind, zj, text)
        assert found is None or isinstance(found, suggest.Ambiguous) or getattr(found, "pk", None)


@given(title=st.text(max_size=80))
def test_quote_title_never_doubles_the_marks(title):
    quoted = quote_title(title)
    assert title.strip() in quoted
    if "““" not in title and "””" not in title:
        assert "““" not in quoted and "””" not in quoted
