"""The enterprise registry (企业库): enterprises keyed by their unified social credit code, the official
classifications they are filed under (GB/T 4754-2017 industries, GB/T 2260 divisions), their yearly figures,
and the configuration the statistics bureau changes (size thresholds, 四上 rules, tags).

Every change goes through qinqing.enterprises.services; EnterpriseEvent is the append-only trail.
"""

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models

from qinqing.lib import clock, uscc
from qinqing.lib.append_only import AppendOnlyModel
from qinqing.lib.jobs import ImportStatus


def validate_credit_code(value: str) -> None:
    """GB 32100-2015, or a non-conforming code an administrator accepted (CreditCodeOverride)."""
    try:
        uscc.validate(value)
    except uscc.InvalidCreditCode as exc:
        if CreditCodeOverride.objects.filter(code=uscc.normalize(value)).exists():
            return
        raise ValidationError(str(exc), code="invalid_credit_code") from exc


class Sector(models.TextChoices):
    """The industry groups district reports count by (seed 000)."""

    INDUSTRY = "industry", "工业"
    CONSTRUCTION = "construction", "建筑业"
    AGRICULTURE = "agriculture", "农林牧业"
    WHOLESALE_RETAIL = "wholesale_retail", "批发零售业"
    HOSPITALITY = "hospitality", "餐饮住宿业"
    TRANSPORT = "transport", "交通运输业"
    REAL_ESTATE = "real_estate", "房地产业"
    SERVICES = "services", "服务业及其他"


class Size(models.TextChoices):
    LARGE = "large", "大型"
    MEDIUM = "medium", "中型"
    SMALL = "small", "小型"
    MICRO = "micro", "微型"


# ---------------------------------------------------------------- reference data (loaded by migration 0003)

class IndustryLevel(models.TextChoices):
    SECTION = "section", "门类"
    DIVISION = "division", "大类"
    GROUP = "group", "中类"
    CLASS = "class", "小类"


class IndustryCode(models.Model):
    """One node of GB/T 4754-2017, stored with its 门类 letter in front (A, A01, A011, A0111).

    That is the form Enterprise.industry_code holds, so "every enterprise of 门类 C" or "of 大类 33" is a
    prefix match on an indexed column. `sector` maps the node to the seed's statistical groups (data, editable).
    """

    code = models.CharField("代码", max_length=5, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.CharField("层级", max_length=10, choices=IndustryLevel.choices)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name="上级")
    sector = models.CharField("统计口径", max_length=20, choices=Sector.choices)
    remark = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "国民经济行业分类"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def section(self) -> str:
        return self.code[0]

    @property
    def number(self) -> str:
        """The code as printed in the standard: "3311" for C3311, "C" for the 门类 itself."""
        return self.code[1:] or self.code


