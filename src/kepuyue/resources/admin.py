from django.contrib import admin

from .models import Resource


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "joint_action", "downloads", "hidden", "created")
    list_filter = ("kind", "hidden", "joint_action")
    search_fields = ("title", "description")
    readonly_fields = ("downloads", "sha256", "file_size", "file_format", "uploaded_by")
