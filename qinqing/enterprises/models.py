"""The enterprise registry (minimal: the registry issue completes it)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from qinqing.lib import uscc


def validate_credit_code(value: str) -> None:
    try:
        uscc.validate(value)
    except uscc.InvalidCreditCode as exc:
        raise ValidationError(str(exc), code="invalid_credit_code") from exc


class Sector(models.TextChoices):
    """The industry groups district reports count by (seed 000)."""

    INDUSTRY = "industry", "工业"
    CONSTRUCTION = "construction", "建筑业"
    AGRICULTURE = "agriculture", "农林牧业"
    WHOLESALE_RETAIL = "wholesale_retail", "批发零售业"
    HOSPITALITY = "hospitality", "餐饮住宿业"
    TRANSPORT = "transport", "交通运输业"
    REAL_ESTATE = "real_estate", "房地产业"
    SERVICES = "services", "服务业及其他"


class Size(models.TextChoices):
    LARGE = "large", "大型"
    MEDIUM = "medium", "中型"
    SMALL = "small", "小型"
    MICRO = "micro", "微型"


class EnterpriseQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Enterprises a user may see: their own, their jurisdiction's, or those they serve."""
        from qinqing.accounts.models import Role

        if not user.is_authenticated:
            return self.none()
        if user.is_superuser or user.has_role(Role.ADMIN):
            return self
        q = models.Q(pk__in=[])
        if user.has_role(Role.ENTERPRISE) and user.enterprise_id:
            q |= models.Q(pk=user.enterprise_id)
        if user.has_role(Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER) and user.jurisdiction_id:
            q |= models.Q(jurisdiction__path__startswith=user.jurisdiction.path)
        if user.has_role(Role.SPECIALIST):
            q |= models.Q(service_specialist=user) | models.Q(contact_leader=user)
        if user.has_role(Role.HANDLER, Role.UNIT_HEAD) and user.unit_id:
            q |= models.Q(demands__lead_unit_id=user.unit_id) | models.Q(demands__co_units=user.unit_id)
            return self.filter(pk__in=self.filter(q).values("pk"))
        return self.filter(q)


class Enterprise(models.Model):
    """A private enterprise, keyed by its unified social credit code."""

    name = models.CharField("企业名称", max_length=120, db_index=True)
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True,
                                   validators=[validate_credit_code])
    sector = models.CharField("行业门类（统计口径）", max_length=20, choices=Sector.choices)
    industry_code = models.CharField("国民经济行业代码", max_length=5, blank=True,
                                     help_text="GB/T 4754-2017 代码，如 C3311")
    jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.PROTECT, related_name="enterprises",
                                     verbose_name="所在镇街园区")
    size = models.CharField("规模", max_length=10, choices=Size.choices, blank=True)
    is_four_above = models.BooleanField("四上企业", default=False)
    tags = models.JSONField("标签", default=list, blank=True)
    contact_name = models.CharField("联系人", max_length=40, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    service_specialist = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                           related_name="served_enterprises", verbose_name="为企服务专员")
    contact_leader = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                       related_name="led_enterprises", verbose_name="包联领导")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "企业"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.credit_code:
            self.credit_code = uscc.normalize(self.credit_code)
