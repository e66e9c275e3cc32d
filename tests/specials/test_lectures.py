"""Online lectures (三(二)3): live and replay links (validated https, no hosting) on the activity page,
set by the organizing unit only, and a replay archive per joint action."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kepuyue.activities.models import Status
from kepuyue.specials import services
from kepuyue.specials.models import LectureLinks


@pytest.fixture
def lecture(plan, museum, publish):
    return publish(museum, ja_slug="enterprises", brand_slug="frontier-lectures", title="人工智能前沿讲座")


@pytest.mark.parametrize(
    "bad",
    [
        "http://live.example.org/1",
        "javascript:alert(1)",
        "ftp://x.org/a",
        "https://",
        "https://exa mple.org",
        "h" * 501,
    ],
)
def test_links_must_be_https(lecture, bad):
    with pytest.raises(services.ProgrammeError):
        services.set_lecture_links(lecture, live_url=bad, actor=None)
    assert not LectureLinks.objects.exists()


def test_unit_sets_links_shown_on_the_activity_page(client, lecture, museum_staff, publish, plan):
    from kepuyue.orgs.models import Organization

    client.force_login(museum_staff)
    url = f"/org/programmes/lectures/{lecture.pk}/"
    form = {"live_url": "https://live.example.org/room/1", "replay_url": "https://video.example.org/v/1"}
    assert client.post(url, form).status_code == 302
    page = client.get(f"/activities/{lecture.pk}/").content.decode()
    assert 'href="https://live.example.org/room/1"' in page and 'href="https://video.example.org/v/1"' in page
    bad = client.post(url, {"live_url": "http://insecure.example.org", "replay_url": ""})
    assert bad.status_code == 400 and "https://" in bad.content.decode()
    assert LectureLinks.objects.get(activity=lecture).live_url == "https://live.example.org/room/1"  # kept
    other = publish(Organization.objects.create(name="别的企业", type_id="enterprise"), ja_slug="enterprises")
    assert client.get(f"/org/programmes/lectures/{other.pk}/").status_code == 404
    assert client.post(url, {"live_url": "", "replay_url": ""}).status_code == 302
    assert not LectureLinks.objects.filter(activity=lecture).exists()


def test_replay_archive_per_joint_action(client, lecture, museum, publish, plan):
    services.set_lecture_links(lecture, replay_url="https://video.example.org/v/1", actor=None)
    live_only = publish(museum, ja_slug="enterprises", title="只有直播")
    services.set_lecture_links(live_only, live_url="https://live.example.org/2", actor=None)
    hidden = publish(museum, ja_slug="enterprises", title="未发布讲座", status=Status.DRAFT)
    services.set_lecture_links(hidden, replay_url="https://video.example.org/v/3", actor=None)
    elsewhere = publish(museum, ja_slug="national-societies", title="学会讲座")
    services.set_lecture_links(elsewhere, replay_url="https://video.example.org/v/4", actor=None)
    body = client.get("/lectures/kepuyue-2025/enterprises/").content.decode()
    assert (
        "人工智能前沿讲座" in body
        and "只有直播" not in body
        and "未发布讲座" not in body
        and "学会讲座" not in body
    )
    assert client.get("/lectures/kepuyue-2025/nope/").status_code == 404
    with CaptureQueriesContext(connection) as one:
        client.get("/lectures/kepuyue-2025/enterprises/")
    for i in range(2):
        more = publish(museum, ja_slug="enterprises", title=f"讲座{i}")
        services.set_lecture_links(more, replay_url=f"https://video.example.org/m/{i}", actor=None)
    with CaptureQueriesContext(connection) as three:
        client.get("/lectures/kepuyue-2025/enterprises/")
    assert len(one) == len(three)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(live=st.text(max_size=80) | st.just("https://ok.example.org/x"), replay=st.text(max_size=600))
def test_lecture_form_never_fails(client, lecture, museum_staff, live, replay):
    client.force_login(museum_staff)
    response = client.post(
        f"/org/programmes/lectures/{lecture.pk}/", {"live_url": live, "replay_url": replay}
    )
    assert response.status_code in (302, 400)
