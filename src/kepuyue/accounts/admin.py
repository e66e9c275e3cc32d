"""Accounts in the admin: a new account, or a password an administrator sets, must be changed by its
owner at the next sign-in; applications to join are listed read-only (they are decided on the review
pages, through the services, so scope and audit always apply)."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kepuyue.common.paging import BoundedAdminMixin
from kepuyue.common.text import PhoneField, normalize_email

from . import services
from .models import OrganizationApplication, Profile

User = get_user_model()


class ProfileForm(forms.ModelForm):
    """The profile in the admin: the phone in the same canonical form as at sign-up (11 digits)."""

    phone = PhoneField(label=_("手机号码"), required=False, max_length=40, mobile_only=True)

    class Meta:
        model = Profile
        fields = ["phone", "must_change_password"]


class ProfileInline(admin.StackedInline):
    model = Profile
    form = ProfileForm
    can_delete = False
    fields = ["phone", "must_change_password", "password_changed_at"]
    readonly_fields = ["password_changed_at"]


class AccountAdmin(BoundedAdminMixin, UserAdmin):
    inlines = [ProfileInline]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "email" in form.base_fields:
            form.base_fields["email"].clean = _email_cleaner(form.base_fields["email"], obj)
        return form

    def save_model(self, request, obj, form, change):
        # The profile row is written by the inline (with the phone typed there) in save_related, then
        # marked there; creating it here first made the inline's insert collide with it (a 500 when
        # an administrator created an account with a phone number).
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:  # an initial password stays one, whatever the inline said
            services.require_password_change(form.instance)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302 and str(request.user.pk) != str(id):
            services.require_password_change(User.objects.get(pk=id))
        return response


def _email_cleaner(field, account):
    """The admin's e-mail field: canonical form (lower case, IDNA domain) and one account per
    mailbox, as at sign-up."""
    original = field.clean

    def clean(value):
        value = original(value)
        if not value:
            return value
        email = normalize_email(value, label=str(field.label or ""))
        others = User.objects.filter(email__iexact=email) | User.objects.filter(username__iexact=email)
        if account is not None:
            others = others.exclude(pk=account.pk)
        if others.exists():
            raise ValidationError(_("该电子邮箱已被其他账号使用"))
        return email

    return clean


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
