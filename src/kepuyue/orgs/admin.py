"""Admin for organizations (参与单位) and their types."""

from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from kepuyue.common.paging import BoundedAdminMixin
from kepuyue.regions.models import Level, Region

from .models import Membership, Organization, OrganizationType


@admin.register(OrganizationType)
class OrganizationTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "order", "organization_count")
    search_fields = ("code", "name")
    ordering = ("order", "code")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(organization_count=Count("organizations"))

    @admin.display(description=_("单位数"), ordering="organization_count")
    def organization_count(self, obj):
        return obj.organization_count


class ProvinceFilter(admin.SimpleListFilter):
    """Filter units by the province of their region (省级)."""

    title = _("省份")
    parameter_name = "province"

    def lookups(self, request, model_admin):
        return list(Region.objects.filter(level=Level.PROVINCE).order_by("code").values_list("code", "name"))

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(region__province_code=self.value())
        return queryset


@admin.register(Organization)
class OrganizationAdmin(BoundedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "type", "region_name", "uscc", "updated")
    list_filter = ("type", ProvinceFilter)
    list_select_related = ("type", "region")
    search_fields = ("name", "uscc", "note")
    autocomplete_fields = ("region", "parent")
    list_per_page = 50
    readonly_fields = ("created", "updated")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("name", "type", "region", "parent", "uscc")}),
        (_("联系方式"), {"fields": ("address", "contact_name", "contact_phone", "contact_email")}),
        (_("来源"), {"fields": ("note", "source_url", "created", "updated")}),
    )

    @admin.display(description=_("所在地区"), ordering="region__code")
    def region_name(self, obj):
        return obj.region.full_name if obj.region_id else "—"


@admin.register(Membership)
class MembershipAdmin(BoundedAdminMixin, admin.ModelAdmin):
    """单位账号: which organization a staff account publishes for (one each)."""

    list_display = ("user", "organization", "created")
    list_select_related = ("user", "organization")
    search_fields = ("user__username", "organization__name")
    autocomplete_fields = ("organization",)
    raw_id_fields = ("user",)
