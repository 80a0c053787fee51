"""The one definition of every rate the leaders' pages show: 满意率, the four 1231 按时率, 办结率, 答复率, 重办率.

Each rate is a `Definition`: its Chinese name, the formula shown on the page (a title attribute and a
口径 note), and the two counts it divides. The counts are measured on one set of demands, the same for
every rate and every page: the demands RECEIVED in the period under the jurisdiction (or led by the unit,
on the assessment page), merged duplicates (并单) left out — the same rows the dashboard, the circular's
totals and the assessment count, so a rate and the figures next to it speak of the same demands. A rate
is always shown with its period ("统计期间：2026-11-02至2026-11-29").

Why received-in-the-period and not "completed in the period": the dashboard reads the rollup, which is
kept per week of receipt (a demand never changes bucket); counting completions by their own date would
need a second rollup keyed by four more dates. With one set, a rate computed live (home page, circular,
assessment) and one read from the rollup (dashboard) are the same number, which `test_rates_agree` checks.

按时率 counts an unfinished stage against the rate: the denominator is the stages completed plus the
stages still open whose deadline has passed (before today). Without that, a unit that never contacts
anybody keeps a 100 % contact rate. Deadlines are all computed from the receipt date (`demands.clock`),
so every stage of a stuck demand whose own deadline has passed counts, not only its current stage (a
reopened demand keeps its first reply, so its 办结 stage stays counted as done).
That part depends on today, which no rollup can hold; it is counted live (`late_counts`), on the open
demands of the period only, in one query.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q

from qinqing.demands.models import OPEN_STATES, Stage, State

from .rollup import CONDITIONS

SCOPE = "统计期间内受理的诉求（不含并单）"

# stage → (measure prefix in the rollup, completion time, deadline column)
STAGES = {
    Stage.DISPATCH: ("dispatch", "dispatched_at", "dispatch_due"),
    Stage.CONTACT: ("contact", "contacted_at", "contact_due"),
    Stage.PATH: ("path", "path_at", "path_due"),
    Stage.RESOLVE: ("reply", "replied_at", "resolve_due"),
}


@dataclass(frozen=True)
class Definition:
    key: str
    name: str
    part: str  # the count divided …
    whole: str | tuple[str, ...]  # … by this count (or the sum of these)
    formula: str

    def whole_of(self, counts: dict) -> int:
        names = (self.whole,) if isinstance(self.whole, str) else self.whole
        return sum(counts.get(n, 0) for n in names)


def _ontime(stage: Stage) -> Definition:
    m, _, _ = STAGES[stage]
    finished = "正式答复日期对照办结期限（含批准的延期）" if stage == Stage.RESOLVE else f"{stage.label}时间对照{stage.label}期限"
    return Definition(
        f"{m}_ontime", f"{stage.label}按时率", f"{m}_ontime", (f"{m}_done", f"{m}_late"),
        f"{stage.label}按时率 = 按期完成{stage.label}的诉求 ÷（已完成{stage.label}的诉求 + 期限已过仍未完成"
        f"{stage.label}的在办诉求）；{finished}；范围：{SCOPE}。转区级研究推进、移送市级的不再计时。")


SATISFACTION = Definition(
    "satisfaction", "满意率", "satisfied", "evaluated",
    f"满意率 =（满意 + 基本满意）÷ 已评价的诉求；企业评价和回访代评都计入，尚未评价的和超期未评价按默认满意办结的都不计入分母（默认满意单独统计）；范围：{SCOPE}。")
ONTIME = {stage: _ontime(stage) for stage in STAGES}
CLOSURE = Definition("closure", "办结率", "closed", "n", f"办结率 = 已办结（已销号）的诉求 ÷ 受理的诉求；范围：{SCOPE}。")
REPLY = Definition("reply", "答复率", "reply_done", "n", f"答复率 = 已正式答复的诉求 ÷ 受理的诉求；范围：{SCOPE}。")
REOPEN = Definition("reopen", "重办率", "reopened", "reply_done",
                    f"重办率 = 重办过的诉求 ÷ 已正式答复的诉求；范围：{SCOPE}。")
DEFINITIONS = [SATISFACTION, *ONTIME.values(), CLOSURE, REPLY, REOPEN]


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def percent_text(value: float | None) -> str:
    """How every page writes a rate: one decimal and a per-cent sign, "—" when there is nothing to divide."""
    return "—" if value is None else f"{value:.1f}%"


def period_text(start: dt.date, end: dt.date) -> str:
    return f"统计期间：{start:%Y-%m-%d}至{end:%Y-%m-%d}"


@dataclass(frozen=True)
class Rate:
    definition: Definition
    part: int
    whole: int
    period: str  # "统计期间：…"

    @property
    def key(self) -> str:
        return self.definition.key

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def formula(self) -> str:
        return self.definition.formula

    @property
    def value(self) -> float | None:
        return percent(self.part, self.whole)

    @property
    def text(self) -> str:
        return percent_text(self.value)

    def as_dict(self) -> dict:
        """JSON-able, for a circular's stored snapshot."""
        return {"key": self.key, "name": self.name, "part": self.part, "whole": self.whole,
                "value": self.value, "text": self.text, "formula": self.formula, "period": self.period}


