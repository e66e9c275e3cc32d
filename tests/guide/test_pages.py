"""操作指南 (plan 八(二)): a guide per role renders in Chinese with its screenshots, every image it shows is one the
browser test makes and is in the repository, and the guide is linked from staff headers and the public footer."""

from __future__ import annotations

import re

import pytest

from kepuyue.guide import pages
from tests.fixtures_accounts import create_staff, login_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("guide", pages.GUIDES, ids=lambda g: g.slug)
def test_each_role_guide_renders(client, guide):
    response = client.get(f"/guide/{guide.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<h1>{guide.title}</h1>" in html
    assert "<h3>" in html  # the Markdown's sections, from h3 under the page's h1
    for name in pages.images_in(pages.source(guide)):
        assert f'src="/static/guide/img/{name}"' in html


def test_unknown_guide_is_a_404(client):
    assert client.get("/guide/nobody/").status_code == 404


def test_guide_images_are_made_by_the_browser_test_and_committed():
    shot_names = {name for name, *_rest in pages.SHOTS}
    for guide in pages.GUIDES:
        shown = pages.images_in(pages.source(guide))
        assert shown, guide.slug
        for name in shown:
            assert name in shot_names, f"{guide.slug} shows {name}, which no screenshot makes"
            assert (pages.IMAGES / name).is_file(), f"{name} missing: KEPUYUE_GUIDE_SCREENSHOTS=update"
    for name, role, *_rest in pages.SHOTS:
        assert role in pages.BY_SLUG and name.startswith(role)


def test_guide_html_is_sanitised_like_any_markdown():
    from kepuyue.common.markup import render_markdown

    html = render_markdown(
        '![x](img/a.png)<img src="x" onerror="alert(1)"><script>alert(1)</script>', images=True
    )
    assert "onerror" not in html and "<script" not in html and 'src="img/a.png"' in html
    assert "<img" not in render_markdown("![x](img/a.png)")  # people's texts never show images


def test_index_marks_the_accounts_guide(client, regions, campaign_2025):
    from kepuyue.campaigns.models import JointAction

    manager = create_staff("m", role="joint_action_manager", joint_action=JointAction.objects.first())
    login_staff(client, manager)
    html = client.get("/guide/").content.decode()
    assert re.search(r'href="/guide/manager/">[^<]+</a> <strong>', html)


def test_footer_links_guide_and_resources(client):
    html = client.get("/guide/").content.decode()
    assert 'href="/guide/"' in html and 'href="/resources/"' in html


def test_staff_header_links_the_roles_guide(client, regions, campaign_2025):
    from kepuyue.orgs.models import Membership, Organization

    unit = Organization.objects.create(name="杭州科技馆", type_id="science_museum")
    user = create_staff("u")
    Membership.objects.create(user=user, organization=unit)
    client.force_login(user)
    html = client.get("/org/activities/").content.decode()
    assert 'href="/guide/unit/">操作指南</a>' in html
