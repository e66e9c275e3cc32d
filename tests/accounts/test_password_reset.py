"""Password reset (找回密码) by e-mail and text message: single-use short-lived links, TOTP for staff,
no account enumeration, lock-outs untouched, audited."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from kepuyue.accounts import reset
from kepuyue.accounts.models import Profile
from kepuyue.audit.models import AuditEntry
from kepuyue.common import sms
from tests.accounts.conftest import GOOD_PASSWORD
from tests.fixtures_accounts import STAFF_PASSWORD, create_staff, totp_code, totp_device

pytestmark = pytest.mark.django_db
RESET = "/accounts/password/reset/"
NEW_PASSWORD = "Xin-Mima-2025!"
LINK = re.compile(r"https?://[^/\s]+(/accounts/reset/[^/\s]+/[^/\s]+/)")


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    """The anti-enumeration floor costs 0.4 s per request; tests of it set their own."""
    monkeypatch.setattr(reset, "RESPONSE_SECONDS", 0)
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def member(db):
    """A public account that proved its mobile number (a reset link goes only to a proved one)."""
    user = get_user_model().objects.create_user("li@example.cn", "li@example.cn", GOOD_PASSWORD)
    Profile.objects.create(user=user, phone="13812345678", phone_verified_at=timezone.now())
    return user


def link_in(text: str) -> str:
    found = LINK.search(text)
    assert found, text
    return found.group(1)


def set_password(client, link: str, password: str = NEW_PASSWORD, **extra):
    opened = client.get(link)
    assert opened.status_code == 302, opened.status_code
    return client.post(opened.url, {"new_password1": password, "new_password2": password, **extra})


def test_login_page_offers_the_reset(client):
    assert 'href="/accounts/password/reset/"' in client.get("/accounts/login/").content.decode()


def test_reset_by_email_then_sign_in_with_the_new_password(client, member):
    response = client.post(RESET, {"identifier": " LI@Example.cn "})
    assert response.status_code == 302 and response.url.startswith("/accounts/password/reset/sent/")
    assert mail.outbox[0].to == ["li@example.cn"] and "重置" in mail.outbox[0].subject
    done = set_password(client, link_in(mail.outbox[0].body))
    assert done.status_code == 302 and done.url == "/accounts/login/"
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    actions = list(
        AuditEntry.objects.filter(object_id=str(member.pk)).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["account.password_reset_request", "account.password_reset"]
    signed_in = client.post("/accounts/login/", {"username": "li@example.cn", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302


def test_reset_by_text_message(client, member):
    response = client.post(RESET, {"identifier": "138-1234-5678"})
    assert response.status_code == 302 and "by=phone" in response.url
    assert not mail.outbox and sms.outbox[0].to == "13812345678"
    assert sms.outbox[0].body.startswith("【全国科普月】")
    assert set_password(client, link_in(sms.outbox[0].body)).status_code == 302
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)


def test_reset_finds_the_account_by_any_spelling_of_its_mailbox_or_number(client, db):
    """The identifier goes through the text layer (``common.text``) as sign-up did: an IDN mailbox in
    Unicode or in any case, a number in full-width digits with +86, name the account stored in
    canonical form."""
    from kepuyue.accounts import services

    user = services.create_public_account(email="Wang@例子.中国", password=GOOD_PASSWORD, phone="13912345678")
    Profile.objects.filter(user=user).update(phone_verified_at=timezone.now())
    assert user.email == "wang@xn--fsqu00a.xn--fiqs8s"
    assert client.post(RESET, {"identifier": "WANG@例子.中国"}).status_code == 302
    assert [m.to for m in mail.outbox] == [["wang@xn--fsqu00a.xn--fiqs8s"]]
    assert client.post(RESET, {"identifier": "＋86 １３９ １２３４ ５６７８"}).status_code == 302
    assert [m.to for m in sms.outbox] == ["13912345678"]


def test_the_link_works_once(client, member):
    client.post(RESET, {"identifier": "li@example.cn"})
    link = link_in(mail.outbox[0].body)
    set_password(client, link)
    again = client.get(link)
    assert again.status_code == 400 and "无效或已过期" in again.content.decode()


def test_the_link_expires(client, member, settings):
    client.post(RESET, {"identifier": "li@example.cn"})
    settings.PASSWORD_RESET_TIMEOUT = -1
    assert client.get(link_in(mail.outbox[0].body)).status_code == 400


def test_an_older_link_dies_when_the_password_changes(client, member):
    client.post(RESET, {"identifier": "li@example.cn"})
    link = link_in(mail.outbox[0].body)
    member.set_password("Another-Pass-2025")
    member.save()
    assert client.get(link).status_code == 400


def test_unknown_and_known_addresses_get_the_same_answer(client, member, monkeypatch):
    import time

    monkeypatch.setattr(reset, "RESPONSE_SECONDS", 0.3)
    answers = []
    for identifier in ("li@example.cn", "nobody@example.cn", "13812345678", "13900000000"):
        started = time.monotonic()
        response = client.post(RESET, {"identifier": identifier})
        answers.append((response.status_code, response.url.split("?")[0], time.monotonic() - started))
    assert {a[:2] for a in answers} == {(302, "/accounts/password/reset/sent/")}
    assert all(a[2] >= 0.3 for a in answers)
    assert len(mail.outbox) == 1 and len(sms.outbox) == 1
    sent = client.get("/accounts/password/reset/sent/?by=email").content.decode()
    assert "如果该电子邮箱注册了平台账号" in sent


def test_links_are_built_on_site_url_not_the_host_header(client, member, settings):
    settings.ALLOWED_HOSTS = ["evil.example", "testserver"]
    settings.SITE_URL = "https://www.kepuyue.example"
    client.post(RESET, {"identifier": "li@example.cn"}, HTTP_HOST="evil.example")
    assert "https://www.kepuyue.example/accounts/reset/" in mail.outbox[0].body
    assert "evil.example" not in mail.outbox[0].body


def test_staff_with_an_authenticator_must_give_its_code(client, regions):
    admin = create_staff("zj-admin", role="platform_admin", region="330000")
    device = totp_device(admin)
    client.post(RESET, {"identifier": "zj-admin@example.org"})
    link = link_in(mail.outbox[0].body)
    opened = client.get(link)
    page = client.get(opened.url).content.decode()
    assert 'name="totp"' in page
    wrong = client.post(
        opened.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "totp": "000000"}
    )
    assert wrong.status_code == 200 and "验证码不正确" in wrong.content.decode()
    assert AuditEntry.objects.filter(action="account.password_reset_totp_failed").count() == 1
    admin.refresh_from_db()
    assert admin.check_password(STAFF_PASSWORD)
    device.throttle_reset()
    done = client.post(
        opened.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "totp": totp_code(device)}
    )
    assert done.status_code == 302
    admin.refresh_from_db()
    assert admin.check_password(NEW_PASSWORD)
    # The reset signed nobody in; the next sign-in still asks for the authenticator's code.
    signed = client.post("/accounts/login/", {"username": "zj-admin", "password": NEW_PASSWORD})
    assert signed.status_code == 302 and signed.url.startswith("/accounts/two-factor/")


def test_staff_without_an_authenticator_cannot_reset_alone(client, regions):
    admin = create_staff("hz-admin", role="platform_admin", region="330100")
    client.post(RESET, {"identifier": "hz-admin@example.org"})
    assert "联系平台管理员" in mail.outbox[0].body and "/accounts/reset/" not in mail.outbox[0].body
    forged = link_in(reset.reset_url(admin))  # a valid token, yet no self-service for this account
    assert client.get(forged).status_code == 400


def test_a_reset_does_not_lift_a_lock_out(client, member):
    for _ in range(5):
        client.post(
            "/accounts/login/", {"username": "li@example.cn", "password": "wrong-1"}, REMOTE_ADDR="10.1.1.1"
        )
    client.post(RESET, {"identifier": "li@example.cn"})
    set_password(client, link_in(mail.outbox[0].body))
    locked = client.post(
        "/accounts/login/", {"username": "li@example.cn", "password": NEW_PASSWORD}, REMOTE_ADDR="10.1.1.1"
    )
    assert locked.status_code in (403, 429) and "_auth_user_id" not in client.session


def test_a_reset_ends_the_accounts_other_sessions(client, member, django_user_model):
    from django.test import Client

    other = Client()
    other.force_login(member)
    assert other.get("/accounts/").status_code == 200
    client.post(RESET, {"identifier": "li@example.cn"})
    set_password(client, link_in(mail.outbox[0].body))
    assert other.get("/accounts/").status_code == 302


def test_the_new_password_follows_the_rules(client, member):
    client.post(RESET, {"identifier": "li@example.cn"})
    response = set_password(client, link_in(mail.outbox[0].body), password="12345678")
    assert response.status_code == 200 and 'class="errorlist"' in response.content.decode()
    member.refresh_from_db()
    assert member.check_password(GOOD_PASSWORD)


def test_inactive_accounts_get_nothing(client, member):
    member.is_active = False
    member.save()
    assert client.post(RESET, {"identifier": "li@example.cn"}).status_code == 302
    assert not mail.outbox


# --- a reset link by text message goes only to a number the account proved ----------------------


def _sign_up(client, email: str, phone: str):
    from django.urls import reverse

    response = client.post(
        reverse("accounts:signup"),
        {"email": email, "phone": phone, "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return get_user_model().objects.get(email=email)


def _prove_number(client, phone: str, django_capture_on_commit_callbacks) -> str:
    """Text a code to ``phone`` and type it, through the pages; the page's answer."""
    from django.urls import reverse

    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(reverse("accounts:verify_contact"), {"action": "phone", "phone": phone})
    if not sms.outbox:
        return sent.content.decode()
    code = re.search(r"\d{6}", sms.outbox[-1].body).group(0)
    sms.outbox.clear()
    return client.post(reverse("accounts:verify_contact"), {"action": "code", "code": code}).content.decode()


