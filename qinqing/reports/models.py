"""Statistics the leaders read: the dashboard's pre-aggregates and the circulars (通报) issued from them.

`DemandRollup` holds, per jurisdiction (the demand's own node), week of receipt and one dimension
(category, channel, state or unit), how many demands there are and how many met each 1231 deadline.
It is derived data: `qinqing.reports.rollup` keeps it equal to what the ledger shows (see there).

A `Circular` is stored with the period and the figures (`snapshot`) it was written from; its Word and
Excel files are rendered from that snapshot alone, so an old circular can be rebuilt byte for byte in
content even after the demands it counted have moved on.
"""

from django.conf import settings
from django.db import models

from qinqing.lib import clock
from qinqing.lib.append_only import AppendOnlyModel


class Dimension(models.TextChoices):
    ALL = "all", "合计"
    CATEGORY = "category", "类别"
    CHANNEL = "channel", "渠道"
    STATE = "state", "状态"
    UNIT = "unit", "承办单位"
    DUE = "due", "在办期限"  # open demands by "YYYY-MM-DD|stage" of their current deadline


class DemandRollup(models.Model):
    # No index of its own: rollup_jur_dim_week leads with it (one index fewer to write at every refresh).
    jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.CASCADE, related_name="+",
                                     verbose_name="属地", db_index=False)
    week = models.DateField("周（周一）")
    dimension = models.CharField("维度", max_length=10, choices=Dimension.choices)
    key = models.CharField("取值", max_length=20, blank=True)
    n = models.PositiveIntegerField("诉求数", default=0)
    dispatch_done = models.PositiveIntegerField(default=0)
    dispatch_ontime = models.PositiveIntegerField(default=0)
    contact_done = models.PositiveIntegerField(default=0)
    contact_ontime = models.PositiveIntegerField(default=0)
    path_done = models.PositiveIntegerField(default=0)
    path_ontime = models.PositiveIntegerField(default=0)
    reply_done = models.PositiveIntegerField(default=0)
    reply_ontime = models.PositiveIntegerField(default=0)
    evaluated = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "诉求统计汇总"
        constraints = [models.UniqueConstraint(fields=["dimension", "week", "jurisdiction", "key"],
                                               name="rollup_unique_cell")]
        indexes = [models.Index(fields=["jurisdiction", "dimension", "week"], name="rollup_jur_dim_week")]

    def __str__(self):
        return f"{self.jurisdiction_id} {self.week} {self.dimension}={self.key}: {self.n}"


class RollupMark(models.Model):
    """How far the rollup has read the demand timeline (one row)."""

    last_event_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    # The first timeline id below `last_event_id` not seen yet (a transaction still open when it was read).
    recheck_from = models.BigIntegerField(null=True, blank=True)
    recheck_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总进度"

    def __str__(self):
        return f"≤{self.last_event_id}"


class RollupEntry(models.Model):
    """What one demand adds to the rollup, as of the last time the rollup counted it.

    The incremental refresh compares this with the demand as it is now and applies the difference to
    the rollup's cells: its cost follows the number of demands that changed, not the size of the table.
    Derived data like the rollup itself (rebuilt with it every night)."""

    demand_id = models.BigIntegerField("诉求", primary_key=True)
    leaf_id = models.IntegerField("属地")
    node_id = models.IntegerField("区县级属地")
    week = models.DateField("周（周一）")
    state = models.CharField("状态", max_length=12)
    channel = models.CharField("渠道", max_length=10)
    category = models.IntegerField("一级类别")
    lead_unit = models.IntegerField("主办单位", null=True)
    co_units = models.CharField("协办单位", max_length=200, blank=True)  # ids, comma-separated, ascending
    due = models.CharField("当前期限|环节", max_length=20, blank=True)
    flags = models.PositiveSmallIntegerField("计入的按期与评价项", default=0)  # one bit per MEASURES entry

    class Meta:
        verbose_name = verbose_name_plural = "诉求统计计入记录"

    def __str__(self):
        return f"{self.demand_id}"


class CircularKind(models.TextChoices):
    WEEKLY = "weekly", "每周工作简报"
    HALF_MONTHLY = "half_monthly", "半月通报"
    MONTHLY = "monthly", "超期事项月度通报"


KIND_SHORT = {CircularKind.WEEKLY: "周报", CircularKind.HALF_MONTHLY: "半月通", CircularKind.MONTHLY: "月通"}


def circular_path(instance, filename):
    return f"circulars/{instance.period_end:%Y/%m}/{filename}"


class Circular(models.Model):
    kind = models.CharField("类型", max_length=14, choices=CircularKind.choices)
    jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.PROTECT, related_name="circulars",
                                     verbose_name="范围")
    period_start = models.DateField("统计起")
    period_end = models.DateField("统计止")
    year = models.PositiveSmallIntegerField("年度")
    serial = models.PositiveIntegerField("期号")
    title = models.CharField("标题", max_length=120)
    issuer = models.CharField("发文机关", max_length=80)
    snapshot = models.JSONField("数据快照")
    word = models.FileField("Word", upload_to=circular_path, max_length=255)
    excel = models.FileField("Excel", upload_to=circular_path, max_length=255)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="生成人")
    created_at = models.DateTimeField("生成时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "通报"
        ordering = ["-period_end", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "jurisdiction", "period_start", "period_end"],
                                    name="one_circular_per_period"),
            models.UniqueConstraint(fields=["kind", "jurisdiction", "year", "serial"], name="circular_serial"),
        ]

    def __str__(self):
        return self.title

    @property
    def number(self) -> str:
        """文号, e.g. 武进亲清周报〔2026〕12号."""
        return f"{self.snapshot.get('issuer_short', '')}{KIND_SHORT.get(self.kind, '')}〔{self.year}〕{self.serial}号"


class ReportEvent(AppendOnlyModel):
    """Audit of what was issued or exported from this app. Append-only."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name="操作人")
    verb = models.CharField("操作", max_length=30)
    circular = models.ForeignKey(Circular, models.PROTECT, null=True, blank=True, related_name="events")
    data = models.JSONField("详情", default=dict, blank=True)
    created_at = models.DateTimeField("时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "统计通报操作记录"
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.verb
