"""Portal pages on the real 2025 plan (campaigns/kepuyue-2025.yaml, loaded by ``campaign_2025``)."""

import re
from datetime import date

import pytest
from django.urls import reverse

from kepuyue.campaigns.models import Call, Campaign, JointAction
from kepuyue.common.clock import BEIJING

pytestmark = pytest.mark.django_db


def timeline_item(html: str, title_part: str) -> str:
    """The one ``<li class="timeline__item">`` whose text contains ``title_part``."""
    items = [chunk for chunk in html.split('<li class="timeline__item">')[1:] if title_part in chunk]
    assert len(items) == 1, f"expected one deadline containing {title_part!r}, found {len(items)}"
    return items[0].split("</li>")[0]


def recommendation_deadline(campaign: Campaign):
    """The plan's 八(二) deadline: recommend key activities by Aug 20 (8月20日前)."""
    matches = [
        d
        for d in campaign.deadlines.all()
        if d.at.astimezone(BEIJING).date() == date(2025, 8, 20) and d.joint_action_id is None
    ]
    assert len(matches) == 1, matches
    return matches[0]


def zone_url(ja: JointAction) -> str:
    return reverse("portal:zone", kwargs={"slug": ja.campaign.slug, "ja_slug": ja.slug})


def test_home_mid_august_shows_recommendation_deadline_open(client, clock, campaign_2025):
    clock("2025-08-15T10:00+08:00")
    html = client.get("/").content.decode()
    item = timeline_item(html, recommendation_deadline(campaign_2025).title)
    # A deadline counts down (issue 11.6): never 进行中 for a moment in time.
    assert "还剩 5 天" in item
    assert "进行中" not in item and "已截止" not in item
    # The campaign month itself starts on September 1st.
    hero = html.split('<section class="hero"')[1].split("</section>")[0]
    assert "未开始" in hero
    assert campaign_2025.name in hero
    assert campaign_2025.theme in hero


def test_home_in_2026_shows_campaign_ended_and_deadline_passed(client, clock, campaign_2025):
    clock("2026-05-01T10:00+08:00")
    html = client.get("/").content.decode()
    hero = html.split('<section class="hero"')[1].split("</section>")[0]
    assert "已结束" in hero
    assert "归档" in hero
    item = timeline_item(html, recommendation_deadline(campaign_2025).title)
    assert "已截止" in item


def test_home_during_campaign_shows_it_ongoing(client, clock, campaign_2025):
    clock("2025-09-10T10:00+08:00")
    hero = client.get("/").content.decode().split('<section class="hero"')[1].split("</section>")[0]
    assert "进行中" in hero


def test_home_lists_every_joint_action_with_a_link_to_its_zone(client, clock, campaign_2025):
    clock("2025-08-15T10:00+08:00")
    html = client.get("/").content.decode()
    joint_actions = list(campaign_2025.joint_actions.all())
    assert len(joint_actions) == 7
    for ja in joint_actions:
        assert ja.name in html
        assert f'href="{zone_url(ja)}"' in html


def test_home_shows_general_requirements(client, clock, campaign_2025):
    clock("2025-08-15T10:00+08:00")
    html = client.get("/").content.decode()
    assert campaign_2025.general_requirements
    for requirement in campaign_2025.general_requirements:
        assert requirement["title"] in html


def test_home_query_count_is_bounded(client, clock, campaign_2025, django_assert_max_num_queries):
    clock("2025-08-15T10:00+08:00")
    # 8, plus one for the upcoming and ongoing activities under the featured ones (issue 11.6).
    with django_assert_max_num_queries(9):
        assert client.get("/").status_code == 200


def test_zone_shows_every_brand_contact_and_key_task_of_the_plan(client, clock, campaign_2025):
    clock("2025-08-15T10:00+08:00")
    for ja in campaign_2025.joint_actions.all():
        response = client.get(zone_url(ja))
        assert response.status_code == 200, ja.slug
        html = response.content.decode()
        assert ja.participants in html
        for task in ja.key_tasks.all():
            assert task.name in html, (ja.slug, task.name)
        for brand in ja.brands.all():
            assert f'data-brand="{brand.slug}"' in html, (ja.slug, brand.slug)
            assert brand.name in html
        for target in ja.targets.all():
            assert target.display_value in html, (ja.slug, target.slug)
        for contact in ja.contacts.all():
            text = re.sub(r"<[^>]+>", "", html)  # phones are tel: links now
            for value in (contact.unit, contact.topic, contact.person, contact.phone, contact.email):
                assert value in text, (ja.slug, value)


def test_zone_nests_sub_brands_under_their_parent(client, clock, campaign_2025):
    clock("2025-08-15T10:00+08:00")
    children = [b for ja in campaign_2025.joint_actions.all() for b in ja.brands.all() if b.parent_id]
    assert children, "the 2025 plan nests 科普大篷车 under 流动科普百县千车万里行"
    for child in children:
        html = client.get(zone_url(child.joint_action)).content.decode()
        parent_block = html.split(f'data-brand="{child.parent.slug}"')[1]
        nested = parent_block.split('<ul class="brands brands--nested"')[1]
        assert f'data-brand="{child.slug}"' in nested


def test_zone_shows_the_caravan_target_as_the_plan_writes_it(client, clock, campaign_2025):
    clock("2025-08-15T10:00+08:00")
    target = next(
        t
        for ja in campaign_2025.joint_actions.all()
        for t in ja.targets.all()
        if t.display_value == "1000余辆"
    )
    assert "1000余辆" in client.get(zone_url(target.joint_action)).content.decode()


