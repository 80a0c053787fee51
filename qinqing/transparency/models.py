"""What the public sees without login (一公开), and the demands that came in from an Excel sheet.

`PublicFigure` is the public page's pre-aggregate: per leaf jurisdiction, month of receipt and lead unit, the
counts that the internal rates divide (qinqing.reports.rates), rebuilt by a worker task and on demand. The
page sums a jurisdiction's subtree from it and never reads the demand table, so it answers in a few
milliseconds however many demands there are.

`ServiceSpecialist` is the published directory of service specialists (seed 002: 首席专员 1人、具办专员不少于
2人 per unit, "在区政府网站首页专题中公开为企服务专员单位、职务及联系方式"): unit, post, title and office
phone, entered for publication — never a name, an account's mobile number or other personal data.

`DemandSource` remembers the source number (工单编号) each imported demand came from, so importing the same
sheet twice writes nothing new; `DemandImportJob` is an uploaded sheet on its way in (checked, previewed,
confirmed, written in the worker), like the registry's ImportJob.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from qinqing.lib import clock
from qinqing.lib.jobs import ImportStatus

MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")


class PublicFigure(models.Model):
    """The public page's counts for one leaf jurisdiction, month of receipt and lead unit (None: not yet
    dispatched). Derived data: `transparency.services.rebuild_public_figures` replaces every row."""

    jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.CASCADE, related_name="+",
                                     verbose_name="属地")
    month = models.DateField("受理月份（月初）")
    unit = models.ForeignKey("accounts.Unit", models.CASCADE, null=True, blank=True, related_name="+",
                             verbose_name="主办单位")
    n = models.PositiveIntegerField("受理", default=0)
    reply_done = models.PositiveIntegerField("已答复", default=0)
    reply_ontime = models.PositiveIntegerField("按期办结", default=0)
    reply_late = models.PositiveIntegerField("逾期未办结", default=0)
    evaluated = models.PositiveIntegerField("已评价", default=0)
    satisfied = models.PositiveIntegerField("满意", default=0)
    built_at = models.DateTimeField("统计时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "公开统计"
        # Rebuilt whole (no upserts), so an index to sum a subtree's months is all it needs.
        indexes = [models.Index(fields=["month", "jurisdiction"], name="public_figure_month_jur")]

    def __str__(self):
        return f"{self.jurisdiction_id} {self.month:%Y-%m} {self.unit_id}: {self.n}"


def office_phone_only(value: str) -> None:
    if MOBILE.search(re.sub(r"[\s\-()（）]", "", value or "")):  # "138 0013 8000" is a mobile too
        raise ValidationError("公开名录只登记办公电话，不得填写手机号。")


class ServiceSpecialist(models.Model):
    """A published entry of the service-specialist directory: unit, post, title and office phone."""

    class Post(models.TextChoices):
        CHIEF = "chief", "首席专员"
        DOER = "doer", "具办专员"

    unit = models.ForeignKey("accounts.Unit", models.CASCADE, related_name="published_specialists",
                             verbose_name="单位")
    # The post is published, not the person: no name, no account data (qinqing.lib.privacy). The account
    # is kept for the administrators to see who holds the post.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name="对应账号", help_text="仅用于内部对应，不公开账号的任何信息")
    post = models.CharField("专员类别", max_length=10, choices=Post.choices)
    title = models.CharField("职务", max_length=40, blank=True)
    office_phone = models.CharField("办公电话", max_length=30, validators=[office_phone_only])
    position = models.PositiveSmallIntegerField("排序", default=0)
    published = models.BooleanField("公开", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "为企服务专员公开名录"
        ordering = ["unit__jurisdiction__path", "unit__name", "post", "position", "id"]

    def __str__(self):
        return f"{self.unit} {self.get_post_display()} {self.title}"

    def clean(self):
        office_phone_only(self.office_phone)


class DemandSource(models.Model):
    """The source number (12345 工单编号, 台账编号) an imported demand came from: one demand per number."""

    source_number = models.CharField("来源编号", max_length=64, unique=True)
    demand = models.OneToOneField("demands.Demand", models.CASCADE, related_name="import_source",
                                  verbose_name="诉求")
    job = models.ForeignKey("DemandImportJob", models.SET_NULL, null=True, blank=True, related_name="+",
                            verbose_name="导入任务")
    imported_at = models.DateTimeField("导入时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "诉求来源编号"

    def __str__(self):
        return self.source_number


class DemandImportJob(models.Model):
    """An uploaded ledger or 12345 sheet: checked in the worker, previewed, written only when confirmed."""

    Status = ImportStatus

    file = models.FileField("文件", upload_to="demand-imports/%Y/%m/")
    original_name = models.CharField("原文件名", max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                    verbose_name="上传人")
    channel = models.CharField("默认来源渠道", max_length=10, default="hotline")
    created_at = models.DateTimeField("上传时间", default=clock.now)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    valid_rows = models.PositiveIntegerField("有效行数", default=0)
    error_rows = models.PositiveIntegerField("错误行数", default=0)
    known_rows = models.PositiveIntegerField("已导入过的行数", default=0)
    created_count = models.PositiveIntegerField("新增诉求", default=0)
    message = models.TextField("说明", blank=True)
    columns = models.JSONField("识别的列", default=list, blank=True)
    preview = models.JSONField("预览", default=list, blank=True)
    errors = models.JSONField("错误（前若干条）", default=list, blank=True)
    error_file = models.FileField("错误清单文件", upload_to="demand-imports/%Y/%m/", blank=True)
    # A worker's last sign of life on the job; a job waiting, checking or running without one for a while was
    # lost with its worker and is queued again (imports.recover_stuck_demand_imports). `attempts` fences runs.
    heartbeat_at = models.DateTimeField("最近进展", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("运行次数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "诉求导入任务"
        ordering = ["-created_at"]

    def __str__(self):
        return self.original_name
