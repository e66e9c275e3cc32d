"""The API answers in the request's language (issue 16, decision 0020 amendment): Chinese by default,
English for ``Accept-Language: en`` — refusals, per-field messages, the portal's notices and the
services' validation messages alike (Django i18n, ``locale/en/LC_MESSAGES/django.po``)."""

import ast
import re
from pathlib import Path

import pytest
from django.utils import translation

from tests.api.conftest import bearer, make_activity

CJK = re.compile(r"[\u4e00-\u9fff]")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
SRC = Path(__file__).resolve().parents[2] / "src" / "kepuyue"
# Every module whose messages reach an API response: the API itself, the portal's list (its notices
# become the API's 422s) and the publishing services (the per-field messages of writes).
MESSAGE_MODULES = [
    *sorted((SRC / "api").glob("*.py")),
    SRC / "activities" / "listing.py",
    *sorted((SRC / "activities" / "services").glob("*.py")),
]
GETTEXT = {"_", "_lazy", "gettext", "gettext_lazy"}


def translatable(path: Path) -> list[str]:
    """The literal msgids of ``path`` (``_("…")`` and friends)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in GETTEXT
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(node.args[0].value)
    return found


@pytest.mark.parametrize("path", MESSAGE_MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_message_the_api_can_answer_has_english(path):
    """A class check, not an example: a Chinese msgid without an English translation fails here."""
    with translation.override("en"):
        missing = [
            text for text in translatable(path) if CJK.search(text) and translation.gettext(text) == text
        ]
    assert missing == []


def test_every_parameter_hint_has_english():
    from kepuyue.api.read import HINTS, hint
    from kepuyue.common.text import MAX_DATE, MIN_DATE

    with translation.override("en"):
        for param in HINTS:
            assert not CJK.search(hint(param)), param
    with translation.override("zh-hans"):
        assert hint("from") == f"应为 {MIN_DATE} 至 {MAX_DATE} 之间的日期，如 2025-09-15"
    with translation.override("en"):
        assert hint("from") == f"must be a date between {MIN_DATE} and {MAX_DATE}, such as 2025-09-15"


def test_a_refused_parameter_in_english_and_chinese(client, plan):
    chinese = client.get("/api/v1/activities?province=990000")
    english = client.get("/api/v1/activities?province=990000", **EN)
    assert chinese.status_code == english.status_code == 422
    assert chinese.json()["detail"] == "请求参数有误，请按字段说明修改"
    assert chinese.json()["errors"]["province"] == [
        "应为省级行政区划代码（6 位数字，如 330000，见 /regions）"
    ]
    assert english.json() == {
        "detail": "Invalid request parameters; see the message for each field",
        "code": "validation",
        "errors": {"province": ["must be a province code (6 digits, such as 330000; see /regions)"]},
    }
    assert english["Content-Language"] == "en"
    assert "Accept-Language" in english["Vary"]


def test_schema_errors_not_found_and_unauthorized_in_english(client, plan):
    limit = client.get("/api/v1/activities?limit=0", **EN).json()
    assert limit["errors"] == {"limit": ["must be an integer no less than 1"]}
    assert client.get("/api/v1/activities?limit=0").json()["errors"] == {"limit": ["应为整数，不小于 1"]}
    assert (
        client.get("/api/v1/activities/999999", **EN).json()["detail"] == "Not found, or you may not see it"
    )
    unauthorized = client.get("/api/v1/org/activities", **EN)
    assert unauthorized.status_code == 401 and not CJK.search(unauthorized.json()["detail"])


def test_write_validation_messages_in_english(client, plan, unit, token):
    body = {"title": "", "starts_at": "not a time"}
    english = client.post(
        "/api/v1/org/activities", body, content_type="application/json", **bearer(token[1]), **EN
    )
    chinese = client.post("/api/v1/org/activities", body, content_type="application/json", **bearer(token[1]))
    assert english.status_code == chinese.status_code == 422
    assert set(english.json()["errors"]) == set(chinese.json()["errors"])
    assert english.json()["errors"]["starts_at"] and not CJK.search(english.json()["errors"]["starts_at"][0])
    assert CJK.search(chinese.json()["errors"]["starts_at"][0])


def test_cached_pages_are_kept_per_language(client, plan, unit, settings):
    """The read cache keys on the language: an English reader never gets the Chinese bytes."""
    settings.API_READ_CACHE_SECONDS = 30
    make_activity(unit, title="活动")
    url = "/api/v1/activities?from=2025-09-30&to=2025-09-01"  # swapped, and said so in ``messages``
    chinese = client.get(url)
    english = client.get(url, **EN)
    assert chinese.json()["messages"] == ["开始日期晚于结束日期，已对调。"]
    assert english.json()["messages"] and not CJK.search(english.json()["messages"][0])
    assert chinese["ETag"] != english["ETag"]
    assert client.get(url).json()["messages"] == ["开始日期晚于结束日期，已对调。"]  # a hit, still Chinese
