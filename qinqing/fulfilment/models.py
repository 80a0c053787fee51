"""政策兑现: applications (申报) for ordinary policies, 免申即享 batches, and the fulfilment ledger (兑现台账).

Two roads lead to one ledger row (FulfilmentRecord): an Application approved with an amount granted, or a
line of an approved Batch (免申即享: the eligible enterprises and their amounts, computed in SQL from the
policy's rule and amount rule, prepared by one person and approved by another). A record is "granted" when it
is written and "paid" (兑现) when its payment date is recorded; the days from application (or batch approval)
to payment are stored with the payment, both in calendar days and in working days on the official calendar,
so the ledger's averages and medians are plain aggregates. Every change appends a FulfilmentEvent.
"""

from django.conf import settings
from django.db import models

from qinqing.lib import clock
from qinqing.lib.append_only import AppendOnlyModel


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", "待审核"
    APPROVED = "approved", "已通过"
    REJECTED = "rejected", "未通过"
    PAID = "paid", "已兑现"


APPLICATION_COLOURS = {ApplicationStatus.SUBMITTED: "blue", ApplicationStatus.APPROVED: "orange",
                       ApplicationStatus.REJECTED: "red", ApplicationStatus.PAID: "green"}


class Channel(models.TextChoices):
    PORTAL = "portal", "企业网上申报"
    OFFLINE = "offline", "线下受理（工作人员登记）"


class ScopedQuerySet(models.QuerySet):
    """visible_to for rows that belong to an enterprise: exactly the rows of the enterprises the user may see in
    the registry (Enterprise.objects.visible_to: an enterprise account its own; dispatchers, supervisors and
    leaders their jurisdiction's; specialists those they serve; handlers those of their unit's demands)."""

    enterprise_field = "enterprise"

    def visible_to(self, user):
        from qinqing.accounts.models import Role
        from qinqing.enterprises.models import Enterprise

        if not user.is_authenticated:
            return self.none()
        if user.is_superuser or user.has_role(Role.ADMIN):
            return self
        if user.has_role(Role.ENTERPRISE) and not user.is_staff_user:
            if not user.enterprise_id:
                return self.none()
            return self.filter(**{f"{self.enterprise_field}_id": user.enterprise_id})
        return self.filter(**{f"{self.enterprise_field}__in": Enterprise.objects.visible_to(user).values("pk")})


