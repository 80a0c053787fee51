"""Every figure the dashboard, circulars and briefings show, each with the ledger URL that lists it.

Consistency is by construction: a figure is either counted on a queryset built with the ledger's own
`apply_filters` from the very parameters its link carries, or read from the rollup, which is kept equal to
those counts (see `rollup.py`, and the tests that compare both with the ledger for every link).
All counting is done by the database (COUNT … GROUP BY); Python only arranges the grouped rows.
"""

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, Substr
from django.urls import reverse

from qinqing.accounts.models import Jurisdiction, Role, Unit
from qinqing.demands.filters import apply_filters
from qinqing.demands.models import OPEN_STATES, Category, Channel, Demand, Evaluation, Stage, State
from qinqing.demands.taxonomy import get_taxonomy
from qinqing.lib import clock

from . import rates as rate_defs
from .models import DemandRollup, Dimension
from .rollup import MEASURE_FIELDS, grouped, local_midnight, week_of

COUNTED_STATES = [s for s in State.values if s != State.MERGED]
LEADER_ROLES = (Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER, Role.ADMIN)


def may_see_statistics(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.has_role(*LEADER_ROLES)))


def jurisdictions_for(user):
    """Jurisdictions whose statistics a user may read: their subtree; everything for administrators."""
    if not may_see_statistics(user):
        return Jurisdiction.objects.none()
    if user.is_superuser or user.has_role(Role.ADMIN):
        return Jurisdiction.objects.all()
    if user.jurisdiction_id:
        return Jurisdiction.objects.filter(path__startswith=user.jurisdiction.path)
    return Jurisdiction.objects.none()


def default_jurisdiction(user) -> Jurisdiction | None:
    if user.jurisdiction_id and jurisdictions_for(user).filter(pk=user.jurisdiction_id).exists():
        return user.jurisdiction
    return jurisdictions_for(user).order_by("path").first()


def ledger_url(**params) -> str:
    """The ledger listing exactly the demands a figure counts."""
    query = []
    for key, value in params.items():
        if value in (None, "", []):
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            query.append((key, item.isoformat() if isinstance(item, dt.date) else str(item)))
    return f"{reverse('demands:ledger')}?{urlencode(query)}"


@dataclass
class Period:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def label(self) -> str:
        if self.start.year == self.end.year:
            return f"{self.start.year}年{self.start.month}月{self.start.day}日至{self.end.month}月{self.end.day}日"
        return f"{self.start:%Y年%-m月%-d日}至{self.end:%Y年%-m月%-d日}"


def local_bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) as aware datetimes: local midnight of the first day and of the day after the last."""
    return local_midnight(period.start), local_midnight(period.end + dt.timedelta(days=1))


def period_params(jurisdiction: Jurisdiction, period: Period) -> dict:
    return {"jurisdiction": jurisdiction.code, "received_from": period.start, "received_to": period.end,
            "state": COUNTED_STATES}


def received(jurisdiction: Jurisdiction, period: Period):
    """Demands received in the period under the jurisdiction, merged duplicates left out: the ledger's
    filter applied to the same parameters the figures link with."""
    data = {"jurisdiction": jurisdiction, "received_from": period.start, "received_to": period.end,
            "state": COUNTED_STATES}
    # A level's copy of a demand handed to it (qinqing.handoffs) is counted there under 移入, not received again.
    return apply_filters(Demand.objects.all(), data).filter(handed_from__isnull=True)


# ---------------------------------------------------------------- the dashboard (from the rollup)

@dataclass
class Item:
    label: str
    value: int
    url: str = ""


@dataclass
class Dashboard:
    jurisdiction: Jurisdiction
    period: Period
    total: Item = None
    cards: list[Item] = field(default_factory=list)
    by_category: list[Item] = field(default_factory=list)
    by_channel: list[Item] = field(default_factory=list)
    by_state: list[Item] = field(default_factory=list)
    by_unit: list[Item] = field(default_factory=list)
    by_jurisdiction: list[Item] = field(default_factory=list)
    trend: list[Item] = field(default_factory=list)
    hot: list[Item] = field(default_factory=list)
    rate_set: rate_defs.Rates = None  # every rate of the period's received demands (qinqing.reports.rates)
    overdue: list[Item] = field(default_factory=list)
    environment: list["ClassFigures"] = field(default_factory=list)


def _cells(jurisdiction: Jurisdiction, period: Period, dimension: str):
    return DemandRollup.objects.filter(
        jurisdiction__path__startswith=jurisdiction.path, dimension=dimension,
        week__gte=week_of(period.start), week__lte=week_of(period.end))


def _summed(jurisdiction: Jurisdiction, period: Period, dimension: str, group: str | None = None):
    """Measures summed over the scope and weeks, per `group` ("key", "week", "jurisdiction__path") or in
    total. Districts and above read the rollup; a town (whose breakdowns the rollup keeps at district
    level) is counted live, which for a town's few thousand demands is as fast."""
    sums = {f: Sum(f) for f in MEASURE_FIELDS}
    if jurisdiction.level != Jurisdiction.Level.TOWN:
        qs = _cells(jurisdiction, period, dimension)
        if group is None:
            return {k: v or 0 for k, v in qs.aggregate(**sums).items()}
        return list(qs.values(group).annotate(**sums).order_by())

    def group_of(row):
        if group is None:
            return None
        if group == "jurisdiction__path":
            return jurisdiction.path
        return ("" if row.get(group) is None else str(row[group])) if group == "key" else row[group]

    return _add_up(((group_of(row), row) for row in grouped(received(jurisdiction, period), dimension)), group)


