"""Every change in the hot-issues app goes through one of these.

* `compute_hot_issues` (the worker, daily and on demand): cluster a month's demands of a jurisdiction's subtree
  and store the month's hot issues, replacing the previous computation of that month, in one transaction.
* `request_recompute` (a leader's 重新计算 button): checks who asks, writes the audit log, queues the job.
* `start_policy_study`: a hot issue becomes a 区级研究推进 task linking all its demands; each demand's timeline
  records it and the audit log names who started it.
Each raises DomainError (or one of its kinds) with a Chinese message.
"""

import datetime as dt
import logging
from collections import Counter

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from qinqing.accounts.models import Jurisdiction, Role, Unit
from qinqing.audit.services import record
from qinqing.demands.errors import DomainError, NotFoundError, PermissionDeniedError
from qinqing.demands.models import Demand, DemandEvent, State
from qinqing.enterprises.models import Sector
from qinqing.lib import clock
from qinqing.lib.text import clean_text

from . import cluster as engine
from .models import HotIssue, HotIssueMember, PolicyStudy, PolicyStudyDemand

log = logging.getLogger(__name__)

MAX_ISSUES = 30  # stored per jurisdiction and month: the page shows the top ones, the rest are noise
RECENT_DAYS = 7
SECTORS = dict(Sector.choices)


# ---------------------------------------------------------------- who may

def may_view(user) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.has_role(Role.ADMIN) or (
        user.has_role(Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER) and bool(user.jurisdiction_id))


