"""惠企政策: the policy library, each policy's eligibility rule (data, not code) and its trail.

A policy belongs to the jurisdiction it applies in (a national policy adopted by a district is filed under
the district). Its rule is a validated tree (qinqing.policies.rules) that compiles to one query on the
registry; `rule_text` is the same rule in plain Chinese, written when the rule is saved. Expiry is a date,
not a job: a published policy whose 有效期 ended leaves every public list that day (`current()`) and stays
in the record. Applications and fulfilment (申报、兑现台账) will hang off Policy by foreign key.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from qinqing.lib import clock
from qinqing.lib.append_only import AppendOnlyModel


class Level(models.TextChoices):
    NATIONAL = "national", "国家"
    PROVINCE = "province", "省"
    CITY = "city", "市"
    DISTRICT = "district", "区"


class BenefitType(models.TextChoices):
    GRANT = "grant", "资金奖补"
    TAX = "tax", "减税降费"
    FINANCING = "financing", "融资支持"
    TALENT = "talent", "人才"
    LAND = "land", "用地"
    OTHER = "other", "其他"


class AmountKind(models.TextChoices):
    FIXED = "fixed", "固定金额"
    PERCENT = "percent", "按年度数据比例（封顶）"
    ACTUAL = "actual", "按实际"


class Metric(models.TextChoices):
    """The yearly figures (enterprises.YearlyFigures) a rule or an amount may refer to."""

    REVENUE = "revenue", "营业收入"
    TAX_PAID = "tax_paid", "纳税额"
    ASSETS = "assets", "资产总额"
    EMPLOYEES = "employees", "从业人员"

    @classmethod
    def unit(cls, value: str) -> str:
        return "人" if value == cls.EMPLOYEES else "万元"


class Status(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    EXPIRED = "expired", "已失效"
    REPEALED = "repealed", "已废止"


STATUS_COLOURS = {Status.DRAFT: "grey", Status.PUBLISHED: "green", Status.EXPIRED: "orange", Status.REPEALED: "red"}


class PolicyQuerySet(models.QuerySet):
    def current(self, today=None):
        """Published and within their validity on `today`: what public lists show."""
        today = today or clock.today()
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today),
                           Q(valid_until__isnull=True) | Q(valid_until__gte=today), status=Status.PUBLISHED)

    def visible_to(self, user):
        """Staff: policies of their jurisdiction's subtree and of the jurisdictions above it (a district's
        staff see the city's and the province's too). Enterprises: current policies that apply where they
        are registered. Administrators: all."""
        from qinqing.accounts.models import Role

        if not user.is_authenticated:
            return self.none()
        if user.is_superuser or user.has_role(Role.ADMIN):
            return self
        if user.has_role(Role.ENTERPRISE):
            if not user.enterprise_id:
                return self.none()
            return self.current().applying_in(user.enterprise.jurisdiction)
        place = staff_place(user)
        if place is None:
            return self.none()
        return self.filter(Q(jurisdiction__path__startswith=place.path)
                           | Q(jurisdiction__path__in=_ancestor_paths(place.path)))

    def applying_in(self, place):
        """Policies filed under `place` or a jurisdiction above it: a path among the place's prefixes."""
        return self.filter(jurisdiction__path__in=_ancestor_paths(place.path))


def _ancestor_paths(path: str) -> list[str]:
    """'44/4403/440305/' → ['44/', '44/4403/', '44/4403/440305/']."""
    parts = [p for p in path.split("/") if p]
    return ["".join(f"{p}/" for p in parts[:i]) for i in range(1, len(parts) + 1)]


def staff_place(user):
    """The jurisdiction a staff member's policy work is scoped to: theirs, else their unit's."""
    if user.jurisdiction_id:
        return user.jurisdiction
    if user.unit_id and user.unit.jurisdiction_id:
        return user.unit.jurisdiction
    return None


