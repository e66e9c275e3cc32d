"""Granting and revoking roles (角色授权) in the admin; every change lands in the audit log
(the admin's change log is copied there by ``kepuyue.audit.signals``)."""

from django.contrib import admin

from .models import RoleGrant


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "region", "organization", "joint_action", "call", "created")
    list_filter = ("role",)
    search_fields = ("user__username", "organization__name", "region__full_name")
    autocomplete_fields = ("user", "organization", "region")
    readonly_fields = ("granted_by",)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)
