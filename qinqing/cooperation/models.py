"""What co-units, dispatchers and leaders record about a demand beside the lead unit's own handling.

协办任务 (one per co-unit of a dispatched demand, with its 协办意见 and due date), the 派单目录 a unit cites
when it says a dispatch is not its remit and the 退单争议 the dispatcher decides, leaders' 批示 with one
answer per unit, and the review of 区级研究推进 demands with their progress entries. Every row is written by
qinqing.cooperation.services, which also puts each step on the demand's timeline.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from qinqing.lib import clock


class TaskState(models.TextChoices):
    PENDING = "pending", "待接收"
    ACCEPTED = "accepted", "已接收"
    ANSWERED = "answered", "已提交意见"
    WITHDRAWN = "withdrawn", "已撤销"

    @classmethod
    def colour(cls, value: str) -> str:
        return {"pending": "orange", "accepted": "blue", "answered": "green"}.get(value, "grey")


OPEN_TASK_STATES = (TaskState.PENDING, TaskState.ACCEPTED)


class CoTaskQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Tasks of the demands the user may see (a co-unit sees its own demands' tasks, the lead unit all)."""
        from qinqing.demands.models import Demand

        return self.filter(demand__in=Demand.objects.visible_to(user).values("pk"))

    def live(self):
        return self.exclude(state=TaskState.WITHDRAWN)


class CoTask(models.Model):
    """协办任务: a co-unit's part of a dispatched demand — accept it, then write the 协办意见 by `due`.

    Created for each co-unit when the demand is dispatched (services.sync_co_tasks); withdrawn when the unit
    is no longer a co-unit (a return, a re-dispatch). The due date follows the lead's deadline (see
    services.opinion_due)."""

    demand = models.ForeignKey("demands.Demand", models.CASCADE, related_name="co_tasks", verbose_name="诉求")
    unit = models.ForeignKey("accounts.Unit", models.PROTECT, related_name="co_tasks", verbose_name="协办单位")
    state = models.CharField("状态", max_length=10, choices=TaskState.choices, default=TaskState.PENDING)
    due = models.DateField("意见期限")
    opinion = models.TextField("协办意见", blank=True)
    accepted_at = models.DateTimeField("接收时间", null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="接收人")
    answered_at = models.DateTimeField("提交时间", null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="提交人")
    # The due date the co-unit was last urged for: the sweep urges once per due date, and a new due date
    # (a re-dispatch) may be urged again.
    urged_for = models.DateField("已催办的期限", null=True, blank=True, editable=False)
    created_at = models.DateTimeField("创建时间", default=clock.now)

    objects = CoTaskQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "协办任务"
        ordering = ["demand_id", "id"]
        constraints = [models.UniqueConstraint(fields=["demand", "unit"], name="one_co_task_per_unit")]
        indexes = [
            # The co-unit sweep: open tasks by due date (few of all tasks).
            models.Index(fields=["due"], name="cotask_open_due", condition=Q(state__in=["pending", "accepted"])),
            models.Index(fields=["unit", "state"], name="cotask_unit_state"),
        ]

    def __str__(self):
        return f"{self.demand_id} {self.unit_id} {self.get_state_display()}"

    @property
    def state_colour(self) -> str:
        return TaskState.colour(self.state)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_TASK_STATES


class CatalogueEntry(models.Model):
    """派单目录: which unit is responsible for a matter in a jurisdiction (国办函〔2025〕66号 asks each
    locality to keep one). A unit disputing a dispatch cites the entry that names another unit."""

    jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.PROTECT, related_name="+",
                                     verbose_name="区划", help_text="目录适用的区县（含下辖镇街）")
    matter = models.CharField("事项", max_length=100)
    category = models.ForeignKey("demands.Category", models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name="对应诉求类别")
    unit = models.ForeignKey("accounts.Unit", models.PROTECT, related_name="catalogue_entries",
                             verbose_name="责任单位")
    basis = models.CharField("职责依据", max_length=200, blank=True, help_text="如三定方案、权责清单条目")
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "派单目录"
        ordering = ["jurisdiction_id", "matter"]
        constraints = [models.UniqueConstraint(fields=["jurisdiction", "matter"], name="catalogue_unique_matter")]

    def __str__(self):
        return f"{self.matter} → {self.unit}"


