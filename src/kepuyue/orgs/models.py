"""Organizations that take part in the campaign, and their types."""

from django.db import models

from kepuyue.common.models import TimestampedModel

from .validators import validate_uscc


class OrganizationType(models.Model):
    """A participant type (参与对象类型) named in the campaign plan, e.g. 全国学会, 科普教育基地.

    Declared in the campaign YAML (``organization_types``) and upserted by ``code`` on load, so
    a new year's plan can add a type without a code change.
    """

    code = models.SlugField("代码", max_length=64, primary_key=True)
    name = models.CharField("名称", max_length=64, unique=True)
    description = models.TextField("说明", blank=True)
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "组织类型"
        verbose_name_plural = "组织类型"
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class Organization(TimestampedModel):
    """A participating unit (参与单位): a society, science association, base, museum, university …

    ``uscc`` is the optional 统一社会信用代码 (GB 32100-2015, 18 characters, check character
    validated by ``kepuyue.orgs.validators.validate_uscc``; ``clean()`` stores it upper-case).
    ``name`` is unique: the official unit name is how units are told apart in the plan and in imports.
    """

    name = models.CharField("单位名称", max_length=200, unique=True)
    type = models.ForeignKey(
        OrganizationType, verbose_name="单位类型", on_delete=models.PROTECT, related_name="organizations"
    )
    region = models.ForeignKey(
        "regions.Region",
        verbose_name="所在地区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organizations",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="上级单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    uscc = models.CharField(
        "统一社会信用代码", max_length=18, blank=True, default="", validators=[validate_uscc]
    )
    address = models.CharField("地址", max_length=255, blank=True)
    contact_name = models.CharField("联系人", max_length=64, blank=True)
    contact_phone = models.CharField("联系电话", max_length=64, blank=True)
    contact_email = models.EmailField("电子邮箱", blank=True)
    # Set by the unit (its account page): ``contact_phone`` is an office line the public may call
    # (预约/咨询电话), shown in full on public pages; personal mobiles stay masked (issue 11.6).
    phone_public = models.BooleanField("联系电话为对外办公电话（公开显示）", default=False)
    note = models.CharField("备注", max_length=255, blank=True)
    source_url = models.URLField("来源", max_length=500, blank=True)

    class Meta:
        verbose_name = "参与单位"
        verbose_name_plural = "参与单位"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["uscc"], condition=~models.Q(uscc=""), name="orgs_organization_uscc_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # The field validator accepted the code in any case and width; store its normal form.
        if self.uscc:
            self.uscc = validate_uscc(self.uscc)


class Membership(TimestampedModel):
    """A staff account's place in an organization (单位账号): the user publishes for it.

    One organization per staff account (issue "accounts, roles"); roles and scopes are added there.
    """

    user = models.OneToOneField(
        "auth.User", verbose_name="账号", on_delete=models.CASCADE, related_name="membership"
    )
    organization = models.ForeignKey(
        Organization, verbose_name="所属单位", on_delete=models.CASCADE, related_name="memberships"
    )

    class Meta:
        verbose_name = "单位账号"
        verbose_name_plural = "单位账号"

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization}"
