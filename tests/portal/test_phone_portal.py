"""The public portal on a phone (issue 11.6): the home lists upcoming and ongoing activities (featured
first) before anything is featured; zone pages show activities before the folded plan text; cards show
the poster thumbnail; the header links the calls galleries; deadlines count down; phones are ``tel:``
links and a unit's public office line is shown in full; inbox texts never double quotation marks."""

from __future__ import annotations

import io
import re

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.urls import reverse

from kepuyue.activities.models import Activity, Status
from kepuyue.common.text import quote_title
from kepuyue.portal import activity_display
from tests.activities.factories import (
    ActivityFactory,
    CampaignFactory,
    JointActionFactory,
    OrganizationFactory,
    bj,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


@pytest.fixture
def plan(clock):
    clock("2025-09-10T10:00+08:00")
    campaign = CampaignFactory()
    bases = JointActionFactory(campaign=campaign, slug="bases", number=1, name="科普教育基地联合行动")

    def act(title, start, end, **extra):
        return ActivityFactory(
            campaign=campaign,
            joint_action=bases,
            title=title,
            starts_at=bj(start),
            ends_at=bj(end),
            status=extra.pop("status", Status.PUBLISHED),
            **extra,
        )

    rows = {
        "past": act("已经结束的活动", "2025-09-02 09:00", "2025-09-02 11:00"),
        "ongoing": act("正在进行的展览", "2025-09-08 09:00", "2025-09-15 17:00"),
        "soon": act("即将开始的讲座", "2025-09-12 09:00", "2025-09-12 11:00"),
        "later": act("月底的开放日", "2025-09-28 09:00", "2025-09-28 17:00"),
        "draft": act("草稿", "2025-09-12 09:00", "2025-09-12 11:00", status=Status.DRAFT),
    }
    return campaign, bases, rows


def section(html: str, marker: str) -> str:
    return html.split(marker, 1)[1].split("</section>", 1)[0]


def test_home_lists_ongoing_and_upcoming_before_anything_is_featured(client, plan):
    html = client.get("/").content.decode()
    block = section(html, 'aria-labelledby="featured-title"')
    assert "近期活动" in block
    assert block.index("正在进行的展览") < block.index("即将开始的讲座") < block.index("月底的开放日")
    assert "已经结束的活动" not in block and "草稿" not in block


def test_home_puts_featured_first(client, plan, clock):
    _campaign, _bases, rows = plan
    Activity.objects.filter(pk=rows["later"].pk).update(featured_at=bj("2025-09-01 10:00"))
    html = client.get("/").content.decode()
    block = section(html, 'aria-labelledby="featured-title"')
    assert "重点活动与近期活动" in block
    assert block.index("月底的开放日") < block.index("正在进行的展览")
    assert block.count("月底的开放日") == 1


def test_zone_shows_activities_before_the_folded_plan_text(client, plan):
    from tests.portal.factories import KeyTaskFactory

    campaign, bases, _rows = plan
    KeyTaskFactory(joint_action=bases, name="千家基地展创新")
    html = client.get(reverse("portal:zone", args=[campaign.slug, bases.slug])).content.decode()
    assert html.index('id="zone-activities-title"') < html.index('id="plan-text"')
    plan_text = html.split('<details class="plan-text', 1)[1].split("</details>", 1)[0]
    assert "千家基地展创新" in plan_text and "<summary>" in plan_text


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (30, 40), "teal").save(out, "PNG")
    return out.getvalue()


def test_cards_show_the_poster_thumbnail_lazy_sized_with_alt(client, plan):
    _c, _b, rows = plan
    item = rows["soon"]
    item.poster.save("p.png", ContentFile(png()), save=True)
    html = client.get("/").content.decode()
    card = html.split(f'data-activity="{item.pk}"', 1)[1].split("</li>", 1)[0]
    img = re.search(r"<img [^>]*>", card).group(0)
    src = re.search(r'src="([^"]+)"', img).group(1)
    assert src.startswith(f"/activities/{item.pk}/poster-") and src.endswith(".webp")
    assert 'loading="lazy"' in img and 'width="192"' in img and 'height="256"' in img
    assert 'alt="活动海报：即将开始的讲座"' in img
    response = client.get(src)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert "immutable" in response["Cache-Control"]
    from PIL import Image

    thumb = Image.open(io.BytesIO(response.content))
    assert thumb.format == "WEBP" and thumb.size == (30, 40)  # never enlarged
    assert client.get(src).content == response.content  # stored, read back


def test_big_poster_thumbnail_is_small(client, plan, settings):
    from PIL import Image

    _c, _b, rows = plan
    item = rows["soon"]
    out = io.BytesIO()
    Image.effect_noise((2400, 3200), 60).convert("RGB").save(out, "JPEG", quality=95)
    item.poster.save("big.jpg", ContentFile(out.getvalue()), save=True)
    src = activity_display_thumb(item)
    response = client.get(src)
    thumb = Image.open(io.BytesIO(response.content))
    assert thumb.size == (384, 512)
    assert len(response.content) < len(out.getvalue()) / 10
    assert (settings.MEDIA_ROOT / "thumbs" / "posters").is_dir()


def activity_display_thumb(activity) -> str:
    from kepuyue.portal.thumbnails import thumbnail_url

    return thumbnail_url(activity)


