from django.contrib import admin

from .models import Film, LectureLinks, LongMarchVenue, Performance, Play, Screening, Volunteer


@admin.register(Film)
class FilmAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "source_category", "years", "seeded")
    list_filter = ("category", "seeded")
    search_fields = ("title",)
    readonly_fields = ("seeded", "added_by")


@admin.register(Screening)
class ScreeningAdmin(admin.ModelAdmin):
    list_display = ("film", "activity")
    raw_id_fields = ("activity",)
    list_select_related = ("film", "activity")


@admin.register(LongMarchVenue)
class LongMarchVenueAdmin(admin.ModelAdmin):
    list_display = ("organization", "note")
    raw_id_fields = ("organization",)
    list_select_related = ("organization",)


@admin.register(Play)
class PlayAdmin(admin.ModelAdmin):
    list_display = ("title", "scientist", "university", "troupe")
    raw_id_fields = ("university",)
    list_select_related = ("university",)
    search_fields = ("title", "scientist")


@admin.register(Performance)
class PerformanceAdmin(admin.ModelAdmin):
    list_display = ("play", "activity")
    raw_id_fields = ("activity", "play")
    list_select_related = ("play", "activity")


@admin.register(Volunteer)
class VolunteerAdmin(admin.ModelAdmin):
    list_display = ("university", "role", "campaign")
    list_filter = ("role",)
    raw_id_fields = ("university",)
    list_select_related = ("university", "campaign")


@admin.register(LectureLinks)
class LectureLinksAdmin(admin.ModelAdmin):
    list_display = ("activity", "live_url", "replay_url")
    raw_id_fields = ("activity",)
    list_select_related = ("activity",)
