"""Hostile X-Forwarded-For / -Proto / -Host values (issue 9, class 4): only the configured proxies' hops
are believed, garbage is ignored, nothing gives a 5xx, and neither the lock-out nor the audit address can
be steered by a forged header."""

import ipaddress

import pytest
from django.test import RequestFactory

from kepuyue.audit.models import AuditEntry
from kepuyue.common.net import client_ip, parse_ip, strip_untrusted_forwarding
from tests.fixtures_accounts import STAFF_PASSWORD, create_staff

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
PROXY = "127.0.0.1"  # nginx on the same host: the default trusted proxy behind KEPUYUE_BEHIND_PROXY=1
CLIENT = "198.51.100.23"

# What a client can put in front of the hop its proxy appends.
HOSTILE_FORWARDED = [
    "",
    ",",
    ",,,,",
    " ",
    "garbage",
    "unknown",
    "999.1.1.1",
    "1.2.3",
    "1.2.3.4.5",
    "01.02.03.004",
    "0x7f.0.0.1",
    "١٢٧.٠.٠.١",  # Arabic-Indic digits
    "１２７.０.０.１",  # full-width digits
    "127.0.0.1\x00",
    "fe80::1%eth0",
    "[::1",
    "[::1]:99999",
    "1.2.3.4:abc",
    "::ffff:999.1.1.1",
    "<script>alert(1)</script>",
    "'; DROP TABLE axes_accessattempt; --",
    "1.2.3.4\r\nSet-Cookie: x=1",
    "2001:db8::1, garbage, 10.0.0.1",
    "a" * 10_000,
    "1.1.1.1, " * 2_000,
    "ॱ" * 300,
    "%31%32%37.0.0.1",
    "for=192.0.2.43",  # RFC 7239 syntax in the wrong header
]


def request(remote: str, forwarded: str | None = None, **meta):
    extra = {"REMOTE_ADDR": remote, **meta}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def valid_or_none(value) -> bool:
    if value is None:
        return True
    ipaddress.ip_address(value)
    return True


@pytest.mark.parametrize("forged", HOSTILE_FORWARDED)
def test_garbage_alone_never_becomes_the_address(settings, forged):
    settings.TRUSTED_PROXIES = ["127.0.0.0/8"]
    # Directly from a client: the header is ignored.
    assert client_ip(request(CLIENT, forged)) == CLIENT
    # Through the trusted proxy, garbage as the only hop: the proxy's own address stands.
    assert client_ip(request(PROXY, forged)) in {PROXY, *valid_hops(forged)}


def valid_hops(header: str) -> set[str]:
    return {str(parse_ip(h)) for h in header.split(",") if parse_ip(h) is not None}


@pytest.mark.parametrize("forged", HOSTILE_FORWARDED)
def test_forged_prefixes_never_hide_the_hop_the_proxy_appended(settings, forged):
    settings.TRUSTED_PROXIES = ["127.0.0.0/8"]
    assert client_ip(request(PROXY, f"{forged}, {CLIENT}")) == CLIENT


