"""What every upload-check-confirm import job shares (the registry's workbooks, the demand ledgers)."""

from django.db import models


class ImportStatus(models.TextChoices):
    """An import job's life: checked in the worker, previewed, written only when a person confirms."""

    PENDING = "pending", "待校验"
    CHECKING = "checking", "校验中"
    REFUSED = "refused", "文件被拒绝"
    INVALID = "invalid", "有错误"
    READY = "ready", "待确认导入"
    RUNNING = "running", "导入中"
    DONE = "done", "已完成"
    FAILED = "failed", "导入失败"
