from django.urls import path

from . import staff_views as views

app_name = "tours_org"

urlpatterns = [
    path("", views.index, name="index"),
    path("vehicles/new/", views.vehicle_new, name="vehicle_new"),
    path("new/", views.tour_new, name="tour_new"),
    path("template.xlsx", views.template, name="template"),
    path("<int:pk>/", views.tour, name="tour"),
    path("<int:pk>/stops/", views.stop_add, name="stop_add"),
    path("<int:pk>/stops/<int:stop>/delete/", views.stop_delete, name="stop_delete"),
    path("<int:pk>/import/", views.tour_import, name="import"),
    path("<int:pk>/publish/", views.tour_publish, name="publish"),
]
