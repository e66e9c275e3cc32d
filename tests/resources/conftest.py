"""The small world of the publicity-resource tests: the 2025 plan, a manager of 现代科技馆体系联合行动, a
manager of another joint action, CAST, a unit, and media/upload folders of their own."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.fixtures_accounts import create_staff, login_staff


@pytest.fixture
def folders(settings, tmp_path):
    found = {name: tmp_path / name for name in ("public", "temp")}
    for folder in found.values():
        folder.mkdir()
    settings.MEDIA_ROOT = found["public"]
    settings.CALLS_UPLOAD_TEMP_DIR = found["temp"]
    settings.FILE_UPLOAD_TEMP_DIR = found["temp"]
    return found


def files_in(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def world(campaign_2025, clock, folders):
    from kepuyue.orgs.models import Organization

    clock("2025-08-15T10:00+08:00")
    actions = {a.slug: a for a in campaign_2025.joint_actions.all()}
    museums = actions["science-museums"]
    unit = Organization.objects.create(name="杭州科技馆", type_id="science_museum")
    return SimpleNamespace(
        campaign=campaign_2025,
        museums=museums,
        bases=actions["science-education-bases"],
        manager=create_staff("museum-manager", role="joint_action_manager", joint_action=museums),
        other_manager=create_staff(
            "bases-manager", role="joint_action_manager", joint_action=actions["science-education-bases"]
        ),
        cast=create_staff("cast", role="cast_admin"),
        publisher=create_staff("publisher", membership=unit),
        folders=folders,
    )


@pytest.fixture
def as_manager(client, world):
    return login_staff(client, world.manager)