def test_a_number_typed_at_sign_up_and_never_proved_gets_no_reset_link(
    client, django_capture_on_commit_callbacks
):
    """The takeover: bob proves 13900139002; eve signs up with the same number typed (and cannot
    prove it). A reset asked for by that number sends one text message, bob's, which names bob's
    account masked; eve's account gets nothing and keeps its password."""
    from django.test import Client

    bob_client, eve_client = Client(), Client()
    bob = _sign_up(bob_client, "bob@example.com", "13900139002")
    _prove_number(bob_client, "13900139002", django_capture_on_commit_callbacks)
    assert Profile.objects.get(user=bob).phone_verified_at is not None
    eve = _sign_up(eve_client, "eve@example.com", "139 0013 9002")
    assert Profile.objects.get(user=eve).phone == "13900139002"
    assert "已被其他账号验证" in _prove_number(eve_client, "13900139002", django_capture_on_commit_callbacks)
    assert Profile.objects.get(user=eve).phone_verified_at is None
    sms.outbox.clear()
    mail.outbox.clear()

    response = client.post(RESET, {"identifier": "１３９００１３９００２"})
    assert response.status_code == 302 and "by=phone" in response.url
    [message] = sms.outbox
    assert message.to == "13900139002"
    assert "b***@example.com" in message.body
    assert "bob@example.com" not in message.body and "eve" not in message.body
    assert not mail.outbox
    assert not AuditEntry.objects.filter(
        action="account.password_reset_request", object_id=str(eve.pk)
    ).exists()
    assert set_password(client, link_in(message.body)).status_code == 302
    bob.refresh_from_db()
    eve.refresh_from_db()
    assert bob.check_password(NEW_PASSWORD) and eve.check_password(GOOD_PASSWORD)


