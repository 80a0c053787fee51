"""The dashboard's pre-aggregates, and how they stay equal to the ledger.

Counting ten million demands at every dashboard view is too slow, so `DemandRollup` keeps per
(jurisdiction, week of receipt, dimension value) the number of demands and of deadlines met. A demand's
jurisdiction and receipt time never change, so each demand belongs to exactly one (jurisdiction, week)
bucket for its whole life; only the values inside the bucket move (state, unit, category, met deadlines).

Keeping it correct is an incremental refresh by deltas, driven by the append-only timeline: every service
that changes a demand writes a `DemandEvent`, so the events after the last one read name the demands that
may have changed. For each of them `RollupEntry` remembers what it added to the rollup when it was last
counted; `refresh()` reads the demand as it is now, subtracts the old contribution, adds the new one to the
few cells concerned (a state change moves one from "planned" to "replied", nothing else) and stores the new
entry. The cost follows the number of changed demands, not the size of the table, and applying a demand
twice changes nothing, which gives three properties:

* the dashboard catches up before reading (`refresh_for_reading`), so what it shows is exact, not "as
  of the last job", whenever at most SYNC_LIMIT entries are new; with nothing new that costs one query.
  It never waits: when the worker holds the rollup, or more is pending, the page shows the figures of
  the last refresh and says how many changes are still being counted;
* an event committed late by a long transaction (ids are handed out before commit, so a later id can be
  visible first) is caught because a refresh that finds a gap in the ids it read remembers the first
  missing id and reads from there next time, until the gap fills or `RECHECK_FOR` has passed (a gap
  that old is a rolled-back insert);
* the Huey job (every minute) keeps the work per dashboard view small, and a nightly `rebuild()`
  recomputes everything from the demand table as the last safety net (e.g. after rows were loaded in
  bulk without events, or the taxonomy was reorganised). The tests compare both.

Granularity: the totals (dimension "all", which feed the weekly trend and the per-town map) are kept per
leaf jurisdiction; the breakdowns by category, channel, state and unit are kept per district (a demand
filed in a town counts under the town's district), ten times fewer rows, which is what lets a
province-wide dashboard sum them in well under a second. A dashboard for a single town, a small set
of demands, counts its breakdowns live (`grouped`), still in the database.

Merged duplicates (并单) are not counted: they are the same problem as the demand they joined.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Case, CharField, Count, DateField, F, IntegerField, Max, Q, Subquery, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, Concat, TruncWeek
from django.utils import timezone

from qinqing.accounts.models import Jurisdiction
from qinqing.demands.models import Demand, DemandEvent, Evaluation, State
from qinqing.lib import clock

from .models import DemandRollup, Dimension, RollupEntry, RollupMark

RECHECK_FOR = dt.timedelta(minutes=15)
SYNC_LIMIT = 20  # a page catches up itself with at most this many new timeline entries (some 50 ms)
BATCH = 5000
CHUNK = 1000  # demands (and cells) handled per statement by the incremental refresh
SATISFIED = (Evaluation.SATISFIED, Evaluation.BASIC)

# Each measure is a condition on the demand; "n" counts every demand.
CONDITIONS = {
    "dispatch_done": Q(dispatched_at__isnull=False),
    "dispatch_ontime": Q(dispatched_at__date__lte=F("dispatch_due")),
    "contact_done": Q(contacted_at__isnull=False),
    "contact_ontime": Q(contacted_at__date__lte=F("contact_due")),
    "path_done": Q(path_at__isnull=False),
    "path_ontime": Q(path_at__date__lte=F("path_due")),
    "reply_done": Q(replied_at__isnull=False),
    "reply_ontime": Q(replied_at__date__lte=F("resolve_due")),
    "evaluated": ~Q(evaluation__in=["", Evaluation.DEFAULT]),  # 默认满意 is no rating: counted apart
    "satisfied": Q(evaluation__in=SATISFIED),
}
MEASURES = {"n": Count("pk"), **{name: Count("pk", filter=cond) for name, cond in CONDITIONS.items()}}
MEASURE_FIELDS = list(MEASURES)
BITS = {name: 1 << i for i, name in enumerate(CONDITIONS)}
CELL = tuple[str, dt.date, int, str]  # (dimension, week, jurisdiction id, key)


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _counted(qs):
    # Nor a level's copy of a handed-over demand (qinqing.handoffs): the original is the one received.
    return qs.exclude(state=State.MERGED).filter(handed_from__isnull=True)


NODE = Case(When(jurisdiction__level=Jurisdiction.Level.TOWN, then=F("jurisdiction__parent_id")),
            default=F("jurisdiction_id"))
TOP_CATEGORY = Coalesce("category__parent_id", "category_id")
DUE_KEY = Concat(Cast("next_due", CharField()), Value("|"), "current_stage", output_field=CharField())


def _querysets(demands, dimension: str) -> list:
    """The GROUP BY queries of one dimension, counted from the demand table: rows of {jid, week, key,
    measures…}. `jid` is the leaf jurisdiction for the totals and the district-level node for the
    breakdowns. Units come in two queries (lead unit, then the co-units that are not also the lead), as
    the ledger's unit filter counts a unit on either."""
    qs = _counted(demands).annotate(week=TruncWeek("received_at", output_field=DateField()))
    if dimension == Dimension.ALL:
        return [qs.annotate(jid=F("jurisdiction_id")).values("jid", "week").annotate(**MEASURES).order_by()]
    qs = qs.annotate(jid=NODE)
    if dimension == Dimension.UNIT:
        lead = qs.annotate(key=F("lead_unit_id"))
        co = (qs.annotate(key=F("co_units")).filter(key__isnull=False)
              .filter(Q(lead_unit_id__isnull=True) | ~Q(key=F("lead_unit_id"))))
        return [q.values("jid", "week", "key").annotate(**MEASURES).order_by() for q in (lead, co)]
    if dimension == Dimension.DUE:
        # Open demands by their current deadline and stage: "overdue today" is then the sum of the keys
        # before today's date, and stays right as the days pass without any event.
        qs = qs.filter(next_due__isnull=False)
        return [qs.annotate(key=DUE_KEY).values("jid", "week", "key").annotate(**MEASURES).order_by()]
    key = {Dimension.CATEGORY: TOP_CATEGORY, Dimension.CHANNEL: F("channel"), Dimension.STATE: F("state")}[dimension]
    return [qs.annotate(key=key).values("jid", "week", "key").annotate(**MEASURES).order_by()]


