"""Fixtures of the calls tests: the real plan and regions, units, staff, judges and managers, and every
storage (private, public, upload temporaries) in the test's own temporary folder."""

import os

import pytest

from kepuyue.common.storage import AtomicFileSystemStorage

# Playwright (browser tests elsewhere in the suite) keeps an event loop in the main thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def storages(settings, tmp_path, monkeypatch):
    """``{"public": …, "private": …, "temp": …}`` folders; entry files go to ``private``, published copies
    to ``public`` (``MEDIA_ROOT``), uploads in progress to ``temp``."""
    from kepuyue.calls.models import Entry, EntryImage

    folders = {name: tmp_path / name for name in ("public", "private", "temp")}
    for folder in folders.values():
        folder.mkdir()
    settings.MEDIA_ROOT = folders["public"]
    settings.PRIVATE_MEDIA_ROOT = folders["private"]
    settings.CALLS_UPLOAD_TEMP_DIR = folders["temp"]
    settings.FILE_UPLOAD_TEMP_DIR = folders["temp"]
    private = AtomicFileSystemStorage(location=folders["private"], base_url=None)
    for model, name in ((Entry, "file"), (Entry, "poster"), (EntryImage, "file")):
        monkeypatch.setattr(model._meta.get_field(name), "storage", private)
    return folders


def files_in(folder) -> list[str]:
    """Every file under ``folder`` (relative paths), sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def plan(regions, campaign_2025, clock):
    """The 2025 plan and the real regions, the clock pinned while the calls are open (Aug 15)."""
    clock("2025-08-15T10:00+08:00")
    return campaign_2025


@pytest.fixture
def call(plan):
    """A call of the plan by slug: ``call("science-treasure-videos")``."""

    def get(slug: str):
        return plan.calls.select_related("campaign", "joint_action").get(slug=slug)

    return get


@pytest.fixture
def base(plan):
    """A science-education base (科普教育基地) in 杭州市西湖区."""
    from kepuyue.orgs.models import Organization

    return Organization.objects.create(
        name="杭州植物园科普教育基地", type_id="science_education_base", region_id="330106"
    )


@pytest.fixture
def other_base(plan):
    """Another base, in 北京市海淀区."""
    from kepuyue.orgs.models import Organization

    return Organization.objects.create(
        name="中国科学技术馆科普教育基地", type_id="science_education_base", region_id="110108"
    )


def _member(django_user_model, username, organization):
    from kepuyue.orgs.models import Membership

    user = django_user_model.objects.create_user(username, password=f"pw-{username}-1")
    if organization is not None:
        Membership.objects.create(user=user, organization=organization)
    return user


@pytest.fixture
def staff(base, django_user_model):
    """The base's publisher account (单位账号)."""
    return _member(django_user_model, "base-staff", base)


@pytest.fixture
def other_staff(other_base, django_user_model):
    return _member(django_user_model, "other-staff", other_base)


@pytest.fixture
def make_judge(django_user_model):
    """``make_judge(call, organization=None, name="judge")``: an account with the judge role on ``call``."""
    from kepuyue.roles.models import RoleGrant

    def make(call, organization=None, name="judge"):
        user = _member(django_user_model, name, organization)
        RoleGrant.objects.create(user=user, role="judge", call=call)
        return user

    return make


@pytest.fixture
def manager(plan, django_user_model):
    """The 科普教育基地联合行动 manager (联合行动牵头单位管理员)."""
    from kepuyue.roles.models import RoleGrant

    user = _member(django_user_model, "ja-manager", None)
    RoleGrant.objects.create(
        user=user,
        role="joint_action_manager",
        joint_action=plan.joint_actions.get(slug="science-education-bases"),
    )
    return user


def login(client, user):
    """Sign ``user`` in: through the accounts app's TOTP helper (an OTP-verified session, which managers
    need), or ``force_login`` where that helper does not exist."""
    try:
        from tests.fixtures_accounts import login_staff
    except ImportError:  # pragma: no cover - before the accounts app
        client.force_login(user)
        return client
    return login_staff(client, user)