def _add_up(grouped_rows, group: str | None):
    """Sum (group, measures) pairs into one cell per group, as `_summed` returns them."""
    out: dict = {}
    for g, row in grouped_rows:
        cell = out.setdefault(g, dict.fromkeys(MEASURE_FIELDS, 0))
        for f in MEASURE_FIELDS:
            cell[f] += row[f]
    if group is None:
        return out.get(None, dict.fromkeys(MEASURE_FIELDS, 0))
    return [{group: g, **cell} for g, cell in out.items()]


BREAKDOWNS = [Dimension.ALL, Dimension.CATEGORY, Dimension.CHANNEL, Dimension.STATE, Dimension.UNIT]


class _Read:
    """The rollup cells of a dashboard, read once: one GROUP BY (dimension, key, week) over the scope
    and period, then summed in Python per chart (a few hundred rows whatever the scope's size).
    A town is counted live (`_summed`)."""

    def __init__(self, jurisdiction: Jurisdiction, period: Period):
        self.jurisdiction, self.period = jurisdiction, period
        self.rows = None
        if jurisdiction.level != Jurisdiction.Level.TOWN:
            sums = {f: Sum(f) for f in MEASURE_FIELDS}
            self.rows = list(DemandRollup.objects.filter(
                jurisdiction__path__startswith=jurisdiction.path, dimension__in=BREAKDOWNS,
                week__gte=week_of(period.start), week__lte=week_of(period.end),
            ).values("dimension", "key", "week").annotate(**sums).order_by())

    def __call__(self, dimension: str, group: str | None = None, period: Period | None = None):
        if self.rows is None:
            return _summed(self.jurisdiction, period or self.period, dimension, group)
        since = week_of((period or self.period).start)
        return _add_up(((None if group is None else row[group], row) for row in self.rows
                        if row["dimension"] == dimension and row["week"] >= since), group)


def week_aligned(period: Period) -> Period:
    return Period(week_of(period.start), week_of(period.end) + dt.timedelta(days=6))


DEFAULT_WEEKS = 12  # the dashboard's default range, which the leader's home page shows too


def recent_weeks(today: dt.date, weeks: int = DEFAULT_WEEKS) -> Period:
    """The last `weeks` whole weeks up to the one of `today`: the dashboard's ranges."""
    return week_aligned(Period(today - dt.timedelta(weeks=weeks - 1), today))


