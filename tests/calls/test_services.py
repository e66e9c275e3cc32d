"""Submitting entries (services): each kind's rules, files moved into place or nothing left behind."""

import shutil

import pytest
from django.core.exceptions import ValidationError

from kepuyue.audit.models import AuditEntry
from kepuyue.calls import services
from kepuyue.calls.models import CityWalkStop, Entry, EntryImage, EntryStatus
from kepuyue.calls.services import Upload, normalize_isbn, submit_entry
from tests.calls.conftest import files_in
from tests.calls.mediafiles import make_docx, make_jpeg, make_mp4, make_pdf, make_png


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """Media made once per module; tests copy them (submitting consumes the temporary file)."""
    folder = tmp_path_factory.mktemp("samples")
    return {
        "hd": make_mp4(folder / "hd.mp4", 1920, 1080, seconds=1.0),
        "small": make_mp4(folder / "small.mp4", 1280, 720, seconds=1.0),
        "long": make_mp4(folder / "long.mp4", 1920, 1080, seconds=200.0, fps=1),
        "route": make_png(folder / "route.png", 800, 1200),
        "route2": make_jpeg(folder / "route2.jpg", 1200, 800),
        "docx": make_docx(folder / "essay.docx", "农技协" * 400),
        "short_docx": make_docx(folder / "short.docx", "太短"),
        "pdf": make_pdf(folder / "plan.pdf"),
    }


@pytest.fixture
def upload(samples, storages):
    """``upload("hd")``: a fresh copy of a sample in the upload temp folder, as an ``Upload``."""
    counter = iter(range(1000))

    def make(name: str, as_name: str | None = None) -> Upload:
        source = samples[name]
        target = storages["temp"] / f"{next(counter)}-{source.name}"
        shutil.copyfile(source, target)
        return Upload(target, name=as_name or source.name)

    return make


STOPS = [
    {"name": "杭州植物园", "address": "杭州市西湖区桃源岭1号", "region": "330106", "is_own_venue": True},
    {"name": "浙江自然博物院", "address": "杭州市西湖区文三路", "region": "330106"},
    {"name": "中国丝绸博物馆", "address": "杭州市西湖区玉皇山路73号", "region": "330106"},
]


def video_data(**extra):
    return {"title": "走进植物园", "theme": "base-tour", "description": "基地探馆", **extra}


def test_video_1080p_accepted_moved_into_private_storage_with_poster(call, base, staff, upload, storages):
    entry = submit_entry(
        call("science-treasure-videos"),
        organization=base,
        user=staff,
        data=video_data(),
        files={"video": upload("hd")},
    )
    entry.refresh_from_db()
    assert entry.status == EntryStatus.SUBMITTED and entry.submitted_at is not None
    assert (entry.width, entry.height, entry.codec) == (1920, 1080, "h264")
    assert entry.duration == pytest.approx(1.0, abs=0.2)
    assert len(entry.sha256) == 64 and entry.size > 0 and entry.warnings == []
    stored = files_in(storages["private"])
    assert stored == [
        f"calls/kepuyue-2025/science-treasure-videos/{entry.code}/{n}" for n in ("mp4.mp4", "poster.jpg")
    ]
    assert files_in(storages["temp"]) == [] and files_in(storages["public"]) == []
    assert AuditEntry.objects.filter(action="call_entry.submit", object_id=str(entry.pk)).exists()


def test_video_720p_refused_with_the_plan_rule_and_nothing_left(call, base, staff, upload, storages):
    with pytest.raises(ValidationError) as error:
        submit_entry(
            call("science-treasure-videos"),
            organization=base,
            user=staff,
            data=video_data(),
            files={"video": upload("small")},
        )
    assert "方案四(二)3：分辨率不小于1920×1080" in error.value.message_dict["video"][0]
    assert Entry.objects.count() == 0
    assert files_in(storages["private"]) == [] and files_in(storages["temp"]) == []


