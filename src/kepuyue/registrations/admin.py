"""The admin shows registrations read-only (rules, counters and personal data change only through the
services, which audit them): settings and sessions can be read, bookings searched by ticket code."""

from django.contrib import admin

from .models import Booking, CheckIn, RegistrationConfig, Session, TicketEmail


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RegistrationConfig)
class RegistrationConfigAdmin(ReadOnly):
    list_display = ("activity", "mode", "closed", "waitlist_enabled", "groups_enabled")
    list_filter = ("mode", "closed")
    raw_id_fields = ("activity",)


@admin.register(Session)
class SessionAdmin(ReadOnly):
    list_display = (
        "activity",
        "label",
        "starts_at",
        "capacity",
        "booked",
        "group_capacity",
        "group_booked",
        "closed",
    )
    raw_id_fields = ("activity",)


@admin.register(Booking)
class BookingAdmin(ReadOnly):
    list_display = ("code", "activity", "session", "kind", "status", "seats", "created_at", "checked_in_at")
    list_filter = ("status", "kind")
    search_fields = ("code",)
    raw_id_fields = ("activity", "session", "user", "checked_in_by")
    # Personal data stays off the admin's list and form (PIPL: staff pages show it masked and audited).
    exclude = ("name", "phone", "id_number", "guardian_name", "group_name", "participant_names", "token")


@admin.register(CheckIn)
class CheckInAdmin(ReadOnly):
    list_display = ("session", "result", "scanned_at", "received_at", "offline")
    list_filter = ("result", "offline")
    raw_id_fields = ("session", "booking", "by")


@admin.register(TicketEmail)
class TicketEmailAdmin(ReadOnly):
    """The ticket e-mail outbox (decision 0031): what is still due, what failed and why."""

    list_display = ("id", "booking_id", "state", "attempts", "next_attempt_at", "done_at", "error")
    list_filter = ("state",)
    raw_id_fields = ("booking",)
