from django.contrib.sitemaps import views as sitemap_views
from django.urls import path, re_path
from django.views.decorators.cache import cache_page

from . import feeds, views, views_activities
from .sitemaps import SITEMAPS

app_name = "portal"

# Sitemaps are read by crawlers; an hour-old list is fine and spares a COUNT over every activity.
SITEMAP_CACHE_SECONDS = 3600

urlpatterns = [
    path("", views.home, name="home"),
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/<slug:slug>/", views.campaign_detail, name="campaign"),
    path("campaigns/<slug:slug>/zones/<slug:ja_slug>/", views.zone_detail, name="zone"),
    path("zones/<slug:ja_slug>/", views.zone_redirect, name="zone_redirect"),
    path("display/large-text/", views.large_text, name="large_text"),
    path("display/language/", views.language, name="language"),
    # Activities (issue 3 §6): list, one activity, its calendar file, brand and region pages.
    path("activities/", views_activities.activity_list, name="activity_list"),
    # Feeds and the month calendar of any filtered list (issue 13 §6).
    path("activities/feed.ics", feeds.activities_ics, name="activities_ics"),
    path("activities/feed.rss", feeds.ActivitiesFeed(), name="activities_rss"),
    path("activities/feed.atom", feeds.ActivitiesAtomFeed(), name="activities_atom"),
    path("activities/calendar/", feeds.activity_calendar, name="activity_calendar"),
    path("activities/<int:pk>/", views_activities.activity_detail, name="activity"),
    path("activities/<int:pk>.ics", views_activities.activity_ics, name="activity_ics"),
    path("activities/<int:pk>/poster-<str:key>.webp", views_activities.poster_thumb, name="poster_thumb"),
    path("brands/<slug:campaign_slug>/<slug:brand_slug>/", views_activities.brand_detail, name="brand"),
    re_path(r"^region/(?P<code>\d{2,6})/$", views_activities.region_detail, name="region"),
    re_path(
        r"^region/(?P<code>\d{6})/children\.json$",
        views_activities.region_children_json,
        name="region_children",
    ),
    path(
        "sitemap.xml",
        cache_page(SITEMAP_CACHE_SECONDS)(sitemap_views.index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "portal:sitemap_section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        cache_page(SITEMAP_CACHE_SECONDS)(sitemap_views.sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap_section",
    ),
]