class Policy(models.Model):
    """One 惠企政策: the document, where and when it applies, what it gives and to whom (`rule`)."""

    title = models.CharField("政策名称", max_length=200)
    issuer = models.CharField("发文机关", max_length=100)
    doc_number = models.CharField("文号", max_length=60, blank=True)
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.PROTECT, related_name="policies",
                                     verbose_name="适用区域")
    published_on = models.DateField("发布日期", null=True, blank=True)
    valid_from = models.DateField("有效期起", null=True, blank=True)
    valid_until = models.DateField("有效期至", null=True, blank=True, help_text="含当日；次日起自动失效")
    apply_opens = models.DateField("申报开始", null=True, blank=True)
    apply_closes = models.DateField("申报截止", null=True, blank=True)
    no_application = models.BooleanField("免申即享", default=False,
                                         help_text="符合条件的企业无需申报，由部门依据数据直接兑现")
    benefit_type = models.CharField("扶持类型", max_length=10, choices=BenefitType.choices)
    amount_kind = models.CharField("金额规则", max_length=10, choices=AmountKind.choices, default=AmountKind.ACTUAL)
    amount_fixed = models.DecimalField("固定金额（万元）", max_digits=12, decimal_places=2, null=True, blank=True)
    amount_percent = models.DecimalField("比例（%）", max_digits=6, decimal_places=2, null=True, blank=True)
    amount_metric = models.CharField("比例基数", max_length=10, choices=Metric.choices, blank=True)
    amount_year = models.PositiveSmallIntegerField("基数年度", null=True, blank=True)
    amount_cap = models.DecimalField("封顶金额（万元）", max_digits=12, decimal_places=2, null=True, blank=True)
    original_text = models.TextField("政策原文", blank=True)
    interpretation = models.TextField("政策解读", blank=True)
    contact_unit = models.CharField("联系单位", max_length=100, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    rule = models.JSONField("适用条件", default=dict, blank=True, help_text="由条件表单生成，保存时校验")
    rule_text = models.TextField("适用条件（文字）", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="登记人")
    created_at = models.DateTimeField("登记时间", default=clock.now)
    updated_at = models.DateTimeField("更新时间", default=clock.now)
    matched_at = models.DateTimeField("匹配结果更新时间", null=True, blank=True, editable=False,
                                      help_text="符合条件企业表（PolicyMatch）最近一次按规则重算的时间；空：未存储（草稿实时预览）")

    objects = PolicyQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "惠企政策"
        ordering = ["-published_on", "-id"]
        indexes = [models.Index(fields=["status", "valid_until"], name="policy_status_until")]

    def __str__(self):
        return self.title

    def shown_status(self, today=None) -> str:
        """The status a reader sees: a published policy past its validity reads 已失效."""
        today = today or clock.today()
        if self.status == Status.PUBLISHED and self.valid_until and self.valid_until < today:
            return Status.EXPIRED
        return self.status

    @property
    def status_label(self) -> str:
        return Status(self.shown_status()).label

    @property
    def status_colour(self) -> str:
        return STATUS_COLOURS.get(self.shown_status(), "grey")

    def days_left(self, today=None) -> int | None:
        """Days left to apply, today included as a day; None without a closing date, negative once closed."""
        if self.apply_closes is None:
            return None
        return (self.apply_closes - (today or clock.today())).days

    def amount_text(self) -> str:
        if self.amount_kind == AmountKind.FIXED and self.amount_fixed is not None:
            return f"{self.amount_fixed.normalize():f}万元"
        if self.amount_kind == AmountKind.PERCENT and self.amount_percent is not None:
            base = f"{self.amount_year}年{Metric(self.amount_metric).label}" if self.amount_metric else ""
            cap = f"，最高{self.amount_cap.normalize():f}万元" if self.amount_cap is not None else ""
            return f"{base}的{self.amount_percent.normalize():f}%{cap}"
        return "按实际"


class PolicyAttachment(models.Model):
    """A file of a policy (the signed document, application forms), served only through views that check
    who may see the policy; its type was read from its bytes when uploaded (qinqing.lib.uploads)."""

    policy = models.ForeignKey(Policy, models.CASCADE, related_name="attachments", verbose_name="政策")
    file = models.FileField("文件", upload_to="policies/%Y/%m/")
    name = models.CharField("文件名", max_length=200)
    size = models.PositiveIntegerField("大小（字节）")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="上传人")
    uploaded_at = models.DateTimeField("上传时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "政策附件"
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.name


class PolicyEvent(AppendOnlyModel):
    """One line of a policy's trail: registered, edited, rule changed, published, repealed, imported."""

    class Verb(models.TextChoices):
        CREATE = "create", "登记"
        UPDATE = "update", "修改"
        RULE = "rule", "修改适用条件"
        PUBLISH = "publish", "发布"
        EXPIRE = "expire", "宣布失效"
        REPEAL = "repeal", "废止"
        IMPORT = "import", "导入"
        ATTACH = "attach", "上传附件"

    policy = models.ForeignKey(Policy, models.CASCADE, related_name="events", verbose_name="政策")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name="操作人")
    verb = models.CharField("操作", max_length=10, choices=Verb.choices)
    note = models.TextField("说明", blank=True)
    changes = models.JSONField("变更", default=dict, blank=True)
    created_at = models.DateTimeField("时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "政策操作记录"
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.policy_id} {self.get_verb_display()}"


