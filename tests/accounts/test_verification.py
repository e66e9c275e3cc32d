"""Proving an e-mail address (a signed link) or a mobile number (an SMS code) before booking."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from kepuyue.accounts import verification
from kepuyue.accounts.models import PhoneCode, Profile
from kepuyue.common import sms

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def _signup(client, email="new@example.com", phone=""):
    return client.post(
        reverse("accounts:signup"),
        {"email": email, "phone": phone, "password1": "Kepu-yue-2025!", "password2": "Kepu-yue-2025!"},
    )


def test_sign_up_mails_a_link_that_proves_the_address(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _signup(client)
    [message] = [m for m in mail.outbox if "验证" in m.subject]
    link = re.search(r"https?://\S+", message.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path)
    assert response.status_code == 302
    user = Profile.objects.get(user__email="new@example.com").user
    assert verification.email_verified(user) and verification.contact_verified(user)


def test_a_forged_or_outdated_link_proves_nothing(client, django_user_model):
    user = django_user_model.objects.create_user("a@example.com", "a@example.com", "Pw-2025-xyz!")
    token = verification.email_token(user)
    assert client.get(reverse("accounts:verify_email_link", args=[token[:-2] + "xx"])).status_code == 302
    user.email = "b@example.com"
    user.save()
    client.get(reverse("accounts:verify_email_link", args=[token]))
    assert not verification.contact_verified(user)


def test_an_sms_code_proves_the_number(client, django_user_model, django_capture_on_commit_callbacks):
    user = django_user_model.objects.create_user("p@example.com", "p@example.com", "Pw-2025-xyz!")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:verify_contact"), {"action": "phone", "phone": "138 1234 5678"})
    [message] = sms.outbox
    assert message.to == "13812345678"
    code = re.search(r"\d{6}", message.body).group(0)
    wrong = client.post(
        reverse("accounts:verify_contact"),
        {"action": "code", "code": "000000" if code != "000000" else "111111"},
    )
    assert "验证码不正确" in wrong.content.decode()
    assert PhoneCode.objects.get(user=user).attempts == 1
    client.post(reverse("accounts:verify_contact"), {"action": "code", "code": code})
    assert verification.verified_phone(user) == "13812345678"
    assert not PhoneCode.objects.filter(user=user).exists()


def test_codes_lock_after_five_wrong_tries(django_user_model):
    from django.core.exceptions import ValidationError

    user = django_user_model.objects.create_user("q@example.com", "q@example.com", "Pw-2025-xyz!")
    verification.send_phone_code(user, "13900001111")
    for _ in range(verification.MAX_ATTEMPTS):
        with pytest.raises(ValidationError):
            verification.confirm_phone_code(user, "000000")
    with pytest.raises(ValidationError, match="次数过多"):
        verification.confirm_phone_code(user, "123456")


def test_a_number_proved_by_another_account_is_refused(django_user_model):
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    first = django_user_model.objects.create_user("x@example.com", "x@example.com", "Pw-2025-xyz!")
    Profile.objects.create(user=first, phone="13700001111", phone_verified_at=timezone.now())
    second = django_user_model.objects.create_user("y@example.com", "y@example.com", "Pw-2025-xyz!")
    with pytest.raises(ValidationError, match="其他账号"):
        verification.send_phone_code(second, "13700001111")


def test_sending_is_rate_limited(client, django_user_model, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "verify_send": "2/h"}
    user = django_user_model.objects.create_user("r@example.com", "r@example.com", "Pw-2025-xyz!")
    client.force_login(user)
    codes = [
        client.post(reverse("accounts:verify_contact"), {"action": "email"}).status_code for _ in range(3)
    ]
    assert codes == [302, 302, 429]


def _full_width(digits: str) -> str:
    return "".join(chr(ord(d) + 0xFEE0) for d in digits)


@pytest.mark.parametrize(
    "typed",
    [
        _full_width,
        lambda c: f" {c[:3]} {c[3:]} ",
        lambda c: f"{c[:3]}-{c[3:]}",
        lambda c: _full_width(c[:3]) + "\u3000" + _full_width(c[3:]),
    ],
    ids=["full-width", "spaces", "hyphen", "full-width-with-ideographic-space"],
)
def test_a_code_typed_with_full_width_digits_or_separators_proves_the_number(
    client, django_user_model, django_capture_on_commit_callbacks, typed
):
    """Chinese input methods type ``７４０１７４``: the same code, not a wrong one."""
    user = django_user_model.objects.create_user("fw@example.com", "fw@example.com", "Pw-2025-xyz!")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:verify_contact"), {"action": "phone", "phone": "13812345678"})
    code = re.search(r"\d{6}", sms.outbox[-1].body).group(0)
    response = client.post(reverse("accounts:verify_contact"), {"action": "code", "code": typed(code)})
    assert response.status_code == 302, response.content.decode()
    assert verification.verified_phone(user) == "13812345678"


@pytest.mark.parametrize("typed", ["12345", "1234567", "abcdef", "１２３", "12345²", "①②③④⑤⑥"])
def test_what_cannot_be_a_code_is_refused_without_using_a_try(
    client, django_user_model, django_capture_on_commit_callbacks, typed
):
    """A code that is not 6 digits is a slip of the keyboard, not a guess: refused with a message
    about the form, and the 5 tries stay (the view's rate limit still counts the request)."""
    user = django_user_model.objects.create_user("mf@example.com", "mf@example.com", "Pw-2025-xyz!")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:verify_contact"), {"action": "phone", "phone": "13812345678"})
    response = client.post(reverse("accounts:verify_contact"), {"action": "code", "code": typed})
    assert response.status_code == 200 and "6 位数字" in response.content.decode()
    assert PhoneCode.objects.get(user=user).attempts == 0
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="6 位数字"):
        verification.confirm_phone_code(user, typed)
    assert PhoneCode.objects.get(user=user).attempts == 0


def test_the_service_takes_a_full_width_code_too(django_user_model, django_capture_on_commit_callbacks):
    user = django_user_model.objects.create_user("sv@example.com", "sv@example.com", "Pw-2025-xyz!")
    with django_capture_on_commit_callbacks(execute=True):
        verification.send_phone_code(user, "13900001112")
    code = re.search(r"\d{6}", sms.outbox[-1].body).group(0)
    assert verification.confirm_phone_code(user, _full_width(code)) == "13900001112"


def test_the_verify_page_offers_the_number_typed_at_sign_up(client):
    """Fresh try: the number typed at sign-up had to be typed again to get a code. It is offered,
    unproved; once proved the form offers nothing."""
    _signup(client, email="typed@example.com", phone="139 0000 1234")
    page = client.get(reverse("accounts:verify_contact")).content.decode()
    assert 'value="13900001234"' in page
    user = Profile.objects.get(user__email="typed@example.com").user
    Profile.objects.filter(user=user).update(phone_verified_at="2025-09-01T10:00+08:00")
    page = client.get(reverse("accounts:verify_contact")).content.decode()
    assert 'value="13900001234"' not in page
