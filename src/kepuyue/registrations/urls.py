from django.urls import path

from .views import checkin, public, staff

app_name = "registrations"

urlpatterns = [
    # The public's pages.
    path("registrations/activity/<int:pk>/", public.activity_sessions, name="sessions"),
    path("registrations/activity/<int:pk>/availability.json", public.availability_json, name="availability"),
    path("registrations/session/<int:session_id>/book/", public.book, name="book"),
    path("registrations/session/<int:session_id>/group/", public.book_group, name="book_group"),
    path("registrations/mine/", public.mine, name="mine"),
    path("registrations/mine/data/", public.my_data, name="my_data"),
    path("registrations/mine/data/delete/", public.delete_data, name="delete_data"),
    path("registrations/ticket/<str:code>/", public.ticket, name="ticket"),
    path("registrations/ticket/<str:code>.ics", public.ticket_ics, name="ticket_ics"),
    path("registrations/ticket/<str:code>/cancel/", public.cancel, name="cancel"),
    path("registrations/ticket/<str:code>/confirm/", public.confirm, name="confirm"),
    # The unit's pages.
    path("org/registrations/", staff.home, name="org_home"),
    path("org/registrations/<int:pk>/", staff.activity, name="org_activity"),
    path("org/registrations/<int:pk>/settings/", staff.settings_view, name="org_settings"),
    path("org/registrations/<int:pk>/sessions/new/", staff.session_edit, name="org_session_new"),
    path(
        "org/registrations/<int:pk>/sessions/<int:session_id>/", staff.session_edit, name="org_session_edit"
    ),
    path("org/registrations/<int:pk>/close/", staff.close_activity, {"action": "close"}, name="org_close"),
    path("org/registrations/<int:pk>/reopen/", staff.close_activity, {"action": "reopen"}, name="org_reopen"),
    path("org/registrations/<int:pk>/export.<str:fmt>", staff.export, name="org_export"),
    path("org/registrations/<int:pk>/message/", staff.message, name="org_message"),
    path("org/registrations/session/<int:session_id>/", staff.bookings, name="org_bookings"),
    path("org/registrations/session/<int:session_id>/checkin/", checkin.page, name="checkin"),
    path("org/registrations/session/<int:session_id>/checkin/sync", checkin.sync, name="checkin_sync"),
    path(
        "org/registrations/session/<int:session_id>/close/",
        staff.session_action,
        {"action": "close"},
        name="org_session_close",
    ),
    path(
        "org/registrations/session/<int:session_id>/reopen/",
        staff.session_action,
        {"action": "reopen"},
        name="org_session_reopen",
    ),
    path(
        "org/registrations/session/<int:session_id>/delete/",
        staff.session_action,
        {"action": "delete"},
        name="org_session_delete",
    ),
    path("org/registrations/booking/<int:pk>/cancel/", staff.booking_cancel, name="org_booking_cancel"),
    path("org/registrations/booking/<int:pk>/move/", staff.booking_move, name="org_booking_move"),
]
