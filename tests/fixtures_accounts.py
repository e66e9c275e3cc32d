"""Shared fixtures for signed-in staff (registered in ``tests/conftest.py``'s ``pytest_plugins``).

Accounts that need two-factor (superusers, CAST, joint-action managers, platform administrators)
are sent to the TOTP page by ``kepuyue.accounts.middleware`` until their session is OTP-verified.
Tests of staff pages sign such accounts in with :func:`login_staff`, which does what a real TOTP
sign-in leaves behind: ``force_login`` plus a confirmed device recorded in the session the way
django-otp expects. Publishers (a ``Membership`` only) need no TOTP: ``client.force_login`` is enough.

    from tests.fixtures_accounts import create_staff, login_staff

    admin = create_staff("zj-admin", role="platform_admin", region="330000")
    login_staff(client, admin)
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

STAFF_PASSWORD = "Kepuyue-Staff-2025"


def create_staff(
    username: str = "staff",
    *,
    role: str | None = None,
    region=None,
    organization=None,
    joint_action=None,
    call=None,
    membership=None,
    superuser: bool = False,
    password: str = STAFF_PASSWORD,
):
    """Create an account with one role grant and/or a membership, and return it.

    ``role``: a ``kepuyue.roles.models.Role`` value (``"platform_admin"``, ``"cast_admin"``,
    ``"joint_action_manager"``, ``"judge"``) with its scope: ``region`` (a ``Region`` or its code),
    ``organization`` (a national society), ``joint_action``, ``call``. ``membership``: the
    ``Organization`` the account publishes for. ``superuser``: a Django superuser (needs TOTP too).
    """
    from kepuyue.orgs.models import Membership
    from kepuyue.roles.models import RoleGrant

    user_model = get_user_model()
    if superuser:
        user = user_model.objects.create_superuser(username, f"{username}@example.org", password)
    else:
        user = user_model.objects.create_user(username, f"{username}@example.org", password)
    if role:
        RoleGrant.objects.create(
            user=user,
            role=role,
            region_id=getattr(region, "pk", region),
            organization=organization,
            joint_action=joint_action,
            call=call,
        )
    if membership is not None:
        Membership.objects.create(user=user, organization=membership)
    return user


def totp_device(user) -> TOTPDevice:
    """The account's confirmed TOTP device (created when it has none)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def totp_code(device: TOTPDevice, *, drift: int = 0) -> str:
    """The 6-digit code ``device`` shows now (``drift`` steps of 30 s later or earlier), as an
    authenticator app computes it from the device key."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


def login_staff(client, user):
    """Sign ``user`` in on the Django test ``client`` with an OTP-verified session; returns ``client``.

    ``client.force_login(user)``, then the account's confirmed TOTP device (created if missing) is
    stored in the session under django-otp's ``DEVICE_ID_SESSION_KEY``, as a real verification does.
    """
    client.force_login(user)
    device = totp_device(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def make_staff(db):
    """:func:`create_staff` as a fixture: ``make_staff("gd-admin", role="platform_admin", region="440000")``."""
    return create_staff


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's ``admin_client``, signed in with TOTP (superusers need two-factor)."""
    return login_staff(client, admin_user)
