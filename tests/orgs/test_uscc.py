import pytest
from django.core.exceptions import ValidationError

from kepuyue.orgs.models import Organization, OrganizationType
from kepuyue.orgs.services import validate_uscc
from kepuyue.orgs.validators import uscc_check_character

# Codes in real use, each checked by hand against GB 32100-2015 (weights 1,3,9,27,19,26,16,17,20,29,
# 25,13,8,24,10,30,28 over 0-9 A-H J-N P-R T-U W-Y).
VALID = [
    "91350100M000100Y43",
    "914403001922038216",
    "911000001000013428",
    "91100000100003962T",
    "91110108551385082Q",
]


@pytest.mark.parametrize("code", VALID)
def test_validate_uscc_valid_codes_pass(code):
    assert validate_uscc(code) == code


def test_validate_uscc_check_character_by_hand():
    # 9·1 + 1·3 + 3·9 + 5·27 + 0·19 + 1·26 + 0·16 + 0·17 + M(21)·20 + 0 + 0 + 0 + 1·8 + 0 + 0 + Y(30)·30
    # + 4·28 = 1640; 1640 mod 31 = 28; 31 − 28 = 3.
    assert uscc_check_character("91350100M000100Y4") == "3"


def test_validate_uscc_remainder_zero_gives_0():
    # Σ mod 31 = 0 gives 31 − 0 = 31, which the standard writes as "0".
    body = next(b for b in (f"9111000010000{n:04d}" for n in range(10000)) if _weighted_sum(b) % 31 == 0)
    assert uscc_check_character(body) == "0"
    assert validate_uscc(body + "0") == body + "0"


def _weighted_sum(body: str) -> int:
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    return sum(charset.index(c) * w for c, w in zip(body, weights, strict=True))


def test_validate_uscc_lowercase_and_full_width_normalised():
    assert validate_uscc("91350100m000100y43") == "91350100M000100Y43"
    assert validate_uscc(" ９１３５０１００Ｍ０００１００Ｙ４３ ") == "91350100M000100Y43"


def test_validate_uscc_wrong_check_character_names_expected():
    with pytest.raises(ValidationError) as error:
        validate_uscc("91350100M000100Y44")
    assert error.value.code == "uscc_check"
    assert "应为“3”" in error.value.messages[0]
    assert "实际为“4”" in error.value.messages[0]


@pytest.mark.parametrize("code", ["91350100M000100Y4", "91350100M000100Y433", ""])
def test_validate_uscc_wrong_length_names_length(code):
    with pytest.raises(ValidationError) as error:
        validate_uscc(code)
    assert error.value.code == "uscc_length"
    assert "应为18位" in error.value.messages[0]


@pytest.mark.parametrize(
    ("code", "position", "char"),
    [("91350100I000100Y43", 9, "I"), ("9135010OM000100Y43", 8, "O"), ("91350100M0001-0Y43", 14, "-")],
)
def test_validate_uscc_illegal_character_names_position(code, position, char):
    with pytest.raises(ValidationError) as error:
        validate_uscc(code)
    assert error.value.code == "uscc_character"
    message = error.value.messages[0]
    assert f"第{position}位“{char}”" in message
    assert "I、O、Z、S、V" in message


@pytest.mark.django_db
def test_organization_uscc_field_validates_and_allows_blank():
    org_type = OrganizationType.objects.create(code="other", name="其他")
    org = Organization(name="某单位", type=org_type)
    org.full_clean()  # blank is allowed

    org.uscc = "91350100M000100Y44"
    with pytest.raises(ValidationError) as error:
        org.full_clean()
    assert "uscc" in error.value.message_dict

    org.uscc = "91350100m000100y43"
    org.full_clean()
    assert org.uscc == "91350100M000100Y43"
