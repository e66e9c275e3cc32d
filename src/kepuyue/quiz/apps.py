from django.apps import AppConfig


class QuizConfig(AppConfig):
    name = "kepuyue.quiz"
    label = "quiz"
    verbose_name = "科普法知识测验"

    def ready(self):
        # The quiz's public pages (page cache, ADR 0025): a round saved or deleted makes ``quiz`` stale.
        from django.db import transaction
        from django.db.models.signals import post_delete, post_save

        from kepuyue.common.pagecache import bump

        from .models import Round

        def round_saved(sender, raw=False, **kwargs):
            if not raw:
                transaction.on_commit(lambda: bump("quiz"), robust=True)

        post_save.connect(round_saved, sender=Round, dispatch_uid="kepuyue.quiz.round-saved", weak=False)
        post_delete.connect(round_saved, sender=Round, dispatch_uid="kepuyue.quiz.round-deleted", weak=False)
