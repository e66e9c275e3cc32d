"""Property-based: every public and staff form, driven through the test client by the role that uses
it, with arbitrary Unicode text (controls, NUL, every plane but surrogates, huge lengths), digits of
every script (Unicode Nd and No) and dates far and malformed — never a 5xx (issue 9).

Forms and filters covered: the public list's filters, sign-up, login, the password-reset request,
the unit's application, the activity form (new), the summary form, withdrawal with a reason, the
unit's list and export filters, the inbox (page, mark read), the review queue's filters, return with
reasons, bulk approval, recommendation, the published list, the audit log's filters, reopening
recommendations, returning an application, the calls entry form, the judges' score form, the calls
gallery filters.
"""

from __future__ import annotations

import string
from datetime import date

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import HOSTILE_TEXTS, login

pytestmark = pytest.mark.django_db

PROPERTY = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

any_char = st.characters(blacklist_categories=("Cs",))  # a str holds surrogates, a request cannot
texts = st.one_of(
    st.text(any_char, max_size=200),
    st.sampled_from(HOSTILE_TEXTS),
    st.builds(lambda ch, n: ch * n, any_char, st.integers(min_value=1_000, max_value=30_000)),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x9F), max_size=50),  # controls and C1
)
digits = st.one_of(
    st.text(st.characters(whitelist_categories=("Nd", "No")), min_size=1, max_size=24),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["²", "①", "٣", "፩", "１２", "9" * 40, "-0", "+1", "1e9", "NaN", "inf"]),
)
dates = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.dates(min_value=date(1, 1, 1)).map(lambda d: f"{d.isoformat()}T{d.day % 24:02d}:00"),
    st.text(string.digits + "-/.年月日T:²①", max_size=20),
    st.sampled_from(["0001-01-01", "9999-12-31", "99999-01-01", "2025-02-30", "2025-09-15T25:61", ""]),
)
values = st.one_of(texts, digits, dates)


def ok(response) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:500])


@PROPERTY
@given(q=texts, number=digits, day=dates, other=values, email=texts, password=texts)
def test_public_forms(world, published, monkeypatch, q, number, day, other, email, password):
    from kepuyue.accounts import reset

    monkeypatch.setattr(reset, "RESPONSE_SECONDS", 0)  # the anti-enumeration floor, 0.4 s a request
    client = Client()
    ok(
        client.get(
            "/activities/",
            {
                "q": q,
                "page": number,
                "from": day,
                "to": other,
                "audience": number,
                "topic": other,
                "province": number,
                "joint_action": q,
                "brand": other,
                "phase": other,
                "sort": q,
                "form": other,
            },
        )
    )
    ok(client.get("/calls/kepuyue-2025/science-treasure-videos/", {"theme": q, "province": number}))
    ok(
        client.post(
            "/accounts/signup/",
            {"email": email, "phone": number, "password1": password, "password2": password},
        )
    )
    ok(Client().post("/accounts/login/", {"username": email, "password": password}))
    ok(Client().post("/accounts/password/reset/", {"identifier": email}))
    ok(Client().post("/accounts/password/reset/", {"identifier": number}))


@PROPERTY
@given(title=texts, description=texts, phone=digits, starts=dates, ends=dates, count=digits, other=values)
def test_publisher_forms(client, world, published, title, description, phone, starts, ends, count, other):
    login(client, world.users.pub_zj)
    ok(
        client.post(
            "/org/activities/new/",
            {
                "joint_action": other,
                "brand": count,
                "key_task": other,
                "title": title,
                "summary": description[:600],
                "description": description,
                "co_organizers": title,
                "starts_at": starts,
                "ends_at": ends,
                "form": other,
                "online_url": title,
                "region": count,
                "venue": title,
                "audiences": [count],
                "topics": [other],
                "special_areas": [count],
                "expected_participants": count,
                "science_workers": count,
                "contact_name": title,
                "contact_phone": phone,
                "action": "submit",
            },
        )
    )
    ok(
        client.post(
            f"/org/activities/{published.pk}/summary/",
            {
                "text": description,
                "participants": count,
                "video_links": title,
                "news_links": other,
                "remove_photo": [count],
            },
        )
    )
    ok(client.get("/org/activities/", {"status": other, "page": count}))
    ok(client.get("/org/activities/export.csv", {"q": title, "from": starts, "to": ends, "page": count}))
    ok(client.get("/inbox/", {"page": count, "unread": other}))
    ok(client.post("/inbox/read/", {"id": [count, other], "next": title}))
    ok(client.post(f"/org/activities/{published.pk}/withdraw/", {"reason": description}))
    ok(
        client.post(
            "/accounts/apply/",
            {
                "name": title,
                "type": other,
                "parent": count,
                "uscc": phone,
                "contact_name": title,
                "contact_phone": phone,
                "contact_email": other,
                "region_text": description[:200],
            },
        )
    )