class Division(models.Model):
    """A GB/T 2260 administrative division (province, prefecture, county), 民政部 2019-04 revision."""

    class Level(models.TextChoices):
        PROVINCE = "province", "省级"
        PREFECTURE = "prefecture", "地级"
        COUNTY = "county", "县级"

    code = models.CharField("区划代码", max_length=6, unique=True)
    name = models.CharField("名称", max_length=60)
    level = models.CharField("层级", max_length=12, choices=Level.choices)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name="上级")

    class Meta:
        verbose_name = verbose_name_plural = "行政区划代码（GB/T 2260）"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class SizeRule(models.Model):
    """One row of the 2017 大中小微 table: the lower bounds of each tier for the industries in `codes`.

    Large, medium and small must meet every bound that is set, otherwise the enterprise drops a tier;
    whatever meets none of them is micro (统计上大中小微型企业划分办法（2017）, 附表注).
    """

    name = models.CharField("行业", max_length=40, unique=True)
    codes = models.CharField("适用行业代码", max_length=200,
                             help_text="GB/T 4754-2017 代码前缀，以空格分隔，如 “B C D” 或 “G592 G593”；匹配最长前缀")
    employees_large = models.PositiveIntegerField("大型·从业人员≥（人）", null=True, blank=True)
    employees_medium = models.PositiveIntegerField("中型·从业人员≥（人）", null=True, blank=True)
    employees_small = models.PositiveIntegerField("小型·从业人员≥（人）", null=True, blank=True)
    revenue_large = models.DecimalField("大型·营业收入≥（万元）", max_digits=14, decimal_places=2, null=True, blank=True)
    revenue_medium = models.DecimalField("中型·营业收入≥（万元）", max_digits=14, decimal_places=2, null=True,
                                         blank=True)
    revenue_small = models.DecimalField("小型·营业收入≥（万元）", max_digits=14, decimal_places=2, null=True, blank=True)
    assets_large = models.DecimalField("大型·资产总额≥（万元）", max_digits=14, decimal_places=2, null=True, blank=True)
    assets_medium = models.DecimalField("中型·资产总额≥（万元）", max_digits=14, decimal_places=2, null=True, blank=True)
    assets_small = models.DecimalField("小型·资产总额≥（万元）", max_digits=14, decimal_places=2, null=True, blank=True)
    active = models.BooleanField("启用", default=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "企业规模划分标准"
        ordering = ["id"]

    def __str__(self):
        return self.name

    def prefixes(self) -> list[str]:
        return self.codes.split()


class FourAboveRule(models.Model):
    """One 四上 criterion: which industries, and what makes an enterprise of them count.

    Revenue (and, for the older services rule, employees) thresholds are alternatives: meeting one is
    enough. With neither set, every enterprise of the industry counts (房地产开发经营), unless the rule
    asks for a construction qualification (有资质的建筑业).
    """

    name = models.CharField("类别", max_length=40, unique=True)
    codes = models.CharField("适用行业代码", max_length=200,
                             help_text="GB/T 4754-2017 代码前缀，以空格分隔；匹配最长前缀")
    min_revenue = models.DecimalField("年营业收入≥（万元）", max_digits=14, decimal_places=2, null=True, blank=True)
    min_employees = models.PositiveIntegerField("或年末从业人员≥（人）", null=True, blank=True)
    needs_qualification = models.BooleanField("须具备资质", default=False,
                                              help_text="建筑业：有总承包、专业承包资质")
    active = models.BooleanField("启用", default=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "四上企业标准"
        ordering = ["id"]

    def __str__(self):
        return self.name

    def prefixes(self) -> list[str]:
        return self.codes.split()


class Tag(models.Model):
    """A label staff put on enterprises (专精特新, 高新技术企业 …). Configuration: the list changes."""

    name = models.CharField("名称", max_length=30, unique=True)
    description = models.CharField("说明", max_length=200, blank=True)
    position = models.PositiveSmallIntegerField("排序", default=0)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "企业标签"
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class CreditCodeOverride(models.Model):
    """A real but non-conforming credit code (early pilot codes fail the GB check) accepted by an administrator."""

    code = models.CharField("统一社会信用代码", max_length=18, unique=True)
    reason = models.TextField("接受理由")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="批准人")
    accepted_at = models.DateTimeField("批准时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "特批信用代码"
        ordering = ["-accepted_at"]

    def __str__(self):
        return self.code


# ---------------------------------------------------------------- tags stored on the enterprise

class TagListField(models.JSONField):
    """A JSON list of tag names, with a `has_tag` lookup that works on SQLite and PostgreSQL alike."""


@TagListField.register_lookup
class HasTag(models.Lookup):
    lookup_name = "has_tag"
    prepare_rhs = False

    def get_prep_lookup(self):
        return str(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} @> %s::jsonb", [*lhs_params, json.dumps([self.rhs])]
        # lhs is the compiled column reference, never user input; the tag itself is a parameter.
        return f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value = %s)", [*lhs_params, self.rhs]  # noqa: S608


# ---------------------------------------------------------------- the registry

class EnterpriseQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Enterprises a user may see: their own, their jurisdiction's, or those they serve."""
        from qinqing.accounts.models import Role

        if not user.is_authenticated:
            return self.none()
        if user.is_superuser or user.has_role(Role.ADMIN):
            return self
        q = models.Q(pk__in=[])
        if user.has_role(Role.ENTERPRISE) and user.enterprise_id:
            q |= models.Q(pk=user.enterprise_id)
        if user.has_role(Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER) and user.jurisdiction_id:
            q |= models.Q(jurisdiction__path__startswith=user.jurisdiction.path)
        if user.has_role(Role.SPECIALIST):
            q |= models.Q(pk__in=Helpers.objects.held_by(user).values("enterprise_id"))
        if user.has_role(Role.HANDLER, Role.UNIT_HEAD) and user.unit_id:
            q |= models.Q(demands__lead_unit_id=user.unit_id) | models.Q(demands__co_units=user.unit_id)
            return self.filter(pk__in=self.filter(q).values("pk"))
        return self.filter(q)


def visible_sql(user, enterprise: str, jurisdiction: str) -> tuple[str, list] | None:
    """`EnterpriseQuerySet.visible_to(user)` as an SQL condition on an enterprise row aliased `enterprise`
    joined to its jurisdiction aliased `jurisdiction`, for the API's hand-composed lookups (the intake's
    enterprise by credit code). None for no condition (administrators). The same clauses as visible_to, in the
    same order; tests/test_hardening_defects.py checks the two agree for every kind of user.
    """
    from django.apps import apps

    from qinqing.accounts.models import Role

    if not user.is_authenticated:
        return "1 = 0", []
    if user.is_superuser or user.has_role(Role.ADMIN):
        return None
    qn = connection.ops.quote_name
    e, j = enterprise, jurisdiction
    parts, params = [], []
    if user.has_role(Role.ENTERPRISE) and user.enterprise_id:
        parts.append(f"{e}.id = %s")
        params.append(user.enterprise_id)
    if user.has_role(Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER) and user.jurisdiction_id:
        path = user.jurisdiction.path
        parts.append(f"SUBSTR({j}.path, 1, %s) = %s")  # startswith, with no LIKE wildcard to escape
        params += [len(path), path]
    if user.has_role(Role.SPECIALIST):
        parts.append(f"EXISTS (SELECT 1 FROM {qn(Helpers._meta.db_table)} h WHERE h.enterprise_id = {e}.id "  # noqa: S608
                     "AND (h.service_specialist_id = %s OR h.contact_leader_id = %s))")
        params += [user.pk, user.pk]
    if user.has_role(Role.HANDLER, Role.UNIT_HEAD) and user.unit_id:
        demand = apps.get_model("demands", "Demand")
        demands, co_units = qn(demand._meta.db_table), qn(demand.co_units.through._meta.db_table)
        parts.append(f"EXISTS (SELECT 1 FROM {demands} d WHERE d.enterprise_id = {e}.id AND d.lead_unit_id = %s)")  # noqa: S608
        parts.append(f"EXISTS (SELECT 1 FROM {co_units} c JOIN {demands} d ON d.id = c.demand_id "  # noqa: S608
                     f"WHERE d.enterprise_id = {e}.id AND c.unit_id = %s)")
        params += [user.unit_id, user.unit_id]
    if not parts:
        return "1 = 0", []
    return f"({' OR '.join(parts)})", params


class Enterprise(models.Model):
    """A private enterprise, keyed by its unified social credit code.

    `size`, `is_four_above` are the computed result for `figures_year` (the latest year with figures),
    refreshed by services.record_yearly_figures; without figures they hold what staff entered.
    """

    name = models.CharField("企业名称", max_length=120, db_index=True)
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True,
                                   validators=[validate_credit_code])
    sector = models.CharField("行业门类（统计口径）", max_length=20, choices=Sector.choices)
    industry_code = models.CharField("国民经济行业代码", max_length=5, blank=True, db_index=True,
                                     help_text="GB/T 4754-2017 代码，如 C3311")
    jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.PROTECT, related_name="enterprises",
                                     verbose_name="所在镇街园区")
    division = models.ForeignKey(Division, models.PROTECT, null=True, blank=True, related_name="enterprises",
                                 verbose_name="行政区划（GB/T 2260）")
    size = models.CharField("规模", max_length=10, choices=Size.choices, blank=True)
    is_four_above = models.BooleanField("四上企业", default=False)
    figures_year = models.PositiveSmallIntegerField("规模测算年份", null=True, blank=True)
    qualification = models.CharField("建筑业资质", max_length=60, blank=True,
                                     help_text="总承包、专业承包资质等级；有资质的建筑业计入四上")
    tags = TagListField("标签", default=list, blank=True)
    legal_representative = models.CharField("法定代表人", max_length=40, blank=True)
    contact_name = models.CharField("联系人", max_length=40, blank=True, db_index=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    established_on = models.DateField("成立日期", null=True, blank=True,
                                      help_text="营业执照上的成立日期；惠企政策按成立年限匹配时使用")
    credit_code_override = models.ForeignKey(CreditCodeOverride, models.PROTECT, null=True, blank=True,
                                             related_name="enterprises", verbose_name="特批代码记录")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "企业"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.credit_code:
            self.credit_code = uscc.normalize(self.credit_code)

    # The current helpers live in Helpers (see there why). These read them, one query at most per
    # enterprise, none when the query had select_related(*HELPERS).
    @property
    def current_helpers(self) -> "Helpers | None":
        try:
            return self.helpers
        except Helpers.DoesNotExist:
            return None

    @property
    def service_specialist(self):
        return self.current_helpers and self.current_helpers.service_specialist

    @property
    def contact_leader(self):
        return self.current_helpers and self.current_helpers.contact_leader

    @property
    def service_specialist_id(self) -> int | None:
        return self.current_helpers and self.current_helpers.service_specialist_id

    @property
    def contact_leader_id(self) -> int | None:
        return self.current_helpers and self.current_helpers.contact_leader_id


# What to select_related for an enterprise's helpers (with their names and phones) in one query.
HELPERS = ("helpers__service_specialist", "helpers__contact_leader")
HELPER_FIELDS = ("service_specialist_id", "contact_leader_id")


class HelpersQuerySet(models.QuerySet):
    def held_by(self, user):
        """The rows where `user` is the specialist or the contact leader (two indexes, OR-ed)."""
        return self.filter(models.Q(service_specialist=user) | models.Q(contact_leader=user))


class Helpers(models.Model):
    """An enterprise's current 为企服务专员 and 包联领导: who holds each duty now.

    A narrow table of its own, not two columns of the registry row, because of bulk assignment: the
    registry row carries 17 indexes (name, trigram, tags, codes…), and moving a pointer there rewrites
    all of them. Measured on PostgreSQL for 200,000 enterprises: 14 s in the registry table, 2 s here;
    a million-enterprise assignment has 60 s in all. Who held a duty when is visits.Assignment (which a
    change made here also moves: visits.services.follow_registry); the registry's trail records edits.

    Its references are not foreign-key constraints in the database: checked at commit they cost 3.5 s
    per 200,000 moves. Only services write this table, with ids of rows they just read; deleting a
    user still clears them and deleting an enterprise its row (Django applies SET_NULL and CASCADE).
    """

    enterprise = models.OneToOneField(Enterprise, models.CASCADE, primary_key=True, related_name="helpers",
                                      verbose_name="企业", db_constraint=False)
    service_specialist = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                           related_name="specialist_for", verbose_name="为企服务专员",
                                           db_constraint=False)
    contact_leader = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                       related_name="leader_for", verbose_name="包联领导", db_constraint=False)

    objects = HelpersQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "企业现任包联人员"

    def __str__(self):
        return f"{self.enterprise_id}"


