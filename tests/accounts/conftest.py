"""Fixtures of the accounts tests: units' types, real regions, a few accounts, proof documents."""

import os

import pytest

from kepuyue.orgs.validators import uscc_check_character

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
GOOD_PASSWORD = "Kexue-Puji-2025"


def uscc(body17: str) -> str:
    """A valid 统一社会信用代码 for the first 17 characters."""
    return body17 + uscc_check_character(body17)


def png_bytes() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, "PNG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path, monkeypatch):
    """Proof documents go to a temporary private folder, media to another.

    The field's storage was built from ``PRIVATE_MEDIA_ROOT`` when the model loaded, so the test
    gives the field a real storage on the temporary folder instead.
    """
    from django.core.files.storage import FileSystemStorage

    from kepuyue.accounts.models import OrganizationApplication

    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    field = OrganizationApplication._meta.get_field("proof")
    monkeypatch.setattr(
        field, "storage", FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)
    )
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def types(db):
    from kepuyue.orgs.models import OrganizationType

    museum, _ = OrganizationType.objects.get_or_create(code="science_museum", defaults={"name": "科技馆"})
    society, _ = OrganizationType.objects.get_or_create(
        code="national_society", defaults={"name": "全国学会"}
    )
    return museum, society


@pytest.fixture
def zj_admin(regions, make_staff):
    """Platform administrator of 浙江省 (330000)."""
    return make_staff("zj-admin", role="platform_admin", region="330000")


@pytest.fixture
def gd_admin(regions, make_staff):
    """Platform administrator of 广东省 (440000)."""
    return make_staff("gd-admin", role="platform_admin", region="440000")


@pytest.fixture
def applicant(db):
    from kepuyue.accounts.services import create_public_account

    return create_public_account(email="Wang@Example.org", password=GOOD_PASSWORD, phone="13812345678")