def may_start_study(user, jurisdiction: Jurisdiction) -> bool:
    """Administrators; dispatchers and leaders of the hot issue's jurisdiction or above (supervisors watch)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_superuser or user.has_role(Role.ADMIN):
        return True
    return (user.has_role(Role.DISPATCHER, Role.LEADER) and bool(user.jurisdiction_id)
            and jurisdiction.path.startswith(user.jurisdiction.path))


# ---------------------------------------------------------------- periods

def month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    start = day.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return start, end


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_default_timezone()
    return (dt.datetime.combine(start, dt.time(0), tzinfo=tz),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=tz))


def scopes() -> list[Jurisdiction]:
    """Where hot issues are computed: every district (a district's demands are one workload)."""
    return list(Jurisdiction.objects.filter(level=Jurisdiction.Level.DISTRICT).order_by("path"))


# ---------------------------------------------------------------- computing

_FIELDS = ("pk", "title", "content", "enterprise_id", "reporter_name", "received_at", "jurisdiction__name",
           "enterprise__sector", "lead_unit__name")


def _items(jurisdiction: Jurisdiction, start: dt.date, end: dt.date) -> tuple[list[engine.Item], list[int]]:
    """The period's demands of the subtree as engine items (merged duplicates are their original's)."""
    lo, hi = _bounds(start, end)
    rows = (Demand.objects.filter(jurisdiction__path__startswith=jurisdiction.path, received_at__gte=lo,
                                  received_at__lt=hi)
            .exclude(state=State.MERGED).order_by("received_at", "pk").values_list(*_FIELDS))
    tz = timezone.get_default_timezone()
    items, keys = [], []
    for pk, title, content, enterprise, reporter, received, town, sector, unit in rows.iterator(chunk_size=5000):
        items.append(engine.Item(pk, title, content, enterprise or f"个人:{reporter}",
                                 received.astimezone(tz).date(), town, SECTORS.get(sector, ""), unit or ""))
        keys.append(pk)
    return items, keys


def compute_hot_issues(jurisdiction: Jurisdiction, start: dt.date, end: dt.date,
                       today: dt.date | None = None) -> list[HotIssue]:
    """Cluster the demands received in [start, end] (up to today) in the jurisdiction's subtree and store the
    top MAX_ISSUES hot issues of that period, replacing what was stored for it. Run by the worker."""
    today = today or clock.today()
    until = min(end, today)
    items, _ = _items(jurisdiction, start, until)
    length = (end - start).days + 1
    previous, _ = _items(jurisdiction, start - dt.timedelta(days=length), start - dt.timedelta(days=1))
    clusters, vectors = engine.cluster(items)
    recent_from = until - dt.timedelta(days=RECENT_DAYS - 1)
    clusters = engine.shortlist(clusters, items, recent_from, MAX_ISSUES * 3)
    before = engine.previous_counts(clusters, vectors, previous) if clusters else []
    rows = []
    for c, prev in zip(clusters, before, strict=True):
        members = [items[i] for i in c.members]
        n = len(members)
        enterprises = len({m.sender for m in members})
        recent = sum(1 for m in members if m.day >= recent_from)
        growth = engine.growth(n, prev)
        place = engine.most_common([m.place for m in members]) or c.text_place or jurisdiction.name
        sector = engine.most_common([m.group for m in members])
        group = f"{sector}企业" if sector else (c.text_group or "")
        days = Counter(m.day for m in members)
        trend = [[(start + dt.timedelta(days=d)).isoformat(), days.get(start + dt.timedelta(days=d), 0)]
                 for d in range((until - start).days + 1)]
        units = Counter(m.unit or "未交办" for m in members).most_common(6)
        rows.append((engine.heat(senders=enterprises, count=n, recent_share=recent / n, growth=growth), c, {
            "title": engine.label(c.terms, place, group), "terms": c.terms, "place": place, "group": group,
            "demand_count": n, "enterprise_count": enterprises, "recent_count": recent, "previous_count": prev,
            "growth": growth, "units": [list(u) for u in units], "trend": trend}))
    rows.sort(key=lambda r: (-r[0], -r[2]["demand_count"], r[1].members[0]))
    rows = rows[:MAX_ISSUES]
    lo, hi = _bounds(start, until)
    with transaction.atomic():
        HotIssue.objects.filter(jurisdiction=jurisdiction, period_start=start).delete()
        now = clock.now()
        issues = HotIssue.objects.bulk_create([
            HotIssue(jurisdiction=jurisdiction, period_start=start, period_end=end, rank=rank, heat=h,
                     first_at=lo, last_at=hi, computed_at=now, **fields)
            for rank, (h, _c, fields) in enumerate(rows, start=1)])
        members = []
        for issue, (_h, c, _f) in zip(issues, rows, strict=True):
            for position, (index, similarity) in enumerate(zip(c.members, c.similarity, strict=True)):
                members.append(HotIssueMember(hot_issue=issue, demand_id=items[index].key, similarity=similarity,
                                              representative=position < engine.REPRESENTATIVES))
        HotIssueMember.objects.bulk_create(members, batch_size=2000)
        _set_spans(issues)
    log.info("热点问题：%s %s 起 %d 件诉求，%d 个热点", jurisdiction.name, start, len(items), len(issues))
    return issues


def _set_spans(issues: list[HotIssue]) -> None:
    """first_at/last_at: the earliest and latest receipt among each issue's demands (one grouped query)."""
    from django.db.models import Max, Min

    spans = {row["hot_issue"]: row for row in HotIssueMember.objects.filter(hot_issue__in=issues)
             .values("hot_issue").annotate(first=Min("demand__received_at"), last=Max("demand__received_at"))}
    for issue in issues:
        span = spans.get(issue.pk)
        if span:
            issue.first_at, issue.last_at = span["first"], span["last"]
    HotIssue.objects.bulk_update(issues, ["first_at", "last_at"])


def compute_all(today: dt.date | None = None) -> int:
    """The worker's daily run: this month so far for every district, and last month in its first days
    (demands received late in the month keep arriving in the records for a few days)."""
    today = today or clock.today()
    done = 0
    months = [month_of(today)]
    if today.day <= 3:
        months.append(month_of(today.replace(day=1) - dt.timedelta(days=1)))
    for place in scopes():
        for start, end in months:
            done += len(compute_hot_issues(place, start, end, today))
    return done


def request_recompute(user, jurisdiction: Jurisdiction, month: dt.date, request=None) -> None:
    """重新计算: a leader, dispatcher or supervisor of the jurisdiction asks for a month's hot issues now."""
    if not may_view(user):
        raise PermissionDeniedError("只有本辖区的领导、调度员、督查室可以重新计算热点问题。")
    if not (user.is_superuser or user.has_role(Role.ADMIN)
            or jurisdiction.path.startswith(user.jurisdiction.path)):
        raise NotFoundError("区域不存在或不在您的辖区内。")
    start, end = month_of(month)
    if start > clock.today():
        raise DomainError("不能计算尚未开始的月份。")
    from .tasks import recompute_hot_issues

    with transaction.atomic():
        record("hot_issues_recomputed", actor=user, request=request, target=jurisdiction.name,
               detail={"jurisdiction": jurisdiction.code, "month": start.strftime("%Y-%m")})
        transaction.on_commit(lambda: recompute_hot_issues(jurisdiction.pk, start.isoformat()))


# ---------------------------------------------------------------- policy studies

def start_policy_study(user, hot_issue: HotIssue, *, title: str = "", note: str = "",
                       lead_unit: Unit | None = None, request=None) -> PolicyStudy:
    """转区级研究推进: the hot issue becomes a policy-study task linking all its demands. Each demand's timeline
    says so (visible to the enterprise: its problem is being answered by a policy); the audit log records it."""
    with transaction.atomic():
        try:
            issue = (HotIssue.objects.visible_to(user).select_related("jurisdiction").select_for_update(of=("self",))
                     .get(pk=hot_issue.pk))
        except HotIssue.DoesNotExist:
            raise NotFoundError("热点问题不存在或您无权查看。") from None
        if not may_start_study(user, issue.jurisdiction):
            raise PermissionDeniedError("只有本辖区的调度员、领导或管理员可以将热点问题转为区级研究推进。")
        if issue.studies.exists():
            raise DomainError("该热点问题已转为区级研究推进课题。")
        title = clean_text(title or "").strip() or issue.title
        if len(title) > 120:
            raise DomainError("课题名称最多120字。")
        note = clean_text(note or "").strip()
        if len(note) > 2000:
            raise DomainError("研究方向最多2000字。")
        if lead_unit is not None and not (lead_unit.jurisdiction_id and lead_unit.jurisdiction.path.startswith(
                issue.jurisdiction.path)):
            raise DomainError("牵头单位应为本辖区的单位。")
        demands = list(Demand.objects.filter(hot_issue_members__hot_issue=issue).only("pk", "state")
                       .order_by("pk"))
        if not demands:
            raise DomainError("该热点问题没有诉求，不能转为研究推进。")
        study = PolicyStudy.objects.create(title=title, jurisdiction=issue.jurisdiction, hot_issue=issue,
                                           source_title=issue.title, lead_unit=lead_unit, note=note,
                                           created_by=user, created_at=clock.now())
        PolicyStudyDemand.objects.bulk_create([PolicyStudyDemand(study=study, demand=d) for d in demands])
        now = clock.now()
        text = f"纳入区级研究推进课题“{title}”（同类诉求{len(demands)}件一并研究）"
        DemandEvent.objects.bulk_create([
            DemandEvent(demand=d, actor=user, verb="policy_study", from_state=d.state, to_state=d.state, note=text,
                        data={"study": study.pk}, created_at=now) for d in demands])
        record("policy_study", actor=user, request=request, target=title,
               detail={"study": study.pk, "hot_issue": issue.pk, "demands": len(demands),
                       "jurisdiction": issue.jurisdiction.code})
    return study


def studies_of(demand) -> list[PolicyStudy]:
    """The policy studies a demand belongs to (its detail page shows them)."""
    return list(PolicyStudy.objects.filter(links__demand=demand).select_related("lead_unit").order_by("created_at"))


def visible_jurisdictions(user):
    """The jurisdictions a user may pick on the page: their own subtree's districts and above-district nodes."""
    qs = Jurisdiction.objects.exclude(level="town")
    if user.is_superuser or user.has_role(Role.ADMIN):
        return qs.order_by("path")
    if not user.jurisdiction_id:
        return qs.none()
    return qs.filter(Q(path__startswith=user.jurisdiction.path)).order_by("path")
