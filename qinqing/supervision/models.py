"""督办: formal urging notices (督办单) the supervision office issues to a unit about a demand.

The overdue sweep's automatic 催办 (`demands.Urging`) is a reminder; a 督办单 is a document: numbered,
addressed to the lead unit, with its own deadline for a written answer. When the unit lets that deadline
pass, the notice is escalated (升级督办): it is marked as ignored and a second-level notice, reported to
the district leaders, takes its place with a new deadline.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from qinqing.demands.models import Stage
from qinqing.lib import clock
from qinqing.lib.append_only import AppendOnlyModel


class NoticeStatus(models.TextChoices):
    ISSUED = "issued", "待反馈"
    ANSWERED = "answered", "已反馈"
    ESCALATED = "escalated", "逾期未反馈，已升级"


NOTICE_COLOURS = {NoticeStatus.ISSUED: "orange", NoticeStatus.ANSWERED: "green", NoticeStatus.ESCALATED: "red"}


class Level(models.IntegerChoices):
    OFFICE = 1, "督查室督办"
    LEADERS = 2, "升级督办（报区领导）"


class NoticeQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Notices about demands the user may see (the unit's own staff see theirs)."""
        from qinqing.demands.models import Demand

        return self.filter(demand__in=Demand.objects.visible_to(user))


class SupervisionNotice(models.Model):
    year = models.PositiveSmallIntegerField("年度")
    serial = models.PositiveIntegerField("序号")
    demand = models.ForeignKey("demands.Demand", models.PROTECT, related_name="supervision_notices",
                               verbose_name="诉求")
    unit = models.ForeignKey("accounts.Unit", models.PROTECT, related_name="supervision_notices",
                             verbose_name="被督办单位")
    stage = models.CharField("超期环节", max_length=10, choices=Stage.choices)
    stage_due = models.DateField("环节期限")
    level = models.PositiveSmallIntegerField("督办级别", choices=Level.choices, default=Level.OFFICE)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="escalations",
                               verbose_name="原督办单")
    requirement = models.TextField("督办要求")
    reply_due = models.DateField("反馈期限")
    status = models.CharField("状态", max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.ISSUED)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name="督办人")
    issued_at = models.DateTimeField("下发时间", default=clock.now)
    answer = models.TextField("反馈内容", blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="反馈人")
    answered_at = models.DateTimeField("反馈时间", null=True, blank=True)
    escalated_at = models.DateTimeField("升级时间", null=True, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "督办单"
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["year", "serial"], name="notice_unique_number"),
            # One notice awaiting an answer per demand: a second one would only blur who must answer.
            models.UniqueConstraint(fields=["demand"], condition=Q(status="issued"), name="one_open_notice"),
        ]
        indexes = [models.Index(fields=["status", "reply_due"], name="notice_status_due"),
                   models.Index(fields=["unit", "issued_at"], name="notice_unit_issued")]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return f"督办〔{self.year}〕{self.serial}号"

    @property
    def status_colour(self) -> str:
        return NOTICE_COLOURS.get(self.status, "grey")


class NoticeEvent(AppendOnlyModel):
    """What happened to a notice, who did it and when. Append-only."""

    notice = models.ForeignKey(SupervisionNotice, models.PROTECT, related_name="events", verbose_name="督办单")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name="操作人")
    verb = models.CharField("操作", max_length=20)
    note = models.TextField("说明", blank=True)
    created_at = models.DateTimeField("时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "督办记录"
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.notice_id} {self.verb}"

    @property
    def verb_label(self) -> str:
        return NOTICE_VERBS.get(self.verb, self.verb)


NOTICE_VERBS = {"issue": "下发督办单", "answer": "书面反馈", "escalate": "逾期未反馈，升级督办",
                "recalendar": "节假日调整反馈期限"}
