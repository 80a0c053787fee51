"""Load the demo district once: organisation, registry, the 2026 campaign and today's open demands.

Everything happens in one transaction, so an interrupted first start leaves nothing behind and
the next start simply seeds again; an existing demo is recognised by its district's code.
"""

import datetime as dt
import random
import time
from collections.abc import Callable

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from qinqing.accounts.models import Jurisdiction
from qinqing.demands import services
from qinqing.demands.models import Category, Demand, State
from qinqing.enterprises.models import Enterprise, Sector
from qinqing.reports import demo as reports_demo
from qinqing.workdays.calendar import get_calendar

from . import campaign, fulfilment, handling, org, policies, recent, registry, runner, visits
from .current import Current
from .figures import (
    CAMPAIGN_END,
    CAMPAIGN_START,
    CLOSED,
    DEMANDS_BY_CATEGORY,
    DISTRICT_CODE,
    ENTERPRISES_BY_SECTOR,
    FOUR_ABOVE_BY_SECTOR,
    LONG_TERM,
    TRANSFERRED,
)
from .stories import Teller
from .timing import Office

SWEEP_TIME = dt.time(8, 30)


class DemoMismatch(RuntimeError):
    """The loaded data does not add up to seed 000's figures (a bug in the demo)."""


def exists() -> bool:
    return Jurisdiction.objects.filter(code=DISTRICT_CODE).exists()


def _rng(part: str) -> random.Random:
    # One generator per part, so that changing how one part is told does not reshuffle the others.
    return random.Random(f"qinqing-demo-{part}")  # noqa: S311 - deterministic demo data, not secrets


def seed(log: Callable[[str], None] = print) -> None:
    started = time.monotonic()

    def step(message: str) -> None:
        log(f"[{time.monotonic() - started:5.1f}s] {message}")

    cal = get_calendar()
    with transaction.atomic():
        the_org = org.build(_rng("org"))
        step("行政区划、承办单位和用户已创建")
        enterprises = registry.build(_rng("registry"), the_org)
        neighbours = list(Enterprise.objects.filter(jurisdiction__parent=the_org.neighbour).order_by("pk"))
        owners = _owners(_rng("owners"), enterprises, neighbours)
        step(f"企业库已创建：{len(enterprises)}家（另邻区{len(neighbours)}家）")
        categories = {c.name: c for c in Category.objects.filter(parent=None, name__in=DEMANDS_BY_CATEGORY)}

        rng = _rng("campaign")
        teller = Teller(the_org, Office(cal, rng), rng, owners)
        campaign_plans, history = campaign.build(teller, enterprises, categories)
        rng = _rng("current")
        teller = Teller(the_org, Office(cal, rng), rng, owners)
        current_plans = Current(teller, categories).build(enterprises, owners, neighbours)
        first_current = min(plan.steps[0][0] for plan in current_plans)
        sweeps = [moment for moment in (teller.office.at(day, SWEEP_TIME) for day in history)
                  if moment < first_current]
        rng = _rng("recent")
        recent_plans = recent.Recent(Teller(the_org, Office(cal, rng), rng, owners), categories).build(enterprises)
        step(f"办理过程已排定：集中走访{len(campaign_plans)}件，近{recent.WEEKS}周受理{len(recent_plans)}件，"
             f"当前在办{len(current_plans)}件")
        runner.play(campaign_plans + recent_plans + current_plans, sweeps)
        step("诉求已按时间顺序经各环节办理")
        visits.build(_rng("visits"), the_org, enterprises, cal, step)
        _analyze()
        urged = services.urge_overdue()
        step(f"超期催办已运行：新增催办{urged}条")
        reports_demo.build(the_org, step)
        policies.build(_rng("policies"), step)
        from . import cooperation  # 派单目录, 协办意见, 退单争议, 批示, 研究推进 (qinqing.cooperation)

        cooperation.build(_rng("cooperation"), the_org, step)
        from . import handoffs as handoffs_demo  # 移送市级、挂起 (qinqing.handoffs)

        handoffs_demo.build(_rng("handoffs"), the_org, step)
        from . import policy_reach  # 政策推送与知晓 (qinqing.policies.pushes)

        policy_reach.build(step)
        handling.build(_rng("handling"), the_org, step)
        from . import transparency as transparency_demo  # 一公开: the specialists' directory, public figures

        transparency_demo.build(_rng("transparency"), the_org, step)
        fulfilment.build(_rng("fulfilment"), the_org, step)
        from . import textmodel as textmodel_demo  # 查重签名, 答复质量检查 (qinqing.textmodel)

        textmodel_demo.build(step)
        from . import hotissues as hotissues_demo  # 热点问题 and a policy study (qinqing.hotissues)

        hotissues_demo.build(the_org, step)
        verify()


