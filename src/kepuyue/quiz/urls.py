from django.urls import path

from . import views, views_org

app_name = "quiz"

urlpatterns = [
    path("", views.rounds, name="rounds"),
    path("org/bank/", views_org.bank_page, name="bank"),
    path("org/bank/template.xlsx", views_org.bank_template, name="bank_template"),
    path("org/<slug:slug>/offline/", views_org.offline_page, name="offline"),
    path("org/<slug:slug>/offline/template.xlsx", views_org.offline_template, name="offline_template"),
    path("verify/", views.verify, name="verify_form"),
    path("verify/<str:code>/", views.verify, name="verify"),
    path("attempt/<str:token>/", views.attempt, name="attempt"),
    path("attempt/<str:token>/result/", views.result, name="result"),
    path("attempt/<str:token>/certificate.pdf", views.certificate, name="certificate"),
    path("<slug:slug>/", views.round_detail, name="round"),
    path("<slug:slug>/profile/", views.profile, name="profile"),
    path("<slug:slug>/start/", views.start, name="start"),
]