def set_helpers(enterprise_id: int, **pointers) -> None:
    """Write some of an enterprise's current helpers (service_specialist_id=…, contact_leader_id=…).

    For services only, inside their transaction: the caller has checked permission and writes the audit.
    """
    updated = Helpers.objects.filter(enterprise_id=enterprise_id).update(**pointers)
    if not updated and any(v is not None for v in pointers.values()):
        Helpers.objects.create(enterprise_id=enterprise_id, **pointers)


class YearlyFigures(models.Model):
    """What an enterprise reported for one year, and the size and 四上 status computed from it then."""

    enterprise = models.ForeignKey(Enterprise, models.CASCADE, related_name="figures", verbose_name="企业")
    year = models.PositiveSmallIntegerField("年份")
    employees = models.PositiveIntegerField("从业人员（人）", null=True, blank=True)
    revenue = models.DecimalField("营业收入（万元）", max_digits=14, decimal_places=2, null=True, blank=True)
    assets = models.DecimalField("资产总额（万元）", max_digits=14, decimal_places=2, null=True, blank=True)
    tax_paid = models.DecimalField("纳税额（万元）", max_digits=14, decimal_places=2, null=True, blank=True)
    size = models.CharField("规模", max_length=10, choices=Size.choices, blank=True)
    is_four_above = models.BooleanField("四上企业", default=False)
    four_above_rule = models.CharField("四上类别", max_length=40, blank=True)
    recorded_at = models.DateTimeField("记录时间", default=clock.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name="记录人")

    class Meta:
        verbose_name = verbose_name_plural = "企业年度数据"
        ordering = ["enterprise", "-year"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "year"], name="figures_unique_year")]

    def __str__(self):
        return f"{self.enterprise_id} {self.year}"


