"""What registrants and units type: names empty after cleaning are refused (zero-width, bidi,
white space only), and the 电话报名 number is a checked phone number."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from kepuyue.common.text import clean_text
from kepuyue.registrations import inputs, services
from kepuyue.registrations.models import RegistrationConfig
from tests.fixtures_registrations import party

INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u202a\u202e\u2066\u2069 \t\u00a0\u3000"


@given(st.text(alphabet=INVISIBLE, max_size=12))
@settings(max_examples=200, deadline=None)
def test_text_of_only_invisible_characters_is_empty_and_required_refuses_it(value):
    assert clean_text(value) == ""
    with pytest.raises(ValidationError, match="请填写"):
        inputs.text(value, label="姓名", max_length=64, required=True)


def test_visible_text_keeps_its_joiners_inside():
    assert clean_text("\u200b张\u200b三\u200d") == "张三"
    assert clean_text("👨\u200d👩") == "👨\u200d👩"


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["name", "group_name"], ids=["individual name", "group name"])
def test_booking_forms_refuse_a_name_of_zero_width_spaces(field, session, member):
    from kepuyue.registrations.models import Booking

    if field == "name":
        with pytest.raises(ValidationError) as refused:
            services.book(session, member, party(name="\u200b\u200b"))
    else:
        group = {
            "group_name": "\u200b\ufeff",
            "name": "王老师",
            "phone": "13812345678",
            "headcount": "20",
            "consent": True,
        }
        with pytest.raises(ValidationError) as refused:
            services.book_group(session, member, group)
    assert field in refused.value.message_dict
    assert "请填写" in refused.value.message_dict[field][0]
    assert not Booking.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0571-8765 4321", "0571-87654321"),
        ("＋86 138 1234 5678、400-123-4567", "13812345678、400-123-4567"),
    ],
)
def test_the_phone_of_phone_registration_is_checked_and_normalised(typed, stored, activity):
    config = services.save_config(activity, {"mode": "phone", "phone": typed}, actor=None)
    assert config.phone == stored


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["<b>请拨打</b> abc 😀", "abc", "①②③", "\u200b"])
def test_the_settings_page_refuses_a_phone_that_is_not_one(typed, activity, publisher, client):
    client.force_login(publisher)
    response = client.post(
        reverse("registrations:org_settings", args=[activity.pk]),
        {
            "mode": "phone",
            "phone": typed,
            "max_adults": "1",
            "max_children": "0",
            "max_group_size": "50",
            "offer_hours": "24",
            "cancel_cutoff_hours": "2",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "phone" in errors, errors
    assert "不是有效的电话号码" in errors["phone"][0] or "电话报名须填写报名电话" in errors["phone"][0]
    assert not RegistrationConfig.objects.filter(activity=activity, mode="phone").exists()
