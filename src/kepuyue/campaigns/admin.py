"""Admin pages for the campaign plan (活动方案), read-only.

The plan's rows are written only by ``manage.py load_campaign`` from ``campaigns/<slug>.yaml``;
a change made here would be reverted by the next load, so the admin shows and searches the data
but does not edit it. To change the plan, edit the YAML file and load it again.
"""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import Brand, Call, Campaign, Contact, Deadline, JointAction, KeyTask, Target

READ_ONLY_NOTE = _(
    "本页数据由方案文件（campaigns/*.yaml）经 load_campaign 导入；如需修改，请修改文件后重新导入。"
)


class PlanReadOnly:
    """View and search only: the YAML file is the single source of the plan."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PlanAdmin(PlanReadOnly, admin.ModelAdmin):
    def changelist_view(self, request, extra_context=None):
        # The list's subtitle line tells staff where the data comes from and how to change it.
        extra_context = {**(extra_context or {}), "subtitle": READ_ONLY_NOTE}
        return super().changelist_view(request, extra_context)


class PlanInline(PlanReadOnly, admin.TabularInline):
    extra = 0
    show_change_link = True


class JointActionInline(PlanInline):
    model = JointAction
    fields = ["number", "name", "window_start", "window_end", "managing_unit"]


class DeadlineInline(PlanInline):
    model = Deadline
    fields = ["at", "kind", "title", "joint_action", "plan_ref"]


class KeyTaskInline(PlanInline):
    model = KeyTask
    fields = ["number", "name", "slug", "plan_ref"]


class BrandInline(PlanInline):
    model = Brand
    fk_name = "joint_action"
    fields = ["order", "name", "slug", "parent", "key_task", "aliases", "plan_ref"]


class TargetInline(PlanInline):
    model = Target
    fields = ["order", "label", "value", "value_max", "unit", "approx", "plan_text", "brand"]


class ContactInline(PlanInline):
    model = Contact
    fields = ["order", "unit", "topic", "person", "phone", "email"]


class CallInline(PlanInline):
    model = Call
    fields = ["title", "kind", "opens_at", "closes_at", "brand"]


@admin.register(Campaign)
class CampaignAdmin(PlanAdmin):
    list_display = ["name", "slug", "year", "theme", "starts", "ends", "updated"]
    list_filter = ["year"]
    search_fields = ["name", "slug", "theme"]
    date_hierarchy = "starts"
    inlines = [JointActionInline, DeadlineInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(JointAction)
class JointActionAdmin(PlanAdmin):
    list_display = ["name", "number", "campaign", "window_start", "window_end", "managing_unit", "plan_ref"]
    list_display_links = ["name"]
    list_filter = ["campaign", "participant_types"]
    search_fields = ["name", "name_en", "slug", "participants", "managing_unit"]
    list_select_related = ["campaign"]
    inlines = [KeyTaskInline, BrandInline, TargetInline, ContactInline, DeadlineInline, CallInline]


@admin.register(KeyTask)
class KeyTaskAdmin(PlanAdmin):
    list_display = ["name", "number", "joint_action", "plan_ref"]
    list_filter = ["joint_action__campaign", "joint_action"]
    search_fields = ["name", "description", "slug"]
    list_select_related = ["joint_action"]


@admin.register(Brand)
class BrandAdmin(PlanAdmin):
    list_display = ["name", "joint_action", "parent", "key_task", "aliases", "plan_ref"]
    list_filter = ["joint_action__campaign", "joint_action"]
    search_fields = ["name", "slug", "aliases", "description"]
    list_select_related = ["joint_action", "parent", "key_task"]
    inlines = [TargetInline]


@admin.register(Target)
class TargetAdmin(PlanAdmin):
    list_display = ["label", "display_value", "joint_action", "brand", "plan_text"]
    list_filter = ["joint_action__campaign", "joint_action", "approx"]
    search_fields = ["label", "plan_text", "slug", "brand__name"]
    list_select_related = ["joint_action", "brand"]

    @admin.display(description=_("数量"))
    def display_value(self, obj):
        return obj.display_value


@admin.register(Deadline)
class DeadlineAdmin(PlanAdmin):
    list_display = ["title", "at", "kind", "joint_action", "campaign", "plan_ref"]
    list_filter = ["campaign", "kind", "joint_action"]
    search_fields = ["title", "slug", "description"]
    date_hierarchy = "at"
    list_select_related = ["campaign", "joint_action"]


@admin.register(Contact)
class ContactAdmin(PlanAdmin):
    list_display = ["unit", "person", "phone", "email", "topic", "joint_action"]
    list_filter = ["joint_action__campaign", "joint_action"]
    search_fields = ["unit", "person", "phone", "email", "topic"]
    list_select_related = ["joint_action"]


@admin.register(Call)
class CallAdmin(PlanAdmin):
    list_display = ["title", "kind", "joint_action", "brand", "opens_at", "closes_at", "publication"]
    list_filter = ["campaign", "kind", "joint_action", "eligible_types"]
    search_fields = ["title", "slug", "description"]
    date_hierarchy = "opens_at"
    list_select_related = ["joint_action", "brand"]
