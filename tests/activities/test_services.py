"""Rules, creation, workflow and display helpers of ``kepuyue.activities.services``."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kepuyue.activities import services
from kepuyue.activities.models import Activity, Audience, Form, Status
from tests.activities.factories import bj

pytestmark = pytest.mark.django_db


@pytest.fixture
def good(action):
    """Valid data: a 科学之夜 evening in 杭州西湖区 in the 现代科技馆体系 window."""
    museums = action("science-museums")
    return {
        "joint_action": museums,
        "brand": museums.brands.get(slug="science-nights"),
        "title": "杭州科技馆“科学之夜”",
        "summary": "夜场参观与科学实验秀",
        "starts_at": bj("2025-09-20 19:00"),
        "ends_at": bj("2025-09-20 21:30"),
        "form": Form.OFFLINE,
        "region_code": "330106",
        "venue": "杭州科技馆",
        "audiences": Audience.YOUTH | Audience.FAMILIES,
        "contact_phone": "13812345678",
    }


def fields(errors):
    return {field for field, _message in errors}


def png(size=(40, 30), kind="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, kind)
    return buffer.getvalue()


def test_validate_activity_valid_data_has_no_errors(good):
    assert services.validate_activity(good) == []


def test_validate_activity_end_before_start(good):
    errors = services.validate_activity({**good, "ends_at": bj("2025-09-20 18:00")})
    assert ("ends_at", "结束时间不能早于开始时间") in errors


def test_validate_activity_outside_window_names_the_window(good):
    errors = dict(services.validate_activity({**good, "starts_at": bj("2025-06-20 19:00")}))
    assert errors["starts_at"] == (
        "开始时间 2025-06-20 不在活动时间内：现代科技馆体系联合行动的活动时间为2025年7—10月（2025-07-01至2025-10-31）"
        "（方案允许前后 7 天）"
    )


def test_validate_activity_within_the_yaml_tolerance_is_accepted_with_a_note(good):
    """YAML ``review.date_tolerance_days: 7``: 6月28日 is accepted; the reviewer's note says why."""
    data = {**good, "starts_at": bj("2025-06-28 19:00")}
    assert services.validate_activity(data) == []
    notes = services.window_notes(data["starts_at"], data["ends_at"], good["joint_action"])
    assert notes == [
        "开始时间 2025-06-28 比活动时间（现代科技馆体系联合行动的活动时间为2025年7—10月（2025-07-01至2025-10-31））"
        "早 3 天，在方案允许的范围内，请审核时核对"
    ]


def test_validate_activity_window_uses_beijing_days(good, action):
    rural = action("rural-associations")  # 2025-09-15 … 09-25 (plan 六(二)2)
    rural.campaign.review = {**rural.campaign.review, "date_tolerance_days": 0}  # the exact edge
    data = {**good, "joint_action": rural, "brand": rural.brands.first()}
    # 2025-09-25 23:30 Beijing is still inside, although it is 09-25 15:30 UTC … and 09-26 00:10 is not.
    assert (
        services.validate_activity(
            {**data, "starts_at": bj("2025-09-25 20:00"), "ends_at": bj("2025-09-25 23:30")}
        )
        == []
    )
    errors = dict(
        services.validate_activity(
            {**data, "starts_at": bj("2025-09-25 20:00"), "ends_at": bj("2025-09-26 00:10")}
        )
    )
    assert (
        errors["ends_at"]
        == "结束时间 2025-09-26 不在活动时间内：全国农技协联合行动的活动时间为2025-09-15至2025-09-25"
    )


def test_validate_activity_brand_of_another_joint_action(good, action):
    other = action("universities").brands.first()
    errors = dict(services.validate_activity({**good, "brand": other}))
    assert errors["brand"].startswith(f"品牌活动“{other.name}”不属于现代科技馆体系联合行动")


def test_validate_activity_key_task_of_another_joint_action(good, action):
    task = action("universities").key_tasks.first()
    errors = dict(services.validate_activity({**good, "key_task": task}))
    assert errors["key_task"] == f"重点任务“{task.name}”不属于现代科技馆体系联合行动"


