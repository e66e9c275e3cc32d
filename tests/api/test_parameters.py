"""Hostile query parameters on every list of /api/v1/ (issue 16): a parameter the API cannot honour
is a 422 with one Chinese message per parameter — never silently ignored, never a 5xx."""

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import bearer, make_activity

pytestmark = pytest.mark.django_db

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# The lists and the parameters each takes.
LISTS = {
    "/api/v1/activities": [
        "campaign", "joint_action", "brand", "province", "city", "county", "from", "to", "form",
        "audience", "topic", "phase", "q", "sort", "cursor", "limit",
    ],
    "/api/v1/org/activities": ["status", "province", "from", "form", "cursor", "limit"],
    "/api/v1/changes": ["since", "limit"],
    "/api/v1/regions": ["parent"],
    "/api/v1/campaigns/kepuyue-2025/calls/citywalk-routes/entries": ["cursor"],
    "/api/v1/dashboard": ["campaign"],
    "/api/v1/dashboard/map": ["campaign", "region"],
}  # fmt: skip

BAD = {
    "limit": ["abc", "0", "-1", "101", "1e3", "2.5", str(2**80), "", "１０"],
    "since": ["abc", "-1", str(2**70), "1.5"],
    "campaign": ["no-such-campaign", "x" * 300, "科普月"],
    "joint_action": ["no-such-action", "../etc", "联合行动"],
    "brand": ["no-such-brand", "<script>"],
    "province": ["abc", "330100", "990000", "3300000", "٣٣٠٠٠٠"],
    "city": ["330000", "330106", "999900"],
    "county": ["330100", "999999", "33010６x"],
    "from": ["2025-13-45", "yesterday", "9999-01-01", "0001-01-01", "2025-09-31"],
    "to": ["not a date", "2025/02/30"],
    "form": ["car", "OFFLINE ONLINE"],
    "audience": ["999", "外星人"],
    "topic": ["-1", "②"],
    "phase": ["later"],
    "q": ["科" * 101],
    "sort": ["random", "relevance"],  # relevance without q
    "cursor": ["forged", "a" * 400],
    "status": ["deleted", "0"],
    "parent": ["abc", "990000", "33010"],
    "region": ["330106", "abc", "990000"],
}


@pytest.fixture
def listed(client, plan, unit, token):
    make_activity(unit)
    return client


def _get(client, path, params, secret):
    headers = bearer(secret) if "/org/" in path else {}
    return client.get(f"{path}?{urlencode(params, doseq=True)}", **headers)


@pytest.mark.parametrize(
    ("path", "param"), [(path, param) for path, params in LISTS.items() for param in params]
)
def test_every_bad_value_of_every_parameter_is_a_422_naming_it(listed, token, path, param):
    values = BAD[param]
    if path.endswith("/changes") and param == "limit":
        values = [v if v != "101" else "201" for v in values]  # the feed's pages go to 200
    for value in values:
        if param == "limit" and value == "":
            continue  # an empty parameter is an absent one
        response = _get(listed, path, {param: value}, token[1])
        assert response.status_code == 422, (path, param, value, response.content[:300])
        body = response.json()
        assert body["code"] == "validation"
        assert body["detail"] == "请求参数有误，请按字段说明修改"
        assert list(body["errors"]) == [param], (path, param, value, body)
        message = body["errors"][param][0]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message  # Chinese


def test_good_values_still_work(listed, token):
    good = {
        "province": "330000",
        "city": "330100",
        "county": "330106",
        "from": "2025-09-01",
        "to": "2025-09-30",
        "form": "offline",
        "phase": "upcoming",
        "sort": "start",
        "limit": "5",
        "joint_action": "science-museums",
    }
    body = listed.get("/api/v1/activities?" + urlencode(good)).json()
    assert len(body["items"]) == 1
    swapped = listed.get("/api/v1/activities?from=2025-09-30&to=2025-09-01").json()
    assert swapped["messages"] == ["开始日期晚于结束日期，已对调。"]  # a remark, not a refusal
    assert listed.get("/api/v1/activities?joint_action=none").status_code == 200
    assert _get(listed, "/api/v1/org/activities", {"status": "published"}, token[1]).status_code == 200
    assert listed.get("/api/v1/dashboard/map?region=330100").status_code == 200


parameter = st.sampled_from(sorted({p for params in LISTS.values() for p in params}))
any_char = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
value = st.one_of(
    st.text(any_char, max_size=60),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from([v for values in BAD.values() for v in values]),
)


@PROPERTY
@given(path=st.sampled_from(sorted(LISTS)), params=st.dictionaries(parameter, value, max_size=4))
def test_any_parameters_are_a_page_or_a_422_per_field(listed, token, path, params):
    response = _get(listed, path, params, token[1])
    assert response.status_code in (200, 422), (path, params, response.status_code)
    body = response.json()
    if response.status_code == 422:
        assert body["code"] == "validation"
        assert body["errors"], body
        for field, messages in body["errors"].items():
            assert field in params or field in ("from", "to"), (field, params)
            assert messages and all(isinstance(m, str) and m for m in messages)