@dataclass(frozen=True)
class Rates:
    """Every rate of one set of demands for one period."""

    counts: dict
    period: str

    def rate(self, definition: Definition) -> Rate:
        return Rate(definition, self.counts.get(definition.part, 0), definition.whole_of(self.counts), self.period)

    @property
    def satisfaction(self) -> Rate:
        return self.rate(SATISFACTION)

    @property
    def ontime(self) -> list[Rate]:
        """The four 1231 stages in order."""
        return [self.rate(d) for d in ONTIME.values()]

    def stage(self, stage: str) -> Rate:
        return self.rate(ONTIME[stage])

    @property
    def closure(self) -> Rate:
        return self.rate(CLOSURE)

    @property
    def reply(self) -> Rate:
        return self.rate(REPLY)

    @property
    def reopen(self) -> Rate:
        return self.rate(REOPEN)

    @property
    def shown(self) -> list[Rate]:
        """The rates the leaders' pages show side by side: 满意率, the four 按时率, 办结率."""
        return [self.satisfaction, *self.ontime, self.closure]


def late_conditions(today: dt.date) -> dict[str, Q]:
    """Per stage: still open, the stage not done, its deadline before today, and the clock not stopped.

    A demand paused (挂起, qinqing.handoffs) has its remaining deadlines moved by every working day the pause
    lasts; they are written into the deadline columns only when it resumes. While it stands, a deadline the
    pause began on or before cannot pass, so that stage is not late; one missed before the pause began stays
    late. The one place every live 按时率 judges lateness (dashboard, circulars, unit assessment, the public
    page's 逾期未办结), so they all agree."""
    return {f"{m}_late": Q(state__in=OPEN_STATES, **{f"{done}__isnull": True, f"{due}__lt": today})
            & (Q(paused_since__isnull=True) | Q(paused_since__date__gt=F(due)))
            for m, done, due in STAGES.values()}


def measures(today: dt.date) -> dict:
    """Every count a rate divides, as aggregates over demands (for `.aggregate()` or a GROUP BY's
    `.annotate()`): the rollup's own conditions for what is done, on time and evaluated, so the live
    counts and the rollup's are the same by construction."""
    conditions = {**CONDITIONS, **late_conditions(today), "closed": Q(state=State.CLOSED),
                  "reopened": Q(reopen_count__gt=0, replied_at__isnull=False)}
    return {"n": Count("pk"), **{name: Count("pk", filter=cond) for name, cond in conditions.items()}}


def live(demands, start: dt.date, end: dt.date, today: dt.date) -> Rates:
    """The rates of `demands` (already the period's received demands, merged left out): one aggregate."""
    return Rates(demands.order_by().aggregate(**measures(today)), period_text(start, end))


def late_counts(demands, today: dt.date) -> dict[str, int]:
    """The unfinished stages past their deadline among `demands` (the period's received demands), one
    aggregate over the open ones only. Measured on 1,000,000 demands (PostgreSQL, twelve weeks, a loaded
    2-core machine): 9 ms for a district, 230 ms for the province. Narrowing further with the deadline
    conditions made the planner leave the jurisdiction-and-receipt index and read every open demand of the
    province for a district (370 ms)."""
    qs = demands.filter(state__in=OPEN_STATES).order_by()
    return qs.aggregate(**{name: Count("pk", filter=cond) for name, cond in late_conditions(today).items()})


RATE_HEADERS = ["指标", "分子", "分母", "比率(%)", "统计期间", "口径"]


def rate_sheet(rates: "Rates | list[dict]") -> tuple[list[str], list[list]]:
    """Headers and rows of an Excel sheet of rates (a `Rates`, or the dicts a circular stored), each row
    with its period and formula, so a figure copied out of the workbook keeps its definition."""
    shown = [r.as_dict() for r in rates.shown] if isinstance(rates, Rates) else rates
    return RATE_HEADERS, [[r["name"], r["part"], r["whole"], r["value"], r["period"], r["formula"]] for r in shown]
