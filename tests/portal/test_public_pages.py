"""Every anonymous public page follows the page-cache rules of issue 17 (ADR 0025), found by walking
the URL conf — not a list of pages, so a page added by a later issue is held to them too:

- an anonymous GET sets no cookie and carries no per-visitor token (no ``csrfmiddlewaretoken``, no
  CSRF cookie), whatever app the page lives in;
- a public HTML page (a 200 ``text/html`` for an anonymous visitor) is served by the shared page
  cache: the second GET is a hit, with an ``ETag`` and ``Cache-Control: public``.

The only pages allowed a token are the forms that post a real state change for an anonymous visitor
(sign-in, sign-up, password reset: :data:`FORMS`); they are never cached.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

#: Pages an anonymous visitor submits a state change from: they need the CSRF token (never cached).
FORMS = {
    "accounts:login",
    "accounts:signup",
    "accounts:password_reset",
    "accounts:password_reset_confirm",
    "accounts:password_reset_set",
    "accounts:invitation",
}

#: GETs that are not public content: the readiness probe (always live), steps of the sign-in flow, and
#: links that act when followed (an e-mail's verification link, with its flash message).
NOT_CONTENT = {"health", "accounts:logout", "accounts:password_reset_sent", "accounts:verify_email_link"}

#: Public pages a crawler has no use for: a step of booking, a certificate lookup form.
NOT_IN_SITEMAP = {"registrations:sessions", "quiz:verify_form"}

#: Prefixes that are not pages (the admin, the API's own tests, media files).
SKIPPED_PREFIXES = ("admin/", "^api/", "api/", "^media/")


def walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace + (pattern.namespace + ":" if pattern.namespace else "")
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespace + (pattern.name or ""), pattern


def all_patterns():
    return [row for row in walk(get_resolver().url_patterns) if not row[0].startswith(SKIPPED_PREFIXES)]


@pytest.fixture
def site(regions, campaign_2025, clock, settings):
    """The data of ``make data`` (plan, organizations, activities, programmes, training, tours,
    resources, quiz), on the demo clock; the page cache on."""
    clock("2025-09-10T10:00+08:00")
    out = io.StringIO()
    call_command("load_quiz", "data/quiz/bank-2024.yaml", "data/quiz/rounds-kepuyue-2025.yaml", stdout=out)
    call_command("import_organizations", "data/bases.csv", stdout=out)
    call_command("load_resources", "data/resources/kepuyue-2025.yaml", stdout=out)
    call_command("import_activities", "data/activities.csv", "--campaign", "kepuyue-2025", stdout=out)
    for command in (
        "load_sample_registrations",
        "load_sample_programmes",
        "load_sample_training",
        "load_sample_tours",
    ):
        call_command(command, "--campaign", "kepuyue-2025", stdout=out)
    settings.PAGE_CACHE_ENABLED = True
    return campaign_2025


def samples(campaign) -> dict[str, dict]:
    """Arguments for every pattern that takes some: one real object of each kind."""
    from kepuyue.activities.models import Activity, Status
    from kepuyue.campaigns.models import Brand, Call, JointAction
    from kepuyue.guide import pages as guide_pages
    from kepuyue.quiz.models import Round
    from kepuyue.specials.models import Film
    from kepuyue.tours.models import Tour, TourStatus
    from kepuyue.training.models import Course

    activity = Activity.objects.filter(status=Status.PUBLISHED).order_by("pk").first()
    booked = Activity.objects.filter(status=Status.PUBLISHED, registration_config__isnull=False).first()
    brand = Brand.objects.filter(joint_action__campaign=campaign).order_by("pk").first()
    ja = JointAction.objects.filter(campaign=campaign).order_by("number").first()
    course = Course.objects.filter(published=True).first()
    call = Call.objects.filter(campaign=campaign).first()
    quiz_round = Round.objects.first()
    return {
        "portal:campaign": {"slug": campaign.slug},
        "portal:zone": {"slug": campaign.slug, "ja_slug": ja.slug},
        "portal:zone_redirect": {"ja_slug": ja.slug},
        "portal:activity": {"pk": activity.pk},
        "portal:activity_ics": {"pk": activity.pk},
        "portal:brand": {"campaign_slug": campaign.slug, "brand_slug": brand.slug},
        "portal:region": {"code": activity.county_code or activity.province_code},
        "portal:region_children": {"code": activity.province_code},
        "portal:sitemap_section": {"section": "activities"},
        "registrations:sessions": {"pk": booked.pk},
        "registrations:availability": {"pk": booked.pk},
        "tours:detail": {"pk": Tour.objects.filter(status=TourStatus.PUBLISHED).first().pk},
        "specials:film": {"pk": Film.objects.first().pk},
        "specials:unit": {"pk": activity.organizer_id},
        "specials:replays": {"campaign": campaign.slug, "joint_action": ja.slug},
        "training:course": {"campaign": course.campaign.slug, "slug": course.slug},
        "guide:page": {"slug": guide_pages.GUIDES[0].slug},
        "quiz:round": {"slug": quiz_round.slug},
        "calls:results": {"campaign": campaign.slug, "call": call.slug},
        "regions:children": {"code": activity.province_code},
    }


def url_of(route: str, kwargs: dict) -> str:
    """Fill a route's converters (``<int:pk>``) or named groups (``(?P<code>…)``) with ``kwargs``."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m.group(1)]), route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), path)
    path = path.replace("^", "").replace("$", "").replace("\\.", ".").replace("\\", "")
    return "/" + path


