from django.urls import path

from . import views, views_staff

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("signup/", views.signup, name="signup"),
    path("password/", views.password_change, name="password_change"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/sent/", views.password_reset_sent, name="password_reset_sent"),
    path("reset/<str:uidb64>/set-password/", views.password_reset_set, name="password_reset_set"),
    path("reset/<str:uidb64>/<str:token>/", views.password_reset_confirm, name="password_reset_confirm"),
    path("verify/", views.verify_contact, name="verify_contact"),
    path("verify/email/<str:token>/", views.verify_email_link, name="verify_email_link"),
    path("two-factor/", views.verify, name="verify"),
    path("two-factor/setup/", views.enrol, name="enrol"),
    path("apply/", views.apply, name="apply"),
    path("apply/<int:pk>/proof/", views.my_proof, name="my_proof"),
    path("applications/", views.review_list, name="review_list"),
    path("applications/<int:pk>/", views.review_detail, name="review_detail"),
    path("applications/<int:pk>/proof/", views.review_proof, name="review_proof"),
    path("applications/<int:pk>/approve/", views.approve, name="approve"),
    path("applications/<int:pk>/return/", views.return_, name="return"),
    path("staff/", views_staff.account_list, name="staff_list"),
    path("staff/new/", views_staff.account_create, name="staff_create"),
    path("staff/<int:pk>/", views_staff.account_detail, name="staff_detail"),
    path("staff/<int:pk>/invite/", views_staff.account_invite, name="staff_invite"),
    path("staff/<int:pk>/active/", views_staff.account_active, name="staff_active"),
    path("staff/<int:pk>/reset/", views_staff.account_reset, name="staff_reset"),
    path("staff/<int:pk>/grant/", views_staff.account_grant, name="staff_grant"),
    path("staff/<int:pk>/grants/<int:grant_id>/revoke/", views_staff.grant_revoke, name="staff_revoke"),
    path("invite/<str:token>/", views_staff.invitation, name="invitation"),
    path("unit/", views_staff.unit_settings, name="unit_settings"),
]
