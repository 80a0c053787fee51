"""Demands (诉求) and everything recorded about them as they travel the closed loop."""

import datetime as dt
import os
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from qinqing.lib import clock
from qinqing.lib.append_only import AppendOnlyModel


class Channel(models.TextChoices):
    VISIT = "visit", "走访"
    HOTLINE = "hotline", "12345热线"
    ONLINE = "online", "网上平台"
    WECHAT = "wechat", "微信"
    MEETING = "meeting", "会谈/约见"
    SEMINAR = "seminar", "座谈会"
    OFFICER = "officer", "体验官"
    OTHER = "other", "其他"


class State(models.TextChoices):
    RECEIVED = "received", "待交办"
    DISPATCHED = "dispatched", "待签收"
    RETURNED = "returned", "已退回"
    ACCEPTED = "accepted", "办理中"
    CONTACTED = "contacted", "已联系企业"
    PLANNED = "planned", "已反馈路径"
    REOPENED = "reopened", "重办中"
    REPLIED = "replied", "已答复待评价"
    EVALUATED = "evaluated", "已评价待销号"
    CLOSED = "closed", "已办结"
    LONG_TERM = "long_term", "区级研究推进"
    TRANSFERRED = "transferred", "移送市级"
    MERGED = "merged", "已并单"

    @classmethod
    def colour(cls, value: str) -> str:
        return STATE_COLOURS.get(value, "grey")


STATE_COLOURS = {
    State.RECEIVED: "orange", State.DISPATCHED: "blue", State.RETURNED: "red", State.ACCEPTED: "blue",
    State.CONTACTED: "cyan", State.PLANNED: "cyan", State.REOPENED: "red", State.REPLIED: "purple",
    State.EVALUATED: "purple", State.CLOSED: "green", State.LONG_TERM: "gold", State.TRANSFERRED: "gold",
    State.MERGED: "grey",
}
OPEN_STATES = (State.RECEIVED, State.DISPATCHED, State.RETURNED, State.ACCEPTED, State.CONTACTED,
               State.PLANNED, State.REOPENED)
UNIT_STATES = (State.DISPATCHED, State.ACCEPTED, State.CONTACTED, State.PLANNED, State.REOPENED)


class Nature(models.TextChoices):
    """What an enterprise raised: a difficulty to solve or an opinion to consider (seed 000 keeps them in
    two lists, 问题清单 and 意见清单)."""

    PROBLEM = "problem", "困难问题"
    OPINION = "opinion", "意见建议"


class Stage(models.TextChoices):
    """The four clocks of the 1231 rule."""

    DISPATCH = "dispatch", "交办"
    CONTACT = "contact", "联系企业"
    PATH = "path", "反馈路径"
    RESOLVE = "resolve", "办结"


class Tier(models.IntegerChoices):
    UNIT = 1, "承办单位"
    JOINT_OFFICE = 2, "联席办"
    DISTRICT_LEADER = 3, "区领导"
    CITY = 4, "市级"


class Outcome(models.TextChoices):
    SOLVED = "solved", "已解决"
    EXPLAINED = "explained", "已解释说明"
    LONG_TERM = "long_term", "区级研究推进"
    TRANSFERRED = "transferred", "移送市级研究"
    UNSOLVABLE = "unsolvable", "无法解决"


class Evaluation(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"
    # Closed unrated after the configured working days (12345 rules); counted apart, never as 满意
    # (qinqing.handoffs.services.close_unrated_replies).
    DEFAULT = "default", "默认满意"


class SlaRule(models.Model):
    """A deadline rule such as "1231": day counts in working days, resolution in months or days."""

    name = models.CharField("规则名称", max_length=40, unique=True)
    dispatch_days = models.PositiveSmallIntegerField("交办时限（工作日）", default=1)
    contact_days = models.PositiveSmallIntegerField("联系企业时限（工作日）", default=2)
    path_days = models.PositiveSmallIntegerField("反馈路径时限（工作日）", default=3)
    resolve_months = models.PositiveSmallIntegerField("办结时限（自然月）", default=1,
                                                      help_text="为0时按下方工作日数计算")
    resolve_workdays = models.PositiveSmallIntegerField("办结时限（工作日）", default=0)
    redo_days = models.PositiveSmallIntegerField("重办时限（工作日）", default=10)
    is_default = models.BooleanField("默认规则", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "办理时限规则"
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                               name="one_default_sla_rule")]

    def __str__(self):
        return self.name


class EnvironmentClass(models.Model):
    """One of the business environment's four classes (营商环境四大类: 市场、政务、法治、创新环境).

    The second dimension of a demand beside its kind (seed 004 sorts enterprises' problems "围绕市场环境、
    政务环境、法治环境、创新环境4大类16个方面"). Configuration, edited in the admin."""

    name = models.CharField("大类", max_length=20, unique=True)
    position = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "营商环境大类"
        ordering = ["position", "id"]

    def __str__(self):
        return self.name


