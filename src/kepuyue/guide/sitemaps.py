"""The guides' sitemap section (``/sitemap-guides.xml``), added to the portal's by ``kepuyue.urls``."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from . import pages


class GuideSitemap(Sitemap):
    """Each role's 操作指南 (``/guide/<slug>/``)."""

    changefreq = "monthly"

    def items(self):
        return [guide.slug for guide in pages.GUIDES]

    def location(self, item):
        return reverse("guide:page", kwargs={"slug": item})
