"""Activities in the Chinese admin: activities (500,000 rows: no full counts, ids for the big
foreign keys) and import jobs."""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from kepuyue.common.paging import BoundedAdminMixin, BoundedPaginator
from kepuyue.search.services import search_text_for

from .models import Activity, ExportJob, ImportJob
from .services import CAMPAIGN_WIDE_LABEL, region_codes

SEARCH_COUNT_CAP = 1000


class ProvinceFilter(admin.SimpleListFilter):
    """按省份 on the copied ``province_code`` (one indexed column, no join)."""

    title = _("省份")
    parameter_name = "province"

    def lookups(self, request, model_admin):
        from kepuyue.regions.models import Region

        return list(Region.objects.filter(level=1).order_by("code").values_list("code", "name"))

    def queryset(self, request, queryset):
        return queryset.filter(province_code=self.value()) if self.value() else queryset


class JointActionFilter(admin.RelatedFieldListFilter):
    """按联合行动, with the activities of no joint action offered as 全国科普月活动."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.empty_value_display = CAMPAIGN_WIDE_LABEL


@admin.register(Activity)
class ActivityAdmin(BoundedAdminMixin, admin.ModelAdmin):
    list_display = (
        "title",
        "status",
        "joint_action_name",
        "brand",
        "organizer",
        "province_code",
        "starts_at",
    )
    list_filter = ("status", ("joint_action", JointActionFilter), ProvinceFilter, "form")
    list_select_related = ("joint_action", "brand", "organizer")
    # The search box goes through the full-text index (kepuyue.search), not LIKE over 500,000 titles;
    # a number finds the activity with that id (see get_search_results).
    search_fields = ("title",)
    search_help_text = _("按活动名称、简介、主办单位、地点检索（全文索引）；输入数字按活动编号查找")
    raw_id_fields = ("organizer", "region")
    # The status moves only through services.transition (its checks, its timestamps); the admin
    # edits content, and save_model keeps the derived columns in step as the services do.
    readonly_fields = (
        "status",
        "search_text",
        "province_code",
        "prefecture_code",
        "county_code",
        "submitted_at",
        "published_at",
        "created",
        "updated",
    )
    list_per_page = 50
    # Newest first by primary key: the list walks the primary key backwards and stops after a page
    # (the model's start-time order would sort all 500,000 rows for every page). Columns sort only
    # where an index serves the order.
    ordering = ("-id",)
    sortable_by = ("starts_at",)

    def save_model(self, request, obj, form, change):
        obj.province_code, obj.prefecture_code, obj.county_code = region_codes(obj.region)
        obj.search_text = search_text_for(obj)
        super().save_model(request, obj, form, change)

    @admin.display(description=_("联合行动"), ordering="joint_action__number")
    def joint_action_name(self, activity):
        return activity.joint_action.name if activity.joint_action_id else CAMPAIGN_WIDE_LABEL

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "campaign",
                    "joint_action",
                    "key_task",
                    "brand",
                    "title",
                    "summary",
                    "description",
                )
            },
        ),
        (
            _("主办"),
            {"fields": ("organizer", "co_organizers", "contact_name", "contact_phone", "external_id")},
        ),
        (
            _("时间与地点"),
            {
                "fields": (
                    "starts_at",
                    "ends_at",
                    "form",
                    "online_url",
                    "region",
                    "venue",
                    "latitude",
                    "longitude",
                )
            },
        ),
        (
            _("对象与主题"),
            {
                "fields": (
                    "audiences",
                    "topics",
                    "special_areas",
                    "expected_participants",
                    "science_workers",
                    "poster",
                )
            },
        ),
        (_("系统"), {"fields": readonly_fields}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).defer("description", "description_html", "search_text")

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        """A search counts at most 1,000 matches: a common word matches tens of thousands of rows and
        each counted match is re-checked against its text (PostgreSQL) — a second for 10,000."""
        capped = {"cap": SEARCH_COUNT_CAP} if request.GET.get("q", "").strip() else {}
        return BoundedPaginator(queryset, per_page, orphans, allow_empty_first_page, **capped)

    def get_search_results(self, request, queryset, search_term):
        """Full-text search (``search.services.search_activities``: FTS5 on SQLite, GIN on
        PostgreSQL) — ``icontains`` on the title scanned every row for a rare word; digits find the id."""
        from kepuyue.search.services import search_activities

        term = search_term.strip()[:100]
        if not term:
            return queryset, False
        if term.isascii() and term.isdigit() and len(term) < 12:
            return queryset.filter(pk=int(term)), False
        # in_index_order: the change list reads one page in primary-key order; on SQLite the service
        # then probes each row of that walk for a common word instead of collecting every match.
        return search_activities(queryset, term, in_index_order=True), False


@admin.register(ImportJob)
class ImportJobAdmin(BoundedAdminMixin, admin.ModelAdmin):
    list_display = (
        "original_name",
        "organization",
        "state",
        "total",
        "valid_rows",
        "created_count",
        "updated_count",
        "unchanged_count",
        "created",
    )
    list_filter = ("state",)
    list_select_related = ("organization", "created_by")
    raw_id_fields = ("organization", "created_by")
    readonly_fields = (
        "state",
        "total",
        "processed",
        "valid_rows",
        "created_count",
        "updated_count",
        "unchanged_count",
        "report",
        "error",
        "created",
        "updated",
    )
    search_fields = ("original_name",)


@admin.register(ExportJob)
class ExportJobAdmin(BoundedAdminMixin, admin.ModelAdmin):
    """导出任务, read-only: the file itself is downloadable by its owner only (not from the admin)."""

    list_display = ("filename", "owner", "kind", "fmt", "state", "total", "created", "expires_at")
    list_filter = ("state", "kind", "fmt")
    list_select_related = ("owner",)
    raw_id_fields = ("owner", "organization")
    exclude = ("file",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
