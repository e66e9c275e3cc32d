"""The quiz's sitemap section (``/sitemap-quiz.xml``), added to the portal's by ``kepuyue.urls``."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Round


class RoundSitemap(Sitemap):
    """Each round's page (``/quiz/<slug>/``): rules and leaderboards."""

    changefreq = "daily"

    def items(self):
        return list(Round.objects.order_by("opens_at", "pk").values_list("slug", flat=True))

    def location(self, item):
        return reverse("quiz:round", kwargs={"slug": item})