def grouped(demands, dimension: str):
    """The rows of `_querysets`, read into Python (a town's dashboard counts live with these)."""
    for qs in _querysets(demands, dimension):
        yield from qs.iterator(chunk_size=BATCH)


def _write(demands) -> None:
    """Fill the (empty) buckets of `demands`: one INSERT … SELECT … GROUP BY per query, in the database.
    Co-unit rows add to the lead-unit row of the same cell (ON CONFLICT … DO UPDATE)."""
    table = connection.ops.quote_name(DemandRollup._meta.db_table)
    measures = ", ".join(connection.ops.quote_name(f) for f in MEASURE_FIELDS)
    week = 'date(sub."week")' if connection.vendor == "sqlite" else 'sub."week"'
    for dimension in Dimension.values:
        for i, qs in enumerate(_querysets(demands, dimension)):
            sql, params = qs.query.sql_with_params()
            key = "''" if dimension == Dimension.ALL else "COALESCE(CAST(sub.\"key\" AS VARCHAR(20)), '')"
            select = ", ".join(f'sub."{f}"' for f in MEASURE_FIELDS)
            columns = f"jurisdiction_id, week, dimension, {connection.ops.quote_name('key')}, {measures}"
            source = f'SELECT sub."jid", {week}, %s, {key}, {select} FROM ({sql}) sub WHERE 1 = 1'  # noqa: S608
            statement = f"INSERT INTO {table} ({columns}) {source}"  # noqa: S608 - our names; values are parameters
            if i:  # the co-unit rows of a unit that also leads demands in the cell
                updates = ", ".join(f"{connection.ops.quote_name(f)} = {table}.{connection.ops.quote_name(f)} "
                                    f"+ excluded.{connection.ops.quote_name(f)}" for f in MEASURE_FIELDS)
                statement += (f" ON CONFLICT (dimension, week, jurisdiction_id, {connection.ops.quote_name('key')})"
                              f" DO UPDATE SET {updates}")
            with connection.cursor() as cursor:
                cursor.execute(statement, [dimension, *params])