def test_validate_activity_unknown_county_code(good):
    errors = dict(services.validate_activity({**good, "region_code": "339999"}))
    assert "区划代码 339999 不存在" in errors["region_code"]


@pytest.mark.parametrize("form", [Form.ONLINE, Form.HYBRID])
def test_validate_activity_online_needs_url(good, form):
    errors = dict(services.validate_activity({**good, "form": form}))
    assert errors["online_url"] == f"活动形式为“{form.label}”时必须填写线上地址（直播或参与链接）"
    assert (
        services.validate_activity({**good, "form": form, "online_url": "https://live.example.org/1"}) == []
    )


def test_validate_activity_bad_url(good):
    errors = dict(services.validate_activity({**good, "online_url": "javascript:alert(1)"}))
    assert "不是有效的网址" in errors["online_url"]


def test_validate_activity_requires_campaign_title_and_times(good):
    errors = services.validate_activity(
        {**good, "joint_action": None, "title": " ", "starts_at": None, "brand": None}
    )
    assert fields(errors) == {"campaign", "title", "starts_at"}


def test_validate_activity_without_joint_action_is_campaign_wide(good, plan):
    data = {**good, "joint_action": None, "brand": None, "campaign": plan}
    assert services.validate_activity(data) == []
    assert services.validate_activity({**data, "starts_at": bj("2025-09-01 00:00")}) == []


def test_validate_activity_without_joint_action_window_is_campaign_month(good, plan):
    # 2025-10-08 is inside the 现代科技馆体系 window (7—10月) but not the campaign month (+7 days).
    data = {**good, "joint_action": None, "brand": None, "campaign": plan}
    errors = dict(
        services.validate_activity(
            {**data, "starts_at": bj("2025-08-24 23:30"), "ends_at": bj("2025-10-08 10:00")}
        )
    )
    assert errors == {
        "starts_at": "开始时间 2025-08-24 不在活动时间内：全国科普月活动时间为2025年9月1日至9月30日（方案允许前后 7 天）",
        "ends_at": "结束时间 2025-10-08 不在活动时间内：全国科普月活动时间为2025年9月1日至9月30日（方案允许前后 7 天）",
    }


def test_validate_activity_without_joint_action_refuses_brand_and_key_task(good, plan):
    brand = good["brand"]
    task = good["joint_action"].key_tasks.first()
    data = {**good, "joint_action": None, "campaign": plan, "key_task": task}
    errors = dict(services.validate_activity(data))
    assert errors["brand"] == (
        f"品牌活动“{brand.name}”属于联合行动，请同时选择其联合行动；不属于联合行动的全国科普月活动不能标记品牌活动"
    )
    assert errors["key_task"].startswith(f"重点任务“{task.name}”属于联合行动")


def test_validate_activity_joint_action_of_another_campaign(good, plan):
    from kepuyue.campaigns.models import Campaign

    other = Campaign.objects.create(
        slug="kepuyue-2026",
        year=2026,
        name="2026年全国科普月",
        theme="-",
        starts="2026-09-01",
        ends="2026-09-30",
    )
    errors = dict(services.validate_activity({**good, "campaign": other}))
    assert errors["joint_action"] == "联合行动“现代科技馆体系联合行动”不属于2026年全国科普月"


def test_create_activity_without_joint_action_takes_the_given_campaign(good, plan, unit):
    activity = services.create_activity(unit, {**good, "joint_action": None, "brand": None, "campaign": plan})
    assert activity.joint_action is None and activity.campaign == plan and activity.key_task is None
    submitted = services.transition(activity, Status.SUBMITTED)
    assert submitted.status == Status.SUBMITTED


def test_check_poster_sniffs_content_not_name():
    upload = SimpleUploadedFile("poster.exe", png(), content_type="application/octet-stream")
    assert services.check_poster(upload) == "png"
    assert services.check_poster(SimpleUploadedFile("a.png", png(kind="JPEG"))) == "jpg"
    assert services.check_poster(SimpleUploadedFile("a.png", png(kind="WEBP"))) == "webp"