def test_no_anonymous_get_sets_a_cookie_or_a_token_and_every_public_page_is_cached(client, site):
    kwargs_of = samples(site)
    problems, cached, checked, listed = [], [], [], []
    for route, name, _pattern in all_patterns():
        takes_args = "<" in route or "(?P<" in route
        if takes_args and name not in kwargs_of:
            # A parametrized pattern nobody sampled is only safe if it is not public: sign-in wall,
            # staff page. Those are GET with a made-up id and must not set a cookie either.
            names = [a or b for a, b in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route)]
            url = url_of(route, dict.fromkeys(names, 1))
        else:
            url = url_of(route, kwargs_of.get(name, {}))
        client.cookies.clear()
        response = client.get(url)
        checked.append(url)
        body = b"" if getattr(response, "streaming", False) else response.content
        if name in FORMS or name in NOT_CONTENT:
            continue
        if response.cookies:
            problems.append(f"{url} ({name}) sets cookies {sorted(response.cookies)}")
        if b"csrfmiddlewaretoken" in body:
            problems.append(f"{url} ({name}) carries a CSRF token")
        is_page = response.status_code == 200 and response.get("Content-Type", "").startswith("text/html")
        if is_page:
            again = client.get(url)
            if again.get("X-Page-Cache") != "hit":
                problems.append(f"{url} ({name}) is a public page but not served by the page cache")
            else:
                cached.append(name)
                listed.append((name, url))
                assert "public" in again["Cache-Control"] and again["ETag"], name
    assert not problems, "\n".join(problems)
    # The walk really reached the programmes' pages (a broken sample would hide them).
    for name in (
        "tours:list",
        "tours:detail",
        "specials:films",
        "specials:plays",
        "training:index",
        "training:course",
        "resources:index",
        "guide:index",
        "portal:activity_calendar",
    ):
        assert name in cached, name

    # Every public page is in the sitemap (the sampled object's address stands for its kind).
    in_sitemap = sitemap_paths(client)
    missing = [
        f"{url} ({name})"
        for name, url in listed
        if name not in NOT_IN_SITEMAP and url.split("?")[0] not in in_sitemap
    ]
    assert not missing, "not in the sitemap: " + ", ".join(missing)


def sitemap_paths(client) -> set[str]:
    """Every address the sitemap index and its sections list (paths)."""
    from urllib.parse import urlsplit

    def locs(url):
        response = client.get(url)
        assert response.status_code == 200, url
        return re.findall(r"<loc>([^<]+)</loc>", response.content.decode())

    paths = set()
    for section in locs("/sitemap.xml"):
        parts = urlsplit(section)
        paths.update(
            urlsplit(loc).path for loc in locs(parts.path + (f"?{parts.query}" if parts.query else ""))
        )
    return paths


def broken_references(html: str) -> list[str]:
    """``aria-describedby`` / ``aria-labelledby`` / ``<label for>`` ids the page does not have."""
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    wanted = [
        ref for attr in re.findall(r'aria-(?:describedby|labelledby)="([^"]*)"', html) for ref in attr.split()
    ]
    wanted += re.findall(r'<label[^>]*\bfor="([^"]+)"', html)
    return sorted({ref for ref in wanted if ref not in ids})


def test_every_page_references_only_ids_it_has(client, site, django_user_model):
    """Every form and page (anonymous and a platform administrator's): an ``aria-describedby`` that
    points at a missing id leaves screen-reader users without the help or the error (the sign-up
    form's password help did)."""
    kwargs_of = samples(site)
    admin = django_user_model.objects.create_superuser("walker", "walker@example.org", "pw-walker-12345")
    problems = []
    for signed_in in (False, True):
        client.logout()
        if signed_in:
            client.force_login(admin)
        for route, name, _pattern in all_patterns():
            if name in {"accounts:logout"}:
                continue
            takes_args = "<" in route or "(?P<" in route
            if takes_args and name not in kwargs_of:
                continue
            url = url_of(route, kwargs_of.get(name, {}))
            response = client.get(url)
            if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
                continue
            if getattr(response, "streaming", False):
                continue
            missing = broken_references(response.content.decode())
            if missing:
                problems.append(f"{url} ({name}, signed in: {signed_in}): {missing}")
    assert not problems, "\n".join(problems)
