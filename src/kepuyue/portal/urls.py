from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/<slug:slug>/", views.campaign_detail, name="campaign"),
    path("campaigns/<slug:slug>/zones/<slug:ja_slug>/", views.zone_detail, name="zone"),
    path("zones/<slug:ja_slug>/", views.zone_redirect, name="zone_redirect"),
    path("display/large-text/", views.large_text, name="large_text"),
]
