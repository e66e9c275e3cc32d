"""Staff-managed accounts and one-time invitations (issue 11.4, ADR 0016): the permission matrix, the
link's reuse / expiry / tampering, audit entries, the scope of lists (404 outside it), name-based
choices, rate limits and query counts."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from kepuyue.accounts import staff
from kepuyue.accounts.models import Invitation
from kepuyue.audit.models import AuditEntry
from kepuyue.orgs.models import Membership, Organization
from kepuyue.roles.models import Role, RoleGrant
from tests.fixtures_accounts import create_staff, login_staff

from .conftest import GOOD_PASSWORD


@pytest.fixture
def w(regions, types, django_capture_on_commit_callbacks):
    museum, society = types
    hz = Organization.objects.create(name="杭州低碳科技馆", type=museum, region_id="330106")
    gz = Organization.objects.create(name="广东科学中心", type=museum, region_id="440106")
    soc = Organization.objects.create(name="中国化学会", type=society, region_id="110108")
    pub_hz = create_staff("pub-hz", membership=hz)
    pub_gz = create_staff("pub-gz", membership=gz)
    return SimpleNamespace(
        hz=hz,
        gz=gz,
        soc=soc,
        pub_hz=pub_hz,
        pub_gz=pub_gz,
        admin_zj=create_staff("admin-zj", role=Role.PLATFORM_ADMIN, region="330000"),
        admin_gd=create_staff("admin-gd", role=Role.PLATFORM_ADMIN, region="440000"),
        manager=None,
        cast=create_staff("cast", role=Role.CAST_ADMIN),
        public=create_staff("public"),
    )


def token_from(text: str) -> str:
    return re.search(r"/accounts/invite/([^/\s]+)/", text).group(1)


# --- services -------------------------------------------------------------------------------------


def test_create_account_normalises_contact_and_audits(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = staff.create_account(
            w.admin_zj,
            name="王老师",
            email=" Wang@Example.ORG ",
            phone="+86 138-1234-5678",
            organization=w.hz,
        )
        staff.invite(w.admin_zj, user, channel="email")
    assert user.username == user.email == "wang@example.org"
    assert user.profile.phone == "13812345678"
    assert not user.has_usable_password()
    assert Membership.objects.get(user=user).organization == w.hz
    actions = list(
        AuditEntry.objects.filter(object_id=str(user.pk)).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["account.create", "account.invite"]
    assert len(mail.outbox) == 1 and "/accounts/invite/" in mail.outbox[0].body


def test_create_account_outside_scope_is_404(w):
    from django.http import Http404

    with pytest.raises(Http404):
        staff.create_account(w.admin_zj, name="李", email="li@example.org", organization=w.gz)


def test_create_account_refuses_taken_and_missing_contacts(w):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="至少一项"):
        staff.create_account(w.admin_zj, name="李", organization=w.hz)
    with pytest.raises(ValidationError, match="已有账号"):
        staff.create_account(w.admin_zj, name="李", email="PUB-HZ@example.org", organization=w.hz)
    with pytest.raises(ValidationError):
        staff.create_account(w.admin_zj, name="李", phone="12345", organization=w.hz)


def test_invitation_link_sets_password_once(w, client, django_capture_on_commit_callbacks):
    user = staff.create_account(w.admin_zj, name="王", email="wang@example.org", organization=w.hz)
    with django_capture_on_commit_callbacks(execute=True):
        staff.invite(w.admin_zj, user)
    url = f"/accounts/invite/{token_from(mail.outbox[-1].body)}/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)
    assert user.profile.verified_email == "wang@example.org"
    assert AuditEntry.objects.filter(action="account.invitation_accept", object_id=str(user.pk)).exists()
    # Reuse: the same link is spent.
    again = client.post(url, {"new_password1": "Another-Pass-2025", "new_password2": "Another-Pass-2025"})
    assert again.status_code == 410
    assert "邀请链接无效" in again.content.decode()
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)


def test_invitation_expires(w, client, settings):
    user = staff.create_account(w.admin_zj, name="王", email="wang@example.org", organization=w.hz)
    invitation, token = staff.invite(w.admin_zj, user)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert staff.invitation_from(token) is None
    assert client.get(f"/accounts/invite/{token}/").status_code == 410


def test_invitation_signature_older_than_its_days_is_refused(w, monkeypatch):
    user = staff.create_account(w.admin_zj, name="王", email="wang@example.org", organization=w.hz)
    _invitation, token = staff.invite(w.admin_zj, user)
    monkeypatch.setattr(staff, "INVITE_DAYS", 0)
    import time

    time.sleep(1.1)
    assert staff.invitation_from(token) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature
        lambda t: signing.dumps({"i": 1, "n": "guess"}, salt="other-salt"),  # another salt
        lambda t: "x" * 300,  # too long
        lambda t: "插入",  # not ASCII
        lambda t: "",
    ],
)
def test_tampered_invitation_is_refused(w, client, mangle):
    user = staff.create_account(w.admin_zj, name="王", email="wang@example.org", organization=w.hz)
    _invitation, token = staff.invite(w.admin_zj, user)
    bad = mangle(token)
    assert staff.invitation_from(bad) is None
    if bad and bad.isascii() and "/" not in bad:
        assert client.get(f"/accounts/invite/{bad}/").status_code == 410


def test_forged_nonce_with_right_id_is_refused(w):
    user = staff.create_account(w.admin_zj, name="王", email="wang@example.org", organization=w.hz)
    invitation, _token = staff.invite(w.admin_zj, user)
    forged = signing.dumps({"i": invitation.pk, "n": "not-the-nonce"}, salt=staff.INVITE_SALT)
    assert staff.invitation_from(forged) is None


def test_new_invitation_replaces_the_old_one(w):
    user = staff.create_account(w.admin_zj, name="王", email="wang@example.org", organization=w.hz)
    _first, old = staff.invite(w.admin_zj, user)
    _second, new = staff.invite(w.admin_zj, user)
    assert staff.invitation_from(old) is None
    assert staff.invitation_from(new) is not None


def test_deactivate_revokes_invitation_and_blocks_login(w, client):
    user = staff.create_account(w.admin_zj, name="王", email="wang@example.org", organization=w.hz)
    _inv, token = staff.invite(w.admin_zj, user)
    staff.set_active(w.admin_zj, user, False)
    assert staff.invitation_from(token) is None
    staff.set_active(w.admin_zj, user, True)
    assert staff.invitation_from(token) is None  # revoked stays revoked
    actions = set(
        AuditEntry.objects.filter(object_id=str(user.pk)).order_by("id").values_list("action", flat=True)
    )
    assert {"account.deactivate", "account.reactivate"} <= actions


def test_send_reset_uses_the_reset_machinery(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        staff.send_reset(w.admin_zj, w.pub_hz)
    assert "/accounts/reset/" in mail.outbox[-1].body
    assert AuditEntry.objects.filter(action="account.reset_sent", object_id=str(w.pub_hz.pk)).exists()


def test_phone_invitation_goes_by_text_message(w, django_capture_on_commit_callbacks, settings):
    from kepuyue.common import sms

    user = staff.create_account(w.admin_zj, name="王", phone="13812345678", organization=w.hz)
    assert user.username == "13812345678"
    with django_capture_on_commit_callbacks(execute=True):
        staff.invite(w.admin_zj, user)
    sent = sms.outbox[-1] if hasattr(sms, "outbox") else None
    if sent is not None:
        assert "/accounts/invite/" in str(sent)


def test_cast_grants_and_revokes_roles_by_name(w):
    from kepuyue.regions.models import Region
    from kepuyue.roles import suggest

    user = staff.create_account(w.cast, name="省科协", email="sx@example.org")
    staff.invite(w.cast, user)
    region = suggest.resolve("region", w.cast, "浙江省")
    assert isinstance(region, Region) and region.code == "330000"
    grant = staff.grant(w.cast, user, Role.PLATFORM_ADMIN, region=region)
    assert staff.account_for(w.cast, user.pk) == user
    staff.revoke(w.cast, grant.pk)
    assert not RoleGrant.objects.filter(user=user).exists()
    actions = list(
        AuditEntry.objects.filter(action__startswith="role.").order_by("id").values_list("action", flat=True)
    )
    assert actions == ["role.grant", "role.revoke"]


def test_platform_admin_cannot_grant(w):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        staff.grant(w.admin_zj, w.pub_hz, Role.PLATFORM_ADMIN, region=None)


def test_role_accounts_are_not_a_platform_admins_to_manage(w):
    RoleGrant.objects.create(user=w.pub_hz, role=Role.PLATFORM_ADMIN, region_id="330100")
    assert not staff.managed_accounts(w.admin_zj).filter(pk=w.pub_hz.pk).exists()
    assert staff.managed_accounts(w.cast).filter(pk=w.pub_hz.pk).exists()


# --- pages: the permission matrix -----------------------------------------------------------------

PAGES = ["staff_list", "staff_create"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(
    "who,expected", [(None, 302), ("public", 403), ("pub_hz", 403), ("admin_zj", 200), ("cast", 200)]
)
def test_account_pages_matrix(w, client, page, who, expected):
    if who is not None:
        login_staff(client, getattr(w, who))
    response = client.get(reverse(f"accounts:{page}"))
    assert response.status_code == expected
    if expected == 302:
        assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    "who,target,expected",
    [
        ("admin_zj", "pub_hz", 200),
        ("admin_zj", "pub_gz", 404),  # another province's unit
        ("admin_gd", "pub_hz", 404),
        ("admin_zj", "admin_gd", 404),  # role accounts are CAST's
        ("admin_zj", "cast", 404),
        ("cast", "admin_gd", 200),
        ("cast", "pub_gz", 200),
        ("pub_hz", "pub_hz", 403),
        ("public", "pub_hz", 403),
    ],
)
def test_account_detail_matrix(w, client, who, target, expected):
    login_staff(client, getattr(w, who))
    assert client.get(reverse("accounts:staff_detail", args=[getattr(w, target).pk])).status_code == expected


@pytest.mark.parametrize("action", ["staff_active", "staff_reset", "staff_invite"])
def test_posts_outside_scope_are_404_and_change_nothing(w, client, action):
    login_staff(client, w.admin_gd)
    response = client.post(reverse(f"accounts:{action}", args=[w.pub_hz.pk]), {"active": "0"})
    assert response.status_code == 404
    w.pub_hz.refresh_from_db()
    assert w.pub_hz.is_active
    assert not AuditEntry.objects.filter(object_id=str(w.pub_hz.pk), action__startswith="account.").exists()


def test_revoked_admin_loses_the_pages(w, client):
    login_staff(client, w.admin_zj)
    assert client.get(reverse("accounts:staff_detail", args=[w.pub_hz.pk])).status_code == 200
    RoleGrant.objects.filter(user=w.admin_zj).delete()
    assert client.get(reverse("accounts:staff_detail", args=[w.pub_hz.pk])).status_code == 403


def test_create_page_chooses_unit_by_name(w, client, django_capture_on_commit_callbacks):
    login_staff(client, w.admin_zj)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:staff_create"),
            {"name": "赵老师", "organization": "低碳科技馆", "email": "zhao@example.org", "channel": "email"},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = Membership.objects.get(organization=w.hz, user__email="zhao@example.org").user
    assert response["Location"] == reverse("accounts:staff_detail", args=[user.pk])
    assert "/accounts/invite/" in mail.outbox[-1].body


def test_create_page_does_not_find_another_provinces_unit(w, client):
    login_staff(client, w.admin_zj)
    response = client.post(
        reverse("accounts:staff_create"),
        {"name": "赵老师", "organization": "广东科学中心", "email": "zhao@example.org", "channel": "email"},
    )
    assert response.status_code == 200
    assert "没有找到" in response.content.decode()
    assert not Membership.objects.filter(user__email="zhao@example.org").exists()


def test_invites_are_rate_limited(w, client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "invite": "2/h"}
    login_staff(client, w.admin_zj)
    url = reverse("accounts:staff_invite", args=[w.pub_hz.pk])
    assert client.post(url, {"channel": "email"}).status_code == 302
    assert client.post(url, {"channel": "email"}).status_code == 302
    assert client.post(url, {"channel": "email"}).status_code == 429


def test_deactivate_through_the_page(w, client):
    login_staff(client, w.admin_zj)
    client.post(reverse("accounts:staff_active", args=[w.pub_hz.pk]), {"active": "0"})
    w.pub_hz.refresh_from_db()
    assert not w.pub_hz.is_active
    response = client.__class__().post(
        reverse("accounts:login"), {"username": "pub-hz", "password": "Kepuyue-Staff-2025"}
    )
    assert response.status_code == 200 and "_auth_user_id" not in response.client.session


def test_grant_page_by_names(w, client, campaign_2025):
    login_staff(client, w.cast)
    url = reverse("accounts:staff_grant", args=[w.pub_gz.pk])
    client.post(url, {"role": "platform_admin", "society": "中国化学会"})
    assert RoleGrant.objects.filter(user=w.pub_gz, role=Role.PLATFORM_ADMIN, organization=w.soc).exists()
    ja = campaign_2025.joint_actions.order_by("number").first()
    client.post(url, {"role": "joint_action_manager", "joint_action": ja.pk})
    assert RoleGrant.objects.filter(user=w.pub_gz, role=Role.JOINT_ACTION_MANAGER, joint_action=ja).exists()
    login_staff(client, w.admin_zj)
    assert client.post(url, {"role": "cast_admin"}).status_code == 403


# --- query counts ---------------------------------------------------------------------------------


def _add_accounts(w, upto):
    have = RoleGrant.objects.filter(user__username__startswith="role-").count()
    for i in range(have, upto):
        create_staff(f"unit-{i}", membership=w.hz)
        RoleGrant.objects.create(user=create_staff(f"role-{i}"), role=Role.PLATFORM_ADMIN, region_id="330100")


@pytest.mark.parametrize("who,per_n", [("cast", 2), ("admin_zj", 1)])
def test_account_list_query_count_does_not_grow(w, client, who, per_n):
    """1 and 3 of each kind of account: the same number of queries (no N+1 for units, roles, profiles)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login_staff(client, getattr(w, who))
    counts = []
    for n in (1, 3):
        _add_accounts(w, n)
        client.get(reverse("accounts:staff_list"))  # the session's flags are read once a minute
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("accounts:staff_list"))
        shown = response.content.decode().count("data-account=")
        assert shown >= per_n * n
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 10, counts


# --- the unit's own phone -------------------------------------------------------------------------


def test_unit_marks_its_phone_public(w, client):
    client.force_login(w.pub_hz)
    response = client.post(
        reverse("accounts:unit_settings"), {"contact_phone": "0571-8888 1234", "phone_public": "on"}
    )
    assert response.status_code == 302
    w.hz.refresh_from_db()
    assert w.hz.phone_public and w.hz.contact_phone
    assert AuditEntry.objects.filter(action="organization.change", object_id=str(w.hz.pk)).exists()


def test_mail_server_down_keeps_the_account(w, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.accounts.test_staff_accounts.BrokenBackend"
    with django_capture_on_commit_callbacks(execute=True):
        user = staff.create_account(w.admin_zj, name="王", email="wang@example.org", organization=w.hz)
        staff.invite(w.admin_zj, user)
    assert Invitation.objects.filter(user=user).count() == 1


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("connection refused")
