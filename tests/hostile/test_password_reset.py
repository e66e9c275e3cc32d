"""Hostile password-reset inputs (issue 9, class 9a): odd identifiers, forged or mangled links and session
values get a clear Chinese refusal (or the usual neutral answer), never a 5xx, a message to a stranger
or a changed password."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from kepuyue.accounts import reset
from kepuyue.accounts.models import Profile
from kepuyue.common import sms

pytestmark = pytest.mark.django_db
RESET = "/accounts/password/reset/"
PASSWORD = "Kexue-Puji-2025"


@pytest.fixture(autouse=True)
def member(monkeypatch, db):
    monkeypatch.setattr(reset, "RESPONSE_SECONDS", 0)
    sms.outbox.clear()
    user = get_user_model().objects.create_user("li@example.cn", "li@example.cn", PASSWORD)
    Profile.objects.create(user=user, phone="13812345678")
    yield user
    sms.outbox.clear()


HOSTILE_IDENTIFIERS = [
    "",
    " ",
    "\x00",
    "li@example.cn\x00",
    "li@example.cn\r\nBcc: victim@example.cn",
    "li@example.cn, attacker@example.cn",
    "li@example.cn;attacker@example.cn",
    "<li@example.cn>",
    '"li@example.cn"@evil.example',
    "li@example.cn@evil.example",
    "a" * 300 + "@example.cn",
    "x@" + "a" * 300 + ".cn",
    "@example.cn",
    "li@",
    "用户@例子.中国",
    "li@еxample.cn",  # Cyrillic е
    "ＬＩ＠ｅｘａｍｐｌｅ．ｃｎ",  # full-width
    "１３８１２３４５６７８",  # full-width digits
    "١٣٨١٢٣٤٥٦٧٨",  # Arabic-Indic digits
    "13812345678\n",
    "138123456789999",
    "+1 555 0100",
    "00000000000",
    "'; DROP TABLE auth_user; --",
    "<script>alert(1)</script>",
    "%00",
    "li@example.cn" + "\u202e",
    "\U0001f600@example.cn",
]


@pytest.mark.parametrize("identifier", HOSTILE_IDENTIFIERS)
def test_hostile_identifiers_never_reach_a_stranger(client, identifier):
    response = client.post(RESET, {"identifier": identifier})
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert "请输入注册时填写的电子邮箱或 11 位手机号码" in response.content.decode() or "errorlist" in (
            response.content.decode()
        )
    for message in mail.outbox:
        assert message.to == ["li@example.cn"] and message.bcc == []
    for message in sms.outbox:
        assert message.to == "13812345678"


HOSTILE_LINKS = [
    ("MQ", "bad-token"),
    ("MQ", "a" * 500),
    ("A" * 500, "token"),
    ("LTE", "token"),  # "-1"
    ("MA", "token"),  # "0"
    ("OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "token"),  # an id past 64 bits
    ("bm90LWEtbnVtYmVy", "token"),  # "not-a-number"
    ("_w", "token"),  # not UTF-8
    ("%00", "token"),
    ("用户", "令牌"),
    ("MQ", "令牌"),
    ("MQ", "ckx2yh-" + "0" * 32),
    ("MQ", "zzzzzz-ffffffffffffffffffffffffffffffff"),
    ("MQ==", "token"),
    ("..", "token"),
    ("MQ", "set-password-x"),
    ("\u202e", "token"),
    ("MQ", "\U0001f600"),
]


@pytest.mark.parametrize(("uid", "token"), HOSTILE_LINKS)
def test_hostile_links_are_refused_clearly(client, member, uid, token):
    response = client.get(f"/accounts/reset/{uid}/{token}/")
    assert response.status_code in (400, 404)
    if response.status_code == 400:
        assert "重置链接无效或已过期" in response.content.decode()
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


@pytest.mark.parametrize(
    "stored",
    [None, "string", 42, [], {"uid": "MQ"}, {"uid": "MQ", "token": None}, {"uid": "MQ", "token": ["x"]}],
)
def test_the_password_form_refuses_without_a_valid_link_in_the_session(client, member, stored):
    session = client.session
    if stored is not None:
        session["kepuyue_password_reset"] = stored
        session.save()
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(member.pk))
    response = client.post(
        f"/accounts/reset/{uid}/set-password/",
        {"new_password1": "Xin-Mima-2025!", "new_password2": "Xin-Mima-2025!"},
    )
    assert response.status_code == 400
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_a_link_for_one_account_cannot_set_anothers_password(client, member):
    other = get_user_model().objects.create_user("wang@example.cn", "wang@example.cn", PASSWORD)
    client.post(RESET, {"identifier": "li@example.cn"})
    path = "/" + mail.outbox[0].body.split("://", 1)[1].split("/", 1)[1].split()[0]
    opened = client.get(path)
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    other_uid = urlsafe_base64_encode(force_bytes(other.pk))
    target = opened.url.replace(opened.url.split("/")[3], other_uid)
    response = client.post(target, {"new_password1": "Xin-Mima-2025!", "new_password2": "Xin-Mima-2025!"})
    assert response.status_code == 400
    other.refresh_from_db()
    assert other.check_password(PASSWORD)


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "１２３４５６", "000000\x00", "9" * 1000])
def test_hostile_totp_codes_on_the_reset_form(client, regions, code):
    from tests.fixtures_accounts import STAFF_PASSWORD, create_staff, totp_device

    admin = create_staff("zj-admin", role="platform_admin", region="330000")
    totp_device(admin)
    client.post(RESET, {"identifier": "zj-admin@example.org"})
    path = "/" + mail.outbox[-1].body.split("://", 1)[1].split("/", 1)[1].split()[0]
    opened = client.get(path)
    response = client.post(
        opened.url, {"new_password1": "Xin-Mima-2025!", "new_password2": "Xin-Mima-2025!", "totp": code}
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    admin.refresh_from_db()
    assert admin.check_password(STAFF_PASSWORD)
