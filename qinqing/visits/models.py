"""Contact duties and visits (包联走访): who serves which enterprise, how often they must get in touch,
what each visit found, the 集中走访 campaigns and the seminars held for enterprises.

Every change goes through qinqing.visits.services; DutyEvent is the append-only trail.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Least

from qinqing.lib import clock
from qinqing.lib.append_only import AppendOnlyModel


class Level(models.TextChoices):
    """Seed 000's assignment levels, highest first."""

    DISTRICT_LEADER = "district_leader", "区级领导"
    DIVISION_LEADER = "division_leader", "部门/镇街处级领导"
    SECTION_CHIEF = "section_chief", "科室负责人"
    SPECIALIST = "specialist", "为企服务专员"


class Duty(models.TextChoices):
    """The two posts an enterprise has at most one holder of at a time."""

    CONTACT_LEADER = "contact_leader", "包联领导"
    SPECIALIST = "specialist", "为企服务专员"


class Cadre(models.Model):
    """A staff member who can be assigned enterprises, with the level they are assigned at."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="cadre",
                                verbose_name="干部")
    level = models.CharField("包联层级", max_length=20, choices=Level.choices)
    jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.PROTECT, related_name="cadres",
                                     verbose_name="所在区划")
    unit = models.ForeignKey("accounts.Unit", models.SET_NULL, null=True, blank=True, related_name="cadres",
                             verbose_name="所在单位")
    capacity = models.PositiveIntegerField("包联上限（家）", default=30,
                                           help_text="按规则批量分配时，每人最多分得的企业数")
    sectors = models.JSONField("分管行业", default=list, blank=True,
                               help_text="按行业分配时优先分给分管这些统计口径行业的干部")
    active = models.BooleanField("在岗", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "包联干部"
        ordering = ["level", "user__full_name"]
        indexes = [models.Index(fields=["jurisdiction", "level"], name="cadre_jur_level")]

    def __str__(self):
        return f"{self.user} · {self.get_level_display()}"


class CadenceRule(models.Model):
    """How often the holder of a duty at a level must get in touch: by phone and on site (seed 002)."""

    level = models.CharField("包联层级", max_length=20, choices=Level.choices, unique=True)
    contact_days = models.PositiveSmallIntegerField("联系周期（天）", default=30,
                                                    help_text="电话、视频或走访均算一次联系")
    visit_days = models.PositiveSmallIntegerField("实地走访周期（天）", default=90)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "联系走访频次"
        ordering = ["level"]

    def __str__(self):
        return f"{self.get_level_display()}：每{self.contact_days}天联系，每{self.visit_days}天走访"


class AssignmentQuerySet(models.QuerySet):
    def current(self):
        return self.filter(ended_on__isnull=True)

    def of_enterprise(self, enterprise_id: int):
        """An enterprise's rows, current and ended: each half from its own partial index (see the Meta)."""
        return self.filter(Q(ended_on__isnull=True) | Q(ended_on__isnull=False), enterprise_id=enterprise_id)

    def visible_to(self, user):
        from .visibility import assignments_visible_to

        return assignments_visible_to(self, user)


