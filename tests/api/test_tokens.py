"""API tokens: created on the staff page and shown once, stored hashed, scoped like the account,
audited; a revoked token stops at once."""

import pytest

from kepuyue.api.models import ApiToken
from kepuyue.api.tokens import create_token, digest_of, revoke_token
from kepuyue.audit.models import AuditEntry

from .conftest import bearer, make_activity

pytestmark = pytest.mark.django_db


def test_staff_page_creates_a_token_shown_once(client, publisher):
    client.force_login(publisher)
    page = client.get("/org/api/tokens/")
    assert page.status_code == 200
    assert "创建令牌" in page.content.decode()
    created = client.post("/org/api/tokens/new", {"name": "浙江省系统", "kind": "unit"})
    html = created.content.decode()
    assert created.status_code == 200
    token = ApiToken.objects.get()
    secret = html.split('id="secret" type="text" readonly value="')[1].split('"')[0]
    assert secret.startswith("kpy_") and len(secret) > 40
    # Stored hashed: the secret is nowhere in the row, and the page never shows it again.
    assert token.digest == digest_of(secret)
    assert secret not in str(ApiToken.objects.values().get())
    assert secret not in client.get("/org/api/tokens/").content.decode()
    assert "no-cache" in created["Cache-Control"] or "no-store" in created["Cache-Control"]
    assert AuditEntry.objects.filter(action="api.token.create", object_id=str(token.pk)).exists()


def test_name_is_required_in_chinese(client, publisher):
    client.force_login(publisher)
    response = client.post("/org/api/tokens/new", {"name": "  ", "kind": "unit"})
    assert response.status_code == 400
    assert "名称：必须填写" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_account_without_unit_or_role_has_no_page(client, django_user_model, plan):
    user = django_user_model.objects.create_user("member", password="pw-member-1")
    client.force_login(user)
    assert client.get("/org/api/tokens/").status_code == 404
    assert client.post("/org/api/tokens/new", {"name": "x"}).status_code == 404


def test_revoked_token_stops_at_once(client, publisher, token):
    _row, secret = token
    assert client.get("/api/v1/org/activities", **bearer(secret)).status_code == 200
    client.force_login(publisher)
    assert client.post(f"/org/api/tokens/{_row.pk}/revoke").status_code == 302
    client.logout()
    refused = client.get("/api/v1/org/activities", **bearer(secret))
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthorized"
    assert refused["WWW-Authenticate"] == "Bearer"
    assert AuditEntry.objects.filter(action="api.token.revoke").exists()


def test_another_units_token_cannot_be_revoked(client, other_publisher, token):
    client.force_login(other_publisher)
    assert client.post(f"/org/api/tokens/{token[0].pk}/revoke").status_code == 404
    assert ApiToken.objects.get(pk=token[0].pk).revoked_at is None


def test_unit_token_stops_when_the_account_leaves_the_unit(client, publisher, token):
    from kepuyue.orgs.models import Membership

    Membership.objects.filter(user=publisher).delete()
    assert client.get("/api/v1/org/activities", **bearer(token[1])).status_code == 401


def test_missing_or_forged_tokens(client, plan):
    assert client.get("/api/v1/org/activities").status_code == 401
    assert client.get("/api/v1/org/activities", HTTP_AUTHORIZATION="Bearer kpy_forged").status_code == 401
    assert client.get("/api/v1/org/activities", HTTP_AUTHORIZATION="Basic abc").status_code == 401


def test_another_units_activity_is_404(client, unit, other_unit, token, other_token):
    mine = make_activity(unit, publish=False)
    theirs = make_activity(other_unit, publish=False, title="宁波的活动")
    assert client.get(f"/api/v1/org/activities/{mine.pk}", **bearer(token[1])).status_code == 200
    for url in (
        f"/api/v1/org/activities/{theirs.pk}",
        f"/api/v1/org/activities/{theirs.pk}/registrations",
    ):
        assert client.get(url, **bearer(token[1])).status_code == 404
    assert client.post(f"/api/v1/org/activities/{theirs.pk}/submit", **bearer(token[1])).status_code == 404
    listed = client.get("/api/v1/org/activities", **bearer(token[1])).json()
    assert [a["id"] for a in listed["items"]] == [mine.pk]


def test_scope_token_sees_what_the_administrator_sees(client, plan, unit, other_unit, make_staff):
    from kepuyue.activities.models import Status

    admin = make_staff("zj-admin", role="platform_admin", region="330000")
    _row, secret = create_token(admin, name="浙江省审核", kind="scope")
    draft = make_activity(unit, publish=False)
    published = make_activity(other_unit)
    listed = client.get(f"/api/v1/org/activities?status={Status.PUBLISHED}", **bearer(secret)).json()
    assert [a["id"] for a in listed["items"]] == [published.pk]
    assert client.get(f"/api/v1/org/activities/{draft.pk}", **bearer(secret)).status_code == 404
    # A scope token publishes nothing: it has no unit.
    refused = client.post("/api/v1/org/activities", {}, content_type="application/json", **bearer(secret))
    assert refused.status_code == 403


def test_a_member_cannot_make_a_scope_token(publisher):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        create_token(publisher, name="x", kind="scope")


def test_revoke_is_idempotent(publisher, token):
    row = revoke_token(token[0], by=publisher)
    first = row.revoked_at
    assert revoke_token(row, by=publisher).revoked_at == first
    assert AuditEntry.objects.filter(action="api.token.revoke").count() == 1
