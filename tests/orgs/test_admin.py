import pytest
from django.urls import reverse

from kepuyue.orgs.models import Organization, OrganizationType

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    """Admin pages without a collected static manifest (the test run never runs collectstatic)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def units(regions):
    museum = OrganizationType.objects.create(code="science_museum", name="科技馆")
    base = OrganizationType.objects.create(code="science_education_base", name="科普教育基地")
    Organization.objects.create(name="浙江省科技馆", type=museum, region_id="330100")
    Organization.objects.create(name="南宁市动物园", type=base, region_id="450100")
    return museum, base


def test_organization_changelist_filters_by_type_and_province(admin_client, units):
    url = reverse("admin:orgs_organization_changelist")
    page = admin_client.get(url).content.decode()
    assert "浙江省科技馆" in page and "南宁市动物园" in page

    page = admin_client.get(url, {"province": "450000"}).content.decode()
    assert "南宁市动物园" in page and "浙江省科技馆" not in page

    page = admin_client.get(url, {"type__code__exact": "science_museum"}).content.decode()
    assert "浙江省科技馆" in page and "南宁市动物园" not in page


def test_organization_changelist_searches_by_name(admin_client, units):
    page = admin_client.get(reverse("admin:orgs_organization_changelist"), {"q": "动物园"}).content.decode()
    assert "南宁市动物园" in page and "浙江省科技馆" not in page


def test_organization_add_page_uses_autocomplete(admin_client, units):
    page = admin_client.get(reverse("admin:orgs_organization_add")).content.decode()
    assert page.count("admin-autocomplete") >= 2


def test_region_autocomplete_finds_by_name(admin_client, units):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"term": "西湖", "app_label": "orgs", "model_name": "organization", "field_name": "region"},
    )
    codes = {item["id"] for item in response.json()["results"]}
    assert "330106" in codes


def test_organization_admin_rejects_bad_uscc(admin_client, units):
    museum, _ = units
    response = admin_client.post(
        reverse("admin:orgs_organization_add"),
        {"name": "新单位", "type": museum.pk, "uscc": "91350100M000100Y44"},
    )
    assert response.status_code == 200
    assert "校验位错误" in response.content.decode()
    assert not Organization.objects.filter(name="新单位").exists()


def test_organization_type_changelist_counts_units(admin_client, units):
    page = admin_client.get(reverse("admin:orgs_organizationtype_changelist")).content.decode()
    assert "科技馆" in page and "科普教育基地" in page


def test_region_admin_is_read_only_and_searchable(admin_client, regions):
    url = reverse("admin:regions_region_changelist")
    page = admin_client.get(url, {"q": "330106"}).content.decode()
    assert "西湖区" in page
    page = admin_client.get(url, {"level__exact": "1"}).content.decode()
    assert "浙江省" in page and "西湖区" not in page
    assert admin_client.get(reverse("admin:regions_region_add")).status_code == 403
    assert admin_client.get(reverse("admin:regions_region_change", args=["330106"])).status_code == 200