class PushStage(models.TextChoices):
    """When an enterprise is told of a policy: on publication, and N days before its window closes (the days
    are a deployment setting, QINQING_POLICY_REMINDER_DAYS, default 15 and 3; each its own stage)."""

    PUBLISHED = "published", "发布告知"

    @staticmethod
    def closing(days: int) -> str:
        return f"close_{days}"

    @staticmethod
    def label_of(code: str) -> str:
        if code.startswith("close_"):
            return f"截止前{code.removeprefix('close_')}天提醒"
        return dict(PushStage.choices).get(code, code)


class PolicyPush(models.Model):
    """One enterprise told of one policy at one stage: the ledger that makes every push happen once.

    Rows are inserted set-based from the eligible query (qinqing.policies.pushes); the unique constraint is what
    makes a rerun, a caught-up run after downtime or two workers at once insert nothing twice. `run` names the
    insert that wrote the row, so that its notifications are written from the same rows in one more statement;
    `sent_at` is set when the SMS to the registered mobile was handed to the gateway (claimed first: a crash
    may lose one message, never send one twice)."""

    policy = models.ForeignKey(Policy, models.CASCADE, related_name="pushes", verbose_name="政策")
    enterprise = models.ForeignKey("enterprises.Enterprise", models.CASCADE, related_name="policy_pushes",
                                   verbose_name="企业")
    stage = models.CharField("推送阶段", max_length=12)
    run = models.CharField("批次", max_length=40, db_index=True)
    created_at = models.DateTimeField("告知时间", default=clock.now)
    sms_due = models.BooleanField("待发短信", default=False)
    sent_at = models.DateTimeField("短信交付时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "政策推送"
        constraints = [models.UniqueConstraint(fields=["policy", "enterprise", "stage"], name="one_push_per_stage")]
        indexes = [models.Index(fields=["enterprise", "policy"], name="policypush_enterprise"),
                   models.Index(fields=["sms_due"], name="policypush_sms_due", condition=Q(sms_due=True))]

    def __str__(self):
        return f"{self.policy_id}/{self.enterprise_id} {PushStage.label_of(self.stage)}"

    @property
    def stage_label(self) -> str:
        return PushStage.label_of(self.stage)


class PushNotice(models.Model):
    """Which in-app notification told of which push: opening it opens the policy and counts as 已打开."""

    push = models.ForeignKey(PolicyPush, models.CASCADE, related_name="notices", verbose_name="推送")
    notification = models.OneToOneField("notifications.Notification", models.CASCADE, related_name="policy_notice",
                                        verbose_name="通知")

    class Meta:
        verbose_name = verbose_name_plural = "政策推送通知"

    def __str__(self):
        return f"{self.push_id} → {self.notification_id}"


class PolicyOpen(models.Model):
    """The first time an enterprise opened a policy (its portal page or a push notification): 已打开 in reach."""

    class Via(models.TextChoices):
        PAGE = "page", "政策页面"
        NOTICE = "notice", "推送通知"

    policy = models.ForeignKey(Policy, models.CASCADE, related_name="opens", verbose_name="政策")
    enterprise = models.ForeignKey("enterprises.Enterprise", models.CASCADE, related_name="+", verbose_name="企业")
    via = models.CharField("打开方式", max_length=10, choices=Via.choices)
    opened_at = models.DateTimeField("首次打开时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "政策打开记录"
        constraints = [models.UniqueConstraint(fields=["policy", "enterprise"], name="one_open_per_enterprise")]

    def __str__(self):
        return f"{self.policy_id}/{self.enterprise_id}"


class PushOptOut(models.Model):
    """An enterprise that asked not to be pushed policies (any channel); it still sees them on its portal."""

    enterprise = models.OneToOneField("enterprises.Enterprise", models.CASCADE, related_name="policy_opt_out",
                                      verbose_name="企业")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                           verbose_name="操作人")
    created_at = models.DateTimeField("退订时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "政策推送退订"

    def __str__(self):
        return str(self.enterprise_id)


class PolicyDemand(models.Model):
    """A question an enterprise raised about a policy, received as a 政策落地难 demand under the 1231 clock."""

    policy = models.ForeignKey(Policy, models.PROTECT, related_name="questions", verbose_name="政策")
    demand = models.OneToOneField("demands.Demand", models.CASCADE, related_name="policy_link", verbose_name="诉求")
    created_at = models.DateTimeField("提问时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "政策问题"
        indexes = [models.Index(fields=["policy", "created_at"], name="policydemand_policy")]

    def __str__(self):
        return f"{self.policy_id} ← {self.demand_id}"


class PolicyMatch(models.Model):
    """One enterprise eligible for one published policy, as the rule said when last computed: the stored match
    table that the enterprise's matches (registry page, portal, API), the eligible list's count and first page,
    and reach read instead of evaluating every rule against the registry on each request.

    Written only by services.rematch_policy (on publish, rule or record change, expiry; and nightly for every
    policy through the worker, since yearly figures are imported and registrations age), set-based from the
    compiled rule query and as a difference: rows that still hold are left alone, so `matched_on` is the day the
    enterprise began to qualify with this group and estimate. Drafts are never stored (their page previews the
    rule live); a policy that stops being current loses its rows."""

    # no index of their own: the unique (policy, enterprise) and the (enterprise, policy) index serve both, and
    # every index more is written for each of the tens of millions of rows
    policy = models.ForeignKey(Policy, models.CASCADE, related_name="matches", verbose_name="政策", db_index=False)
    enterprise = models.ForeignKey("enterprises.Enterprise", models.CASCADE, related_name="policy_matches",
                                   verbose_name="企业", db_index=False)
    matched_group = models.PositiveSmallIntegerField("符合的条件组", default=1)
    estimate = models.DecimalField("预计金额（万元）", max_digits=16, decimal_places=2, null=True, blank=True,
                                   help_text="空：按实际，或缺少计算所需的年度数据")
    matched_on = models.DateField("匹配日期")

    class Meta:
        verbose_name = verbose_name_plural = "政策匹配结果"
        constraints = [models.UniqueConstraint(fields=["policy", "enterprise"], name="one_match_per_policy")]
        indexes = [models.Index(fields=["enterprise", "policy"], name="policymatch_enterprise")]

    def __str__(self):
        return f"{self.policy_id}/{self.enterprise_id}"