def test_a_number_nobody_proved_names_no_account_and_the_answer_is_the_same(client, db):
    from kepuyue.accounts import services

    services.create_public_account(email="eve@example.com", password=GOOD_PASSWORD, phone="13900139002")
    typed_only = client.post(RESET, {"identifier": "13900139002"})
    unknown = client.post(RESET, {"identifier": "13700000000"})
    assert typed_only.status_code == unknown.status_code == 302 and typed_only.url == unknown.url
    assert client.get(typed_only.url).content == client.get(unknown.url).content
    assert not sms.outbox and not mail.outbox
    assert not AuditEntry.objects.filter(action="account.password_reset_request").exists()


def test_of_two_accounts_that_proved_a_number_only_the_latest_proof_gets_the_link(client, db):
    """One account proves a number at a time; should two rows say so (data from before the rule, a
    reassigned number), the text message goes to one account: the latest proof."""
    from datetime import timedelta

    model = get_user_model()
    old = model.objects.create_user("old@example.com", "old@example.com", GOOD_PASSWORD)
    new = model.objects.create_user("new@example.com", "new@example.com", GOOD_PASSWORD)
    now = timezone.now()
    Profile.objects.create(user=old, phone="13900139002", phone_verified_at=now - timedelta(days=400))
    Profile.objects.create(user=new, phone="+8613900139002", phone_verified_at=now)
    client.post(RESET, {"identifier": "13900139002"})
    [message] = sms.outbox
    assert "n***@example.com" in message.body
    assert set_password(client, link_in(message.body)).status_code == 302
    new.refresh_from_db()
    assert new.check_password(NEW_PASSWORD)


