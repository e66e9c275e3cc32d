"""URLs of calls for works, included under ``calls/``: the unit's pages (``org/``), the tus endpoint
(``tus/``), judges (``judge/``), the joint-action manager (``manage/``) and the public galleries."""

from django.urls import path

from . import views

app_name = "calls"

urlpatterns = [
    path("", views.gallery_index, name="index"),
    path("org/", views.my_entries, name="mine"),
    path("org/<slug:campaign>/<slug:call>/new/", views.entry_new, name="new"),
    path("org/<slug:campaign>/<slug:call>/check/", views.entry_check, name="check"),
    path("mine/", views.personal_entries, name="personal"),
    path("individual/<slug:campaign>/<slug:call>/", views.individual_new, name="individual_new"),
    path("entries/<str:code>/", views.entry_detail, name="entry"),
    path("entries/<str:code>/action/", views.entry_action, name="entry_action"),
    path("entries/<str:code>/file/<str:what>/", views.entry_file, name="file"),
    path("entries/<str:code>/image/<int:n>/", views.entry_file, {"what": "image"}, name="image"),
    path("tus/<slug:campaign>/<slug:call>/", views.tus_create, name="tus_create"),
    path("tus/u/<str:upload_id>", views.tus_upload, name="tus_upload"),
    path("judge/", views.judge_home, name="judge_home"),
    path("judge/entries/<str:code>/", views.judge_entry, name="judge_entry"),
    path("judge/<slug:campaign>/<slug:call>/", views.judge_call, name="judge_call"),
    path("manage/", views.manage_home, name="manage_home"),
    path("manage/entries/<str:code>/", views.manage_entry, name="manage_entry"),
    path("manage/<slug:campaign>/<slug:call>/", views.manage_call, name="manage_call"),
    path("<slug:campaign>/<slug:call>/", views.call_results, name="results"),
    path("<slug:campaign>/<slug:call>/books.xlsx", views.book_list_xlsx, name="books_xlsx"),
]
