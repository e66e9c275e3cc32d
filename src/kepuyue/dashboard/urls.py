from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard, name="public"),
    path("map.json", views.map_json, name="map_json"),
    path("<slug:table>.csv", views.table_csv, name="csv"),
]
