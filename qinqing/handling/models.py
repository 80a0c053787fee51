"""People on a demand: its named handler (承办人), its watchers (关注), and the canned replies (常用语) units use."""

import re

from django.conf import settings
from django.db import models
from django.db.models import Q

from qinqing.lib import clock


class Assignment(models.Model):
    """The named handler of a demand in its lead unit, chosen by the unit's head.

    One row per demand: a reassignment overwrites it (the timeline keeps every earlier choice). `unit` is the lead
    unit at the time, so a demand re-dispatched elsewhere drops out of the handler's "my demands" by itself.
    """

    demand = models.OneToOneField("demands.Demand", models.CASCADE, related_name="assignment", verbose_name="诉求")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="handling_assignments",
                                 verbose_name="承办人", db_index=False)
    unit = models.ForeignKey("accounts.Unit", models.PROTECT, related_name="+", verbose_name="承办单位")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                    verbose_name="指派人")
    assigned_at = models.DateTimeField("指派时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "承办人指派"
        # "My demands": a handler's assignments; the demand rows are then fetched by primary key.
        indexes = [models.Index(fields=["assignee", "demand"], name="assignment_assignee")]

    def __str__(self):
        return f"{self.demand_id} → {self.assignee_id}"


class Watch(models.Model):
    """A member of staff following a demand (关注): they are told of its steps as its handlers are."""

    demand = models.ForeignKey("demands.Demand", models.CASCADE, related_name="watches", verbose_name="诉求",
                               db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="demand_watches",
                             verbose_name="关注人")
    created_at = models.DateTimeField("关注时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "诉求关注"
        constraints = [models.UniqueConstraint(fields=["demand", "user"], name="one_watch_per_user")]

    def __str__(self):
        return f"{self.user_id} 关注 {self.demand_id}"


# The placeholders a canned reply may carry, each filled from the demand (see services.fill_placeholders).
PLACEHOLDERS = ("企业名称", "诉求编号", "受理日期", "办结期限", "今天")
PLACEHOLDER_RE = re.compile(r"\{([^{}]{1,20})\}")


class CannedReply(models.Model):
    """A 常用语: a reply text with placeholders, kept by a unit, shared across a jurisdiction, or global.

    Exactly one scope: `unit` (the unit's own), `jurisdiction` (every unit of that jurisdiction and below), or
    neither (global, kept by the administrators)."""

    title = models.CharField("标题", max_length=40)
    text = models.TextField("内容", max_length=2000)
    unit = models.ForeignKey("accounts.Unit", models.CASCADE, null=True, blank=True, related_name="canned_replies",
                             verbose_name="所属单位")
    jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.CASCADE, null=True, blank=True,
                                     related_name="canned_replies", verbose_name="共享区划")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                   verbose_name="创建人")
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "常用语"
        ordering = ["title", "id"]
        constraints = [models.CheckConstraint(condition=Q(unit__isnull=True) | Q(jurisdiction__isnull=True),
                                              name="canned_reply_one_scope")]

    def __str__(self):
        return self.title

    @property
    def scope_label(self) -> str:
        if self.unit_id:
            return f"本单位：{self.unit.short_name or self.unit.name}"
        if self.jurisdiction_id:
            return f"区划共享：{self.jurisdiction.name}"
        return "全局共享"
