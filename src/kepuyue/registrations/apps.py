from django.apps import AppConfig


class RegistrationsConfig(AppConfig):
    name = "kepuyue.registrations"
    label = "registrations"
    verbose_name = "报名与签到"

    def ready(self) -> None:
        # Subscriptions to lower apps' events (the list of all: docs/architecture.md).
        from kepuyue.activities import signals as activities
        from kepuyue.common import background

        from . import receivers, rules  # noqa: F401  (rules registers registrations.* permissions)
        from .services import outbox

        activities.activity_moving.connect(
            receivers.close_on_withdrawal, dispatch_uid="registrations.close_on_withdrawal"
        )
        activities.attendance_requested.connect(receivers.attendance, dispatch_uid="registrations.attendance")
        # Ticket e-mails a killed process left in the outbox, and retries (decision 0031).
        background.every(outbox.SWEEP_SECONDS, outbox.sweep)