class Application(models.Model):
    """One enterprise's application (申报) for one ordinary policy: submitted on the portal within the window or
    recorded by staff from paper, reviewed (approved with the amount granted, or rejected with the reason), and
    paid. An enterprise applies once per policy."""

    policy = models.ForeignKey("policies.Policy", models.PROTECT, related_name="applications", verbose_name="政策")
    enterprise = models.ForeignKey("enterprises.Enterprise", models.PROTECT, related_name="policy_applications",
                                   verbose_name="企业")
    channel = models.CharField("申报渠道", max_length=10, choices=Channel.choices, default=Channel.PORTAL)
    status = models.CharField("状态", max_length=10, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.SUBMITTED)
    amount_requested = models.DecimalField("申请金额（万元）", max_digits=12, decimal_places=2, null=True, blank=True)
    statement = models.TextField("申报说明", blank=True)
    submitted_on = models.DateField("申报日期", default=clock.today)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name="申报人/登记人")
    amount_granted = models.DecimalField("核定金额（万元）", max_digits=12, decimal_places=2, null=True, blank=True)
    reject_reason = models.TextField("不予通过原因", blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="审核人")
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    created_at = models.DateTimeField("登记时间", default=clock.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "政策申报"
        ordering = ["-submitted_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["policy", "enterprise"], name="one_application_per_policy")]
        indexes = [models.Index(fields=["policy", "status"], name="application_policy_status")]

    def __str__(self):
        return f"{self.enterprise} · {self.policy}"

    @property
    def status_colour(self) -> str:
        return APPLICATION_COLOURS.get(self.status, "grey")


class BatchStatus(models.TextChoices):
    DRAFT = "draft", "编制中"
    SUBMITTED = "submitted", "待审批"
    APPROVED = "approved", "已审批"
    REJECTED = "rejected", "已退回"


BATCH_COLOURS = {BatchStatus.DRAFT: "grey", BatchStatus.SUBMITTED: "blue", BatchStatus.APPROVED: "green",
                 BatchStatus.REJECTED: "red"}


class BatchQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff who may see the policy; enterprises see no batch (they see their own records)."""
        from qinqing.policies.models import Policy

        if not user.is_authenticated or not user.is_staff_user:
            return self.none()
        return self.filter(policy__in=Policy.objects.visible_to(user))


class Batch(models.Model):
    """A 免申即享 batch: the enterprises eligible for a policy on `as_of` and the amount each gets by the policy's
    amount rule, built by a preparer, submitted, and approved by a different person (两人复核)."""

    policy = models.ForeignKey("policies.Policy", models.PROTECT, related_name="fulfilment_batches",
                               verbose_name="政策")
    title = models.CharField("批次名称", max_length=100)
    status = models.CharField("状态", max_length=10, choices=BatchStatus.choices, default=BatchStatus.DRAFT)
    as_of = models.DateField("资格认定日", default=clock.today)
    enterprise_count = models.PositiveIntegerField("企业数", default=0)
    total_amount = models.DecimalField("合计金额（万元）", max_digits=16, decimal_places=2, default=0)
    unpriced_count = models.PositiveIntegerField("无法测算金额的企业数", default=0,
                                                 help_text="年度数据缺失或金额规则为“按实际”，金额需人工核定")
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                    verbose_name="编制人")
    prepared_at = models.DateTimeField("编制时间", default=clock.now)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="审批人")
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    reject_reason = models.TextField("退回原因", blank=True)
    paid_on = models.DateField("拨付日期", null=True, blank=True)

    objects = BatchQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "免申即享批次"
        ordering = ["-prepared_at", "-id"]

    def __str__(self):
        return self.title

    @property
    def status_colour(self) -> str:
        return BATCH_COLOURS.get(self.status, "grey")


class BatchLine(models.Model):
    """One enterprise of a batch and the amount the rule gives it (NULL: to be fixed by hand, see unpriced)."""

    batch = models.ForeignKey(Batch, models.CASCADE, related_name="lines", verbose_name="批次")
    enterprise = models.ForeignKey("enterprises.Enterprise", models.PROTECT, related_name="+", verbose_name="企业")
    amount = models.DecimalField("金额（万元）", max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "批次明细"
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["batch", "enterprise"], name="one_line_per_enterprise")]

    def __str__(self):
        return f"{self.batch_id} · {self.enterprise_id}"


class RecordQuerySet(ScopedQuerySet):
    def paid(self):
        return self.filter(paid_on__isnull=False)


class FulfilmentRecord(models.Model):
    """A line of the 兑现台账: what one enterprise was granted under one policy, by which road, and when it was
    paid. `benefit_type` and `jurisdiction` are copied from the policy and the enterprise when the record is
    written, so the ledger's totals group on the record's own columns."""

    class Source(models.TextChoices):
        APPLICATION = "application", "申报兑现"
        BATCH = "batch", "免申即享"

    policy = models.ForeignKey("policies.Policy", models.PROTECT, related_name="fulfilments", verbose_name="政策")
    enterprise = models.ForeignKey("enterprises.Enterprise", models.PROTECT, related_name="fulfilments",
                                   verbose_name="企业")
    jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.PROTECT, related_name="+",
                                     verbose_name="企业所在镇街园区")
    benefit_type = models.CharField("扶持类型", max_length=10)
    source = models.CharField("兑现方式", max_length=12, choices=Source.choices)
    application = models.OneToOneField(Application, models.PROTECT, null=True, blank=True,
                                       related_name="fulfilment", verbose_name="申报")
    batch = models.ForeignKey(Batch, models.PROTECT, null=True, blank=True, related_name="records",
                              verbose_name="批次")
    amount = models.DecimalField("兑现金额（万元）", max_digits=12, decimal_places=2)
    started_on = models.DateField("起算日期", help_text="申报日期，或免申即享批次的审批日期")
    granted_on = models.DateField("核定日期")
    paid_on = models.DateField("兑现日期", null=True, blank=True)
    days_to_pay = models.IntegerField("兑现用时（自然日）", null=True, blank=True)
    workdays_to_pay = models.IntegerField("兑现用时（工作日）", null=True, blank=True)

    objects = RecordQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "兑现台账"
        ordering = ["-granted_on", "-id"]
        indexes = [models.Index(fields=["paid_on", "jurisdiction"], name="fulfilment_paid_place"),
                   models.Index(fields=["policy", "paid_on"], name="fulfilment_policy_paid")]
        constraints = [models.UniqueConstraint(fields=["batch", "enterprise"], name="one_record_per_batch_line")]

    def __str__(self):
        return f"{self.enterprise_id} · {self.policy_id} · {self.amount}"


class FulfilmentEvent(AppendOnlyModel):
    """One line of the fulfilment trail: an application submitted, reviewed, paid; a batch built, submitted,
    approved, returned, paid. Exactly one of application / batch is set."""

    class Verb(models.TextChoices):
        APPLY = "apply", "提交申报"
        RECORD = "record", "登记线下申报"
        APPROVE = "approve", "审核通过"
        REJECT = "reject", "不予通过"
        PAY = "pay", "登记兑现"
        BUILD = "build", "编制批次"
        SUBMIT = "submit", "提交审批"
        APPROVE_BATCH = "approve_batch", "审批通过"
        RETURN = "return", "退回批次"

    policy = models.ForeignKey("policies.Policy", models.CASCADE, related_name="fulfilment_events",
                               verbose_name="政策")
    application = models.ForeignKey(Application, models.CASCADE, null=True, blank=True, related_name="events",
                                    verbose_name="申报")
    batch = models.ForeignKey(Batch, models.CASCADE, null=True, blank=True, related_name="events",
                              verbose_name="批次")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name="操作人")
    verb = models.CharField("操作", max_length=16, choices=Verb.choices)
    note = models.TextField("说明", blank=True)
    changes = models.JSONField("变更", default=dict, blank=True)
    created_at = models.DateTimeField("时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "兑现操作记录"
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.get_verb_display()} {self.created_at:%Y-%m-%d}"