@pytest.mark.parametrize(
    "content",
    [b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"GIF89a" + b"\0" * 40, b"%PDF-1.4 fake"],
    ids=["svg", "gif", "pdf"],
)
def test_check_poster_refuses_other_types(content):
    with pytest.raises(ValidationError) as caught:
        services.check_poster(SimpleUploadedFile("poster.png", content, content_type="image/png"))
    assert caught.value.message_dict["poster"] == ["海报只能是 JPEG、PNG 或 WebP 图片（按文件内容识别）"]


def test_check_poster_refuses_more_than_10_mb():
    upload = SimpleUploadedFile("big.png", png() + b"\0" * (10 * 1024 * 1024))
    with pytest.raises(ValidationError, match="不能超过 10 MB"):
        services.check_poster(upload)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width``×``height`` pixels but holds almost nothing (a bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_check_poster_refuses_decompression_bomb():
    with pytest.raises(ValidationError, match="压缩炸弹"):
        services.check_poster(SimpleUploadedFile("bomb.png", _png_header_only(100_000, 100_000)))


def test_check_poster_refuses_too_many_pixels():
    with pytest.raises(ValidationError, match="2500 万像素"):
        services.check_poster(SimpleUploadedFile("huge.png", _png_header_only(6000, 6000)))


def test_create_activity_derives_campaign_region_codes_and_search_text(good, unit, plan):
    activity = services.create_activity(unit, good, actor=None)
    activity.refresh_from_db()
    assert activity.status == Status.DRAFT
    assert activity.campaign == plan
    assert activity.organizer == unit
    assert (activity.province_code, activity.prefecture_code, activity.county_code) == (
        "330000",
        "330100",
        "330106",
    )
    assert activity.key_task.name == "科学一千零一夜"  # from the brand
    assert "科学之夜" in activity.search_text.split()
    assert "杭州" in activity.search_text.split()


def test_create_activity_raises_dict_of_chinese_messages(good, unit):
    with pytest.raises(ValidationError) as caught:
        services.create_activity(unit, {**good, "ends_at": bj("2025-09-19 10:00")})
    assert caught.value.message_dict == {"ends_at": ["结束时间不能早于开始时间"]}
    assert not Activity.objects.exists()


def test_create_activity_stores_poster_under_sniffed_type(good, unit, media_root):
    activity = services.create_activity(
        unit, {**good, "poster": SimpleUploadedFile("x.gif", png(kind="JPEG"))}
    )
    assert activity.poster.name.startswith("posters/") and activity.poster.name.endswith(".jpg")
    assert (media_root / activity.poster.name).is_file()


def test_create_activity_failed_save_leaves_no_file(good, unit, media_root, monkeypatch):
    def broken_save(self, *args, **kwargs):
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(Activity, "save", broken_save)
    with pytest.raises(RuntimeError):
        services.create_activity(unit, {**good, "poster": SimpleUploadedFile("p.png", png())})
    stored = [p for p in media_root.rglob("*") if p.is_file()]
    assert stored == []


def test_create_activity_bad_poster_stores_nothing(good, unit, media_root):
    with pytest.raises(ValidationError):
        services.create_activity(unit, {**good, "poster": SimpleUploadedFile("p.png", b"not an image")})
    assert not media_root.exists() or not [p for p in media_root.rglob("*") if p.is_file()]


def test_update_activity_draft_and_returned_only(good, unit):
    activity = services.create_activity(unit, good)
    services.update_activity(activity, {**good, "title": "改名后的科学之夜"})
    assert Activity.objects.get().title == "改名后的科学之夜"
    services.transition(activity, Status.SUBMITTED)
    with pytest.raises(ValidationError, match="只有草稿或已退回的活动可以修改"):
        services.update_activity(activity, good)
    services.transition(activity, Status.RETURNED, reason="请补充活动地点")
    services.update_activity(activity, {**good, "venue": "杭州科技馆一楼"})
    assert Activity.objects.get().venue == "杭州科技馆一楼"


ALL = [s.value for s in Status]
ALLOWED = {
    ("draft", "submitted"),
    ("submitted", "published"),
    ("submitted", "returned"),
    ("returned", "submitted"),
    ("published", "withdrawn"),
}


@pytest.mark.parametrize(
    "move", [(a, b) for a in ALL for b in ALL if a != b], ids=lambda m: f"{m[0]}->{m[1]}"
)
def test_transition_table_allows_exactly_the_designed_moves(good, unit, clock, move):
    activity = services.create_activity(unit, good)
    Activity.objects.filter(pk=activity.pk).update(status=move[0])
    activity.refresh_from_db()
    if move in ALLOWED:
        clock("2025-08-20T09:00+08:00")
        result = services.transition(activity, move[1], reason="原因")
        assert result.status == move[1]
        assert Activity.objects.get().status == move[1]
    else:
        with pytest.raises(services.TransitionNotAllowed, match="不能改为"):
            services.transition(activity, move[1], reason="原因")
        assert Activity.objects.get().status == move[0]


def test_transition_sets_submitted_and_published_times(good, unit, clock):
    activity = services.create_activity(unit, good)
    clock("2025-08-20T09:00+08:00")
    services.transition(activity, Status.SUBMITTED)
    clock("2025-08-21T10:00+08:00")
    services.transition(activity, Status.PUBLISHED)
    activity.refresh_from_db()
    assert activity.submitted_at == bj("2025-08-20 09:00")
    assert activity.published_at == bj("2025-08-21 10:00")


def test_transition_return_requires_reason(good, unit):
    activity = services.transition(services.create_activity(unit, good), Status.SUBMITTED)
    with pytest.raises(services.TransitionNotAllowed, match="退回修改必须填写原因"):
        services.transition(activity, Status.RETURNED, reason="  ")


def test_transition_refuses_stale_status(good, unit):
    activity = services.create_activity(unit, good)
    Activity.objects.filter(pk=activity.pk).update(status=Status.SUBMITTED)  # someone else acted
    with pytest.raises(services.TransitionNotAllowed, match="已被他人修改"):
        services.transition(activity, Status.SUBMITTED)


def test_transition_submit_rechecks_rules(good, unit):
    activity = services.create_activity(unit, good)
    Activity.objects.filter(pk=activity.pk).update(starts_at=bj("2024-09-20 19:00"))
    activity.refresh_from_db()
    with pytest.raises(ValidationError, match="不在活动时间内"):
        services.transition(activity, Status.SUBMITTED)


def test_public_activities_only_published(good, unit):
    draft = services.create_activity(unit, good)
    published = services.create_activity(unit, {**good, "title": "另一场"})
    services.transition(published, Status.SUBMITTED)
    services.transition(published, Status.PUBLISHED)
    assert list(services.public_activities()) == [published]
    assert set(services.activities_of(unit)) == {draft, published}


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "+86 138 **** 5678"),
        ("010-68571988", "010-6857****"),
        ("0571-88881234", "0571-8888****"),
        ("01068571988", "0106857****"),
        ("59041317", "5904****"),
        ("010-59041059、59041317", "010-5904****、5904****"),
        ("", ""),
    ],
)
def test_mask_phone(phone, shown):
    assert services.mask_phone(phone) == shown


def test_book_signing_is_kept_and_offered_on_the_form(good, unit, plan):
    """阅见科普 events may add a 图书签售 (plan 七(四)1): a flag of the activity, set on the unit's form."""
    from kepuyue.activities.forms import ActivityForm, initial_from

    activity = services.create_activity(unit, {**good, "book_signing": True}, actor=None)
    activity.refresh_from_db()
    assert activity.book_signing is True
    assert services.create_activity(unit, good, actor=None).book_signing is False
    assert initial_from(activity)["book_signing"] is True
    assert "book_signing" in ActivityForm(campaign=plan).fields