# ---------------------------------------------------------------- per-demand entries

def _co_units_sql() -> str:
    through = connection.ops.quote_name(Demand.co_units.through._meta.db_table)
    demand = connection.ops.quote_name(Demand._meta.db_table)
    if connection.vendor == "postgresql":
        return (f"(SELECT string_agg(cu.unit_id::text, ',' ORDER BY cu.unit_id) FROM {through} cu "  # noqa: S608
                f"WHERE cu.demand_id = {demand}.id)")
    return (f"(SELECT group_concat(unit_id, ',') FROM (SELECT cu.unit_id FROM {through} cu "  # noqa: S608
            f"WHERE cu.demand_id = {demand}.id ORDER BY cu.unit_id))")


def _entries(demands):
    """Each demand's entry, computed by the database with the same conditions as the GROUP BYs."""
    flags = sum((Case(When(cond, then=Value(BITS[name])), default=Value(0), output_field=IntegerField())
                 for name, cond in CONDITIONS.items()), Value(0, output_field=IntegerField()))
    return demands.filter(handed_from__isnull=True).order_by().annotate(  # as _counted: no hand-off copies
        e_node=NODE, e_week=TruncWeek("received_at", output_field=DateField()), e_category=TOP_CATEGORY,
        e_co=Coalesce(RawSQL(_co_units_sql(), [], output_field=CharField()), Value("")),  # noqa: S611 - our SQL
        e_due=Case(When(next_due__isnull=False, then=DUE_KEY), default=Value(""), output_field=CharField()),
        e_flags=flags)


ENTRY_COLUMNS = ["demand_id", "leaf_id", "node_id", "week", "state", "channel", "category", "lead_unit",
                 "co_units", "due", "flags"]
ENTRY_SOURCE = ["id", "jurisdiction_id", "e_node", "e_week", "state", "channel", "e_category", "lead_unit_id",
                "e_co", "e_due", "e_flags"]


def _write_entries(demands) -> None:
    qs = _entries(demands).values(*ENTRY_SOURCE)
    sql, params = qs.query.sql_with_params()
    table = connection.ops.quote_name(RollupEntry._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in ENTRY_COLUMNS)
    select = ", ".join('date(sub."e_week")' if c == "e_week" and connection.vendor == "sqlite" else f'sub."{c}"'
                       for c in ENTRY_SOURCE)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {select} FROM ({sql}) sub", params)  # noqa: S608


def _current_entries(ids: list[int]) -> dict[int, RollupEntry]:
    """The demands' entries as they would be written now (the week from the receipt time, in local time)."""
    rows = _entries(Demand.objects.filter(pk__in=ids)).values(*ENTRY_SOURCE, "received_at")
    out = {}
    for row in rows:
        out[row["id"]] = RollupEntry(
            demand_id=row["id"], leaf_id=row["jurisdiction_id"], node_id=row["e_node"],
            week=week_of(timezone.localtime(row["received_at"]).date()), state=row["state"], channel=row["channel"],
            category=row["e_category"], lead_unit=row["lead_unit_id"], co_units=row["e_co"] or "",
            due=row["e_due"] or "", flags=row["e_flags"])
    return out