def dashboard(jurisdiction: Jurisdiction, period: Period, today: dt.date | None = None) -> Dashboard:
    """All dashboard figures for whole weeks, read from the rollup (call rollup.refresh() first)."""
    period = week_aligned(period)
    today = today or clock.today()
    base = period_params(jurisdiction, period)
    board = Dashboard(jurisdiction, period)
    read = _Read(jurisdiction, period)

    totals = read(Dimension.ALL)
    board.total = Item("受理诉求", totals["n"], ledger_url(**base))

    states = {r["key"]: r["n"] for r in read(Dimension.STATE, "key")}
    board.by_state = [Item(label, states.get(value, 0), ledger_url(**{**base, "state": value}))
                      for value, label in State.choices if value != State.MERGED and states.get(value)]
    open_n = sum(states.get(s, 0) for s in OPEN_STATES)
    board.cards = [
        board.total,
        Item("办理中", open_n, ledger_url(**base, group="open")),
        Item("已办结", states.get(State.CLOSED, 0), ledger_url(**{**base, "state": State.CLOSED})),
        Item("区级研究推进", states.get(State.LONG_TERM, 0), ledger_url(**{**base, "state": State.LONG_TERM})),
        Item("移送市级", states.get(State.TRANSFERRED, 0), ledger_url(**{**base, "state": State.TRANSFERRED})),
    ]
    # 移出 / 移入 (qinqing.handoffs): hand-offs between levels, each in its own column; a copy received from
    # another level is not in 受理诉求 above.
    from qinqing.handoffs.services import handoff_counts

    moved = handoff_counts(jurisdiction, *local_bounds(period))
    board.cards += [Item("移出", moved["out"]), Item("移入", moved["in"])]  # no ledger link: every card's link is one

    categories = {r["key"]: r["n"] for r in read(Dimension.CATEGORY, "key")}
    names = dict(Category.objects.filter(parent=None).values_list("pk", "name"))
    board.by_category = sorted(
        (Item(names.get(int(k), "（已删除类别）"), n, ledger_url(**base, category=k))
         for k, n in categories.items() if n), key=lambda i: -i.value)

    channels = {r["key"]: r["n"] for r in read(Dimension.CHANNEL, "key")}
    board.by_channel = [Item(label, channels[value], ledger_url(**base, channel=value))
                        for value, label in Channel.choices if channels.get(value)]

    units = sorted(((r["key"], r["n"]) for r in read(Dimension.UNIT, "key")
                    if r["n"]), key=lambda kv: -kv[1])
    unit_names = dict(Unit.objects.filter(pk__in=[int(k) for k, _ in units[:15] if k]).values_list(
        "pk", "name"))
    board.by_unit = [Item(unit_names.get(int(k), "") if k else "未交办", n,
                          ledger_url(**base, unit=k) if k else "") for k, n in units[:15]]

    weekly = {r["week"]: r["n"] for r in read(Dimension.ALL, "week")}
    week = period.start
    while week <= period.end:
        board.trend.append(Item(f"{week:%m-%d}", weekly.get(week, 0), ledger_url(
            **{**base, "received_from": week, "received_to": week + dt.timedelta(days=6)})))
        week += dt.timedelta(days=7)

    recent = Period(max(period.start, week_of(period.end) - dt.timedelta(days=21)), period.end)
    recent_base = period_params(jurisdiction, recent)
    hot = read(Dimension.CATEGORY, "key", recent)
    board.hot = sorted((Item(names.get(int(r["key"]), ""), r["n"], ledger_url(**recent_base, category=r["key"]))
                        for r in hot if r["n"]), key=lambda i: -i.value)[:5]

    children = list(Jurisdiction.objects.filter(parent=jurisdiction).order_by("path").values_list(
        "code", "name", "path"))
    if children:
        per_node = _summed(jurisdiction, period, Dimension.ALL, "jurisdiction__path")
        counts = {c: 0 for c, _, _ in children}
        for row in per_node:
            for code, _, path in children:
                if row["jurisdiction__path"].startswith(path):
                    counts[code] += row["n"]
                    break
        board.by_jurisdiction = [Item(name, counts[code], ledger_url(**{**base, "jurisdiction": code}))
                                 for code, name, _ in children]

    board.rate_set = dashboard_rates(jurisdiction, period, today, read)
    board.overdue = overdue_by_stage(jurisdiction, today)
    board.environment = environment_breakdown(jurisdiction, period)
    return board


