"""Accounts in the admin: a new account, or a password an administrator sets, must be changed by its
owner at the next sign-in; applications to join are listed read-only (they are decided on the review
pages, through the services, so scope and audit always apply)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from . import services
from .models import OrganizationApplication, Profile

User = get_user_model()


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ["phone", "must_change_password", "password_changed_at"]
    readonly_fields = ["password_changed_at"]


class AccountAdmin(UserAdmin):
    inlines = [ProfileInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            services.require_password_change(obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if (
            not change
        ):  # the inline may have written must_change_password=False: an initial password stays one
            services.require_password_change(form.instance)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302 and str(request.user.pk) != str(id):
            services.require_password_change(User.objects.get(pk=id))
        return response


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, AccountAdmin)


@admin.register(OrganizationApplication)
class OrganizationApplicationAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "region", "status", "submitted_at", "decided_by"]
    list_filter = ["status", "type"]
    search_fields = ["name", "uscc", "applicant__username"]
    exclude = ["proof"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