class EnterpriseEvent(AppendOnlyModel):
    """One line of the registry's audit trail: who changed what, when, through which path. Append-only."""

    class Verb(models.TextChoices):
        REGISTER = "register", "登记"
        UPDATE = "update", "修改"
        IMPORT_CREATE = "import_create", "导入新增"
        IMPORT_UPDATE = "import_update", "导入更新"
        FIGURES = "figures", "录入年度数据"
        CLASSIFY = "classify", "重新测算规模"
        OVERRIDE = "override", "特批信用代码"

    enterprise = models.ForeignKey(Enterprise, models.CASCADE, null=True, blank=True, related_name="events",
                                   verbose_name="企业")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name="操作人")
    verb = models.CharField("操作", max_length=20, choices=Verb.choices)
    changes = models.JSONField("变更", default=dict, blank=True, help_text="字段 → [原值, 新值]")
    note = models.TextField("说明", blank=True)
    created_at = models.DateTimeField("时间", default=clock.now)


    class Meta:
        verbose_name = verbose_name_plural = "企业库操作记录"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["enterprise", "created_at"], name="ent_event_time")]

    def __str__(self):
        return f"{self.get_verb_display()} {self.created_at:%Y-%m-%d %H:%M}"

    def readable_changes(self) -> list[tuple[str, str | None, str]]:
        """`changes` in labels, not codes (行业门类：工业 → 批发零售业). For a list of events use
        qinqing.enterprises.changes.describe_events, which reads the names once for all of them."""
        from .changes import ChangeText

        return ChangeText([self.changes]).rows(self.changes)


