"""Judging: blind pages, conflict of interest, weighted mean and normalisation, the manager's panel,
shortlist and publishing (择优发布), and the permission matrix of entries."""

import shutil

import pytest

from kepuyue.audit.models import AuditEntry
from kepuyue.calls import services
from kepuyue.calls.models import Entry, EntryStatus, Score
from kepuyue.calls.services import Upload, submit_entry
from tests.calls.conftest import files_in, login
from tests.calls.mediafiles import make_mp4


@pytest.fixture(scope="module")
def video_file(tmp_path_factory):
    return make_mp4(tmp_path_factory.mktemp("judging") / "hd.mp4", 1920, 1080, seconds=1.0)


@pytest.fixture
def make_entry(call, video_file, storages):
    counter = iter(range(100))

    def make(organization, title="作品", status=EntryStatus.SUBMITTED):
        copy = storages["temp"] / f"v{next(counter)}.mp4"
        shutil.copyfile(video_file, copy)
        entry = submit_entry(
            call("science-treasure-videos"),
            organization=organization,
            data={"title": title, "theme": "base-tour"},
            files={"video": Upload(copy, name="hd.mp4")},
            submit=status != EntryStatus.DRAFT,
        )
        if status not in (EntryStatus.DRAFT, EntryStatus.SUBMITTED):
            Entry.objects.filter(pk=entry.pk).update(status=status)
            entry.refresh_from_db()
        return entry

    return make


def all_points(value):
    return {"theme": value, "content": value, "highlights": value, "reach": value}


def test_weighted_total_uses_the_yaml_weights(call):
    video = call("science-treasure-videos")  # 25 / 30 / 25 / 20
    points = {"theme": 80, "content": 90, "highlights": 70, "reach": 60}
    assert services.weighted_total(video, points) == pytest.approx(
        (80 * 25 + 90 * 30 + 70 * 25 + 60 * 20) / 100
    )
    with pytest.raises(ValueError, match="请为“亮点突出”打分"):
        services.weighted_total(video, {"theme": 1, "content": 1, "reach": 1})
    with pytest.raises(ValueError, match="0—100"):
        services.weighted_total(video, all_points(101))


def test_mean_and_normalised_scores(call, base, other_base, make_entry, make_judge):
    from kepuyue.orgs.models import Organization

    third = Organization.objects.create(name="第三基地", type_id="science_education_base")
    a, b, c = make_entry(base, "甲"), make_entry(other_base, "乙"), make_entry(third, "丙")
    video = call("science-treasure-videos")
    lenient, strict = make_judge(video, name="lenient"), make_judge(video, name="strict")
    # The lenient judge scores everything high, the strict one low; both rank 甲 > 乙 > 丙.
    for entry, high, low in ((a, 95, 70), (b, 90, 50), (c, 85, 30)):
        services.score_entry(entry, lenient, all_points(high))
        services.score_entry(entry, strict, all_points(low))
    results = {r.entry.title: r for r in services.results(video)}
    assert results["甲"].mean == pytest.approx((95 + 70) / 2)
    assert results["乙"].count == 2
    # z-scores per judge: lenient 95/90/85 → +1.22/0/−1.22; strict 70/50/30 → +1.22/0/−1.22.
    assert results["甲"].normalised == pytest.approx(1.2247, abs=1e-3)
    assert results["乙"].normalised == pytest.approx(0.0, abs=1e-9)
    assert [r.entry.title for r in services.results(video)] == ["甲", "乙", "丙"]
    progress = {
        row["judge"].username: (row["scored"], row["assigned"]) for row in services.judge_progress(video)
    }
    assert progress == {"lenient": (3, 3), "strict": (3, 3)}


def test_judge_never_scores_own_unit(call, base, other_base, make_entry, make_judge):
    own, other = make_entry(base), make_entry(other_base)
    judge = make_judge(call("science-treasure-videos"), organization=base)
    assert list(services.judgeable_entries(judge, own.call)) == [other]
    with pytest.raises(PermissionError):
        services.score_entry(own, judge, all_points(90))


def test_blind_pages_show_code_not_unit(client, call, base, other_base, make_entry, make_judge, staff):
    entry = make_entry(other_base, "恐龙化石的故事")
    judge = make_judge(call("science-treasure-videos"), organization=base)
    login(client, judge)
    listing = client.get("/calls/judge/kepuyue-2025/science-treasure-videos/").content.decode()
    page = client.get(f"/calls/judge/entries/{entry.code}/").content.decode()
    for html in (listing, page):
        assert entry.code in html and "恐龙化石的故事" in html
        assert other_base.name not in html and "base-staff" not in html
    assert f"/calls/entries/{entry.code}/file/file/" in page  # the video through the private file view
    video = client.get(f"/calls/entries/{entry.code}/file/file/")
    assert video.status_code == 200 and f'filename="{entry.code}.mp4"' in video["Content-Disposition"]


