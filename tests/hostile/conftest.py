"""Hostile inputs of issue 9 (classes 1 and 5: rendering cost, characters that break writers).

Every test asserts a clear refusal or harmless storage, and never a 5xx. The review tests' small
world (units in two provinces, one account per role, activities in each state) is reused as is.
"""

from __future__ import annotations

import pytest

from tests.review.conftest import login, media_root, world  # noqa: F401 - fixtures and a helper

# Strings no writer downstream should choke on.
HOSTILE_TEXTS = [
    "\x00",
    "标题\x00中间有 NUL",
    "换行\r\nBcc: victim@example.org",
    "单独回车\r结尾",
    "制表\t与\x0b垂直制表\x0c换页",
    "\x1b[31m终端转义\x1b[0m",
    "C1 控制\x85\x9f字符",
    "行分隔\u2028段分隔\u2029",
    '=HYPERLINK("http://evil","点我")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "\ufeffBOM 开头",
    "\ufffe\uffff 非字符",
    "e\u0301 组合字符（NFC 后为 é）",
    "\u202e反向覆盖\u202c",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 数学字母 🎉",
    "１２３ 全角数字",
    "² ① ٣ ፩ 各种数字",
    "'; DROP TABLE activities_activity; --",
    "<script>alert(1)</script>",
    "{{ 7*7 }} {% debug %}",
]


def no_server_error(response) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:300])


@pytest.fixture
def published(world):  # noqa: F811 - the imported fixture
    return world.activity(world.units.zj, "published")
