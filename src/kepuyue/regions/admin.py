"""Admin for Region 行政区划: read-only browsing; the rows come from ``manage.py load_regions``."""

from django.contrib import admin

from .models import Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "full_name", "is_official")
    list_filter = ("level", "is_official")
    search_fields = ("code", "name", "full_name")
    ordering = ("code",)
    list_per_page = 100
    show_full_result_count = False
    readonly_fields = ("code", "name", "level", "parent", "province_code", "full_name", "is_official")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