def test_thumbnail_of_unpublished_or_stale_key_is_404(client, plan):
    _c, _b, rows = plan
    draft = rows["draft"]
    draft.poster.save("d.png", ContentFile(png()), save=True)
    assert client.get(activity_display_thumb(draft)).status_code == 404
    item = rows["soon"]
    item.poster.save("p.png", ContentFile(png()), save=True)
    assert client.get(f"/activities/{item.pk}/poster-0000000000000000.webp").status_code == 404


def test_header_links_the_calls_galleries(client, plan):
    html = client.get("/").content.decode()
    nav = html.split('class="site-nav"', 1)[1].split("</nav>", 1)[0]
    assert f'href="{reverse("calls:index")}"' in nav and "作品征集" in nav


def test_deadlines_count_down_and_never_say_ongoing(client, clock, plan):
    from kepuyue.campaigns.models import Deadline, DeadlineKind

    campaign, _b, _rows = plan
    Deadline.objects.create(
        campaign=campaign,
        slug="due-soon",
        kind=DeadlineKind.DUE,
        title="提交活动总结",
        at=bj("2025-09-13 23:59"),
    )
    Deadline.objects.create(
        campaign=campaign,
        slug="due-past",
        kind=DeadlineKind.DUE,
        title="推荐重点活动",
        at=bj("2025-08-20 23:59"),
    )
    Deadline.objects.create(
        campaign=campaign,
        slug="due-today",
        kind=DeadlineKind.DUE,
        title="今日截止事项",
        at=bj("2025-09-10 23:59"),
    )
    html = client.get("/").content.decode()
    timeline = html.split('class="timeline"', 1)[1].split("</ol>", 1)[0]
    items = {
        m.group(2): m.group(1)
        for m in re.finditer(r'<li class="timeline__item">(.*?timeline__what[^>]*>([^<]+)<)', timeline, re.S)
    }
    assert "还剩 3 天" in items["提交活动总结"]
    assert "已截止" in items["推荐重点活动"]
    assert "今天截止" in items["今日截止事项"]
    assert "进行中" not in timeline


def _detail(client, activity) -> str:
    return client.get(reverse("portal:activity", args=[activity.pk])).content.decode()


def test_personal_mobile_stays_masked(client, plan):
    _c, _b, rows = plan
    item = rows["soon"]
    Activity.objects.filter(pk=item.pk).update(contact_phone="13812345678")
    html = _detail(client, item)
    assert "138****5678" in html and "13812345678" not in html


def test_public_office_line_is_shown_in_full_as_a_tel_link(client, plan):
    _c, _b, rows = plan
    item = rows["soon"]
    organizer = item.organizer
    organizer.contact_phone = "0571-88881234"
    organizer.phone_public = True
    organizer.save()
    Activity.objects.filter(pk=item.pk).update(contact_phone="0571-88881234、13812345678")
    html = _detail(client, item)
    assert '<a href="tel:057188881234">0571-88881234</a>' in html
    assert "138****5678" in html and "13812345678" not in html


def test_office_line_not_marked_public_stays_masked(client, plan):
    _c, _b, rows = plan
    item = rows["soon"]
    organizer = item.organizer
    organizer.contact_phone = "0571-88881234"
    organizer.save()
    Activity.objects.filter(pk=item.pk).update(contact_phone="0571-88881234")
    html = _detail(client, item)
    assert "0571-88881234" not in html and "tel:057188881234" not in html


def test_public_phones_unit():
    org = OrganizationFactory.build(contact_phone="010-68571988、010-68571999", phone_public=True)
    activity = Activity(organizer=org, contact_phone="010-68571999")
    assert activity_display.public_phones(activity) == ("010-68571999", "")
    activity.contact_phone = ""
    assert activity_display.public_phones(activity) == ("", "")


@pytest.mark.parametrize(
    "title,expected",
    [
        ("低碳生活体验日", "“低碳生活体验日”"),
        ("“光影科学梦”科学电影巡映", "“光影科学梦”科学电影巡映"),
        ("「科学之夜」", "「科学之夜」"),
        ("《科普法》", "《科普法》"),
        ("《科普法》宣讲", "“《科普法》宣讲”"),
        ("走进“天宫”", "走进“天宫”"),
        ('"Science Night"', '"Science Night"'),
        ("  ", "“”"),
    ],
)
def test_quote_title(title, expected):
    assert quote_title(title) == expected


def test_inbox_text_does_not_double_quotes(plan, django_capture_on_commit_callbacks):
    from kepuyue.activities import services
    from kepuyue.notifications.models import Notification
    from kepuyue.orgs.models import Membership
    from tests.fixtures_accounts import create_staff

    _c, _b, rows = plan
    item = rows["draft"]
    Activity.objects.filter(pk=item.pk).update(title="“光影科学梦”科学电影巡映")
    item.refresh_from_db()
    publisher = create_staff("pub")
    Membership.objects.create(user=publisher, organization=item.organizer)
    cast = create_staff("cast", role="cast_admin")
    with django_capture_on_commit_callbacks(execute=True):
        services.transition(item, Status.SUBMITTED, actor=publisher)
    with django_capture_on_commit_callbacks(execute=True):
        services.transition(item, Status.PUBLISHED, actor=cast)
    body = Notification.objects.get(user=publisher).body
    assert "您的活动“光影科学梦”科学电影巡映已审核通过" in body
    assert "““" not in body and "””" not in body
