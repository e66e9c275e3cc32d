"""The audit log in the admin: read-only, for CAST administrators (the staff page /org/review/audit/
is the main way to read it)."""

from django.contrib import admin

from kepuyue.common.paging import BoundedAdminMixin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(BoundedAdminMixin, admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "object_repr", "ip")
    list_filter = ("action",)
    search_fields = ("actor_name", "object_repr", "object_id")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
