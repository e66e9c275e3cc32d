"""English mode of the newer public pages (fresh tester, issue 17 follow-up): the calendar, the
volunteers, resources and guide pages speak English, and the booking block's status texts come in the
page's language although its script fetches the availability JSON without cookies."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.fixtures_registrations import add_session, configure

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


def template_text(html: str) -> str:
    """The page's own words: the main element without tags, minus the data (titles, names) the
    test put in Chinese on purpose."""
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    return re.sub(r"<[^>]+>", " ", main)


@pytest.fixture
def english(client, regions, campaign_2025, clock):
    clock("2025-09-10T10:00+08:00")
    call_command("load_resources", "data/resources/kepuyue-2025.yaml", stdout=io.StringIO())
    client.cookies["django_language"] = "en"
    return client


@pytest.mark.parametrize(
    ("url", "english_words", "chinese_words"),
    [
        (
            "/activities/calendar/?month=2025-09",
            ["Activity calendar", "September 2025", "Mon"],
            ["活动月历", "周一", "订阅"],
        ),
        ("/volunteers/", ["young volunteers registered"], ["已登记青年志愿者"]),
        ("/resources/", ["Logo", "Video", "Activity resource pack"], ["活动资源包（", "已下载"]),
        ("/guide/", ["Guide for the public", "Find activities"], ["按角色查阅", "公众使用指南"]),
        ("/films/", ["Films on the spirit of scientists"], ["科学家精神电影", "电影课程资源包"]),
        ("/plays/", ["Universities write and stage plays"], ["组织高校编创"]),
    ],
)
def test_the_newer_pages_speak_english(english, url, english_words, chinese_words):
    if url == "/films/":
        call_command("load_films", stdout=io.StringIO())
    html = english.get(url).content.decode()
    text = template_text(html)
    for word in english_words:
        assert word in text, word
    for word in chinese_words:
        assert word not in text, word


def test_the_availability_json_answers_in_the_language_asked(client, activity, publisher, clock):
    configure(activity, publisher)
    session = add_session(activity, start="2025-09-15 09:00")
    session.closed = True
    session.save()
    url = reverse("registrations:availability", args=[activity.pk])
    chinese = client.get(url).json()["sessions"][0]["reason"]
    assert CJK.search(chinese)
    response = client.get(url, {"lang": "en"})
    assert response["Content-Language"] == "en"
    assert not CJK.search(response.json()["sessions"][0]["reason"])
    assert client.get(url, {"lang": "xx-bad"}).status_code == 200  # an unknown language: the default
    # The activity page asks in its own language (its script fetches without the language cookie).
    client.cookies["django_language"] = "en"
    page = client.get(reverse("portal:activity", args=[activity.pk])).content.decode()
    assert f'data-availability="{url}?lang=en"' in page