@pytest.mark.parametrize("forged", HOSTILE_FORWARDED)
def test_login_with_hostile_forwarded_for_is_a_plain_refusal(client, settings, forged):
    settings.TRUSTED_PROXIES = ["127.0.0.0/8"]
    response = client.post(
        LOGIN,
        {"username": "nobody", "password": "Wrong-Password-1"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forged,
    )
    assert response.status_code == 200 and "用户名或密码不正确" in response.content.decode()
    entry = AuditEntry.objects.get(action="account.login_failed")
    assert valid_or_none(entry.ip)


def test_a_new_forwarded_for_per_try_does_not_escape_the_lock_out(client, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.0/8"]
    create_staff("hz-unit")
    for n in range(5):
        client.post(
            LOGIN,
            {"username": "hz-unit", "password": "Wrong-Password-1"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, {CLIENT}",
        )
    sixth = client.post(
        LOGIN,
        {"username": "hz-unit", "password": STAFF_PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"203.0.113.99, {CLIENT}",
    )
    assert sixth.status_code == 429 and "_auth_user_id" not in client.session


def test_without_a_proxy_forwarded_for_is_ignored_by_the_lock_out(client, settings):
    settings.TRUSTED_PROXIES = []
    create_staff("hz-unit")
    for n in range(5):
        client.post(
            LOGIN,
            {"username": "hz-unit", "password": "Wrong-Password-1"},
            REMOTE_ADDR=CLIENT,
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
    sixth = client.post(
        LOGIN,
        {"username": "hz-unit", "password": STAFF_PASSWORD},
        REMOTE_ADDR=CLIENT,
        HTTP_X_FORWARDED_FOR="1.1.1.1",
    )
    assert sixth.status_code == 429


def test_the_audit_address_cannot_be_forged(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    client.post(
        LOGIN,
        {"username": "nobody", "password": "Wrong-Password-1"},
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR=f"6.6.6.6, {CLIENT}, 10.0.0.9",
    )
    assert AuditEntry.objects.get(action="account.login_failed").ip == CLIENT


@pytest.mark.parametrize(
    ("remote", "header", "expected"),
    [
        ("10.0.0.5", "203.0.113.7", "203.0.113.7"),
        ("10.0.0.5", "203.0.113.7, 10.1.2.3", "203.0.113.7"),  # two trusted hops
        ("10.0.0.5", "::ffff:203.0.113.7", "203.0.113.7"),  # IPv4-mapped IPv6
        ("10.0.0.5", "[2001:db8::7]:443", "2001:db8::7"),
        ("10.0.0.5", "203.0.113.7:51234", "203.0.113.7"),
        ("10.0.0.5", "2001:DB8:0:0::7", "2001:db8::7"),  # normalised
        ("10.0.0.5", "garbage, 10.1.2.3", "10.1.2.3"),  # garbage: the last trusted hop
        ("10.0.0.5", "", "10.0.0.5"),
        ("203.0.113.9", "10.1.2.3", "203.0.113.9"),  # not from a proxy: header ignored
        ("not-an-ip", "203.0.113.7", None),
        ("", "", None),
    ],
)
def test_the_right_most_untrusted_hop_is_the_client(settings, remote, header, expected):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "::1"]
    assert client_ip(request(remote, header)) == expected


@pytest.mark.parametrize(
    "meta",
    [
        {"HTTP_X_FORWARDED_PROTO": "https"},
        {"HTTP_X_FORWARDED_HOST": "evil.example"},
        {"HTTP_X_FORWARDED_FOR": "6.6.6.6"},
    ],
)
def test_a_direct_client_loses_its_forwarding_headers(settings, meta):
    settings.TRUSTED_PROXIES = ["127.0.0.0/8"]
    seen = {}

    def view(req):
        seen.update({k: v for k, v in req.META.items() if k.startswith("HTTP_X_FORWARDED")})

    strip_untrusted_forwarding(view)(request(CLIENT, **meta))
    assert seen == {}
    strip_untrusted_forwarding(view)(request(PROXY, **meta))
    assert seen == meta


def test_a_bad_trusted_proxies_setting_fails_at_start(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from kepuyue.common.net import parse_networks

    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        parse_networks(["10.0.0.0/8", "proxy.internal"])


@pytest.mark.parametrize(
    ("remote", "header", "expected"),
    [
        ("198.51.100.23", None, "198.51.100.23"),
        ("2001:DB8:0:0::23", None, "2001:db8::23"),
        ("::ffff:198.51.100.23", None, "198.51.100.23"),
        ("10.0.0.5", "2001:db8::7, 10.1.2.3", "2001:db8::7"),
        ("10.0.0.5", "garbage", "10.0.0.5"),
        ("203.0.113.9", "10.1.2.3", "203.0.113.9"),
    ],
)
def test_the_audit_address_is_the_same_each_time(client, settings, remote, header, expected):
    """The parsed addresses are remembered per process (decision 0036): the second and third
    request from the same address record what the first did, and a parse from the memory is the
    same object as a fresh one."""
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    extra = {"REMOTE_ADDR": remote}
    if header is not None:
        extra["HTTP_X_FORWARDED_FOR"] = header
    for _ in range(3):
        client.post(LOGIN, {"username": "nobody", "password": "Wrong-Password-1"}, **extra)
    assert (
        list(AuditEntry.objects.filter(action="account.login_failed").values_list("ip", flat=True))
        == [expected] * 3
    )
    assert parse_ip(remote) == parse_ip(remote) == parse_ip(f" {remote} ")


def test_padding_is_not_remembered():
    from kepuyue.common import net

    net._parse.cache_clear()
    assert parse_ip(" " * 200 + "198.51.100.23") == ipaddress.ip_address("198.51.100.23")
    assert parse_ip("1" * 500) is None
    assert net._parse.cache_info().currsize == 0