def test_conflict_of_interest_is_404(client, call, base, make_entry, make_judge):
    own = make_entry(base)
    judge = make_judge(call("science-treasure-videos"), organization=base)
    login(client, judge)
    assert client.get(f"/calls/judge/entries/{own.code}/").status_code == 404
    assert client.post(f"/calls/judge/entries/{own.code}/", {"score-theme": 100}).status_code == 404
    assert Score.objects.count() == 0


def test_judge_scores_through_the_page(client, call, other_base, base, make_entry, make_judge):
    first, second = make_entry(other_base, "一"), make_entry(other_base, "二")
    judge = make_judge(call("science-treasure-videos"), organization=base)
    login(client, judge)
    entries = sorted([first, second], key=lambda e: e.code)
    bad = client.post(f"/calls/judge/entries/{entries[0].code}/", {"score-theme": "abc"})
    assert bad.status_code == 400
    response = client.post(
        f"/calls/judge/entries/{entries[0].code}/",
        {"score-theme": 80, "score-content": 90, "score-highlights": 70, "score-reach": 60, "comment": "好"},
    )
    assert response.status_code == 302 and response["Location"] == f"/calls/judge/entries/{entries[1].code}/"
    score = Score.objects.get()
    assert score.total == pytest.approx(76.5) and score.comment == "好"
    assert AuditEntry.objects.filter(action="call_entry.score").count() == 1


def test_manager_assigns_judges_shortlists_and_publishes(
    client, call, base, make_entry, manager, django_user_model, storages
):
    entry = make_entry(base, "植物园探馆")
    expert = django_user_model.objects.create_user("expert")
    login(client, manager)
    panel = "/calls/manage/kepuyue-2025/science-treasure-videos/"
    assert client.post(panel, {"username": "expert", "action": "add"}).status_code == 302
    assert list(services.judges_of(entry.call)) == [expert]
    page = client.get(panel).content.decode()
    assert "expert" in page and base.name in page  # the manager sees the unit; judges do not
    client.post(f"/calls/manage/entries/{entry.code}/", {"to": "shortlisted"})
    client.post(f"/calls/manage/entries/{entry.code}/", {"to": "published"})
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PUBLISHED and entry.public_file and entry.public_poster
    assert sorted(files_in(storages["public"])) == sorted([entry.public_file.name, entry.public_poster.name])
    assert [
        a.action
        for a in AuditEntry.objects.filter(object_type="calls.entry", object_id=str(entry.pk)).order_by("id")
    ] == [
        "call_entry.submit",
        "call_entry.shortlist",
        "call_entry.publish",
    ]
    assert AuditEntry.objects.filter(action="call.judge_assign").exists()
    gallery = client.get("/calls/kepuyue-2025/science-treasure-videos/").content.decode()
    assert "植物园探馆" in gallery and entry.public_file.url in gallery
    client.post(f"/calls/manage/entries/{entry.code}/", {"to": "shortlisted"})  # 撤下
    entry.refresh_from_db()
    assert (
        not entry.public_file
        and "植物园探馆" not in client.get("/calls/kepuyue-2025/science-treasure-videos/").content.decode()
    )


def test_other_joint_action_manager_cannot_manage(client, plan, call, base, make_entry, django_user_model):
    from kepuyue.roles.models import RoleGrant

    entry = make_entry(base)
    other = django_user_model.objects.create_user("other-manager")
    RoleGrant.objects.create(
        user=other, role="joint_action_manager", joint_action=plan.joint_actions.get(slug="universities")
    )
    login(client, other)
    assert client.get("/calls/manage/kepuyue-2025/science-treasure-videos/").status_code == 404
    assert client.post(f"/calls/manage/entries/{entry.code}/", {"to": "shortlisted"}).status_code == 404
    entry.refresh_from_db()
    assert entry.status == EntryStatus.SUBMITTED


