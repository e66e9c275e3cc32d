"""The admin shows vehicles, tours and stops read-only: every change goes through the services (the
units' pages, the itinerary import), which recompute a tour's distance and counties and audit it."""

from django.contrib import admin

from .models import Stop, Tour, Vehicle


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Vehicle)
class VehicleAdmin(ReadOnly):
    list_display = ("name", "kind", "plate", "model", "theme", "operator", "province")
    list_filter = ("kind",)
    search_fields = ("name", "plate", "operator__name")
    list_select_related = ("operator", "province")


class StopInline(admin.TabularInline):
    model = Stop
    fields = ("date", "region", "venue_kind", "venue", "activity", "special_areas", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0


@admin.register(Tour)
class TourAdmin(ReadOnly):
    list_display = ("title", "operator", "vehicle", "status", "stop_count", "county_count", "distance_km")
    list_filter = ("status", "campaign")
    search_fields = ("title", "operator__name")
    list_select_related = ("operator", "vehicle")
    inlines = [StopInline]
