"""The admin's view of entries (征集作品): read-only; the workflow runs through the staff pages and
``kepuyue.calls.services`` so that every step is checked and audited."""

from django.contrib import admin

from kepuyue.common.paging import BoundedAdminMixin

from .models import CityWalkStop, Entry, EntryImage, Score


class StopInline(admin.TabularInline):
    model = CityWalkStop
    extra = 0
    can_delete = False
    readonly_fields = ("order", "name", "address", "region", "is_own_venue")


class ImageInline(admin.TabularInline):
    model = EntryImage
    extra = 0
    can_delete = False
    readonly_fields = ("order", "format", "width", "height", "size", "sha256")
    exclude = ("file", "public_file")


class ScoreInline(admin.TabularInline):
    model = Score
    extra = 0
    can_delete = False
    readonly_fields = ("judge", "scores", "total", "comment")


@admin.register(Entry)
class EntryAdmin(BoundedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "title", "call", "organization", "status", "submitted_at", "duplicate_of")
    list_filter = ("status", "call")
    search_fields = ("code", "title", "organization__name", "sha256", "isbn")
    list_select_related = ("call", "organization", "duplicate_of")
    inlines = [StopInline, ImageInline, ScoreInline]
    exclude = ("file", "poster", "public_file", "public_poster")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Entry._meta.fields if f.name not in self.exclude]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
