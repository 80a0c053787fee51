"""Jurisdictions, handling units, users and their roles, API tokens."""

import datetime as dt
import hashlib
import secrets

from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from qinqing.lib import clock


class Jurisdiction(models.Model):
    """A node of the administrative tree: province → city → district → town/street/park.

    `path` is the chain of codes from the root ("44/4403/440305/"), so that a subtree is a
    prefix match on an indexed column instead of a recursive query.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", "省"
        CITY = "city", "市"
        DISTRICT = "district", "区县"
        TOWN = "town", "镇街园区"

    code = models.CharField("区划代码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=60)
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name="上级")
    path = models.CharField("路径", max_length=255, db_index=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "行政区划"
        ordering = ["path"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.path = f"{self.parent.path if self.parent else ''}{self.code}/"
        super().save(*args, **kwargs)

    def subtree(self):
        return Jurisdiction.objects.filter(path__startswith=self.path)


class Unit(models.Model):
    """A body that handles demands: a department, a town or park, the joint office, supervision."""

    class Kind(models.TextChoices):
        DEPARTMENT = "department", "职能部门"
        TOWN = "town", "镇街"
        PARK = "park", "园区"
        JOINT_OFFICE = "joint_office", "营商办/联席办"
        SUPERVISION = "supervision", "督查室"
        CITY = "city", "市级部门"

    name = models.CharField("单位名称", max_length=80)
    short_name = models.CharField("简称", max_length=30, blank=True)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    jurisdiction = models.ForeignKey(Jurisdiction, models.PROTECT, related_name="units", verbose_name="所属区划")
    phone = models.CharField("联系电话", max_length=30, blank=True)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "承办单位"
        ordering = ["jurisdiction__path", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["jurisdiction", "name"], name="unit_unique_name")]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    ENTERPRISE = "enterprise", "企业用户"
    SPECIALIST = "specialist", "为企服务专员"
    DISPATCHER = "dispatcher", "调度员（营商办/联席办）"
    HANDLER = "handler", "承办人"
    UNIT_HEAD = "unit_head", "承办单位负责人"
    SUPERVISOR = "supervisor", "督查室"
    LEADER = "leader", "领导"
    ADMIN = "admin", "管理员"


class RoleGrant(models.Model):
    """One role held by a user; a user may hold several."""

    user = models.ForeignKey("User", models.CASCADE, related_name="role_grants", verbose_name="用户")
    role = models.CharField("角色", max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = verbose_name_plural = "角色授予"
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="role_grant_unique")]

    def __str__(self):
        return self.get_role_display()


class User(AbstractUser):
    """A person: staff of a unit or jurisdiction, or an enterprise's account."""

    full_name = models.CharField("姓名", max_length=40, blank=True)
    phone = models.CharField("手机号", max_length=20, blank=True)
    jurisdiction = models.ForeignKey(Jurisdiction, models.PROTECT, null=True, blank=True, related_name="users",
                                     verbose_name="所属区划")
    unit = models.ForeignKey(Unit, models.PROTECT, null=True, blank=True, related_name="members",
                             verbose_name="所属单位")
    enterprise = models.ForeignKey("enterprises.Enterprise", models.PROTECT, null=True, blank=True,
                                   related_name="accounts", verbose_name="所属企业")
    # Set when an administrator creates the account or sets its password: the person chose none of it, so
    # qinqing.accounts.security.AccountGuardMiddleware sends them to 修改密码 before anything else.
    # db_default too: rows written by code that predates the column (older migrations' historical models,
    # raw SQL in benchmarks) get False from the database.
    must_change_password = models.BooleanField(
        "须修改初始密码", default=False, db_default=False, help_text="登录后须先修改密码才能使用系统；修改后自动取消。")

    objects = UserManager()

    class Meta:
        verbose_name = verbose_name_plural = "用户"

    def __str__(self):
        return self.full_name or self.username

    @property
    def display_name(self):
        return self.full_name or self.username

    @property
    def roles(self) -> frozenset[str]:
        """Role codes, read once per request-bound instance."""
        cached = getattr(self, "_role_cache", None)
        if cached is None:
            cached = frozenset(self.role_grants.values_list("role", flat=True)) if self.pk else frozenset()
            if self.is_superuser:
                cached = cached | {Role.ADMIN}
            self._role_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_staff_user(self) -> bool:
        return bool(self.roles - {Role.ENTERPRISE})

    def role_labels(self) -> list[str]:
        return [Role(r).label for r in sorted(self.roles)]


TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=5)


class TokenScope(models.TextChoices):
    """What a token may do. Checked on every call (qinqing.api.auth), in the statement that reads the token."""

    READ = "read", "只读（仅查询）"
    WRITE = "write", "读写（查询、受理与办理）"


def token_expiry() -> dt.datetime:
    """When a token issued now expires: QINQING_API_TOKEN_DAYS (90 by default) from now. Also the migration's
    default for the tokens that existed before tokens expired: 90 days from the upgrade."""
    return clock.now() + dt.timedelta(days=settings.QINQING_API_TOKEN_DAYS)


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored.

    It expires (`expires_at`), carries a scope (read: GET only; write: also the creating calls and the
    verbs) and can be revoked; issued and revoked through qinqing.accounts.services, which write the audit log.
    """

    user = models.ForeignKey(User, models.CASCADE, related_name="api_tokens", verbose_name="用户")
    name = models.CharField("用途", max_length=60, blank=True)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField("前缀", max_length=8, editable=False)
    scope = models.CharField("权限范围", max_length=5, choices=TokenScope.choices, default=TokenScope.WRITE)
    created_at = models.DateTimeField("创建时间", default=clock.now)
    expires_at = models.DateTimeField("到期时间", default=token_expiry)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked = models.BooleanField("已吊销", default=False)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "API令牌"

    def __str__(self):
        return f"{self.prefix}… ({self.user})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= clock.now()

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def issue(cls, user, name: str = "", *, scope: str = TokenScope.WRITE, days: int | None = None) -> str:
        """Create a token and return its raw value, which is stored nowhere. No permission check and no
        audit entry: qinqing.accounts.services.issue_token is the way people issue tokens (tests call this)."""
        raw = "qq_" + secrets.token_urlsafe(32)
        expires_at = token_expiry() if days is None else clock.now() + dt.timedelta(days=days)
        cls.objects.create(user=user, name=name, digest=cls.hash(raw), prefix=raw[:8], scope=scope,
                           expires_at=expires_at)
        return raw

    @classmethod
    def authenticate(cls, raw: str):
        # The user's jurisdiction and unit come along: every API call checks scope against them.
        token = next(iter(cls.objects.select_related("user__jurisdiction", "user__unit")
                          .filter(digest=cls.hash(raw), revoked=False, expires_at__gt=clock.now())
                          .order_by()[:1]), None)
        if token is None or not token.user.is_active:
            return None
        now = clock.now()
        if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
            # Written at most every few minutes: a read-mostly API should not write on every call.
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user


IDEMPOTENCY_KEY_TTL = dt.timedelta(hours=24)


class IdempotencyKey(models.Model):
    """The answer a creating API call gave under its caller's `Idempotency-Key` header.

    Written in the same transaction as what the call created (qinqing.api.idempotency), so a crash leaves
    both or neither; a repeat with the same key gets this answer back and writes nothing. Kept for
    IDEMPOTENCY_KEY_TTL, then removed by a periodic task.
    """

    user = models.ForeignKey(User, models.CASCADE, related_name="+", db_index=False)  # led by the unique key
    key = models.CharField("幂等键", max_length=100)
    fingerprint = models.CharField("请求方法与地址", max_length=64, help_text="SHA-256 of method and path")
    body_hash = models.CharField("请求体摘要", max_length=64, help_text="SHA-256 of the request body")
    status_code = models.PositiveSmallIntegerField("状态码")
    response_body = models.TextField("应答")
    created_at = models.DateTimeField("时间", default=clock.now, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "幂等键"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_answer_per_idempotency_key")]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


class LoginLockout(AccessAttempt):
    """django-axes' failed-login counts under a Chinese name, for the admin's list and its 解除锁定 action."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "登录失败与锁定"


class LoginRecord(AccessLog):
    """django-axes' log of successful logins and logouts (who, from where, when), for 安全审计."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "登录记录"
