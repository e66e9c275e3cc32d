"""Portal views on small hand-made rows: empty database, phases, 404s, redirects, display switches."""

import pytest
from django.urls import reverse

from .factories import (
    BrandFactory,
    CallFactory,
    CampaignFactory,
    ContactFactory,
    DeadlineFactory,
    JointActionFactory,
    TargetFactory,
)

pytestmark = pytest.mark.django_db


def test_home_empty_database_says_no_campaign(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "暂无科普月活动" in response.content.decode()


def test_home_shows_campaign_and_joint_actions(client, clock):
    clock("2025-09-10T10:00+08:00")
    campaign = CampaignFactory()
    JointActionFactory(campaign=campaign, name="全国学会联合行动", slug="societies")
    html = client.get("/").content.decode()
    assert "2025年全国科普月" in html
    assert "全国学会联合行动" in html
    assert reverse("portal:zone", kwargs={"slug": campaign.slug, "ja_slug": "societies"}) in html
    assert "进行中" in html


def test_home_ended_campaign_says_ended(client, clock):
    clock("2026-03-01T10:00+08:00")
    CampaignFactory()
    html = client.get("/").content.decode()
    assert "已结束" in html
    assert "归档" in html


def test_zone_shows_nested_brands_targets_calls_contacts(client, clock):
    clock("2025-08-15T10:00+08:00")
    ja = JointActionFactory(slug="museums")
    parent = BrandFactory(joint_action=ja, name="流动科普百县千车万里行")
    child = BrandFactory(joint_action=ja, parent=parent, name="科普大篷车")
    TargetFactory(joint_action=ja, brand=child)
    ContactFactory(joint_action=ja, email="kjglhxd@cstm.org.cn")
    CallFactory(joint_action=ja)
    DeadlineFactory(campaign=ja.campaign, joint_action=ja)
    response = client.get(reverse("portal:zone", kwargs={"slug": ja.campaign.slug, "ja_slug": "museums"}))
    html = response.content.decode()
    assert response.status_code == 200
    assert "科普大篷车" in html and "1000余辆" in html
    assert "MP4、分辨率不低于1920×1080、时长建议不超过3分钟" in html
    assert "kjglhxd@cstm.org.cn" in html


def test_archive_empty_database_says_none_loaded(client):
    response = client.get(reverse("portal:campaign_list"))
    assert response.status_code == 200
    assert "还没有载入" in response.content.decode()


def test_zone_redirect_empty_database_is_404(client):
    assert client.get("/zones/bases/").status_code == 404


def test_not_found_page_is_friendly_chinese(client):
    response = client.get("/campaigns/no-such-campaign/")
    assert response.status_code == 404
    assert "找不到页面" in response.content.decode()


def test_home_campaign_without_joint_actions_renders(client, clock):
    clock("2025-08-15T10:00+08:00")
    CampaignFactory(general_requirements=[])
    response = client.get("/")
    assert response.status_code == 200
    assert "尚未发布联合行动" in response.content.decode()


def test_home_shows_archive_of_most_recent_campaign_when_none_runs(client, clock):
    clock("2026-03-01T10:00+08:00")
    CampaignFactory(year=2024)
    CampaignFactory(year=2025)
    html = client.get("/").content.decode()
    assert "2025年全国科普月" in html


def test_large_text_toggle_on_sets_cookie_and_goes_back(client):
    response = client.post(reverse("portal:large_text"), {"large_text": "1", "next": "/campaigns/"})
    assert response.status_code == 302
    assert response.url == "/campaigns/"
    cookie = response.cookies["kepuyue_large_text"]
    assert cookie.value == "1"
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) > 30 * 24 * 3600


def test_large_text_toggle_off_deletes_cookie(client):
    client.cookies["kepuyue_large_text"] = "1"
    response = client.post(reverse("portal:large_text"), {"large_text": "0", "next": "/"})
    assert response.cookies["kepuyue_large_text"].value == ""
    assert response.cookies["kepuyue_large_text"]["max-age"] == 0


def test_large_text_without_value_toggles(client):
    response = client.post(reverse("portal:large_text"), {"next": "/"})
    assert response.cookies["kepuyue_large_text"].value == "1"
    client.cookies["kepuyue_large_text"] = "1"
    response = client.post(reverse("portal:large_text"), {"next": "/"})
    assert response.cookies["kepuyue_large_text"].value == ""


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/", "http://evil.example/campaigns/", "javascript:alert(1)"],
)
def test_large_text_rejects_off_site_next(client, next_url):
    response = client.post(reverse("portal:large_text"), {"large_text": "1", "next": next_url})
    assert response.status_code == 302
    assert response.url == "/"
    assert response.cookies["kepuyue_large_text"].value == "1"


def test_large_text_refuses_get(client):
    assert client.get(reverse("portal:large_text")).status_code == 405


def test_large_text_refuses_a_post_from_another_site():
    """No token (anonymous pages carry nothing per visitor, ADR 0025), but another site's post is
    refused by its Origin."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("portal:large_text"), {"large_text": "1"}, HTTP_ORIGIN="https://evil.example"
    )
    assert response.status_code == 403
    assert client.post(reverse("portal:large_text"), {"large_text": "1"}).status_code == 302


def test_large_text_form_carries_next_and_no_token(client):
    html = client.get("/campaigns/").content.decode()
    form = html.split(f'action="{reverse("portal:large_text")}"')[1].split("</form>")[0]
    assert 'name="csrfmiddlewaretoken"' not in form
    assert 'name="next" value="/campaigns/"' in form


def test_large_text_cookie_switches_page_to_large_mode(client):
    assert 'class="large-text"' not in client.get("/").content.decode()
    client.cookies["kepuyue_large_text"] = "1"
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans" class="large-text">' in html
    assert "标准字号" in html


def test_pages_declare_language_and_skip_link(client):
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans"' in html
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html


def test_language_form_works_without_javascript(client):
    html = client.get("/").content.decode()
    form = html.split('action="/display/language/"')[1].split("</form>")[0]
    assert form.startswith(' method="post"')
    assert 'type="submit" name="language" value="en"' in form
    assert "<script" not in html


def test_the_language_cookie_lasts_a_year_first_party_only(client):
    """The language preference cookie: SameSite=Lax, a year, HttpOnly (fresh tester, issue 17)."""
    for url in ("/display/language/", "/i18n/setlang/"):
        client.cookies.clear()
        if url == "/i18n/setlang/":
            client.get("/accounts/login/")  # Django's own form keeps its CSRF check
            token = client.cookies["csrftoken"].value
            response = client.post(url, {"language": "en", "next": "/", "csrfmiddlewaretoken": token})
        else:
            response = client.post(url, {"language": "en", "next": "/"})
        cookie = response.cookies["django_language"]
        assert cookie.value == "en", url
        assert cookie["samesite"] == "Lax", url
        assert int(cookie["max-age"]) == 365 * 24 * 3600, url
        assert cookie["httponly"], url