class Assignment(models.Model):
    """One cadre holding one duty for one enterprise over a period. Ended rows are the history."""

    # No index on enterprise alone (the current-duty constraint and assign_history_ended lead with it) or
    # on assigned_by (never searched): every index is paid for on each of the million rows a bulk
    # assignment writes. For the same reason
    # the three references are not foreign-key constraints in the database (which would run one trigger
    # per row written): rows are only written by the services, which take these ids from rows they just
    # read in the same transaction, and Django still cascades or protects on delete.
    enterprise = models.ForeignKey("enterprises.Enterprise", models.CASCADE, related_name="assignments",
                                   verbose_name="企业", db_index=False, db_constraint=False)
    cadre = models.ForeignKey(Cadre, models.PROTECT, related_name="assignments", verbose_name="干部",
                              db_index=False, db_constraint=False)
    duty = models.CharField("职责", max_length=20, choices=Duty.choices)
    level = models.CharField("包联层级", max_length=20, choices=Level.choices)
    started_on = models.DateField("开始日期", default=clock.today)
    ended_on = models.DateField("结束日期", null=True, blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="分配人", db_index=False, db_constraint=False)
    rule = models.CharField("分配依据", max_length=60, blank=True)
    batch = models.CharField("批次", max_length=12, blank=True, editable=False,
                             help_text="按规则批量分配的批次号，与“按规则批量分配”操作记录对应")
    last_contact_on = models.DateField("最近联系", null=True, blank=True)
    last_visit_on = models.DateField("最近实地走访", null=True, blank=True)
    next_contact_due = models.DateField("下次联系期限", null=True, blank=True)
    next_visit_due = models.DateField("下次走访期限", null=True, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "包联关系"
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "duty"], condition=Q(ended_on__isnull=True),
                                    name="assignment_one_current_per_duty"),
        ]
        indexes = [
            # A cadre's rows, current first (ended_on IS NULL is an index condition): "due this week" reads
            # the cadre's current rows (a cadre holds at most a few hundred) and filters their deadlines.
            models.Index(fields=["cadre", "ended_on"], name="assign_cadre"),
            # the neglect lists: current rows by their first deadline.
            models.Index(Least("next_contact_due", "next_visit_due"), condition=Q(ended_on__isnull=True),
                         name="assign_first_due"),
            # An enterprise's ended rows. Current rows are found through the constraint above, so the
            # rows a bulk assignment writes, all current, skip this index (measured: 29 s → 23 s to write
            # 1.86 million at a million enterprises). Read both halves with of_enterprise().
            models.Index(fields=["enterprise", "duty", "started_on"], condition=Q(ended_on__isnull=False),
                         name="assign_history_ended"),
        ]

    def __str__(self):
        return f"{self.cadre.user} {self.get_duty_display()} {self.enterprise_id}"

    @property
    def is_current(self) -> bool:
        return self.ended_on is None


class Form(models.TextChoices):
    ON_SITE = "on_site", "实地走访"
    PHONE = "phone", "电话"
    VIDEO = "video", "视频"
    MEETING = "meeting", "会见"


class Trend(models.TextChoices):
    UP = "up", "增长"
    FLAT = "flat", "持平"
    DOWN = "down", "下降"


class Production(models.TextChoices):
    NORMAL = "normal", "正常"
    PARTIAL = "partial", "部分停产"
    STOPPED = "stopped", "停产"


class Confirmation(models.TextChoices):
    PENDING = "pending", "待企业确认"
    CONFIRMED = "confirmed", "企业已确认"
    DISPUTED = "disputed", "企业有异议"


class CampaignQuerySet(models.QuerySet):
    def visible_to(self, user):
        from .visibility import campaigns_visible_to

        return campaigns_visible_to(self, user)


class Campaign(models.Model):
    """A 集中走访活动: a named period, a target list of enterprises and the groups who visit them."""

    name = models.CharField("活动名称", max_length=80)
    jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.PROTECT, related_name="visit_campaigns",
                                     verbose_name="组织区划")
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    rule = models.JSONField("目标规则", default=dict, blank=True,
                            help_text="按规则生成目标名单时所用的条件；导入的名单为空")
    description = models.TextField("说明", blank=True)
    targets = models.ManyToManyField("enterprises.Enterprise", through="CampaignTarget",
                                     related_name="visit_campaigns", verbose_name="目标企业")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="创建人")
    created_at = models.DateTimeField("创建时间", default=clock.now)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "集中走访活动"
        ordering = ["-starts_on", "-id"]

    def __str__(self):
        return self.name


