"""Staff URLs of the dashboard; the root URL map includes them under ``org/dashboard/``."""

from django.urls import re_path

from . import staff_views

app_name = "org_dashboard"

urlpatterns = [
    re_path(r"^$", staff_views.org_dashboard, name="home"),
    re_path(r"^key-cities/$", staff_views.key_city_page, name="key_cities"),
    re_path(r"^key-cities/(?P<ja_slug>[-a-z0-9]+)/$", staff_views.key_city_page, name="key_cities_of"),
    re_path(r"^coverage/(?P<code>\d{6})/$", staff_views.coverage, name="coverage"),
    re_path(r"^coverage/(?P<code>\d{6})\.csv$", staff_views.coverage_csv, name="coverage_csv"),
]
