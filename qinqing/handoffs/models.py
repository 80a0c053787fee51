"""Hand-offs between levels (移送上级 / 下转) and pauses (挂起) of a demand's clock."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from qinqing.lib import clock


class HandOff(models.Model):
    """One demand handed from one jurisdiction's dispatcher to another level's (企呼我应's 分级流转).

    The receiving level works on `target`, a demand of its own created from `source` with its own 1231
    clock; `source` waits (移送) and gets the target's reply and outcome back, which the enterprise rates
    there. The row is what both ledgers count: the sender under 移出, the receiver under 移入."""

    class Direction(models.TextChoices):
        UP = "up", "移送上级"
        DOWN = "down", "下转下级"

    class Status(models.TextChoices):
        OPEN = "open", "办理中"
        ANSWERED = "answered", "已答复回传"

    source = models.ForeignKey("demands.Demand", models.PROTECT, related_name="handoffs_out", verbose_name="移出诉求")
    target = models.OneToOneField("demands.Demand", models.PROTECT, related_name="handoff_in",
                                  verbose_name="移入诉求")
    direction = models.CharField("方向", max_length=4, choices=Direction.choices)
    from_jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.PROTECT, related_name="+",
                                          verbose_name="移出层级")
    to_jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.PROTECT, related_name="+",
                                        verbose_name="接收层级")
    reason = models.TextField("移交理由")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="移交人")
    sent_at = models.DateTimeField("移交时间", default=clock.now)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    answered_at = models.DateTimeField("答复回传时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "层级移交"
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["from_jurisdiction", "sent_at"], name="handoff_from_sent"),
                   models.Index(fields=["to_jurisdiction", "sent_at"], name="handoff_to_sent")]
        constraints = [models.UniqueConstraint(fields=["source"], condition=Q(status="open"),
                                               name="one_open_handoff_per_demand")]

    def __str__(self):
        return f"{self.get_direction_display()} {self.source_id} → {self.target_id}"


class Pause(models.Model):
    """A handler's request to stop a demand's clock for a reason the rules allow, and what became of it.

    Approved by the dispatcher, it stands until resumed; its working days then move every deadline the
    demand had still to meet (Demand.pause_shift)."""

    class Reason(models.TextChoices):
        DOCUMENTS = "documents", "等待企业补充材料"
        COURT = "court", "等待司法裁判"
        HIGHER = "higher", "等待上级答复"
        OTHER = "other", "其他"

    class Status(models.TextChoices):
        PENDING = "pending", "待审批"
        REFUSED = "refused", "未批准"
        ACTIVE = "active", "挂起中"
        ENDED = "ended", "已恢复"

    demand = models.ForeignKey("demands.Demand", models.PROTECT, related_name="pauses", verbose_name="诉求")
    reason = models.CharField("挂起原因", max_length=10, choices=Reason.choices)
    detail = models.CharField("说明", max_length=500, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                     verbose_name="申请人")
    requested_at = models.DateTimeField("申请时间", default=clock.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="审批人")
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=500, blank=True)
    resumed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="恢复人")
    resumed_at = models.DateTimeField("恢复时间", null=True, blank=True)
    workdays = models.PositiveSmallIntegerField("挂起工作日", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "挂起"
        ordering = ["-requested_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["demand"], condition=Q(status__in=["pending", "active"]),
                                               name="one_live_pause_per_demand")]

    def __str__(self):
        return f"{self.demand_id} {self.get_reason_display()}"

    @property
    def reason_text(self) -> str:
        label = self.get_reason_display()
        return f"{label}：{self.detail}" if self.detail else label
