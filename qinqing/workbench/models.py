"""What a staff member keeps of their own ledger: saved filters, chosen columns, Excel exports."""

from django.conf import settings
from django.db import models

from qinqing.lib import clock


class SavedFilter(models.Model):
    """A named ledger query (the ledger's own GET parameters) belonging to one person."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="saved_filters",
                             verbose_name="用户")
    name = models.CharField("名称", max_length=40)
    query = models.CharField("筛选条件", max_length=1000, blank=True)
    created_at = models.DateTimeField("创建时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "常用筛选"
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_unique_name")]

    def __str__(self):
        return self.name


class LedgerColumns(models.Model):
    """The columns one person chose to see in the ledger and its export."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="ledger_columns",
                                verbose_name="用户")
    columns = models.JSONField("显示列", default=list)
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "台账显示列"

    def __str__(self):
        return str(self.user)


class ExportJob(models.Model):
    """One export of a ledger view to Excel: small ones are written at once, large ones by the worker.

    The row is kept as the record of who exported what and when, whatever its size.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "导出中"
        DONE = "done", "已完成"
        FAILED = "failed", "导出失败"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="导出人")
    query = models.CharField("筛选条件", max_length=1000, blank=True)
    columns = models.JSONField("导出列", default=list)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField("总行数", default=0)
    done_rows = models.PositiveIntegerField("已导出行数", default=0)
    file = models.FileField("文件", upload_to="exports/%Y/%m/", blank=True)
    message = models.CharField("说明", max_length=300, blank=True)
    created_at = models.DateTimeField("创建时间", default=clock.now)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "台账导出"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, self.done_rows * 100 // self.total_rows) if self.total_rows else 0

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)