def dashboard_rates(jurisdiction: Jurisdiction, period: Period, today: dt.date, read: "_Read | None" = None):
    """The rates of the period's received demands as the dashboard shows them (and the leader's home page,
    which must show the same): what is done, on time and evaluated summed from the rollup (live for a town,
    as every dashboard figure), the unfinished stages past their deadline counted live, because they change
    with the date and not with an event. Equal to `rates.live` over the same demands (test_rates_agree)."""
    period = week_aligned(period)
    read = read or _Read(jurisdiction, period)
    totals = read(Dimension.ALL)
    states = {r["key"]: r["n"] for r in read(Dimension.STATE, "key")}
    late = rate_defs.late_counts(received(jurisdiction, period), today)
    return rate_defs.Rates({**totals, "closed": states.get(State.CLOSED, 0), **late},
                           rate_defs.period_text(period.start, period.end))


# ---------------------------------------------------------------- 4大类16个方面 (live)

@dataclass
class ClassFigures:
    """One business-environment class (营商环境大类) with its aspects' counts; each number links the ledger."""

    label: str
    value: int
    url: str
    aspects: list[Item] = field(default_factory=list)


def environment_breakdown(jurisdiction: Jurisdiction, period: Period) -> list[ClassFigures]:
    """The period's received demands per business-environment class and aspect ("4大类16个方面").

    Counted live with one GROUP BY aspect over the ledger's own filter, not read from the rollup: it is one
    chart of some twenty cells over the same rows `demand_figures` already counts for a briefing (the
    jurisdiction-and-receipt-date index finds them; demand_aspect_received serves the ledger link), and
    a demand's aspect changes at dispatch, which the rollup would need a column and a migration of its
    own to follow. Every aspect is listed, with 0 where nothing was received; a retired aspect only when it
    still counts demands. Demands without an aspect come last as "未归类" (no ledger filter lists them).
    """
    counts = dict(received(jurisdiction, period).order_by().values_list("aspect_id").annotate(n=Count("pk")))
    base = period_params(jurisdiction, period)
    classes: dict[int, ClassFigures] = {}
    for aspect in get_taxonomy().all_aspects:
        n = counts.get(aspect.pk, 0)
        if not aspect.active and not n:
            continue
        figures = classes.get(aspect.env_class_id)
        if figures is None:
            figures = classes[aspect.env_class_id] = ClassFigures(
                aspect.env_class.name, 0, ledger_url(**base, env_class=aspect.env_class_id))
        figures.value += n
        figures.aspects.append(Item(aspect.name, n, ledger_url(**base, aspect=aspect.pk)))
    out = list(classes.values())
    if counts.get(None):
        out.append(ClassFigures("未归类", counts[None], ""))
    return out


def overdue_by_stage(jurisdiction: Jurisdiction, today: dt.date) -> list[Item]:
    """Open demands past their current stage's deadline today. From the rollup's deadlines of open
    demands (keys "YYYY-MM-DD|stage" before today) for districts and above; live for a town."""
    if jurisdiction.level == Jurisdiction.Level.TOWN:
        qs = apply_filters(Demand.objects.all(), {"jurisdiction": jurisdiction, "overdue": "any"})
        counts = dict(qs.order_by().values_list("current_stage").annotate(n=Count("pk")))
    else:
        # The key is "YYYY-MM-DD|stage": the stage starts at the 12th character.
        counts = dict(DemandRollup.objects.filter(
            jurisdiction__path__startswith=jurisdiction.path, dimension=Dimension.DUE, key__lt=today.isoformat(),
        ).annotate(stage=Substr("key", 12)).values_list("stage").annotate(n=Sum("n")).order_by())
    items = [Item("合计", sum(counts.values()), ledger_url(jurisdiction=jurisdiction.code, overdue="any"))]
    items += [Item(label, counts.get(value, 0), ledger_url(jurisdiction=jurisdiction.code, overdue=value))
              for value, label in Stage.choices]
    return items


# ---------------------------------------------------------------- live figures for a period (briefings)

@dataclass(frozen=True)
class Clause:
    """One outcome clause of a briefing: where a demand received in the period stands now."""

    key: str
    label: str
    states: tuple[str, ...]
    meaning: str


