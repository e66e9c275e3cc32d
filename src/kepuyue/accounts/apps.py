from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kepuyue.accounts"
    label = "accounts"
    verbose_name = "账号与登录"
