"""Class 5 of issue 9: one normalisation layer (``kepuyue.common.text``) for text, digits, dates,
phones and e-mail — and where it is applied (services, forms, admin, notifications)."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError

from kepuyue.common import text
from tests.fixtures_accounts import create_staff, login_staff

from .conftest import HOSTILE_TEXTS, no_server_error

PASSWORD = "Kepuyue-Public-2025!"

# --- the layer itself ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE_TEXTS)
def test_clean_text_leaves_nothing_a_writer_refuses(value):
    for multiline in (False, True):
        cleaned = text.clean_text(value, multiline=multiline)
        assert "\x00" not in cleaned
        assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in cleaned)
        assert not any(0x7F <= ord(ch) <= 0x9F for ch in cleaned)
        cleaned.encode("utf-8")  # no lone surrogate
        if not multiline:
            assert "\n" not in cleaned and "\r" not in cleaned and "\u2028" not in cleaned


def test_clean_text_refuses_too_long_naming_field_and_limit():
    with pytest.raises(ValidationError) as caught:
        text.clean_text("字" * 201, max_length=200, label="活动名称")
    assert caught.value.messages == ["活动名称不能超过 200 个字符（现有 201 个）"]


@pytest.mark.parametrize(
    "control", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
)
def test_clean_text_drops_bidirectional_overrides(control):
    """A unit name ending in U+202E would reverse the platform's own words after it (待审核 → 核审)."""
    assert text.clean_text(f"宁波科技馆{control}", max_length=20) == "宁波科技馆"
    assert text.clean_text(f"第一行{control}\n第二行", multiline=True) == "第一行\n第二行"
    assert text.clean_text("\u200f标记") == "\u200f标记"  # a plain mark reorders nothing: kept


def test_clean_text_nfc_and_line_breaks():
    assert text.clean_text("e\u0301") == "é"
    assert text.clean_text("a\r\nb\rc\u2028d", multiline=True) == "a\nb\nc\nd"
    assert text.clean_text(" a\r\nb ") == "a b"


@pytest.mark.parametrize(
    "value",
    ["²", "①", "٣", "۳", "፩", "১২", "Ⅻ", "½", "1.5", "1e3", "0x10", "١٢٣", "9" * 20, "", " ", "+", "--1"],
)
def test_parse_int_refuses_what_is_not_ascii_digits(value):
    with pytest.raises(ValidationError) as caught:
        text.parse_int(value, label="页码")
    assert caught.value.messages[0].startswith("页码")
    assert text.int_or_none(value) is None


@pytest.mark.parametrize(
    "value,expected", [("12", 12), ("１２", 12), (" 7 ", 7), ("-3", -3), ("+4", 4), ("007", 7)]
)
def test_parse_int_accepts_ascii_and_full_width(value, expected):
    assert text.parse_int(value) == expected


def test_parse_int_bounds_named():
    with pytest.raises(ValidationError, match="天数须在 1 到 30 之间"):
        text.parse_int("31", label="天数", min_value=1, max_value=30)


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01",
        "9999-12-31",
        "1899-12-31",
        "2101-01-01",
        "2025-02-30",
        "2025-13-01",
        "²⁰²⁵-09-15",
        "٢٠٢٥-٠٩-١٥",
        "昨天",
        "",
    ],
)
def test_parse_date_refuses_far_and_malformed(value):
    with pytest.raises(ValidationError):
        text.parse_date(value, label="开始日期")
    assert text.date_or_none(value) is None


@pytest.mark.parametrize(
    "value", ["2025-09-15", "2025/9/15", "2025.09.15", "2025年9月15日", "２０２５-０９-１５"]
)
def test_parse_date_spellings(value):
    assert text.parse_date(value) == date(2025, 9, 15)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086-13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("١٣٨١٢٣٤٥٦٧٨", "13812345678"),
        ("（010）68571988", "010-68571988"),
        ("010 6857 1988", "010-68571988"),
        ("0571-87654321转123", "0571-87654321-123"),
        ("010-68571988-8", "010-68571988-8"),
        ("+86 10 6857 1988", "010-68571988"),
        ("400 123 4567", "400-123-4567"),
    ],
)
def test_normalize_phone_one_canonical_form(value, expected):
    assert text.normalize_phone(value) == expected