def test_video_longer_than_advised_accepted_with_warning(call, base, staff, upload):
    entry = submit_entry(
        call("science-treasure-videos"),
        organization=base,
        user=staff,
        data=video_data(),
        files={"video": upload("long")},
    )
    assert entry.duration == pytest.approx(200, abs=2)
    assert "时长建议不超过3分钟" in entry.warnings[0]


def test_jpeg_named_mp4_refused(call, base, staff, upload):
    with pytest.raises(ValidationError) as error:
        submit_entry(
            call("science-treasure-videos"),
            organization=base,
            user=staff,
            data=video_data(),
            files={"video": upload("route2", as_name="fake.mp4")},
        )
    assert error.value.message_dict["video"]


def test_video_over_size_limit_refused_before_reading(call, base, staff, upload):
    video_call = call("science-treasure-videos")
    video_call.spec = {**video_call.spec, "max_bytes": 1000}
    with pytest.raises(ValidationError) as error:
        submit_entry(
            video_call, organization=base, user=staff, data=video_data(), files={"video": upload("hd")}
        )
    assert "平台要求：文件不超过1000 字节" in error.value.message_dict["video"][0]


def test_theme_must_be_one_of_the_plan(call, base, staff, upload):
    with pytest.raises(ValidationError) as error:
        submit_entry(
            call("science-treasure-videos"),
            organization=base,
            user=staff,
            data=video_data(theme="x"),
            files={"video": upload("hd")},
        )
    assert error.value.message_dict["theme"] == [
        "主题须为基地探馆、标志性展品、特色科普活动之一（方案 四(二)3）"
    ]