def test_zone_video_call_spec_in_words(client, clock, campaign_2025):
    clock("2025-08-15T10:00+08:00")
    call = Call.objects.get(campaign=campaign_2025, slug="science-treasure-videos")
    html = client.get(zone_url(call.joint_action)).content.decode()
    assert call.title in html
    assert "MP4、分辨率不低于1920×1080、时长建议不超过3分钟" in html


def test_zone_citywalk_call_spec_in_words(client, clock, campaign_2025):
    clock("2025-08-15T10:00+08:00")
    call = Call.objects.get(campaign=campaign_2025, kind="citywalk")
    html = client.get(zone_url(call.joint_action)).content.decode()
    assert "JPG/PNG/WebP格式、本基地及周边不少于2家其他场所" in html


def test_zone_deadlines_show_their_state(client, clock, campaign_2025):
    clock("2025-08-15T10:00+08:00")
    for ja in campaign_2025.joint_actions.all():
        html = client.get(zone_url(ja)).content.decode()
        for deadline in ja.deadlines.all():
            item = timeline_item(html, deadline.title)
            assert re.search(r"还剩 \d+ 天|今天截止|已截止|\d+ 天后开始|已开始|已结束", item), (
                ja.slug,
                deadline.slug,
            )
            assert "进行中" not in item, (ja.slug, deadline.slug)


def test_zone_query_count_is_bounded(client, clock, campaign_2025, django_assert_max_num_queries):
    clock("2025-08-15T10:00+08:00")
    # The busiest zone of the plan (most brands, targets and contacts) costs no more than the quietest.
    for ja in campaign_2025.joint_actions.all():
        # 14, plus one for the featured activities (重点呈现) at the top of the zone.
        with django_assert_max_num_queries(15):
            assert client.get(zone_url(ja)).status_code == 200


def test_zone_of_ended_campaign_says_so(client, clock, campaign_2025):
    clock("2026-05-01T10:00+08:00")
    ja = campaign_2025.joint_actions.first()
    assert "本届科普月已结束" in client.get(zone_url(ja)).content.decode()


def test_zone_redirect_goes_to_current_campaign(client, clock, campaign_2025):
    clock("2025-08-15T10:00+08:00")
    ja = campaign_2025.joint_actions.first()
    response = client.get(reverse("portal:zone_redirect", kwargs={"ja_slug": ja.slug}))
    assert response.status_code == 302
    assert response.url == zone_url(ja)


def test_zone_redirect_unknown_slug_is_404(client, clock, campaign_2025):
    clock("2025-08-15T10:00+08:00")
    assert client.get("/zones/no-such-action/").status_code == 404


def test_zone_unknown_joint_action_is_404(client, campaign_2025):
    assert client.get(f"/campaigns/{campaign_2025.slug}/zones/no-such-action/").status_code == 404


def test_campaign_unknown_slug_is_404(client, campaign_2025):
    assert client.get("/campaigns/kepuyue-1999/").status_code == 404
    ja = campaign_2025.joint_actions.first()
    assert client.get(f"/campaigns/kepuyue-1999/zones/{ja.slug}/").status_code == 404


def test_campaign_page_is_the_home_of_that_campaign(client, clock, campaign_2025):
    clock("2026-05-01T10:00+08:00")
    response = client.get(reverse("portal:campaign", kwargs={"slug": campaign_2025.slug}))
    assert response.status_code == 200
    assert response.templates[0].name == "portal/campaign_home.html"
    assert campaign_2025.name in response.content.decode()


def test_archive_lists_campaigns_with_phase(client, clock, campaign_2025):
    clock("2026-05-01T10:00+08:00")
    html = client.get(reverse("portal:campaign_list")).content.decode()
    assert campaign_2025.name in html
    assert reverse("portal:campaign", kwargs={"slug": campaign_2025.slug}) in html
    assert "已结束" in html


def test_english_switch_shows_english_chrome_and_english_names(client, clock, campaign_2025):
    clock("2025-08-15T10:00+08:00")
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en"' in html
    assert "Joint actions" in html
    assert "Key dates" in html
    assert "Skip to main content" in html
    for ja in campaign_2025.joint_actions.exclude(name_en=""):
        assert ja.name_en in html
    # The plan's own words stay as the plan wrote them.
    assert campaign_2025.theme in html


def call_block(html: str, slug: str) -> str:
    return html.split(f'data-call="{slug}"')[1].split("</article>")[0]


def test_zone_calls_show_whether_they_are_open(client, clock, campaign_2025):
    clock("2025-08-15T10:00+08:00")
    reading = Call.objects.get(campaign=campaign_2025, slug="reading-work-plans")
    html = client.get(zone_url(reading.joint_action)).content.decode()
    assert "已结束" in call_block(html, "reading-work-plans")  # closed 8月1日
    videos = Call.objects.get(campaign=campaign_2025, slug="science-treasure-videos")
    html = client.get(zone_url(videos.joint_action)).content.decode()
    assert "进行中" in call_block(html, "science-treasure-videos")  # open since 8月10日
    clock("2025-10-01T10:00+08:00")
    html = client.get(zone_url(videos.joint_action)).content.decode()
    assert "已结束" in call_block(html, "science-treasure-videos")  # open until the month's end