def contributions(entry: RollupEntry | None) -> list[tuple[CELL, tuple[int, ...]]]:
    """The cells one demand adds to, with the measures it adds (1 or 0 each): what `_querysets` counts."""
    if entry is None or entry.state == State.MERGED:
        return []
    vector = (1, *(1 if entry.flags & BITS[name] else 0 for name in CONDITIONS))
    week, node = entry.week, entry.node_id
    cells = [(Dimension.ALL.value, week, entry.leaf_id, ""),
             (Dimension.CATEGORY.value, week, node, str(entry.category)),
             (Dimension.CHANNEL.value, week, node, entry.channel),
             (Dimension.STATE.value, week, node, entry.state),
             (Dimension.UNIT.value, week, node, "" if entry.lead_unit is None else str(entry.lead_unit))]
    cells += [(Dimension.UNIT.value, week, node, unit) for unit in entry.co_units.split(",")
              if unit and unit != str(entry.lead_unit)]
    if entry.due:
        cells.append((Dimension.DUE.value, week, node, entry.due))
    return [(cell, vector) for cell in cells]


def _apply(deltas: dict[CELL, list[int]]) -> None:
    """Add the deltas to their cells: per thousand cells, read the cells concerned (one indexed lookup
    each), then replace them with their new values in two statements (a cell that falls to zero demands
    goes, as a rebuild would not have it)."""
    q = connection.ops.quote_name
    table = q(DemandRollup._meta.db_table)
    columns = ", ".join(q(f) for f in MEASURE_FIELDS)
    names = ", ".join(["dimension", "week", "jurisdiction_id", q("key"), *(q(f) for f in MEASURE_FIELDS)])
    cells = [cell for cell, delta in deltas.items() if any(delta)]
    for chunk in _chunks(cells, CHUNK):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, dimension, week, jurisdiction_id, {q('key')}, {columns} FROM {table} "  # noqa: S608
                           f"WHERE (dimension, week, jurisdiction_id, {q('key')}) IN "
                           f"(VALUES {', '.join(['(%s, %s, %s, %s)'] * len(chunk))})",
                           [v for cell in chunk for v in cell])
            existing = {}
            for pk, dimension, week, jid, key, *measures in cursor.fetchall():
                week = week if isinstance(week, dt.date) else dt.date.fromisoformat(str(week)[:10])
                existing[(dimension, week, jid, key)] = (pk, measures)
            rows = []
            for cell in chunk:
                before = existing[cell][1] if cell in existing else [0] * len(MEASURE_FIELDS)
                after = [max(b + d, 0) for b, d in zip(before, deltas[cell], strict=True)]  # never below zero
                if after[0] > 0:
                    rows.append((*cell, *after))
            if existing:
                ids = [pk for pk, _ in existing.values()]
                cursor.execute(f"DELETE FROM {table} WHERE id IN ({', '.join(['%s'] * len(ids))})", ids)  # noqa: S608
            if rows:
                values = ", ".join(["(" + ", ".join(["%s"] * len(rows[0])) + ")"] * len(rows))
                cursor.execute(f"INSERT INTO {table} ({names}) VALUES {values}",  # noqa: S608
                               [v for row in rows for v in row])


def _recount(ids: list[int]) -> None:
    """Apply the changed demands' differences to the rollup and remember their new entries."""
    for chunk in _chunks(sorted(ids), CHUNK):
        old = RollupEntry.objects.in_bulk(chunk)
        new = _current_entries(chunk)
        deltas: dict[CELL, list[int]] = defaultdict(lambda: [0] * len(MEASURE_FIELDS))
        for pk in chunk:
            for sign, entry in ((-1, old.get(pk)), (1, new.get(pk))):
                for cell, vector in contributions(entry):
                    delta = deltas[cell]
                    for i, v in enumerate(vector):
                        delta[i] += sign * v
        _apply(deltas)
        RollupEntry.objects.filter(demand_id__in=chunk).delete()
        RollupEntry.objects.bulk_create(new.values(), batch_size=CHUNK)


