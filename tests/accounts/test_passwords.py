"""Password policy (GB/T 22239-2019 level 3): ≥ 8 characters, 3 of 4 classes, Chinese messages; Argon2."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from kepuyue.accounts.validators import character_classes

pytestmark = pytest.mark.django_db


def messages_for(password: str, user=None) -> list[str]:
    with translation.override("zh-hans"):
        try:
            validate_password(password, user)
        except ValidationError as exc:
            return list(exc.messages)
    return []


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Ab1!", "密码太短，至少需要 8 个字符。"),
        ("abcdefgh12", "密码须至少包含大写字母、小写字母、数字、符号中的 3 类。"),
        ("ABCDEFGHIJ", "密码须至少包含大写字母、小写字母、数字、符号中的 3 类。"),
        ("1234567890", "密码须至少包含大写字母、小写字母、数字、符号中的 3 类。"),
    ],
)
def test_password_policy_messages_are_chinese(password, expected):
    assert expected in messages_for(password)


def test_all_digits_and_common_passwords_are_refused_in_chinese():
    assert any("这个密码太常见了" in m for m in messages_for("Password1"))
    assert any("密码只包含数字" in m for m in messages_for("12345678"))


def test_password_similar_to_the_account_is_refused_in_chinese():
    user = get_user_model()(username="zhangsan2025", email="zhangsan2025@example.org")
    assert any("太相似" in m for m in messages_for("Zhangsan2025", user))


@pytest.mark.parametrize("password", ["Kexue-Puji-2025", "kexue puji 2025!", "KEXUE_2025_ok"])
def test_password_with_three_classes_passes(password):
    assert messages_for(password) == []


def test_character_classes():
    assert character_classes("aB3$") == {"upper", "lower", "digit", "symbol"}
    assert character_classes("科普月abc") == {"lower"}


def test_argon2_is_the_production_hasher_and_pbkdf2_hashes_still_verify(django_user_model):
    from django.contrib.auth.hashers import make_password

    # The test run swaps in a cheaper Argon2 of the same algorithm; production lists Django's first.
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in settings.PASSWORD_HASHERS
    user = django_user_model.objects.create_user("hash-check", password="Kexue-Puji-2025")
    assert user.password.startswith("argon2$argon2id$")
    old = make_password("Kexue-Puji-2025", hasher="pbkdf2_sha256")
    user.password = old
    user.save()
    assert user.check_password("Kexue-Puji-2025")
    user.refresh_from_db()
    assert user.password.startswith("argon2$")  # upgraded on the first successful check


def test_signup_page_shows_the_policy_in_chinese(client):
    response = client.post(
        reverse("accounts:signup"),
        {"email": "li@example.org", "password1": "abcdefgh", "password2": "abcdefgh"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "密码须至少包含大写字母、小写字母、数字、符号中的 3 类。" in page
    assert not get_user_model().objects.filter(username="li@example.org").exists()
