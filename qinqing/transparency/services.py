"""一公开: the public figures, rebuilt from the demand table with the internal rate definitions, and read back.

The counts are the ones `qinqing.reports.rates` divides — `rates.measures(today)` grouped by leaf
jurisdiction, month of receipt and lead unit — over the demands received in the last MONTHS months (merged
duplicates left out, as everywhere). So the public 答复率, 满意率 and 办结按时率 of a unit or a jurisdiction are the
internal figures for the same demands and period, by construction (tests/test_transparency.py compares them).

Nothing about a single demand leaves this module: no enterprise, no content, no person — counts per unit.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Sum
from django.db.models.functions import TruncMonth

from qinqing.accounts.models import Jurisdiction, Role, Unit
from qinqing.demands.errors import PermissionDeniedError
from qinqing.demands.models import Demand, Stage, State
from qinqing.lib import clock
from qinqing.lib.workdays import add_months
from qinqing.reports import rates
from qinqing.reports.rollup import local_midnight

from .models import PublicFigure, ServiceSpecialist

MONTHS = 6
COUNTS = ("n", "reply_done", "reply_ontime", "reply_late", "evaluated", "satisfied")
SHOWN = (rates.REPLY, rates.SATISFACTION, rates.ONTIME[Stage.RESOLVE])


def period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The first day of the month MONTHS-1 months back, and today: the last MONTHS months of receipt."""
    today = today or clock.today()
    return add_months(today.replace(day=1), -(MONTHS - 1)), today


def period_demands(start: dt.date):
    """The demands the public figures count: received since `start`, merged duplicates left out."""
    return Demand.objects.filter(received_at__gte=local_midnight(start)).exclude(state=State.MERGED)


def rebuild_public_figures(today: dt.date | None = None) -> int:
    """Recompute every public figure from the demand table (the worker, every half hour, and on demand):
    one GROUP BY over the period's demands, then the table replaced in one transaction."""
    today = today or clock.today()
    start, _ = period(today)
    measures = rates.measures(today)
    grouped = (period_demands(start).annotate(month=TruncMonth("received_at")).order_by()
               .values("jurisdiction_id", "month", "lead_unit_id").annotate(**{k: measures[k] for k in COUNTS}))
    now = clock.now()
    rows = [PublicFigure(jurisdiction_id=g["jurisdiction_id"], month=_as_date(g["month"]), unit_id=g["lead_unit_id"],
                         built_at=now, **{k: g[k] for k in COUNTS}) for g in grouped]
    with transaction.atomic():
        PublicFigure.objects.all().delete()
        PublicFigure.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def request_rebuild(user) -> int:
    """立即更新公开数据: an administrator refreshes the public figures now instead of at the next half hour."""
    if not (user.is_authenticated and (user.is_superuser or user.has_role(Role.ADMIN))):
        raise PermissionDeniedError("只有管理员可以立即更新公开数据。")
    from qinqing.audit.services import record

    count = rebuild_public_figures()
    record("config_changed", actor=user, target="一公开统计数据", detail={"action": "rebuild", "rows": count})
    return count


@dataclass(frozen=True)
class Line:
    """One line of the public table: a unit (or the whole jurisdiction, or the not yet dispatched)."""

    label: str
    counts: dict

    def rate(self, definition) -> rates.Rate:
        return rates.Rate(definition, self.counts.get(definition.part, 0), definition.whole_of(self.counts), "")

    @property
    def received(self) -> int:
        return self.counts.get("n", 0)

    @property
    def shown(self) -> list[rates.Rate]:
        return [self.rate(d) for d in SHOWN]


@dataclass(frozen=True)
class PublicReport:
    jurisdiction: Jurisdiction
    start: dt.date
    end: dt.date
    total: Line
    units: list[Line]
    months: list[Line]
    built_at: dt.datetime | None

    @property
    def period(self) -> str:
        return rates.period_text(self.start, self.end)


def public_report(jurisdiction: Jurisdiction) -> PublicReport:
    """The figures of `jurisdiction`'s subtree from the pre-aggregate: two grouped sums (by unit, by month)."""
    start, end = period()
    cells = PublicFigure.objects.filter(month__gte=start, jurisdiction__path__startswith=jurisdiction.path)
    sums = {k: Sum(k) for k in COUNTS}
    by_unit = sorted(cells.values("unit_id", name=F("unit__name")).annotate(**sums).order_by(),
                     key=lambda row: (row["unit_id"] is None, -(row["n"] or 0), row["name"] or ""))  # 尚未交办 last
    by_month = list(cells.values("month").annotate(**sums).order_by("month"))
    built = PublicFigure.objects.order_by().values_list("built_at", flat=True).first()
    total = {k: sum(row[k] or 0 for row in by_unit) for k in COUNTS}
    units = [Line(row["name"] or "尚未交办", {k: row[k] or 0 for k in COUNTS}) for row in by_unit]
    months = [Line(f"{row['month']:%Y年%m月}", {k: row[k] or 0 for k in COUNTS}) for row in by_month]
    return PublicReport(jurisdiction, start, end, Line("合计", total), units, months, built)


def top_jurisdiction() -> Jurisdiction | None:
    """The jurisdiction /public/ shows: the deployment's root (the only one without a parent, else the first)."""
    return Jurisdiction.objects.filter(parent__isnull=True).order_by("path").first()


def public_specialists(jurisdiction: Jurisdiction):
    """The published directory within the subtree: unit, post, title and office phone only."""
    return (ServiceSpecialist.objects.filter(published=True, unit__active=True,
                                             unit__jurisdiction__path__startswith=jurisdiction.path)
            .select_related("unit").only("post", "title", "office_phone", "unit__name")
            .order_by("unit__jurisdiction__path", "unit__name", "post", "position", "id"))


def units_without_directory(jurisdiction: Jurisdiction):
    """Units of the subtree that handle demands and have no published specialist (for the administrators)."""
    return (Unit.objects.filter(active=True, jurisdiction__path__startswith=jurisdiction.path)
            .exclude(kind=Unit.Kind.SUPERVISION).exclude(published_specialists__published=True))
