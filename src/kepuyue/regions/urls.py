"""URLs of the regions app, included under ``regions/``: JSON lists for cascading selects."""

from django.urls import path

from . import views

app_name = "regions"

urlpatterns = [
    path("children.json", views.children, name="provinces"),
    path("<str:code>/children.json", views.children, name="children"),
]
