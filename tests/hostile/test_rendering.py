"""Class 1 of issue 9: rendering cost controlled by users. A description is limited in length, rendered
once when saved (cmark-gfm: linear time) and served as stored HTML; pages never call the renderer."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kepuyue.activities import services
from kepuyue.activities.models import Activity, Status
from kepuyue.common import markup

from .conftest import no_server_error

KB = 1000
# The shapes bench/markdown_render.py measures, at 300 KB: each must be refused before any work.
PATHOLOGICAL = {
    "nested brackets": "[" * (150 * KB) + "](" * (75 * KB),
    "nested links": "[a](b " * (50 * KB),
    "emphasis runs": "*a **a ***a " * (25 * KB),
    "alternating emphasis": "*_" * (150 * KB),
    "deep block quotes": ">" * (300 * KB),
    "link reference chains": "".join(f"[r{i}]: /u{i}\n[x][r{i}]\n" for i in range(15 * KB)),
    "backtick run": "`" * (300 * KB),
    "deep lists": "".join("  " * i + "- a\n" for i in range(400)) * 2,
    "html-ish": "<a " * (100 * KB),
    "table pipes": "|a|b|\n|-|-|\n" + "|" * (300 * KB),
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(world):
    return world.activity(world.units.zj)


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological_description_refused_by_the_service(draft, name):
    text = PATHOLOGICAL[name]
    assert len(text) > services.TEXT_LIMITS["description"]
    data = services.activity_data(draft)
    data["description"] = text
    before = (draft.description, draft.description_html)
    with pytest.raises(ValidationError) as caught:
        services.update_activity(draft, data)
    assert "活动详情不能超过 20000 个字符" in caught.value.message_dict["description"][0]
    draft.refresh_from_db()
    assert (draft.description, draft.description_html) == before


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological_description_within_limit_renders_at_save(draft, name):
    # Cut to the limit, each shape is stored and its HTML rendered once, at save time, by cmark-gfm
    # (linear time: bench/markdown_render.py has the figures; no timing asserted here).
    text = PATHOLOGICAL[name][: services.TEXT_LIMITS["description"]]
    data = services.activity_data(draft)
    data["description"] = text
    services.update_activity(draft, data)
    stored = Activity.objects.get(pk=draft.pk)
    assert stored.description_digest == markup.source_digest(stored.description)
    assert "<script" not in stored.description_html


def test_pathological_form_post_refused_with_message(client, world, draft):
    from tests.review.conftest import login

    login(client, world.users.pub_zj)
    response = client.post(
        f"/org/activities/{draft.pk}/edit/",
        {
            "joint_action": world.ja.pk,
            "brand": world.ja.brands.order_by("order").first().pk,
            "title": "讲座",
            "starts_at": "2025-09-10T09:00",
            "ends_at": "2025-09-10T17:00",
            "form": "offline",
            "region": "330106",
            "description": PATHOLOGICAL["nested brackets"],
        },
    )
    no_server_error(response)
    assert "活动详情不能超过 20000 个字符" in response.content.decode()
    assert Activity.objects.get(pk=draft.pk).description == ""


def test_description_rendered_once_at_save_and_stored(draft):
    data = services.activity_data(draft)
    data["description"] = "# 议程\n\n| 时间 | 内容 |\n|---|---|\n| 9:00 | 开幕 |\n\n第一行\n第二行"
    services.update_activity(draft, data)
    stored = Activity.objects.get(pk=draft.pk)
    assert "<h3>议程</h3>" in stored.description_html
    assert "<table>" in stored.description_html
    assert "第一行<br>" in stored.description_html
    assert stored.description_digest == markup.source_digest(stored.description)


def test_detail_page_serves_stored_html_without_rendering(client, world, monkeypatch):
    activity = world.activity(world.units.zj, Status.DRAFT)
    activity.description = "**加粗** 与 [链接](https://example.org)"
    activity.save()
    services.transition(activity, Status.SUBMITTED)
    services.transition(activity, Status.PUBLISHED, actor=world.users.cast)

    def refuse(text):
        raise AssertionError("the page rendered the description")

    monkeypatch.setattr(markup, "render_markdown", refuse)
    monkeypatch.setattr("kepuyue.portal.activity_display.render_markdown", refuse)
    for _ in range(2):
        response = client.get(f"/activities/{activity.pk}/")
        assert response.status_code == 200
        assert "<strong>加粗</strong>" in response.content.decode()


def test_row_written_past_save_is_rendered_once_then_served(client, world, monkeypatch):
    activity = world.activity(world.units.zj, Status.PUBLISHED)
    # The importer's bulk writes skip save(): the stored fingerprint no longer matches the text.
    Activity.objects.filter(pk=activity.pk).update(description="## 导入的详情")
    calls = []
    original = markup.render_markdown

    def counting(text):
        calls.append(text)
        return original(text)

    monkeypatch.setattr("kepuyue.portal.activity_display.render_markdown", counting)
    monkeypatch.setattr(markup, "render_markdown", counting)
    for _ in range(3):
        response = client.get(f"/activities/{activity.pk}/")
        assert "<h3>导入的详情</h3>" in response.content.decode()
    assert len(calls) == 1
    assert Activity.objects.get(pk=activity.pk).description_html == "<h3>导入的详情</h3>"


def test_admin_saves_render_and_limit(client):
    from tests.fixtures_accounts import create_staff, login_staff

    login_staff(client, create_staff("root", superuser=True))
    response = client.get("/admin/activities/activity/add/")
    assert response.status_code == 200
    assert 'maxlength="20000"' in response.content.decode()


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>\n\n正文",
        "[x](javascript:alert(1))",
        "<img src=x onerror=alert(1)>",
        '<a href="data:text/html,x">x</a>',
        "<iframe src=//evil></iframe>",
        "<style>body{}</style>",
        "\x00" * 10 + "正文",
        "# " + "#" * 100,
    ],
)
def test_render_markdown_is_safe(text):
    html = markup.render_markdown(text)
    for bad in ("<script", "onerror", "javascript:", "<iframe", "<style", "data:text", "<img", "\x00"):
        assert bad not in html


def test_render_markdown_hard_limit_shows_plain_text():
    html = markup.render_markdown("*a* " * 60_000)
    assert "<em>" not in html and html.startswith("<p>")