def test_the_delivery_checks_the_number_is_still_proved(member):
    """Queued for a proved number, delivered after the number changed: nothing is sent."""
    Profile.objects.filter(user=member).update(phone="13700000000")
    assert reset.deliver(member.pk, reset.PHONE, "13812345678") is False
    Profile.objects.filter(user=member).update(phone="13812345678", phone_verified_at=None)
    assert reset.deliver(member.pk, reset.PHONE, "13812345678") is False
    assert not sms.outbox


def test_the_reset_message_masks_the_account_name_by_text_only(client, member):
    client.post(RESET, {"identifier": "13812345678"})
    client.post(RESET, {"identifier": "li@example.cn"})
    assert "l***@example.cn" in sms.outbox[0].body and "li@example.cn" not in sms.outbox[0].body
    assert "li@example.cn" in mail.outbox[0].body  # the mailbox itself may see its address


def test_masked_names():
    user_model = get_user_model()
    assert reset.masked_name(user_model(username="eve@example.com")) == "e***@example.com"
    assert reset.masked_name(user_model(username="a@x.cn")) == "***@x.cn"
    assert reset.masked_name(user_model(username="13812345678")) == "138****5678"
    assert reset.masked_name(user_model(username="zj")) == "***"


def test_staff_reset_and_invitation_by_text_need_a_proved_number(
    regions, types, django_capture_on_commit_callbacks
):
    """An administrator's "send reset link by SMS" (and an SMS invitation to an account that has a
    password) is refused for a number the account never proved: the same takeover otherwise. Here a
    public account that joined a unit (so an administrator manages it) typed a number at sign-up."""
    from django.core.exceptions import ValidationError

    from kepuyue.accounts import services, staff
    from kepuyue.orgs.models import Membership, Organization
    from kepuyue.roles.models import Role

    admin = create_staff("admin-zj", role=Role.PLATFORM_ADMIN, region="330000")
    unit = Organization.objects.create(name="杭州低碳科技馆", type=types[0], region_id="330106")
    eve = services.create_public_account(email="eve@example.com", password=GOOD_PASSWORD, phone="13900139002")
    Membership.objects.create(user=eve, organization=unit)
    with pytest.raises(ValidationError, match="已验证的手机号码"):
        staff.send_reset(admin, eve, channel="phone")
    with pytest.raises(ValidationError, match="尚未验证"):
        staff.invite(admin, eve, channel="phone")
    Profile.objects.filter(user=eve).update(phone_verified_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.send_reset(admin, eve, channel="phone") == "phone"
    [message] = sms.outbox
    assert message.to == "13900139002" and "e***@example.com" in message.body


def test_a_full_width_authenticator_code_is_accepted_on_the_reset_page(client, regions):
    admin = create_staff("zj-admin", role="platform_admin", region="330000")
    device = totp_device(admin)
    client.post(RESET, {"identifier": "zj-admin@example.org"})
    opened = client.get(link_in(mail.outbox[0].body))
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in totp_code(device))
    done = client.post(
        opened.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "totp": full_width}
    )
    assert done.status_code == 302
    admin.refresh_from_db()
    assert admin.check_password(NEW_PASSWORD)


def test_an_sms_invitation_proves_the_number_it_was_sent_to_only(
    client, regions, django_capture_on_commit_callbacks
):
    """An account created by an administrator with a number only: opening the SMS invitation proves
    that number, so a later reset by it works; a number changed after the invitation is not proved."""
    from kepuyue.accounts import staff
    from kepuyue.roles.models import Role

    cast = create_staff("cast", role=Role.CAST_ADMIN)
    user = staff.create_account(cast, name="王", phone="13812340000")
    _invitation, token = staff.invite(cast, user, channel="phone")
    staff.accept_invitation(token, NEW_PASSWORD)
    assert Profile.objects.get(user=user).phone_verified_at is not None
    client.post(RESET, {"identifier": "13812340000"})
    [message] = sms.outbox
    assert "138****0000" in message.body and link_in(message.body)

    other = staff.create_account(cast, name="李", phone="13812340001")
    _invitation, token = staff.invite(cast, other, channel="phone")
    Profile.objects.filter(user=other).update(phone="13812340002")
    staff.accept_invitation(token, NEW_PASSWORD)
    assert Profile.objects.get(user=other).phone_verified_at is None