class DisputeStatus(models.TextChoices):
    PENDING = "pending", "待裁定"
    UPHELD = "upheld", "退单成立，已改派"
    REJECTED = "rejected", "退单不成立"

    @classmethod
    def colour(cls, value: str) -> str:
        return {"pending": "orange", "upheld": "green", "rejected": "red"}.get(value, "grey")


class Dispute(models.Model):
    """退单争议: the lead unit says the demand is not its remit, citing a 派单目录 entry; the dispatcher decides."""

    demand = models.ForeignKey("demands.Demand", models.CASCADE, related_name="disputes", verbose_name="诉求")
    unit = models.ForeignKey("accounts.Unit", models.PROTECT, related_name="+", verbose_name="提出单位")
    entry = models.ForeignKey(CatalogueEntry, models.PROTECT, related_name="disputes", verbose_name="援引目录条目")
    reason = models.TextField("理由")
    status = models.CharField("状态", max_length=10, choices=DisputeStatus.choices, default=DisputeStatus.PENDING)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="提出人")
    raised_at = models.DateTimeField("提出时间", default=clock.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="裁定人")
    decided_at = models.DateTimeField("裁定时间", null=True, blank=True)
    decision_note = models.TextField("裁定意见", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "退单争议"
        ordering = ["-raised_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["demand"], condition=Q(status="pending"),
                                               name="one_pending_dispute")]
        indexes = [models.Index(fields=["raised_at"], name="dispute_pending", condition=Q(status="pending"))]

    def __str__(self):
        return f"{self.demand_id} {self.get_status_display()}"

    @property
    def status_colour(self) -> str:
        return DisputeStatus.colour(self.status)


class Instruction(models.Model):
    """批示: a leader's instruction on an escalated demand; the lead and each co-unit must answer it."""

    demand = models.ForeignKey("demands.Demand", models.CASCADE, related_name="instructions", verbose_name="诉求")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="批示人")
    tier = models.PositiveSmallIntegerField("批示时层级")
    text = models.TextField("批示内容")
    created_at = models.DateTimeField("批示时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "领导批示"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["demand", "created_at"], name="instruction_demand")]

    def __str__(self):
        return f"{self.demand_id} {self.text[:20]}"


class InstructionAnswer(models.Model):
    """One unit's answer to a 批示: created empty for each unit when the instruction is written, so that
    what is still unanswered is one indexed lookup (answered_at IS NULL)."""

    instruction = models.ForeignKey(Instruction, models.CASCADE, related_name="answers", verbose_name="批示")
    unit = models.ForeignKey("accounts.Unit", models.PROTECT, related_name="+", verbose_name="单位")
    lead = models.BooleanField("主办单位", default=False)
    text = models.TextField("落实情况", blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="反馈人")
    answered_at = models.DateTimeField("反馈时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "批示落实反馈"
        ordering = ["instruction_id", "-lead", "id"]
        constraints = [models.UniqueConstraint(fields=["instruction", "unit"], name="one_answer_per_unit")]
        indexes = [models.Index(fields=["unit"], name="answer_unit_pending", condition=Q(answered_at__isnull=True))]

    def __str__(self):
        return f"{self.instruction_id} {self.unit_id}"


class Review(models.Model):
    """The review of a 区级研究推进 demand: the date by which the lead unit owes its next progress entry.

    Set when the demand is marked (default one month later, the dispatcher may change it); each progress
    entry moves it one interval after the entry. A review date that has passed lists the demand on the
    supervision board as 研究推进无进展."""

    demand = models.OneToOneField("demands.Demand", models.CASCADE, related_name="long_term_review",
                                  verbose_name="诉求")
    review_on = models.DateField("下次评估日期")
    interval_months = models.PositiveSmallIntegerField("进展报送周期（月）", default=1)
    last_progress_at = models.DateTimeField("最近进展", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "研究推进评估"
        indexes = [models.Index(fields=["review_on"], name="review_on")]

    def __str__(self):
        return f"{self.demand_id} {self.review_on}"


class Progress(models.Model):
    """A periodic progress entry (进展) of a 区级研究推进 demand by its lead unit."""

    demand = models.ForeignKey("demands.Demand", models.CASCADE, related_name="progress_entries",
                               verbose_name="诉求")
    unit = models.ForeignKey("accounts.Unit", models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name="单位")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="填报人")
    text = models.TextField("进展情况")
    created_at = models.DateTimeField("填报时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "研究推进进展"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["demand", "created_at"], name="progress_demand")]

    def __str__(self):
        return f"{self.demand_id} {self.created_at:%Y-%m-%d}"
