from django.urls import path

from . import views

app_name = "resources"

urlpatterns = [
    path("resources/", views.index, name="index"),
    path("resources/<int:pk>/download/", views.download, name="download"),
    path("org/resources/", views.manage, name="manage"),
    path("org/resources/new/", views.create, name="create"),
    path("org/resources/<int:pk>/edit/", views.edit, name="edit"),
    path("org/resources/<int:pk>/hide/", views.hide, name="hide"),
]