@pytest.mark.parametrize(
    ("who", "draft", "submitted"),
    [
        ("anonymous", 302, 302),
        ("own_unit", 200, 200),
        ("other_unit", 404, 404),
        ("judge_other_unit", 404, 404),  # judges use the blind page only
        ("manager", 404, 200),  # drafts stay private to their unit
    ],
)
def test_entry_page_permission_matrix(
    client, who, draft, submitted, base, other_base, staff, other_staff, make_entry, make_judge, manager, call
):
    draft_entry = make_entry(base, status=EntryStatus.DRAFT)
    submitted_entry = make_entry(base)
    users = {
        "own_unit": staff,
        "other_unit": other_staff,
        "judge_other_unit": lambda: make_judge(
            call("science-treasure-videos"), organization=other_base, name="j2"
        ),
        "manager": manager,
    }
    if who != "anonymous":
        user = users[who]
        login(client, user() if callable(user) else user)
    assert client.get(f"/calls/entries/{draft_entry.code}/").status_code == draft
    assert client.get(f"/calls/entries/{submitted_entry.code}/").status_code == submitted


def test_other_unit_cannot_withdraw_or_read_files(client, base, other_staff, make_entry):
    entry = make_entry(base, status=EntryStatus.DRAFT)
    login(client, other_staff)
    assert client.post(f"/calls/entries/{entry.code}/action/", {"action": "withdraw"}).status_code == 404
    assert client.get(f"/calls/entries/{entry.code}/file/file/").status_code == 404
    entry.refresh_from_db()
    assert entry.status == EntryStatus.DRAFT


def test_unit_submits_draft_and_withdraws(client, base, staff, make_entry):
    entry = make_entry(base, status=EntryStatus.DRAFT)
    login(client, staff)
    client.post(f"/calls/entries/{entry.code}/action/", {"action": "submit"})
    entry.refresh_from_db()
    assert entry.status == EntryStatus.SUBMITTED
    client.post(f"/calls/entries/{entry.code}/action/", {"action": "withdraw"})
    entry.refresh_from_db()
    assert entry.status == EntryStatus.WITHDRAWN
    assert "我的征集作品" in client.get("/calls/org/").content.decode()


def test_public_gallery_lists_published_only_and_filters(client, call, base, other_base, make_entry, manager):
    shown = make_entry(base, "杭州的视频")
    beijing = make_entry(other_base, "北京的视频")
    hidden = make_entry(base, "未发布的视频")
    for entry in (shown, beijing):
        services.transition(entry, EntryStatus.SHORTLISTED, actor=manager)
        services.transition(entry, EntryStatus.PUBLISHED, actor=manager)
    url = "/calls/kepuyue-2025/science-treasure-videos/"
    html = client.get(url).content.decode()
    assert "杭州的视频" in html and "北京的视频" in html and hidden.title not in html
    assert "<video" in html and "poster=" in html
    only_zhejiang = client.get(url, {"province": "330000"}).content.decode()
    assert "杭州的视频" in only_zhejiang and "北京的视频" not in only_zhejiang
    assert "北京市" in html and "浙江省" in html  # the province filter's choices
    assert "暂无发布的作品" in client.get(url, {"theme": "featured-activities"}).content.decode()
    assert client.get("/calls/").status_code == 200


def test_gallery_query_count_does_not_grow(client, django_assert_max_num_queries, base, make_entry, manager):
    for i in range(3):
        entry = make_entry(base, f"视频{i}")
        services.transition(entry, EntryStatus.SHORTLISTED, actor=manager)
        services.transition(entry, EntryStatus.PUBLISHED, actor=manager)
    with django_assert_max_num_queries(8):
        client.get("/calls/kepuyue-2025/science-treasure-videos/")


def test_private_video_answers_byte_ranges(client, base, staff, make_entry):
    entry = make_entry(base)
    login(client, staff)
    url = f"/calls/entries/{entry.code}/file/file/"
    whole = b"".join(client.get(url).streaming_content)
    assert len(whole) == entry.size
    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-199/{entry.size}"
    assert b"".join(part.streaming_content) == whole[100:200] and part["Content-Type"] == "video/mp4"
    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == whole[-10:]
    assert client.get(url, HTTP_RANGE=f"bytes={entry.size}-").status_code == 416


def test_admin_lists_entries_read_only(client, base, make_entry, django_user_model):
    entry = make_entry(base, "后台可见")
    root = django_user_model.objects.create_superuser("root", password="pw-root-Kp-2025")
    login(client, root)
    assert "后台可见" in client.get("/admin/calls/entry/").content.decode()
    page = client.get(f"/admin/calls/entry/{entry.pk}/change/")
    assert page.status_code == 200 and entry.code in page.content.decode()
