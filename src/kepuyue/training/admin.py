"""The 大讲堂 in the admin: courses with their lessons inline (the lessons' rules in ``Lesson.clean``)."""

from django.contrib import admin

from .models import Course, Lesson


class LessonInline(admin.StackedInline):
    model = Lesson
    extra = 0
    autocomplete_fields = ("activity",)


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("title", "campaign", "topic", "organizer", "published")
    list_filter = ("campaign", "published")
    search_fields = ("title", "slug", "organizer__name")
    list_select_related = ("campaign", "organizer")
    autocomplete_fields = ("organizer",)
    inlines = [LessonInline]