def test_exception_mid_save_leaves_no_file_and_no_row(call, base, staff, upload, storages, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(EntryImage.objects, "create", broken)
    with pytest.raises(OSError):
        submit_entry(
            call("citywalk-routes"),
            organization=base,
            user=staff,
            data={"title": "植物之旅", "city": "330100"},
            stops=STOPS,
            files={"images": [upload("route")]},
        )
    assert Entry.objects.count() == 0 and EntryImage.objects.count() == 0
    assert files_in(storages["private"]) == [] and files_in(storages["temp"]) == []


def test_citywalk_with_stops_in_order_and_images(call, base, staff, upload, storages):
    entry = submit_entry(
        call("citywalk-routes"),
        organization=base,
        user=staff,
        data={"title": "植物之旅", "city": "330100", "description": "从植物园出发"},
        stops=STOPS,
        files={"images": [upload("route"), upload("route2")]},
    )
    assert [s.name for s in entry.stops.all()] == ["杭州植物园", "浙江自然博物院", "中国丝绸博物馆"]
    assert [s.is_own_venue for s in entry.stops.all()] == [True, False, False]
    assert [(i.format, i.width, i.height) for i in entry.images.all()] == [
        ("png", 800, 1200),
        ("jpeg", 1200, 800),
    ]
    assert len(files_in(storages["private"])) == 2


def test_citywalk_with_one_other_venue_refused_naming_the_rule(call, base, staff, upload, storages):
    with pytest.raises(ValidationError) as error:
        submit_entry(
            call("citywalk-routes"),
            organization=base,
            user=staff,
            data={"title": "植物之旅", "city": "330100"},
            stops=STOPS[:2],
            files={"images": [upload("route")]},
        )
    assert error.value.message_dict["stops"] == ["本馆以外至少2家其他场所（方案 四(二)2），现有1家"]
    assert Entry.objects.count() == CityWalkStop.objects.count() == 0
    assert files_in(storages["private"]) == [] and files_in(storages["temp"]) == []


def test_citywalk_repeating_the_base_or_a_venue_does_not_count(call, base, staff, upload, storages):
    stops = [
        STOPS[0],
        dict(STOPS[0], is_own_venue=False, address="另一个门"),  # the base again under another stop
        dict(STOPS[1], name="浙江自然博物院"),
        dict(STOPS[1], name="浙江 自然博物院（总馆）".replace("（总馆）", "")),  # the same venue, spaced
    ]
    with pytest.raises(ValidationError) as error:
        submit_entry(
            call("citywalk-routes"),
            organization=base,
            user=staff,
            data={"title": "植物之旅", "city": "330100"},
            stops=stops,
            files={"images": [upload("route")]},
        )
    assert error.value.message_dict["stops"] == [
        "“杭州植物园”与本馆同名，不能算作其他场所",
        "“浙江 自然博物院”重复出现，同一场所只计一次",
        "本馆以外至少2家其他场所（方案 四(二)2），现有1家",
    ]
    assert Entry.objects.count() == 0 and files_in(storages["private"]) == []


def test_citywalk_without_own_venue_refused(call, base, staff, upload):
    stops = [dict(s, is_own_venue=False) for s in STOPS]
    with pytest.raises(ValidationError) as error:
        submit_entry(
            call("citywalk-routes"),
            organization=base,
            data={"title": "t", "city": "330100"},
            stops=stops,
            files={"images": [upload("route")]},
        )
    assert "路线须包含本馆（基地自身）（方案 四(二)2）" in error.value.message_dict["stops"]


def test_citywalk_webp_accepted_and_stored_as_jpeg(call, base, staff, storages):
    from tests.calls.mediafiles import make_webp

    webp = make_webp(storages["temp"] / "r.webp", 100, 80)
    entry = submit_entry(
        call("citywalk-routes"),
        organization=base,
        data={"title": "t", "city": "330100"},
        stops=STOPS,
        files={"images": [Upload(webp, name="r.webp")]},
    )
    image = entry.images.get()
    assert (image.format, image.width, image.height) == ("jpeg", 100, 80)
    assert image.file.name.endswith(".jpg") and image.file.read(3) == b"\xff\xd8\xff"
    assert files_in(storages["temp"]) == []


def test_citywalk_webp_refused_when_a_call_lists_jpg_png(call, base, staff, upload, storages, tmp_path):
    from tests.calls.mediafiles import make_webp

    webp = make_webp(storages["temp"] / "r.webp", 100, 100)
    routes = call("citywalk-routes")
    routes.spec = {**routes.spec, "formats": ["jpg", "png"]}
    with pytest.raises(ValidationError) as error:
        submit_entry(
            routes,
            organization=base,
            data={"title": "t", "city": "330100"},
            stops=STOPS,
            files={"images": [Upload(webp, name="r.webp")]},
        )
    assert "第1张（r.webp）" in error.value.message_dict["images"][0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7-03-000000-X", None),
        ("0-306-40615-2", "9780306406157"),
        ("978-0-306-40615-7", "9780306406157"),
        ("9787111213826", "9787111213826"),
        ("080442957X", "9780804429573"),
        ("ISBN 978-0-306-40615-7", "9780306406157"),  # pasted with its label
        ("ISBN：９７８０３０６４０６１５７", "9780306406157"),  # full-width digits and colon
    ],
)
def test_isbn_valid_codes_stored_as_isbn13(text, expected):
    if expected is None:
        with pytest.raises(ValueError):
            normalize_isbn(text)
    else:
        assert normalize_isbn(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0-306-40615-3", "校验码不对"),
        ("978-0-306-40615-8", "校验码不对"),
        ("977-0-306-40615-7", "以978或979开头"),
        ("12345", "应为10位或13位"),
        ("03064061X2", "格式不对"),
    ],
)
def test_isbn_invalid_codes_refused(text, reason):
    with pytest.raises(ValueError, match=reason):
        normalize_isbn(text)


def test_book_entry(call, plan, staff):
    from kepuyue.orgs.models import Organization

    press = Organization.objects.create(name="科学出版社", type_id="publisher")
    data = {
        "title": "物种起源",
        "author": "达尔文",
        "publisher": "科学出版社",
        "year": "2005",
        "isbn": "0-306-40615-2",
        "theme": "life-science",
        "audience": "中学生",
        "reason": "经典",
        "organization": "1",
        "status": "published",
    }
    entry = submit_entry(call("reading-book-list"), organization=press, data=data)
    assert (entry.isbn, entry.status, entry.organization) == ("9780306406157", EntryStatus.SUBMITTED, press)
    with pytest.raises(ValidationError) as error:
        submit_entry(
            call("reading-book-list"), organization=press, data=dict(data, isbn="0-306-40615-3", year="3000")
        )
    assert set(error.value.message_dict) == {"isbn", "year"}
    again = submit_entry(
        call("reading-book-list"), organization=press, data=dict(data, isbn="978-0306406157")
    )
    assert again.duplicate_of == entry
    assert again.warnings == ["同一本书（ISBN 978-0-306-40615-7）已被推荐过，已标记为重复"]  # no other code