# ---------------------------------------------------------------- refresh and rebuild

def _mark(wait: bool = True) -> RollupMark | None:
    """The progress row, locked for this transaction; None when another refresh holds it and `wait` is off."""
    RollupMark.objects.get_or_create(pk=1)
    return RollupMark.objects.select_for_update(skip_locked=not wait).filter(pk=1).first()


def rebuild() -> int:
    """Recompute every bucket and every entry from the demand table (nightly, and after bulk loads)."""
    with transaction.atomic():
        mark = _mark()
        top = DemandEvent.objects.aggregate(m=Max("id"))["m"] or 0
        if connection.vendor == "postgresql":  # only the refresh reads the entries, and it waits for the mark
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {connection.ops.quote_name(RollupEntry._meta.db_table)}")
        else:
            RollupEntry.objects.all().delete()
        _write_entries(Demand.objects.all())
        DemandRollup.objects.all().delete()  # readers keep seeing the old rows until the commit
        _write(Demand.objects.all())
        mark.last_event_id, mark.refreshed_at, mark.recheck_from = top, clock.now(), None
        mark.save(update_fields=["last_event_id", "refreshed_at", "recheck_from"])
    return DemandRollup.objects.count()


@dataclass
class Freshness:
    refreshed_at: dt.datetime | None  # None: never built yet
    pending: int  # timeline entries not yet counted (0: the rollup is exact)


def refresh_for_reading(max_pending: int = SYNC_LIMIT) -> Freshness:
    """What a page does before reading: catch up when that is cheap and nobody else is at it; otherwise
    leave it to the worker (which runs every minute) and say how far behind the figures are."""
    top = DemandEvent.objects.order_by("-id").values("id")[:1]
    mark = RollupMark.objects.filter(pk=1).values("last_event_id", "refreshed_at").annotate(
        top=Coalesce(Subquery(top), 0)).first()
    if mark is None or mark["refreshed_at"] is None:
        return Freshness(None, 0)
    pending = mark["top"] - mark["last_event_id"]
    if pending <= 0:
        return Freshness(mark["refreshed_at"], 0)
    if pending > max_pending or refresh(wait=False) is None:
        return Freshness(mark["refreshed_at"], pending)
    return Freshness(clock.now(), 0)


def refresh(wait: bool = True) -> int | None:
    """Count again the demands named by timeline entries since the last refresh; returns how many.
    None when `wait` is off and another refresh is running (the caller does not queue behind it)."""
    with transaction.atomic():
        mark = _mark(wait)
        if mark is None:
            return None
        if mark.refreshed_at is None:  # never built (or asked to be rebuilt): build everything once
            rebuild()
            return 0
        top = DemandEvent.objects.aggregate(m=Max("id"))["m"] or 0
        if top <= mark.last_event_id:
            return 0
        now = clock.now()
        start = mark.last_event_id
        if mark.recheck_from is not None and now - mark.recheck_since < RECHECK_FOR:
            start = min(start, mark.recheck_from - 1)
        new_ids = list(DemandEvent.objects.filter(id__gt=start, id__lte=top).order_by("id")
                       .values_list("id", flat=True))
        missing = next((expected for expected, seen in zip(range(start + 1, top + 1), new_ids, strict=False)
                        if expected != seen), None)
        if missing is None and len(new_ids) < top - start:
            missing = start + len(new_ids) + 1
        if missing is not None and (mark.recheck_from is None or missing != mark.recheck_from):
            mark.recheck_since = now
        mark.recheck_from = missing
        touched = set(DemandEvent.objects.filter(id__gt=start, id__lte=top).order_by()
                      .values_list("demand_id", flat=True).distinct())
        _recount(list(touched))
        mark.last_event_id, mark.refreshed_at = top, now
        mark.save(update_fields=["last_event_id", "refreshed_at", "recheck_from", "recheck_since"])
    return len(touched)


def _chunks(items, size):
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i:i + size]
