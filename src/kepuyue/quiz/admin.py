"""The admin shows the quiz read-only, except the rounds' rules: questions come from the bank files
or the organizers' template (``load_quiz``, the bank import page), results only from the services."""

from django.contrib import admin

from .models import Attempt, Question, Round, Tally


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Question)
class QuestionAdmin(ReadOnly):
    list_display = ("key", "kind", "category", "article", "active")
    list_filter = ("kind", "category", "active")
    search_fields = ("key", "text")


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "opens_at", "closes_at", "question_count", "pass_mark")
    fields = (
        "title",
        "description",
        "opens_at",
        "closes_at",
        "time_limit_seconds",
        "attempts_per_day",
        "pass_mark",
        "certificate_title",
        "issuer",
    )

    def has_add_permission(self, request, obj=None):
        return False  # rounds come from data/quiz/rounds-*.yaml

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Attempt)
class AttemptAdmin(ReadOnly):
    list_display = ("round", "name", "status", "score", "passed", "started_at", "certificate_code")
    list_filter = ("status", "passed", "round")
    search_fields = ("certificate_code",)
    exclude = ("paper", "answers", "token")


@admin.register(Tally)
class TallyAdmin(ReadOnly):
    list_display = ("round", "scope", "label", "participants", "offline_participants", "score_sum", "passed")
    list_filter = ("round", "scope")
