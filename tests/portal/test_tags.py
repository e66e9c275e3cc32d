"""The portal's template helpers: call specs in words, dates in the active language."""

from datetime import date, datetime

import pytest
from django.utils import translation

from kepuyue.common.clock import BEIJING
from kepuyue.portal.templatetags.portal_tags import _spec_words, date_range, instant


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (
            {"container": "mp4", "min_width": 1920, "min_height": 1080, "max_seconds_advised": 180},
            ["MP4", "分辨率不低于1920×1080", "时长建议不超过3分钟"],
        ),
        ({"max_seconds": 90}, ["时长不超过90秒"]),
        (
            {"formats": ["jpg", "png"], "includes_own_venue": True, "min_other_venues": 2},
            ["JPG/PNG格式", "本基地及周边不少于2家其他场所"],
        ),
        ({"includes_own_venue": False, "min_other_venues": 3}, ["不少于3家场所"]),
        ({"formats": ["docx"], "min_chars": 1000, "max_chars": 3000}, ["DOCX格式", "字数1000至3000字"]),
        ({"max_chars": 3000}, ["字数不超过3000字"]),
        ({"submit_to": "中国科普作家协会", "formats": []}, ["报送至中国科普作家协会"]),
        ({"max_items": 10}, ["最多推荐10项"]),
        ({"product_kinds": ["AR/VR 科普产品", "科普短视频"]}, ["作品形式：AR/VR 科普产品或科普短视频"]),
        ({"container": None, "min_width": None, "min_height": None}, []),
    ],
)
def test_spec_words_cover_every_call_kind(spec, words):
    with translation.override("zh-hans"):
        assert _spec_words(spec) == words


def test_spec_words_unknown_key_is_shown_not_dropped():
    with translation.override("zh-hans"):
        assert _spec_words({"container": "mp4", "aspect": "16:9"}) == ["MP4", "aspect: 16:9"]


def test_spec_words_in_english():
    with translation.override("en"):
        assert _spec_words(
            {"container": "mp4", "min_width": 1920, "min_height": 1080, "max_seconds_advised": 180}
        ) == [
            "MP4",
            "resolution at least 1920×1080",
            "length preferably at most 3 minutes",
        ]


def test_date_range_same_year_drops_second_year():
    with translation.override("zh-hans"):
        assert date_range(date(2025, 9, 1), date(2025, 9, 30)) == "2025年9月1日至9月30日"
        assert date_range(date(2025, 12, 1), date(2026, 1, 5)) == "2025年12月1日至2026年1月5日"
        assert date_range(date(2025, 9, 1), date(2025, 9, 1)) == "2025年9月1日"


def test_instant_end_of_day_shows_date_only():
    with translation.override("zh-hans"):
        assert instant(datetime(2025, 8, 20, 23, 59, 59, 999999, tzinfo=BEIJING)) == "2025年8月20日"
        assert instant(datetime(2025, 8, 10, tzinfo=BEIJING)) == "2025年8月10日"
        assert instant(datetime(2025, 9, 15, 14, 30, tzinfo=BEIJING)) == "2025年9月15日 14:30"
