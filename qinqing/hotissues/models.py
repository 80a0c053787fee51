"""热点问题: classes of similar demands from many enterprises, per month and district, and the policy studies
(区级研究推进) they turn into.

A HotIssue is a stored result of clustering (qinqing.hotissues.services.compute_hot_issues, run by the worker
daily and on demand): recomputing a month replaces that month's rows for the jurisdiction. A PolicyStudy is
work people started and outlives recomputation: it keeps its own links to the demands and the hot issue's
title as it was, and points at the hot issue only while that row exists.
"""

from django.conf import settings
from django.db import models

from qinqing.lib import clock


def _scoped(qs, user, field: str):
    """Administrators: all. Dispatchers, supervisors and leaders: their jurisdiction's subtree. Others: none."""
    from qinqing.accounts.models import Role

    if not (user and user.is_authenticated and user.is_active):
        return qs.none()
    if user.is_superuser or user.has_role(Role.ADMIN):
        return qs
    if user.has_role(Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER) and user.jurisdiction_id:
        return qs.filter(**{f"{field}__path__startswith": user.jurisdiction.path})
    return qs.none()


class HotIssueQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Leaders, dispatchers and supervisors of the jurisdiction (or above it); administrators."""
        return _scoped(self, user, "jurisdiction")


class HotIssue(models.Model):
    """One class of similar demands in a month and jurisdiction, with its heat score and generated title."""

    jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.CASCADE, related_name="hot_issues",
                                     verbose_name="区域")
    period_start = models.DateField("期间起")
    period_end = models.DateField("期间止")
    rank = models.PositiveSmallIntegerField("排名")
    title = models.CharField("标题", max_length=120)
    terms = models.JSONField("关键词", default=list)
    place = models.CharField("地点", max_length=60, blank=True)
    group = models.CharField("涉及群体", max_length=60, blank=True)
    heat = models.FloatField("热度")
    demand_count = models.PositiveIntegerField("诉求数")
    enterprise_count = models.PositiveIntegerField("企业数")
    recent_count = models.PositiveIntegerField("近7天诉求数")
    previous_count = models.PositiveIntegerField("上期同类诉求数")
    growth = models.FloatField("增长")
    likes = models.PositiveIntegerField("点赞数", default=0)
    units = models.JSONField("涉及单位", default=list, help_text="[[单位名称, 件数], …]")
    trend = models.JSONField("趋势", default=list, help_text="[[日期, 件数], …]，期间内每天")
    first_at = models.DateTimeField("最早受理")
    last_at = models.DateTimeField("最近受理")
    computed_at = models.DateTimeField("计算时间", default=clock.now)
    demands = models.ManyToManyField("demands.Demand", through="HotIssueMember", related_name="hot_issues")

    objects = HotIssueQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "热点问题"
        ordering = ["-period_start", "rank"]
        indexes = [models.Index(fields=["period_start", "jurisdiction", "rank"], name="hotissue_period_rank")]

    def __str__(self):
        return self.title

    @property
    def period_label(self) -> str:
        return f"{self.period_start:%Y-%m-%d} 至 {self.period_end:%Y-%m-%d}"


class HotIssueMember(models.Model):
    """A demand in a hot issue, with its similarity to the issue's centre; the most central represent it."""

    hot_issue = models.ForeignKey(HotIssue, models.CASCADE, related_name="members", verbose_name="热点问题")
    demand = models.ForeignKey("demands.Demand", models.CASCADE, related_name="hot_issue_members",
                               verbose_name="诉求")
    similarity = models.FloatField("相似度")
    representative = models.BooleanField("代表性诉求", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "热点问题诉求"
        constraints = [models.UniqueConstraint(fields=["hot_issue", "demand"], name="hotissue_member_unique")]

    def __str__(self):
        return f"{self.hot_issue_id}/{self.demand_id}"


class PolicyStudyQuerySet(models.QuerySet):
    def visible_to(self, user):
        """As hot issues: the jurisdiction's leaders, dispatchers and supervisors; administrators."""
        return _scoped(self, user, "jurisdiction")


class PolicyStudy(models.Model):
    """区级研究推进: a class of problems the district studies as one, to answer all its demands by a policy."""

    title = models.CharField("课题名称", max_length=120)
    jurisdiction = models.ForeignKey("accounts.Jurisdiction", models.PROTECT, related_name="policy_studies",
                                     verbose_name="区域")
    hot_issue = models.ForeignKey(HotIssue, models.SET_NULL, null=True, blank=True, related_name="studies",
                                  verbose_name="来源热点问题")
    source_title = models.CharField("来源热点问题标题", max_length=120, blank=True)
    lead_unit = models.ForeignKey("accounts.Unit", models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name="牵头单位")
    note = models.TextField("研究方向", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="发起人")
    created_at = models.DateTimeField("发起时间", default=clock.now)
    demands = models.ManyToManyField("demands.Demand", through="PolicyStudyDemand", related_name="policy_studies")

    objects = PolicyStudyQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "区级研究推进课题"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.title


class PolicyStudyDemand(models.Model):
    """A demand a policy study answers."""

    study = models.ForeignKey(PolicyStudy, models.CASCADE, related_name="links", verbose_name="课题")
    demand = models.ForeignKey("demands.Demand", models.CASCADE, related_name="policy_study_links",
                               verbose_name="诉求")

    class Meta:
        verbose_name = verbose_name_plural = "研究推进课题诉求"
        constraints = [models.UniqueConstraint(fields=["study", "demand"], name="policystudy_demand_unique")]

    def __str__(self):
        return f"{self.study_id}/{self.demand_id}"