@PROPERTY
@given(note=texts, number=digits, day=dates, other=values)
def test_review_forms(client, world, note, number, day, other):
    from kepuyue.activities.models import Status

    submitted = world.activity(world.units.zj, Status.SUBMITTED)
    published = world.activity(world.units.zj, Status.PUBLISHED)
    login(client, world.users.admin_zj)
    ok(
        client.get(
            "/org/review/",
            {"joint_action": other, "brand": note, "region": number, "waiting": number, "page": number},
        )
    )
    ok(
        client.post(
            f"/org/review/{submitted.pk}/return/",
            {"reasons": [note, other], "note": note, "query": other, "go": "next"},
        )
    )
    ok(client.post("/org/review/bulk-approve/", {"ids": [number, other], "query": note}))
    ok(client.post(f"/org/review/{published.pk}/recommend/", {"note": note, "back": other}))
    ok(client.get("/org/review/published/", {"joint_action": other, "page": number}))
    login(client, world.users.cast)
    ok(
        client.get(
            "/org/review/audit/",
            {"q": note, "action": other, "actor": note, "since": day, "until": other, "page": number},
        )
    )
    ok(client.post("/org/review/reopen/", {"days": number}))


@PROPERTY
@given(reason=texts, other=values)
def test_application_return_form(client, world, reason, other):
    from kepuyue.accounts.models import OrganizationApplication
    from kepuyue.common import clock

    application = OrganizationApplication.objects.create(
        applicant=world.users.public,
        name="某科普单位",
        type_id="science_museum",
        region_id="330106",
        uscc="91330106MA2B3C4D5E",
        contact_name="王",
        contact_phone="13812345678",
        proof="applications/x.pdf",
        proof_type="application/pdf",
        submitted_at=clock.now(),
    )
    login(client, world.users.admin_zj)
    ok(client.post(f"/accounts/applications/{application.pk}/return/", {"reason": reason}))
    ok(client.get("/accounts/applications/", {"status": other, "page": other}))


@PROPERTY
@given(title=texts, body=texts, number=digits, other=values)
def test_calls_entry_and_score_forms(client, world, title, body, number, other, settings, tmp_path):
    from kepuyue.calls.models import Entry
    from kepuyue.orgs.models import Membership, Organization
    from kepuyue.roles.models import RoleGrant

    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.CALLS_UPLOAD_TEMP_DIR = tmp_path / "temp"
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "temp"
    (tmp_path / "temp").mkdir(exist_ok=True)
    base, _ = Organization.objects.get_or_create(
        name="某科普教育基地", type_id="science_education_base", region_id="330106"
    )
    publisher = world.users.public
    Membership.objects.get_or_create(user=publisher, organization=base)
    call = world.plan.calls.get(slug="product-camp-works")
    entry, _ = Entry.objects.get_or_create(
        call=call, organization=world.units.gd, title="作品", status="submitted"
    )
    RoleGrant.objects.get_or_create(user=world.users.judge, role="judge", call=call)
    client.force_login(publisher)
    for slug in ("science-treasure-videos", "citywalk-routes", "product-camp-works"):
        ok(
            client.post(
                f"/calls/org/kepuyue-2025/{slug}/new/",
                {
                    "title": title,
                    "theme": other,
                    "description": body,
                    "city": number,
                    "author": title,
                    "body": body,
                    "publisher": other,
                    "isbn": number,
                    "year": number,
                    "link": title,
                    "product_kind": other,
                    "stop-0-name": title,
                    "stop-0-address": body[:300],
                    "stop-0-region": number,
                    "own_stop": number,
                    "upload_id": other,
                    "action": "draft",
                },
            )
        )
    login(client, world.users.judge)
    scores = {f"score-{c['slug']}": number for c in call.criteria}
    ok(client.post(f"/calls/judge/entries/{entry.code}/", {**scores, "comment": body}))