def _owners(rng: random.Random, enterprises: list, neighbours: list) -> dict:
    """Accounts for a factory, a restaurant, a builder and one enterprise next door."""
    picks = [
        ("qiye", [e for e in enterprises if e.sector == Sector.INDUSTRY and e.is_four_above and e.tags]),
        ("qiye2", [e for e in enterprises if e.sector == Sector.HOSPITALITY and not e.is_four_above]),
        ("qiye3", [e for e in enterprises if e.sector == Sector.CONSTRUCTION]),
    ]
    chosen = [(username, rng.choice(candidates)) for username, candidates in picks]
    chosen.append(("xb_qiye", neighbours[0]))
    users = org.add_enterprise_users(rng, chosen)
    return {user.enterprise.pk: user for user in users}


def campaign_demands():
    """The district's demands received during the campaign (Asia/Shanghai days, bounds included)."""
    tz = timezone.get_default_timezone()
    start = dt.datetime.combine(CAMPAIGN_START, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(CAMPAIGN_END + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return Demand.objects.filter(jurisdiction__path__startswith=_district_path(), received_at__gte=start,
                                 received_at__lt=end)


def _district_path() -> str:
    return Jurisdiction.objects.get(code=DISTRICT_CODE).path


def _analyze() -> None:
    """Fresh statistics: rows inserted in one open transaction are invisible to autovacuum, and
    PostgreSQL would otherwise plan the sweep and the checks below as if the tables were empty."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def verify() -> None:
    """Check the figures the briefings will compute; a mismatch rolls the whole load back."""
    path = _district_path()
    ents = Enterprise.objects.filter(jurisdiction__path__startswith=path)
    sectors = dict(ents.values_list("sector").annotate(n=Count("pk")))
    four_above = dict(ents.filter(is_four_above=True).values_list("sector").annotate(n=Count("pk")))
    expected_four = {s: n for s, n in FOUR_ABOVE_BY_SECTOR.items() if n}
    demands = campaign_demands()
    kinds = dict(demands.values_list("category__name").annotate(n=Count("pk")))
    states = dict(demands.values_list("state").annotate(n=Count("pk")))
    problems = []
    if sectors != dict(ENTERPRISES_BY_SECTOR):
        problems.append(f"企业行业分布 {sectors}")
    if four_above != expected_four:
        problems.append(f"四上企业分布 {four_above}")
    if kinds != DEMANDS_BY_CATEGORY:
        problems.append(f"诉求类别分布 {kinds}")
    if states != {State.CLOSED: CLOSED, State.LONG_TERM: LONG_TERM, State.TRANSFERRED: TRANSFERRED}:
        problems.append(f"诉求办理状态 {states}")
    if problems:
        raise DemoMismatch("演示数据与第000号报告的数字不符：" + "；".join(problems))
    lifeless = recent.verify(Jurisdiction.objects.get(code=DISTRICT_CODE))
    if lifeless:
        raise DemoMismatch("演示数据近12周的办理不完整：" + "；".join(lifeless))
