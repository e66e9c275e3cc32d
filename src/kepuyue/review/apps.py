from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "kepuyue.review"
    label = "review"
    verbose_name = "审核与推荐"

    def ready(self) -> None:
        # Subscriptions to lower apps' events (the list of all: docs/architecture.md).
        from kepuyue.activities import signals as activities

        from . import receivers

        activities.activity_moving.connect(
            receivers.release_withdrawn_recommendation, dispatch_uid="review.release_withdrawn_recommendation"
        )
