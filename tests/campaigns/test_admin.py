"""The campaign admin: every model listed, searchable and viewable in Chinese, and read-only."""

import pytest
from django.urls import reverse

from kepuyue.campaigns.models import Brand, Call, Campaign, Contact, Deadline, JointAction, KeyTask, Target
from tests.fixtures_accounts import login_staff

pytestmark = pytest.mark.django_db

MODELS = [Campaign, JointAction, KeyTask, Brand, Target, Deadline, Contact, Call]


@pytest.fixture
def staff_client(client, django_user_model, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    user = django_user_model.objects.create_superuser("admin", "admin@example.org", "pw")
    login_staff(client, user)  # superusers sign in with TOTP
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_admin_changelist_lists_rows_in_chinese(staff_client, campaign_2025, model):
    url = reverse(f"admin:campaigns_{model._meta.model_name}_changelist")
    response = staff_client.get(url, {"q": "科普"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    assert str(model._meta.verbose_name_plural) in page
    assert "load_campaign" in page  # the note on where the data comes from


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_admin_change_page_is_view_only(staff_client, campaign_2025, model):
    obj = model.objects.first()
    url = reverse(f"admin:campaigns_{model._meta.model_name}_change", args=[obj.pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert staff_client.post(url, {}).status_code == 403


def test_admin_joint_action_shows_its_inlines(staff_client, campaign_2025):
    ja = JointAction.objects.get(slug="science-museums")
    page = staff_client.get(reverse("admin:campaigns_jointaction_change", args=[ja.pk])).content.decode()
    for text in ["重点任务", "品牌活动", "数量目标", "联系人", "科普大篷车", "1000余辆", "张志坚"]:
        assert text in page


def test_admin_add_is_refused(staff_client):
    assert staff_client.get(reverse("admin:campaigns_brand_add")).status_code == 403