class EnvironmentAspect(models.Model):
    """One aspect (方面) of a business-environment class, e.g. 市场环境 · 市场准入; four per class by default."""

    env_class = models.ForeignKey(EnvironmentClass, models.PROTECT, related_name="aspects", verbose_name="所属大类")
    name = models.CharField("方面", max_length=20)
    position = models.PositiveSmallIntegerField("排序", default=0)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "营商环境方面"
        ordering = ["env_class__position", "env_class_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["env_class", "name"], name="aspect_unique_name")]

    def __str__(self):
        return self.name

    @property
    def label(self) -> str:
        """"市场环境·市场准入": the class with the aspect (reads env_class; select it with the aspect)."""
        return f"{self.env_class.name}·{self.name}"


class Category(models.Model):
    """A kind of demand in the configurable taxonomy; may carry its own deadline rule."""

    name = models.CharField("类别", max_length=40)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name="上级类别")
    sla_rule = models.ForeignKey(SlaRule, models.PROTECT, null=True, blank=True, verbose_name="办理时限规则",
                                 help_text="留空则使用默认规则")
    default_unit = models.ForeignKey("accounts.Unit", models.SET_NULL, null=True, blank=True,
                                     verbose_name="建议承办单位")
    keywords = models.CharField("识别关键词", max_length=300, blank=True, help_text="以空格分隔")
    default_aspect = models.ForeignKey(EnvironmentAspect, models.SET_NULL, null=True, blank=True, related_name="+",
                                       verbose_name="默认营商环境方面",
                                       help_text="受理时据此建议诉求所属的营商环境方面，交办时可改")
    position = models.PositiveSmallIntegerField("排序", default=0)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "诉求类别"
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name")]

    def __str__(self):
        return self.name


class DemandQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The only way views and the API get demands: jurisdiction subtree, role and involvement."""
        from .visibility import demand_visibility_q

        q = demand_visibility_q(user)
        if q is None:
            return self
        return self.filter(q)

    def open(self):
        return self.filter(state__in=OPEN_STATES)

    def overdue(self, today: dt.date):
        return self.filter(next_due__lt=today)


class Demand(models.Model):
    """An enterprise's problem, captured once and followed until it is closed out."""

    number = models.CharField("编号", max_length=20, unique=True)
    # Four foreign keys are served by the composite indexes in Meta (their leading column), so they
    # carry no single-column index of their own: every index is one more write on each intake.
    enterprise = models.ForeignKey("enterprises.Enterprise", models.PROTECT, null=True, blank=True,
                                   related_name="demands", verbose_name="企业", db_index=False)
    reporter_name = models.CharField("反映人", max_length=40, blank=True,
                                     help_text="无企业时（个人或匿名）填写")
    reporter_phone = models.CharField("反映人电话", max_length=30, blank=True)
    jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.PROTECT, related_name="demands",
                                     verbose_name="属地", db_index=False)
    channel = models.CharField("来源渠道", max_length=10, choices=Channel.choices)
    nature = models.CharField("性质", max_length=10, choices=Nature.choices, default=Nature.PROBLEM)
    title = models.CharField("标题", max_length=120)
    content = models.TextField("诉求内容")
    category = models.ForeignKey(Category, models.PROTECT, related_name="demands", verbose_name="类别",
                                 db_index=False)
    # Indexed by demand_aspect_received (its leading column), like the category.
    aspect = models.ForeignKey(EnvironmentAspect, models.PROTECT, null=True, blank=True, related_name="demands",
                               verbose_name="营商环境方面", db_index=False)
    received_at = models.DateTimeField("受理时间")
    first_receiver = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                       related_name="received_demands", verbose_name="首接人")
    lead_unit = models.ForeignKey("accounts.Unit", models.PROTECT, null=True, blank=True,
                                  related_name="led_demands", verbose_name="主办单位", db_index=False)
    co_units = models.ManyToManyField("accounts.Unit", blank=True, related_name="co_demands",
                                      verbose_name="协办单位")
    tier = models.PositiveSmallIntegerField("办理层级", choices=Tier.choices, default=Tier.UNIT)
    state = models.CharField("状态", max_length=12, choices=State.choices, default=State.RECEIVED)
    outcome = models.CharField("办理结果", max_length=12, choices=Outcome.choices, blank=True)
    reply = models.TextField("正式答复", blank=True)
    solution_path = models.TextField("解决路径", blank=True)
    evaluation = models.CharField("评价", max_length=12, choices=Evaluation.choices, blank=True)
    evaluation_comment = models.TextField("评价意见", blank=True)
    evaluation_by_callback = models.BooleanField("回访代评", default=False)
    duplicate_of = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="duplicates",
                                     verbose_name="并入诉求")
    # A hand-off between levels (qinqing.handoffs) creates this demand in the receiving jurisdiction from
    # the sender's; it is the receiving level's work, counted there under 移入, not as a new receipt.
    # No index: the hand-off rows (handoffs.HandOff) answer every lookup by link.
    handed_from = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="handed_to",
                                    verbose_name="移交来源", db_index=False)
    # 挂起 (qinqing.handoffs): while set the clock stands still (no next deadline, so no urging); on resume
    # every remaining stage's deadline moves by the paused working days, kept in pause_shift per stage
    # ({"contact": n, "path": n, "resolve": n, "round": reopen_count the resolve shift belongs to}).
    paused_since = models.DateTimeField("挂起时间", null=True, blank=True)
    pause_shift = models.JSONField("挂起顺延（工作日）", default=dict, blank=True)

    # The 1231 clock: stored, recomputed by the services at every transition.
    dispatch_due = models.DateField("交办期限")
    contact_due = models.DateField("联系期限")
    path_due = models.DateField("路径反馈期限")
    resolve_due = models.DateField("办结期限")
    extension_days = models.PositiveSmallIntegerField("已批准延期（工作日）", default=0)
    current_stage = models.CharField("当前环节", max_length=10, choices=Stage.choices, blank=True)
    next_due = models.DateField("当前环节期限", null=True, blank=True)
    # next_due with finished demands last, so "nearest deadline first" is one index scan everywhere.
    due_order = models.DateField("排序期限", default=dt.date.max, editable=False)

    dispatched_at = models.DateTimeField("交办时间", null=True, blank=True)
    accepted_at = models.DateTimeField("签收时间", null=True, blank=True)
    contacted_at = models.DateTimeField("联系时间", null=True, blank=True)
    path_at = models.DateTimeField("路径反馈时间", null=True, blank=True)
    replied_at = models.DateTimeField("答复时间", null=True, blank=True)
    evaluated_at = models.DateTimeField("评价时间", null=True, blank=True)
    reopened_at = models.DateTimeField("重办时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField("重办次数", default=0)
    return_count = models.PositiveSmallIntegerField("退回次数", default=0)

    search_text = models.TextField("检索词", blank=True, editable=False)
    version = models.PositiveIntegerField("版本", default=1, editable=False)
    created_at = models.DateTimeField("创建时间", default=clock.now, editable=False)
    updated_at = models.DateTimeField("更新时间", default=clock.now, editable=False)

    objects = DemandQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "诉求"
        ordering = ["-received_at"]
        indexes = [
            # Open demands by nearest deadline: the ledger's default order and the overdue sweep.
            models.Index(fields=["next_due", "id"], name="demand_next_due_open",
                         condition=Q(next_due__isnull=False)),
            models.Index(fields=["current_stage", "next_due"], name="demand_stage_due",
                         condition=Q(next_due__isnull=False)),
            models.Index(fields=["state", "received_at"], name="demand_state_received"),
            models.Index(fields=["lead_unit", "state"], name="demand_unit_state"),
            models.Index(fields=["jurisdiction", "received_at"], name="demand_jur_received"),
            models.Index(fields=["category", "received_at"], name="demand_cat_received"),
            models.Index(fields=["aspect", "received_at"], name="demand_aspect_received"),
            # The opinion list (意见清单), newest first. Partial: opinions are few, and a problem's intake
            # (most of them) writes no entry in it.
            models.Index(fields=["-received_at", "-id"], name="demand_opinion_received",
                         condition=Q(nature="opinion")),
            models.Index(fields=["-received_at", "-id"], name="demand_received_desc"),
            models.Index(fields=["due_order", "-id"], name="demand_due_order"),
            models.Index(fields=["enterprise", "-received_at"], name="demand_ent_received"),
            # Demands received with their search words left to the worker (search.PENDING): a few seconds'
            # intake at most, which the keyword search matches by substring meanwhile.
            models.Index(fields=["id"], name="demand_search_pending", condition=Q(search_text="")),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def state_colour(self) -> str:
        return State.colour(self.state)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_paused(self) -> bool:
        return self.paused_since is not None

    def due_for(self, stage: str) -> dt.date:
        return getattr(self, f"{stage}_due")


class DemandEvent(AppendOnlyModel):
    """One line of a demand's timeline: who did what, when, from which state to which. Append-only."""

    # Indexed by event_demand_time, whose leading column it is. Entries are written only by the services
    # (and the sweep) for the demand they hold, and never change, so the database does not check the key
    # again: its check locks the demand row (FOR KEY SHARE), which for a sweep issuing tens of thousands
    # of urgings cost as much as writing them. PROTECT still stops deleting a demand with a timeline.
    demand = models.ForeignKey(Demand, models.PROTECT, related_name="events", verbose_name="诉求",
                               db_index=False, db_constraint=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name="操作人")
    verb = models.CharField("操作", max_length=20)
    from_state = models.CharField("原状态", max_length=12, choices=State.choices, blank=True)
    to_state = models.CharField("新状态", max_length=12, choices=State.choices, blank=True)
    note = models.TextField("说明", blank=True)
    data = models.JSONField("详情", default=dict, blank=True)
    internal = models.BooleanField("内部记录", default=False, help_text="企业看不到内部记录")
    created_at = models.DateTimeField("时间", default=clock.now)
    # True from the entry's INSERT (no statement more) until notify_for_event has written its notifications,
    # in the same transaction as them; a minute-ly task delivers what a crash left behind. Entries nobody is
    # told of (history loaded quietly, the sweep's urgings with their own delivery) are False from the start.
    awaiting_delivery = models.BooleanField("待发送通知", default=False, db_default=False)
    # The hash chain (qinqing.audit.chain, 等保 安全审计): NULL when written, so intake never waits on a chain
    # head; the sealing task fills them in id order a minute later, and `manage.py audit verify` checks them.
    chain_prev = models.CharField("前一条摘要", max_length=64, null=True, blank=True, editable=False)
    chain_hash = models.CharField("摘要", max_length=64, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "办理记录"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["demand", "created_at"], name="event_demand_time"),
                   # Only the few entries awaiting delivery: the catch-up reads them, nobody else.
                   models.Index(fields=["created_at"], name="event_awaiting_delivery",
                                condition=models.Q(awaiting_delivery=True))]

    def __str__(self):
        return f"{self.demand_id} {self.verb}"

    @property
    def verb_label(self) -> str:
        from .verbs import VERB_LABELS

        return VERB_LABELS.get(self.verb, self.verb)


def attachment_path(instance, filename):
    """A generated storage name (random, with the file's own short extension): the name the user gave is kept
    in `Attachment.name` for display and download. A 200-character Chinese name is 600 bytes, more than a
    file system allows in one name, and made the portal's submission fail."""
    suffix = os.path.splitext(filename)[1].lower()
    if not (1 < len(suffix) <= 10 and suffix[1:].isascii() and suffix[1:].isalnum()):
        suffix = ""
    return f"attachments/{clock.today():%Y/%m}/{instance.demand_id}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    demand = models.ForeignKey(Demand, models.CASCADE, related_name="attachments", verbose_name="诉求")
    file = models.FileField("文件", upload_to=attachment_path, max_length=255)
    name = models.CharField("文件名", max_length=200)
    size = models.PositiveIntegerField("大小（字节）")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+")
    uploaded_at = models.DateTimeField("上传时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "附件"

    def __str__(self):
        return self.name


class Extension(models.Model):
    """A handling unit's request for more working days, and the dispatcher's decision."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "未批准"

    demand = models.ForeignKey(Demand, models.CASCADE, related_name="extensions", verbose_name="诉求")
    days = models.PositiveSmallIntegerField("申请延期（工作日）")
    reason = models.TextField("理由")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=clock.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "延期申请"
        constraints = [models.UniqueConstraint(fields=["demand"], condition=Q(status="pending"),
                                               name="one_pending_extension")]

    def __str__(self):
        return f"{self.demand_id} +{self.days}"


class Urging(models.Model):
    """A 催办 notice: one per demand, overdue stage and deadline, issued by the sweep, listed for supervision."""

    # Only the sweep writes urgings, and it takes both ids from the demand row it reads in the same
    # statement, so the database does not check them again: a first sweep after an outage issues tens
    # of thousands, and the two foreign-key checks per row were most of its time. Deletes still cascade
    # (Django's collector does that, not the database). The demand is indexed by the unique constraint.
    demand = models.ForeignKey(Demand, models.CASCADE, related_name="urgings", verbose_name="诉求",
                               db_index=False, db_constraint=False)
    stage = models.CharField("超期环节", max_length=10, choices=Stage.choices)
    due = models.DateField("原期限")
    unit = models.ForeignKey("accounts.Unit", models.SET_NULL, null=True, blank=True, related_name="urgings",
                             verbose_name="被催办单位", db_constraint=False)
    sweep = models.CharField(max_length=32, editable=False)  # indexed in Meta: equality only, no LIKE index
    created_at = models.DateTimeField("催办时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "催办记录"
        constraints = [models.UniqueConstraint(fields=["demand", "stage", "due"], name="one_urging_per_stage_due")]
        indexes = [models.Index(fields=["sweep"], name="urging_sweep")]

    def __str__(self):
        return f"{self.demand_id} {self.get_stage_display()}"


class DemandSequence(models.Model):
    """The last number issued in a year, for human-readable demand numbers."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"
