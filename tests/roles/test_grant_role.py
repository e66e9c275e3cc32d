"""Granting and revoking roles from the command line (audited, scopes checked)."""

import pytest
from django.core.management import CommandError, call_command

from kepuyue.audit.models import AuditEntry
from kepuyue.roles.models import RoleGrant

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(django_user_model, regions, campaign_2025):
    return django_user_model.objects.create_user("zj-admin", password="Kp-Test-2025!x")


def test_grant_and_revoke_a_province_administrator(account, capsys):
    call_command("grant_role", "zj-admin", "platform_admin", "--region", "330000")
    grant = RoleGrant.objects.get(user=account)
    assert grant.region_id == "330000"
    call_command("grant_role", "zj-admin", "platform_admin", "--region", "330000")  # idempotent
    assert RoleGrant.objects.filter(user=account).count() == 1
    call_command("grant_role", "zj-admin", "platform_admin", "--region", "330000", "--revoke")
    assert not RoleGrant.objects.filter(user=account).exists()
    assert list(AuditEntry.objects.values_list("action", flat=True).order_by("id")) == [
        "role.grant",
        "role.revoke",
    ]


def test_wrong_scopes_are_refused_in_chinese(account):
    with pytest.raises(CommandError, match="平台管理员须设置一个管辖范围"):
        call_command("grant_role", "zj-admin", "platform_admin")
    with pytest.raises(CommandError, match="省级或地级"):
        call_command("grant_role", "zj-admin", "platform_admin", "--region", "330106")
    with pytest.raises(CommandError, match="不设此范围"):
        call_command("grant_role", "zj-admin", "cast_admin", "--region", "330000")
    with pytest.raises(CommandError, match="没有行政区划代码“999999”"):
        call_command("grant_role", "zj-admin", "platform_admin", "--region", "999999")
    with pytest.raises(CommandError, match="没有账号"):
        call_command("grant_role", "nobody", "cast_admin")
    assert not RoleGrant.objects.exists()


def test_joint_action_manager_of_the_current_campaign(account, clock):
    clock("2025-08-15T10:00+08:00")
    call_command("grant_role", "zj-admin", "joint_action_manager", "--joint-action", "science-museums")
    assert RoleGrant.objects.get(user=account).joint_action.slug == "science-museums"
