"""Sign-in events: session flags at login, and the audit trail of logins, failures and lock-outs."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from kepuyue.audit.services import record

from . import services


@receiver(user_logged_in, dispatch_uid="accounts_logged_in")
def on_login(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        services.remember_login(request, user)
    record("account.login", actor=user, obj=user)


@receiver(user_login_failed, dispatch_uid="accounts_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    record("account.login_failed", data={"username": str(credentials.get("username", ""))[:150]})


@receiver(user_locked_out, dispatch_uid="accounts_locked_out")
def on_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    record("account.locked_out", data={"username": str(username or "")[:150]})
