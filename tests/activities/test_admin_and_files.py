"""The admin keeps derived columns in step; imported files are never public; hostile parameters."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from kepuyue.activities.models import Activity, ImportJob, Status
from kepuyue.search.services import search_activities
from tests.fixtures_accounts import login_staff

from .factories import ActivityFactory

pytestmark = pytest.mark.django_db


def test_import_file_is_stored_outside_public_media(settings, client, tmp_path):
    job = ImportJob(original_name="activities.csv")
    job.file.save("activities.csv", ContentFile("活动名称,联系电话\n测试,13812345678\n".encode()), save=True)
    try:
        assert not str(job.file.path).startswith(str(settings.MEDIA_ROOT))
        assert str(job.file.path).startswith(str(settings.PRIVATE_MEDIA_ROOT))
        assert client.get("/media/" + job.file.name).status_code == 404
    finally:
        job.file.delete(save=False)


def test_admin_edit_refreshes_search_words_and_keeps_status(client):
    admin = get_user_model().objects.create_superuser("root", password="x-Very-long-9")
    login_staff(client, admin)  # superusers sign in with TOTP
    activity = ActivityFactory(title="旧的标题", status=Status.DRAFT)
    url = f"/admin/activities/activity/{activity.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if isinstance(v, str | int) and not isinstance(v, bool)}
    data.update({"title": "量子计算体验夜", "status": Status.PUBLISHED})
    for name in ("starts_at", "ends_at"):
        value = getattr(activity, name)
        data[f"{name}_0"], data[f"{name}_1"] = value.strftime("%Y-%m-%d"), value.strftime("%H:%M:%S")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    activity.refresh_from_db()
    assert activity.title == "量子计算体验夜"
    assert activity.status == Status.DRAFT  # read-only in the admin: only services.transition moves it
    assert list(search_activities(Activity.objects.all(), "量子")) == [activity]
    assert not search_activities(Activity.objects.all(), "旧的").exists()


@pytest.mark.parametrize("query", ["?campaign=%00", "?q=%00", "?province=%00", "?joint_action=%00abc"])
def test_activity_list_survives_nul_bytes(client, query):
    response = client.get("/activities/" + query)
    assert response.status_code == 200
    assert b"\x00" not in response.content