class ImportJob(models.Model):
    """An uploaded workbook on its way into the registry: checked first, written only when confirmed."""

    Status = ImportStatus

    file = models.FileField("文件", upload_to="imports/%Y/%m/")
    original_name = models.CharField("原文件名", max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="上传人")
    created_at = models.DateTimeField("上传时间", default=clock.now)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    partial = models.BooleanField("跳过错误行", default=False)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    valid_rows = models.PositiveIntegerField("有效行数", default=0)
    error_rows = models.PositiveIntegerField("错误行数", default=0)
    done_rows = models.PositiveIntegerField("已处理行数", default=0)
    created_count = models.PositiveIntegerField("新增企业", default=0)
    updated_count = models.PositiveIntegerField("更新企业", default=0)
    # What the check found against the registry (the preview), and what the user accepted at confirm:
    # a row renaming or moving an existing enterprise is written only when accepted, else skipped.
    new_rows = models.PositiveIntegerField("新增行数", default=0)
    update_rows = models.PositiveIntegerField("更新行数", default=0)
    unchanged_rows = models.PositiveIntegerField("无变化行数", default=0)
    move_rows = models.PositiveIntegerField("更名/迁址行数", default=0)
    changes = models.JSONField("将修改的企业（前若干家）", default=list, blank=True,
                               help_text="[{row, credit_code, name, moves, changes: [[字段, 原值, 新值]]}]")
    accept_all_moves = models.BooleanField("全部接受更名/迁址", default=False)
    accepted_rows = models.JSONField("确认更名/迁址的行号", default=list, blank=True)
    skipped_count = models.PositiveIntegerField("未确认而跳过", default=0)
    message = models.TextField("说明", blank=True)
    columns = models.JSONField("识别的列", default=list, blank=True)
    preview = models.JSONField("预览", default=list, blank=True)
    errors = models.JSONField("错误（前若干条）", default=list, blank=True)
    error_file = models.FileField("错误标注文件", upload_to="imports/%Y/%m/", blank=True)
    # A worker's last sign of life on the job (queued, claimed, each batch checked): a job waiting or running
    # with none for a while was lost with its worker and is queued again (services.recover_stuck_imports).
    heartbeat_at = models.DateTimeField("最近进展", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("运行次数", default=0)  # claims of the import run, its fence

    class Meta:
        verbose_name = verbose_name_plural = "企业导入任务"
        ordering = ["-created_at"]

    def __str__(self):
        return self.original_name

    @property
    def progress_percent(self) -> int:
        if not self.valid_rows:
            return 0
        return min(100, self.done_rows * 100 // self.valid_rows)
