"""``/sitemap.xml``: an index of sitemaps for the campaign pages, joint-action zones, brand pages,
region pages that have activities, every published activity, and the programmes' public pages
(the section pages, published tours, the films, the units with published activities, the 大讲堂's
courses, the calls' galleries and the lecture archives). The guides and the quiz rounds live in apps
beside the portal (which may not import them): ``kepuyue.urls`` adds their sections to
:data:`SITEMAPS`. ``tests/portal/test_public_pages.py`` checks every public page is listed.

Each section is paginated (``limit``), so 500,000 activities make 250 sitemap files of 2,000
addresses each; the index lists them all. The views are cached for an hour (``portal/urls.py``):
crawlers do not need fresher lists, and a file costs a COUNT and an OFFSET scan.
"""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from kepuyue.activities.services import public_activities
from kepuyue.campaigns.models import Brand, Campaign, JointAction

from .activity_display import published_region_codes


class CampaignSitemap(Sitemap):
    """Each campaign's home (``/campaigns/<slug>/``), newest first."""

    changefreq = "weekly"

    def items(self):
        return Campaign.objects.order_by("-starts", "pk").only("slug", "updated")

    def location(self, item):
        return reverse("portal:campaign", kwargs={"slug": item.slug})

    def lastmod(self, item):
        return item.updated


class ZoneSitemap(Sitemap):
    """Each joint action's zone (``/campaigns/<slug>/zones/<ja>/``)."""

    changefreq = "weekly"

    def items(self):
        return JointAction.objects.select_related("campaign").order_by("campaign__starts", "number", "pk")

    def location(self, item):
        return reverse("portal:zone", kwargs={"slug": item.campaign.slug, "ja_slug": item.slug})

    def lastmod(self, item):
        return item.updated


class BrandSitemap(Sitemap):
    """Each brand page (``/brands/<campaign>/<brand>/``); a slug used by two joint actions of one
    campaign has one page, listed once."""

    changefreq = "daily"

    def items(self):
        seen: set[tuple[str, str]] = set()
        rows = []
        for campaign_slug, slug in Brand.objects.order_by(
            "joint_action__campaign__starts", "joint_action__number", "order", "pk"
        ).values_list("joint_action__campaign__slug", "slug"):
            if (campaign_slug, slug) not in seen:
                seen.add((campaign_slug, slug))
                rows.append((campaign_slug, slug))
        return rows

    def location(self, item):
        return reverse("portal:brand", kwargs={"campaign_slug": item[0], "brand_slug": item[1]})


class RegionSitemap(Sitemap):
    """Region pages (``/region/<code>/``) of the provinces, prefectures and counties that have at
    least one published activity."""

    changefreq = "daily"
    limit = 10_000

    def items(self):
        return published_region_codes()

    def location(self, item):
        return reverse("portal:region", kwargs={"code": item})


class ActivitySitemap(Sitemap):
    """Every published activity (``/activities/<id>/``), by id, 2,000 to a file (a file of 10,000
    takes over a second to render; 500,000 activities make 250 files, far below the index's
    limit of 50,000)."""

    changefreq = "weekly"
    limit = 2_000

    def items(self):
        return public_activities().order_by("id").only("id", "updated")

    def location(self, item):
        return reverse("portal:activity", kwargs={"pk": item.pk})

    def lastmod(self, item):
        return item.updated

    def get_latest_lastmod(self):
        # The index's <lastmod> would read every activity (Django's default) or scan the table for
        # MAX(updated) (1.2 s at 500,000 rows); the section files carry each activity's own.
        return None


class SectionSitemap(Sitemap):
    """The public pages that take no argument: the lists and indexes of every section."""

    changefreq = "daily"
    names = (
        "portal:home",
        "portal:campaign_list",
        "portal:activity_list",
        "portal:activity_calendar",
        "tours:list",
        "specials:films",
        "specials:plays",
        "specials:volunteers",
        "training:index",
        "training:replays",
        "resources:index",
        "guide:index",
        "calls:index",
        "quiz:rounds",
        "dashboard:public",
    )

    def items(self):
        return list(self.names)

    def location(self, item):
        return reverse(item)


class TourSitemap(Sitemap):
    """Published tours (``/tours/<id>/``)."""

    changefreq = "weekly"

    def items(self):
        from kepuyue.tours.models import Tour, TourStatus

        return Tour.objects.filter(status=TourStatus.PUBLISHED).order_by("pk").only("pk")

    def location(self, item):
        return reverse("tours:detail", kwargs={"pk": item.pk})


class FilmSitemap(Sitemap):
    """The 光影科学梦 catalogue (``/films/<id>/``)."""

    changefreq = "weekly"

    def items(self):
        from kepuyue.specials.models import Film

        return Film.objects.order_by("pk").only("pk")

    def location(self, item):
        return reverse("specials:film", kwargs={"pk": item.pk})


class UnitSitemap(Sitemap):
    """Unit pages (``/units/<id>/``) of the organizations with a published activity, 2,000 a file."""

    changefreq = "weekly"
    limit = 2_000

    def items(self):
        return list(
            public_activities().order_by("organizer_id").values_list("organizer_id", flat=True).distinct()
        )

    def location(self, item):
        return reverse("specials:unit", kwargs={"pk": item})


class CourseSitemap(Sitemap):
    """The 大讲堂's published courses."""

    changefreq = "weekly"

    def items(self):
        from kepuyue.training.models import Course

        return list(
            Course.objects.filter(published=True).order_by("pk").values_list("campaign__slug", "slug")
        )

    def location(self, item):
        return reverse("training:course", kwargs={"campaign": item[0], "slug": item[1]})


class CallSitemap(Sitemap):
    """Each call's gallery of published works (``/calls/<campaign>/<call>/``)."""

    changefreq = "weekly"

    def items(self):
        from kepuyue.campaigns.models import Call

        return list(Call.objects.order_by("pk").values_list("campaign__slug", "slug"))

    def location(self, item):
        return reverse("calls:results", kwargs={"campaign": item[0], "call": item[1]})


class LectureSitemap(Sitemap):
    """The replay archive of each joint action (``/lectures/<campaign>/<joint action>/``)."""

    changefreq = "weekly"

    def items(self):
        return list(
            JointAction.objects.order_by("campaign__starts", "number", "pk").values_list(
                "campaign__slug", "slug"
            )
        )

    def location(self, item):
        return reverse("specials:replays", kwargs={"campaign": item[0], "joint_action": item[1]})


SITEMAPS = {
    "pages": SectionSitemap,
    "tours": TourSitemap,
    "films": FilmSitemap,
    "units": UnitSitemap,
    "courses": CourseSitemap,
    "calls": CallSitemap,
    "lectures": LectureSitemap,
    "campaigns": CampaignSitemap,
    "zones": ZoneSitemap,
    "brands": BrandSitemap,
    "regions": RegionSitemap,
    "activities": ActivitySitemap,
}