# The one definition of the briefing's outcome clauses. Every counted state is in exactly one clause,
# so the clauses of a period add up to the demands collected; merged duplicates (并单) are in none:
# they are the same problem as the demand they joined, and are left out of the total too.
OUTCOME_CLAUSES = (
    Clause("closed", "已办结", (State.CLOSED,),
           "已销号：正式答复并经企业评价（或回访）后销号，含现场解决"),
    Clause("replied", "已答复待评价", (State.REPLIED, State.EVALUATED),
           "已正式答复，尚待企业评价，或已评价尚待销号"),
    Clause("long_term", "区级研究推进", (State.LONG_TERM,), "转区级研究推进"),
    Clause("transferred", "移送市级研究", (State.TRANSFERRED,), "移送市级研究"),
    Clause("open", "办理中", OPEN_STATES, "尚未答复：" + "、".join(State(s).label for s in OPEN_STATES)),
)
assert sorted(s for c in OUTCOME_CLAUSES for s in c.states) == sorted(COUNTED_STATES)


def clause_of(state: str) -> str | None:
    """The key of the outcome clause a demand in `state` is counted in; None for a merged duplicate."""
    return next((c.key for c in OUTCOME_CLAUSES if state in c.states), None)


@dataclass
class DemandFigures:
    total: Item
    by_category: list[Item]
    closed: Item
    replied: Item
    long_term: Item
    transferred: Item
    open: Item
    merged: Item

    @property
    def outcomes(self) -> list[Item]:
        """The outcome clauses in their order; their values add up to `total`."""
        return [getattr(self, c.key) for c in OUTCOME_CLAUSES]


def demand_figures(jurisdiction: Jurisdiction, period: Period) -> DemandFigures:
    """The period's demands per top-level category and per state: two GROUP BYs over the ledger's filter."""
    qs = apply_filters(Demand.objects.all(), {"jurisdiction": jurisdiction, "received_from": period.start,
                                              "received_to": period.end})
    by_top = dict(qs.filter(state__in=COUNTED_STATES).annotate(top=Coalesce("category__parent_id", "category_id"))
                  .order_by().values_list("top").annotate(n=Count("pk")))
    states = dict(qs.order_by().values_list("state").annotate(n=Count("pk")))
    return figures_from_counts(jurisdiction, period, by_top, states)


def figures_from_counts(jurisdiction: Jurisdiction, period: Period, by_top: dict, states: dict) -> DemandFigures:
    """The figures, with their ledger links, from the period's received demands counted per top-level
    category and per state. The total and the clauses count the COUNTED_STATES only (a merged duplicate
    is reported apart, when `states` has it); each clause links to the ledger filtered on its states."""
    base = period_params(jurisdiction, period)
    tops = Category.objects.filter(parent=None).order_by("position", "id").values_list("pk", "name")
    by_category = [Item(name, by_top.get(pk, 0), ledger_url(**base, category=pk)) for pk, name in tops
                   if by_top.get(pk)]
    clauses = {c.key: Item(c.label, sum(states.get(s, 0) for s in c.states),
                           ledger_url(**{**base, "state": list(c.states)})) for c in OUTCOME_CLAUSES}
    return DemandFigures(
        total=Item("收集问题", sum(states.get(s, 0) for s in COUNTED_STATES), ledger_url(**base)),
        by_category=by_category,
        merged=Item("并单", states.get(State.MERGED, 0), ledger_url(**{**base, "state": State.MERGED})),
        **clauses,
    )


def evaluations(jurisdiction: Jurisdiction, period: Period) -> dict:
    """Evaluations and callbacks recorded in the period (whatever the receipt date): the work of the period,
    as counts. No rate is taken from them: 满意率 has one definition (`rates.SATISFACTION`)."""
    start, end = local_bounds(period)
    qs = Demand.objects.filter(jurisdiction__path__startswith=jurisdiction.path,
                               evaluated_at__gte=start, evaluated_at__lt=end)
    row = qs.aggregate(
        total=Count("pk"), callback=Count("pk", filter=Q(evaluation_by_callback=True)),
        satisfied=Count("pk", filter=Q(evaluation=Evaluation.SATISFIED)),
        basic=Count("pk", filter=Q(evaluation=Evaluation.BASIC)),
        unsatisfied=Count("pk", filter=Q(evaluation=Evaluation.UNSATISFIED)),
        default=Count("pk", filter=Q(evaluation=Evaluation.DEFAULT)))  # 默认满意, counted apart
    return row  # counts only: the 满意率 is rates.SATISFACTION, of the period's received demands
