"""Staff URLs of the activities app; the root URL map includes them under ``org/activities/``."""

from django.urls import path

from . import views

app_name = "activities"

urlpatterns = [
    path("", views.my_activities, name="mine"),
    path("new/", views.activity_create, name="create"),
    path("brand-suggestion.json", views.brand_suggestion, name="brand_suggestion"),
    path("<int:pk>/", views.activity_detail, name="detail"),
    path("<int:pk>/edit/", views.activity_edit, name="edit"),
    path("<int:pk>/submit/", views.activity_submit, name="submit"),
    path("<int:pk>/summary/", views.activity_summary, name="summary"),
    path("<int:pk>/withdraw/", views.activity_withdraw, name="withdraw"),
    path("export.<str:fmt>", views.export_mine, name="export"),
    path("exports/", views.export_list, name="exports"),
    path("exports/<int:pk>/", views.export_job, name="export_job"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("import/", views.import_upload, name="import"),
    path("import/template.xlsx", views.import_template, name="import_template"),
    path("import/<int:pk>/", views.import_job, name="import_job"),
    path("import/<int:pk>/commit/", views.import_commit, name="import_commit"),
    path("import/<int:pk>/retry/", views.import_retry, name="import_retry"),
    path("import/<int:pk>/submit-drafts/", views.import_submit_drafts, name="import_submit_drafts"),
    path("import/<int:pk>/report.xlsx", views.import_report, name="import_report"),
]
