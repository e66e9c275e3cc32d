"""Staff URLs of the review desk; the root URL map includes them under ``org/review/``."""

from django.urls import path

from . import views

app_name = "review"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk-approve/", views.bulk_approve, name="bulk_approve"),
    path("published/", views.published, name="published"),
    path("featuring/", views.featuring, name="featuring"),
    path("export.<str:fmt>", views.export, name="export"),
    path("audit/", views.audit_log, name="audit"),
    path("reopen/", views.reopen, name="reopen"),
    path("suggest/<str:kind>.json", views.suggestions, name="suggest"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/return/", views.return_, name="return"),
    path("<int:pk>/recommend/", views.recommend, name="recommend"),
    path("<int:pk>/unrecommend/", views.unrecommend, name="unrecommend"),
    path("<int:pk>/feature/", views.feature, name="feature"),
]