@pytest.mark.parametrize(
    "value", ["²", "①②③", "1381234567²", "12345", "138123456789", "电话", "010-123", "+1 415 555 0100"]
)
def test_normalize_phone_refuses_with_message(value):
    with pytest.raises(ValidationError) as caught:
        text.normalize_phone(value, label="联系电话")
    assert "联系电话" in caught.value.messages[0]


def test_normalize_phone_mobile_only_refuses_landline():
    """A landline where only a mobile will do is named as such (fresh try: "not a valid mobile
    number" for a perfectly valid office number left the user guessing)."""
    for landline in ("010-68571988", "（0571）8765 4321 转 12", "400-123-4567"):
        with pytest.raises(ValidationError, match="是固定电话，此处只能填写手机号码"):
            text.normalize_phone(landline, label="手机号码", mobile_only=True)
    with pytest.raises(ValidationError, match="不是有效的手机号码"):
        text.normalize_phone("12345", label="手机号码", mobile_only=True)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("用户@例子.中国", "用户@xn--fsqu00a.xn--fiqs8s"),
        ("用户@XN--FSQU00A.XN--FIQS8S", "用户@xn--fsqu00a.xn--fiqs8s"),
        ("Wang@Example.ORG", "wang@example.org"),
        (" wang@example.org. ", "wang@example.org"),
        ("a@ＥＸＡＭＰＬＥ.org", "a@example.org"),
        ("a@exa\u200bmple.org", "a@example.org"),  # UTS #46 ignores a zero-width space
    ],
)
def test_normalize_email_idna(value, expected):
    assert text.normalize_email(value) == expected


@pytest.mark.parametrize("value", ["no-at-sign", "a@", "@b.org", "a b@c.org", "a@-x-.org", "a@exa mple.org"])
def test_normalize_email_refuses(value):
    with pytest.raises(ValidationError):
        text.normalize_email(value)


def test_safe_header_one_line_and_cells():
    assert text.safe_header("标题\r\nBcc: x@y\x00") == "标题 Bcc: x@y"
    assert len(text.safe_header("长" * 500, max_length=50)) == 50
    assert text.cell_safe("=1+1") == "'=1+1"
    assert text.cell_safe("a\x1bb\x00c") == "abc"
    assert text.cell_safe(3) == 3


# --- where it is applied -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "first,second",
    [
        ("wang@例子.中国", "wang@xn--fsqu00a.xn--fiqs8s"),
        ("wang@xn--fsqu00a.xn--fiqs8s", "WANG@例子.中国"),
        ("Wang@Example.org", "wang@EXAMPLE.ORG"),
        ("li@ＥＸＡＭＰＬＥ.org", "li@example.org"),
    ],
)
def test_signup_refuses_second_account_for_one_mailbox(client, first, second):
    data = {"email": first, "password1": PASSWORD, "password2": PASSWORD, "phone": ""}
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()
    response = client.post("/accounts/signup/", {**data, "email": second})
    assert response.status_code == 200
    assert "该电子邮箱已注册" in response.content.decode()
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("phone", ["１３８ １２３４ ５６７８", "+86 138-1234-5678", "13812345678"])
def test_signup_stores_canonical_phone(client, phone):
    data = {"email": "li@example.org", "password1": PASSWORD, "password2": PASSWORD, "phone": phone}
    assert client.post("/accounts/signup/", data).status_code == 302
    assert get_user_model().objects.get().profile.phone == "13812345678"