def test_essay_text_and_docx_character_limits(call, plan, upload):
    from kepuyue.orgs.models import Organization

    rural = Organization.objects.create(name="某县农技协", type_id="rural_association")
    essay = call("essay-30-years")
    entry = submit_entry(
        essay,
        organization=rural,
        data={"title": "三十年", "author": "张三"},
        files={"document": upload("docx")},
    )
    assert (entry.file_format, entry.char_count) == ("docx", 1200)
    with pytest.raises(ValidationError) as error:
        submit_entry(essay, organization=rural, data={"title": "三十年", "author": "张三", "body": "短文"})
    assert error.value.message_dict["body"] == ["平台要求：征文不少于800字，现为2字"]
    with pytest.raises(ValidationError) as error:
        submit_entry(
            essay,
            organization=rural,
            data={"title": "三十年", "author": "张三"},
            files={"document": upload("hd", "a.docx")},
        )
    assert "按文件内容判断" in error.value.message_dict["document"][0]


def test_work_plan_pdf_before_its_deadline_only(call, plan, upload, clock):
    from kepuyue.orgs.models import Organization

    library = Organization.objects.create(name="某市图书馆", type_id="library")
    clock("2025-07-20T10:00+08:00")
    entry = submit_entry(
        call("reading-work-plans"),
        organization=library,
        data={"title": "方案"},
        files={"document": upload("pdf")},
    )
    assert entry.file_format == "pdf"
    clock("2025-08-02T00:00+08:00")
    with pytest.raises(ValidationError, match="征集已截止"):
        submit_entry(
            call("reading-work-plans"),
            organization=library,
            data={"title": "方案"},
            files={"document": upload("pdf")},
        )


def test_ineligible_unit_type_refused(call, plan, upload, storages):
    from kepuyue.orgs.models import Organization

    museum = Organization.objects.create(name="某科技馆", type_id="science_museum")
    with pytest.raises(ValidationError) as error:
        submit_entry(
            call("science-treasure-videos"),
            organization=museum,
            data=video_data(),
            files={"video": upload("hd")},
        )
    assert error.value.message_dict["__all__"] == [
        "本征集面向科普教育基地（方案 四(二)3），本单位不在征集范围内"
    ]
    assert files_in(storages["temp"]) == []


def test_same_file_twice_flagged_as_duplicate(call, base, other_base, upload):
    first = submit_entry(
        call("science-treasure-videos"), organization=base, data=video_data(), files={"video": upload("hd")}
    )
    second = submit_entry(
        call("science-treasure-videos"),
        organization=other_base,
        data=video_data(),
        files={"video": upload("hd")},
    )
    assert second.duplicate_of == first and second.sha256 == first.sha256
    # The submitter is told only that the file is known, never the other unit's entry code.
    assert second.warnings[0].startswith("该文件已被提交过")
    assert first.code not in " ".join(second.warnings)


def test_transitions_draft_submit_withdraw(call, base, staff, upload):
    entry = submit_entry(
        call("science-treasure-videos"),
        organization=base,
        data=video_data(),
        files={"video": upload("hd")},
        submit=False,
    )
    assert entry.status == EntryStatus.DRAFT and entry.submitted_at is None
    services.transition(entry, EntryStatus.SUBMITTED, actor=staff)
    assert entry.submitted_at is not None
    services.transition(entry, EntryStatus.WITHDRAWN, actor=staff)
    with pytest.raises(services.TransitionError, match="不能改为"):
        services.transition(entry, EntryStatus.PUBLISHED, actor=staff)
    assert AuditEntry.objects.filter(action="call_entry.withdraw").count() == 1
