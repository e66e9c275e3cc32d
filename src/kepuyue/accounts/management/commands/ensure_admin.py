"""``manage.py ensure_admin``: create the first platform administrator once, with a random password.

The password is an initial one: the first sign-in asks for a TOTP authenticator (superusers need
two-factor) and then for a new password.
"""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from kepuyue.accounts.services import require_password_change


class Command(BaseCommand):
    help = (
        "若还没有超级管理员，则创建一个（随机初始密码，只显示这一次；首次登录须绑定身份验证器并修改密码）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options):
        user_model = get_user_model()
        if user_model.objects.filter(is_superuser=True).exists():
            self.stdout.write(
                "管理员账号已存在，未重新创建。忘记密码时运行：.venv/bin/python manage.py changepassword "
                f"{username}"
            )
            return
        password = secrets.token_urlsafe(12)
        while not password[0].isalnum():  # a leading "-" reads like a command-line option
            password = secrets.token_urlsafe(12)
        user = user_model.objects.create_superuser(username=username, email="", password=password)
        require_password_change(user)
        self.stdout.write(self.style.SUCCESS("已创建管理员账号（初始密码只显示这一次，请妥善保存）："))
        self.stdout.write(f"  用户名：{username}")
        self.stdout.write(f"  密码：  {password}")
        self.stdout.write(
            "  登录：  /accounts/login/ —— 首次登录须用手机身份验证器扫码绑定，并修改初始密码。"
        )
