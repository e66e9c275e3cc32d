"""URLs of the 大讲堂, included under ``training/``."""

from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("", views.course_list, name="index"),
    path("replays/", views.replays, name="replays"),
    path("lessons/<int:pk>/open/", views.open_lesson, name="open"),
    path("<slug:campaign>/<slug:slug>/", views.course_detail, name="course"),
]
