"""``manage.py grant_role <username> <role> [--region CODE | --society NAME | --joint-action SLUG | --call SLUG]``
(``--revoke`` takes it away): roles for operators without the admin site."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from kepuyue.campaigns.models import Call, JointAction
from kepuyue.campaigns.services import current_campaign
from kepuyue.orgs.models import Organization
from kepuyue.regions.models import Region
from kepuyue.roles import services
from kepuyue.roles.models import Role, RoleGrant


class Command(BaseCommand):
    help = "授予或撤销角色：平台管理员（--region 省/地级代码 或 --society 全国学会名称）、联合行动牵头单位管理员、评审专家、中国科协管理员"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", choices=Role.values)
        parser.add_argument("--region", help="省级或地级行政区划代码，如 330000")
        parser.add_argument("--society", help="全国学会名称")
        parser.add_argument("--joint-action", dest="joint_action", help="联合行动标识，如 science-museums")
        parser.add_argument("--call", help="征集标识，如 science-treasure-videos")
        parser.add_argument("--campaign", help="科普月标识（默认当前科普月）")
        parser.add_argument("--revoke", action="store_true", help="撤销该角色")

    def handle(self, *args, username, role, region, society, joint_action, call, campaign, revoke, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"没有账号“{username}”")
        scope = {}
        try:
            if region:
                scope["region"] = Region.objects.get(pk=region)
            if society:
                scope["organization"] = Organization.objects.get(name=society)
            if joint_action or call:
                plan = current_campaign() if not campaign else None
                slug = campaign or (plan.slug if plan else "")
                if joint_action:
                    scope["joint_action"] = JointAction.objects.get(campaign__slug=slug, slug=joint_action)
                if call:
                    scope["call"] = Call.objects.get(campaign__slug=slug, slug=call)
        except Region.DoesNotExist as exc:
            raise CommandError(f"没有行政区划代码“{region}”") from exc
        except Organization.DoesNotExist as exc:
            raise CommandError(f"没有名为“{society}”的单位") from exc
        except JointAction.DoesNotExist as exc:
            raise CommandError(f"当前科普月没有联合行动“{joint_action}”") from exc
        except Call.DoesNotExist as exc:
            raise CommandError(f"当前科普月没有征集“{call}”") from exc
        if revoke:
            grants = RoleGrant.objects.filter(user=user, role=role, **scope)
            if not grants:
                raise CommandError("该账号没有这个角色")
            for grant in grants:
                services.revoke_role(grant)
            self.stdout.write(f"已撤销 {username} 的角色：{Role(role).label}")
            return
        try:
            grant = services.grant_role(user, role, **scope)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(f"已授予：{grant}")
