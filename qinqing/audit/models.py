"""The administrative audit log (等保2.0 三级 安全审计): who signed in or failed to, who changed whose roles,
who exported what, who changed the configuration, who revealed masked data.

Append-only like the demand timeline, and hash-chained per table (qinqing.audit.chain): the chain columns are
NULL when a row is written and filled in by the sealing task, so writers never wait on a chain head.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from qinqing.lib import clock
from qinqing.lib.append_only import AppendOnlyModel


class Action(models.TextChoices):
    """What an entry records. The field itself carries no choices, so adding one needs no migration."""

    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOCKED_OUT = "locked_out", "账号锁定"
    LOGOUT = "logout", "退出登录"
    UNLOCKED = "unlocked", "解除锁定"
    ROLE_CHANGED = "role_changed", "角色权限变更"
    ACCOUNT_CHANGED = "account_changed", "账号信息变更"
    EXPORT = "export", "导出数据"
    CONFIG_CHANGED = "config_changed", "配置变更"
    REVEAL = "reveal", "查看脱敏信息"
    TOKEN_ISSUED = "token_issued", "签发API令牌"
    TOKEN_REVOKED = "token_revoked", "吊销API令牌"
    BACKUP = "backup", "备份"
    RESTORE = "restore", "恢复"
    MODEL_TRAINED = "model_trained", "训练文本模型"
    MODEL_ACTIVATED = "model_activated", "切换文本模型"
    POLICY_STUDY = "policy_study", "热点问题转区级研究推进"
    HOT_ISSUES_RECOMPUTED = "hot_issues_recomputed", "重新计算热点问题"
    FULFILMENT_APPROVED = "fulfilment_approved", "审批免申即享兑现批次"


ACTION_LABELS = dict(Action.choices)


class AuditEntry(AppendOnlyModel):
    """One administrative event. Never changed or deleted: the model refuses it and the chain would show it."""

    at = models.DateTimeField("时间", default=clock.now, db_index=True)
    # No database constraint and nothing done when the account is deleted: the entry keeps the id and the
    # name it had (`actor_label`); a cascade or SET NULL would rewrite the audit row and break its chain.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.DO_NOTHING, null=True, blank=True,
                              db_constraint=False, related_name="+", verbose_name="操作人")
    actor_label = models.CharField("操作人（记录时）", max_length=200, blank=True)
    action = models.CharField("事项", max_length=30, db_index=True)
    target = models.CharField("对象", max_length=300, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip = models.GenericIPAddressField("地址", null=True, blank=True)
    # The hash chain (qinqing.audit.chain): NULL until sealed, then the previous row's hash and this row's.
    chain_prev = models.CharField("前一条摘要", max_length=64, null=True, blank=True, editable=False)
    chain_hash = models.CharField("摘要", max_length=64, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "安全审计日志"
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action_label}"

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)


class ChainHead(models.Model):
    """Where each table's chain has been sealed to: the last sealed row and its hash.

    The sealing task moves it forward under a row lock (two sealers never chain the same rows twice);
    `verify` checks that the table still ends where the head says, so deleting the newest rows shows too.
    """

    table = models.CharField("数据表", max_length=63, primary_key=True)
    last_id = models.BigIntegerField("最后封存行", default=0)
    last_hash = models.CharField("最后摘要", max_length=64, blank=True)
    sealed_at = models.DateTimeField("封存时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "审计链封存位置"

    def __str__(self):
        return f"{self.table} → {self.last_id}"
