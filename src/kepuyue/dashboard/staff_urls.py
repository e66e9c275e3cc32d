"""Staff URLs of the dashboard; the root URL map includes them under ``org/dashboard/``."""

from django.urls import re_path

from . import staff_views

app_name = "org_dashboard"

urlpatterns = [
    re_path(r"^$", staff_views.org_dashboard, name="home"),
    re_path(r"^coverage/(?P<code>\d{6})/$", staff_views.coverage, name="coverage"),
    re_path(r"^coverage/(?P<code>\d{6})\.csv$", staff_views.coverage_csv, name="coverage_csv"),
]
