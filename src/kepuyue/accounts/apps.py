from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kepuyue.accounts"
    label = "accounts"
    verbose_name = "账号与登录"

    def ready(self) -> None:
        from . import rules, signals  # noqa: F401  (registers the permissions and the sign-in handlers)