class CampaignGroup(models.Model):
    """A group of visitors within a campaign (走访组)."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="groups", verbose_name="活动")
    name = models.CharField("组名", max_length=60)
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name="组长")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="campaign_groups", blank=True,
                                     verbose_name="组员")

    class Meta:
        verbose_name = verbose_name_plural = "走访组"
        ordering = ["campaign", "name"]
        constraints = [models.UniqueConstraint(fields=["campaign", "name"], name="campaign_group_unique")]

    def __str__(self):
        return self.name


class CampaignTarget(models.Model):
    """One enterprise on a campaign's list, with what the progress page counts by.

    Sector, place and contact leader are taken when the enterprise is put on the list, and
    `visited_on` (its first visit within the campaign period) is kept by services.record_visit, so
    that the progress page is one GROUP BY over the campaign's own rows, however big the registry.
    """

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="target_rows", verbose_name="活动")
    enterprise = models.ForeignKey("enterprises.Enterprise", models.CASCADE, related_name="+",
                                   verbose_name="企业")
    group = models.ForeignKey(CampaignGroup, models.SET_NULL, null=True, blank=True, related_name="targets",
                              verbose_name="走访组")
    sector = models.CharField("行业", max_length=20, blank=True)
    jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name="所在镇街园区", db_index=False)
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name="包联领导", db_index=False)
    visited_on = models.DateField("首次走访", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "活动目标企业"
        constraints = [models.UniqueConstraint(fields=["campaign", "enterprise"], name="campaign_target_unique")]
        indexes = [models.Index(fields=["campaign", "jurisdiction", "id"], condition=Q(visited_on__isnull=True),
                                name="target_not_visited")]

    def __str__(self):
        return f"{self.campaign_id}:{self.enterprise_id}"


class VisitQuerySet(models.QuerySet):
    def visible_to(self, user):
        from .visibility import visits_visible_to

        return visits_visible_to(self, user)


class Visit(models.Model):
    """One contact with an enterprise: who went, how, what was discussed and found, what was raised."""

    enterprise = models.ForeignKey("enterprises.Enterprise", models.PROTECT, related_name="visits",
                                   verbose_name="企业")
    visited_on = models.DateField("走访日期", db_index=True)
    form = models.CharField("方式", max_length=10, choices=Form.choices, default=Form.ON_SITE)
    visitors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="visits", verbose_name="走访人")
    campaign = models.ForeignKey(Campaign, models.SET_NULL, null=True, blank=True, related_name="visits",
                                 verbose_name="所属活动")
    discussed = models.TextField("交流内容", blank=True)
    policies = models.TextField("送达政策", blank=True)
    production = models.CharField("生产经营", max_length=10, choices=Production.choices, blank=True)
    orders = models.CharField("订单情况", max_length=10, choices=Trend.choices, blank=True)
    employees = models.PositiveIntegerField("用工人数", null=True, blank=True)
    hiring_need = models.PositiveIntegerField("用工缺口（人）", null=True, blank=True)
    financing_need = models.DecimalField("融资需求（万元）", max_digits=12, decimal_places=2, null=True, blank=True)
    demands = models.ManyToManyField("demands.Demand", related_name="visits", blank=True,
                                     verbose_name="提出的问题（诉求）")
    solved_demands = models.ManyToManyField("demands.Demand", related_name="solved_at_visits", blank=True,
                                            verbose_name="现场解决的问题")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="记录人")
    recorded_at = models.DateTimeField("记录时间", default=clock.now)
    confirmation = models.CharField("企业确认", max_length=10, choices=Confirmation.choices,
                                    default=Confirmation.PENDING)
    rating = models.PositiveSmallIntegerField("企业评分", null=True, blank=True, help_text="1–5 分")
    enterprise_comment = models.CharField("企业意见", max_length=300, blank=True)
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name="确认人")

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "走访记录"
        ordering = ["-visited_on", "-id"]
        indexes = [
            models.Index(fields=["enterprise", "visited_on"], name="visit_enterprise_day"),
            models.Index(fields=["campaign", "enterprise"], name="visit_campaign_enterprise"),
            models.Index(fields=["confirmation", "visited_on"], name="visit_confirmation"),
        ]

    def __str__(self):
        return f"{self.visited_on} {self.get_form_display()}"

    @property
    def is_empty(self) -> bool:
        """A visit that records nothing: no discussion, no policy, no situation, no problem."""
        return not (self.discussed.strip() or self.policies.strip() or self.production or self.orders
                    or self.employees is not None or self.financing_need is not None)


class SeminarQuerySet(models.QuerySet):
    def visible_to(self, user):
        from .visibility import seminars_visible_to

        return seminars_visible_to(self, user)


class Seminar(models.Model):
    """A 座谈会 or 宣讲会 held for enterprises."""

    class Kind(models.TextChoices):
        SEMINAR = "seminar", "座谈会"
        BRIEFING = "briefing", "宣讲会"

    held_on = models.DateField("举办日期", db_index=True)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    title = models.CharField("主题", max_length=120)
    jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.PROTECT, related_name="seminars",
                                     verbose_name="举办区划")
    organiser = models.ForeignKey("accounts.Unit", models.SET_NULL, null=True, blank=True,
                                  related_name="seminars", verbose_name="组织单位")
    enterprises = models.ManyToManyField("enterprises.Enterprise", related_name="seminars", blank=True,
                                         verbose_name="参会企业")
    campaign = models.ForeignKey(Campaign, models.SET_NULL, null=True, blank=True, related_name="seminars",
                                 verbose_name="所属活动")
    notes = models.TextField("纪要", blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="记录人")
    recorded_at = models.DateTimeField("记录时间", default=clock.now)

    objects = SeminarQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "宣讲会/座谈会"
        ordering = ["-held_on", "-id"]

    def __str__(self):
        return self.title


class ContactUrging(models.Model):
    """催办 of an overdue contact or visit: one per assignment, kind and deadline (idempotent sweep)."""

    class Kind(models.TextChoices):
        CONTACT = "contact", "联系"
        VISIT = "visit", "实地走访"

    assignment = models.ForeignKey(Assignment, models.CASCADE, related_name="urgings", verbose_name="包联关系")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    due = models.DateField("期限")
    cadre = models.ForeignKey(Cadre, models.CASCADE, related_name="urgings", verbose_name="干部")
    sweep = models.CharField(max_length=32, editable=False, db_index=True)
    created_at = models.DateTimeField("催办时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "联系走访催办"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["assignment", "kind", "due"], name="contact_urging_unique")]

    def __str__(self):
        return f"{self.get_kind_display()}超期 {self.due}"


class DutyEvent(AppendOnlyModel):
    """One line of the audit trail of assignments, visits, campaigns and seminars. Append-only."""

    class Verb(models.TextChoices):
        ASSIGN = "assign", "分配包联"
        UNASSIGN = "unassign", "解除包联"
        BULK_ASSIGN = "bulk_assign", "按规则批量分配"
        IMPORT_ASSIGN = "import_assign", "导入包联关系"
        RECORD_VISIT = "record_visit", "记录走访"
        RAISE_PROBLEM = "raise_problem", "走访问题转诉求"
        SOLVE_ON_SPOT = "solve_on_spot", "现场解决"
        CONFIRM_VISIT = "confirm_visit", "企业确认走访"
        DISPUTE_VISIT = "dispute_visit", "企业对走访有异议"
        CREATE_CAMPAIGN = "create_campaign", "创建走访活动"
        SET_TARGETS = "set_targets", "设定目标企业"
        RECORD_SEMINAR = "record_seminar", "记录宣讲会/座谈会"
        SET_CADENCE = "set_cadence", "修改联系频次"
        REGISTER_CADRE = "register_cadre", "登记包联干部"
        URGE = "urge", "超期催办"

    verb = models.CharField("操作", max_length=20, choices=Verb.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name="操作人")
    enterprise = models.ForeignKey("enterprises.Enterprise", models.CASCADE, null=True, blank=True,
                                   related_name="+", verbose_name="企业", db_index=False)  # duty_event_enterprise
    visit = models.ForeignKey(Visit, models.CASCADE, null=True, blank=True, related_name="events",
                              verbose_name="走访")
    campaign = models.ForeignKey(Campaign, models.CASCADE, null=True, blank=True, related_name="events",
                                 verbose_name="活动")
    note = models.TextField("说明", blank=True)
    data = models.JSONField("数据", default=dict, blank=True)
    created_at = models.DateTimeField("时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "包联走访操作记录"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["enterprise", "created_at"], name="duty_event_enterprise")]

    def __str__(self):
        return f"{self.get_verb_display()} {self.created_at:%Y-%m-%d %H:%M}"
