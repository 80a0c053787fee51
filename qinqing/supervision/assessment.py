"""考核: each lead unit's figures for a period, a composite score and the ranking, with the formulas.

Demands counted are those received in the period whose lead unit is the unit, merged duplicates left out.
Everything is counted by the database in one GROUP BY per unit; the average working days to close are
computed from (unit, received day, closed day, count) groups, so the cost follows the number of distinct
day pairs, not the number of demands.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from qinqing.demands.models import OPEN_STATES, Demand, DemandEvent, State
from qinqing.lib import clock
from qinqing.reports import rates as rate_defs
from qinqing.reports.rollup import local_midnight
from qinqing.workdays import calendar as workcal

# The rates' formulas are the one definition of qinqing.reports.rates, here over the unit's demands.
FORMULAS = [
    ("受理数", "统计期内受理、主办单位为本单位的诉求（不含并单）"),
    ("办结数", "其中状态为“已办结”（已销号）的诉求"),
    *((d.name, d.formula) for d in rate_defs.ONTIME.values()),
    ("平均办结工作日", "各已办结诉求从受理日到办结日的工作日数（按国务院节假日安排和调休）之和 ÷ 已办结数"),
    ("超期数", "其中当前环节已过期限、尚未完成的诉求（截至今日）"),
    ("退回次数", "统计期内本单位人员退回交办的次数"),
    *((d.name, d.formula) for d in (rate_defs.REOPEN, rate_defs.REPLY, rate_defs.SATISFACTION)),
    ("答复质量提示率", "统计期内本单位发出的正式答复中，答复质量检查给出提示（未回应诉求，未写明措施、时间、责任单位或办理路径，"
                       "套话）的比例；仅供参考，不计入综合得分"),
    ("综合得分", "30×办结按时率 + 15×联系按时率 + 15×路径按时率 + 20×满意率 + 10×答复率 + 10×(1−重办率) − 每件超期扣1分，"
                 "比率按小数计，无数据的比率按满分计，最低0分；受理数为0的单位不排名"),
]
WEIGHTS = {"resolve": 30, "contact": 15, "path": 15, "satisfaction": 20, "reply": 10, "no_reopen": 10}


@dataclass
class UnitScore:
    unit_id: int
    name: str
    received: int = 0
    closed: int = 0
    rates: dict = field(default_factory=dict)  # stage → rate in % or None
    shown: rate_defs.Rates | None = None  # the unit's rates, as every page shows them (qinqing.reports.rates)
    avg_close_days: float | None = None
    overdue: int = 0
    returns: int = 0
    reopen_rate: float | None = None
    reply_rate: float | None = None
    satisfaction_rate: float | None = None
    replies_sent: int = 0  # formal replies sent in the period, checked by qinqing.textmodel.replies
    replies_flagged_rate: float | None = None  # of those, % given advice (reference only, not in the score)
    score: float = 0.0
    rank: int | None = None


def _frac(pct, default=1.0):
    return default if pct is None else pct / 100


def assess(units, start: dt.date, end: dt.date, today: dt.date | None = None) -> list[UnitScore]:
    """Scores of the given units for demands received in [start, end], ranked."""
    today = today or clock.today()
    units = list(units)
    ids = [u.pk for u in units]
    lo, hi = local_midnight(start), local_midnight(end + dt.timedelta(days=1))
    qs = (Demand.objects.filter(lead_unit_id__in=ids, received_at__gte=lo, received_at__lt=hi)
          .exclude(state=State.MERGED))
    rows = {r["lead_unit_id"]: r for r in qs.order_by().values("lead_unit_id").annotate(
        **rate_defs.measures(today),
        overdue=Count("pk", filter=Q(due_order__lt=today, state__in=OPEN_STATES)),
    )}
    period = rate_defs.period_text(start, end)
    cal = workcal.get_calendar()
    days: dict[int, int] = {}
    pairs = (qs.filter(state=State.CLOSED, closed_at__isnull=False)
             .annotate(r=TruncDate("received_at"), c=TruncDate("closed_at"))
             .order_by().values("lead_unit_id", "r", "c").annotate(n=Count("pk")))
    for p in pairs:
        # Working days from the receipt day (day 1 when it is a working day) to the closing day.
        span = cal.workdays_between(p["r"], p["c"]) + (1 if cal.is_workday(p["r"]) else 0)
        days[p["lead_unit_id"]] = days.get(p["lead_unit_id"], 0) + span * p["n"]
    returns = dict(DemandEvent.objects.filter(verb="return", actor__unit_id__in=ids, created_at__gte=lo,
                                              created_at__lt=hi)
                   .order_by().values_list("actor__unit_id").annotate(n=Count("pk")))
    from qinqing.textmodel.replies import flagged_shares

    checked = flagged_shares(ids, lo, hi)
    scores = []
    for unit in units:
        r = rows.get(unit.pk)
        s = UnitScore(unit.pk, unit.name, returns=returns.get(unit.pk, 0))
        sent, flagged = checked.get(unit.pk, (0, 0))
        s.replies_sent = sent
        s.replies_flagged_rate = round(100 * flagged / sent, 1) if sent else None
        if r:
            s.received, s.closed, s.overdue = r["n"], r["closed"], r["overdue"]
            s.shown = rate_defs.Rates(r, period)
            s.rates = {rate_defs.STAGES[stage][0]: rate.value for stage, rate in zip(
                rate_defs.STAGES, s.shown.ontime, strict=True)}
            s.avg_close_days = round(days.get(unit.pk, 0) / r["closed"], 1) if r["closed"] else None
            s.reopen_rate = s.shown.reopen.value
            s.reply_rate = s.shown.reply.value
            s.satisfaction_rate = s.shown.satisfaction.value
            score = (WEIGHTS["resolve"] * _frac(s.rates["reply"]) + WEIGHTS["contact"] * _frac(s.rates["contact"])
                     + WEIGHTS["path"] * _frac(s.rates["path"]) + WEIGHTS["satisfaction"] * _frac(s.satisfaction_rate)
                     + WEIGHTS["reply"] * _frac(s.reply_rate, 0.0)
                     + WEIGHTS["no_reopen"] * (1 - _frac(s.reopen_rate, 0.0)) - s.overdue)
            s.score = round(max(score, 0.0), 1)
        else:
            s.shown = rate_defs.Rates({}, period)
            s.rates = dict.fromkeys(("dispatch", "contact", "path", "reply"))
        scores.append(s)
    ranked = sorted((s for s in scores if s.received), key=lambda s: (-s.score, -s.received, s.name))
    for i, s in enumerate(ranked, start=1):
        s.rank = i
    return ranked + sorted((s for s in scores if not s.received), key=lambda s: s.name)