@pytest.mark.django_db
@pytest.mark.parametrize("phone", ["²", "①", "1381234567²", "010-68571988"])
def test_signup_refuses_bad_phone_and_creates_nothing(client, phone):
    data = {"email": "li@example.org", "password1": PASSWORD, "password2": PASSWORD, "phone": phone}
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 200
    assert "手机号码" in response.content.decode()
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("phone", ["13812345678", "１３８-１２３４-５６７８", "+86 138 1234 5678"])
def test_admin_creates_account_with_phone(client, phone):
    admin = create_staff("root", superuser=True)
    login_staff(client, admin)
    response = client.post(
        "/admin/auth/user/add/",
        {
            "username": "new-staff",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "0",
            "profile-MIN_NUM_FORMS": "0",
            "profile-MAX_NUM_FORMS": "1",
            "profile-0-phone": phone,
            "_save": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    created = get_user_model().objects.get(username="new-staff")
    assert created.profile.phone == "13812345678"
    assert created.profile.must_change_password


@pytest.mark.django_db
def test_admin_refuses_bad_phone_without_leftover(client):
    login_staff(client, create_staff("root", superuser=True))
    response = client.post(
        "/admin/auth/user/add/",
        {
            "username": "new-staff",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "0",
            "profile-MIN_NUM_FORMS": "0",
            "profile-MAX_NUM_FORMS": "1",
            "profile-0-phone": "①②③",
        },
    )
    assert response.status_code == 200
    assert "不是有效的手机号码" in response.content.decode()
    assert not get_user_model().objects.filter(username="new-staff").exists()


@pytest.mark.django_db
def test_model_hook_cleans_what_bypasses_forms(django_user_model):
    user = django_user_model.objects.create_user("a\x00b\r\nc", email="X@例子.中国")
    user.refresh_from_db()
    assert user.username == "ab c"
    assert user.email == "x@xn--fsqu00a.xn--fiqs8s"


@pytest.mark.django_db
@pytest.mark.parametrize("title", HOSTILE_TEXTS[:10])
def test_activity_titles_stored_clean_and_mailed_on_one_line(
    world, title, settings, django_capture_on_commit_callbacks
):
    from kepuyue.activities import services
    from kepuyue.activities.models import Status

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world.users.pub_zj.email = "pub@example.org"
    world.users.pub_zj.save()
    activity = world.activity(world.units.zj, Status.SUBMITTED, title=f"{title}活动")
    activity.refresh_from_db()
    assert "\x00" not in activity.title and "\n" not in activity.title and "\r" not in activity.title
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.transition(activity, Status.RETURNED, actor=world.users.cast, reason=f"原因\x00{title}")
    assert mail.outbox, "the unit's e-mail is not lost"
    message = mail.outbox[0]
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.message()["Subject"]  # Django raised BadHeaderError here: the e-mail was lost


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field,value,message",
    [
        ("title", "题" * 201, "活动名称不能超过 200 个字符"),
        ("summary", "简" * 501, "活动简介不能超过 500 个字符"),
        ("description", "详" * 20001, "活动详情不能超过 20000 个字符"),
        ("venue", "地" * 256, "活动地点不能超过 255 个字符"),
        ("contact_phone", "①②③", "联系电话"),
    ],
)
def test_activity_service_refuses_long_texts_naming_field(world, field, value, message):
    from kepuyue.activities import services
    from kepuyue.activities.models import Activity

    before = Activity.objects.count()
    data = {
        "joint_action": world.ja,
        "brand": world.ja.brands.order_by("order").first(),
        "campaign": world.plan,
        "title": "讲座",
        "starts_at": world.ja.window_start.isoformat(),
    }
    data = services.activity_data(world.activity(world.units.zj))
    data[field] = value
    with pytest.raises(ValidationError) as caught:
        services.create_activity(world.units.zj, data)
    assert any(message in m for m in caught.value.message_dict[field])
    assert Activity.objects.count() == before + 1  # only the fixture's own activity


@pytest.mark.django_db
def test_review_return_reason_limit_and_no_change(client, world):
    from kepuyue.activities.models import Activity, Status

    activity = world.activity(world.units.zj, Status.SUBMITTED)
    login(client, world.users.admin_zj)
    response = client.post(f"/org/review/{activity.pk}/return/", {"note": "因" * 2001}, follow=True)
    no_server_error(response)
    assert "原因不能超过 2000 个字符" in response.content.decode()
    assert Activity.objects.get(pk=activity.pk).status == Status.SUBMITTED


def login(client, user):
    from tests.review.conftest import login as review_login

    return review_login(client, user)
