"""The dashboard's pre-aggregates, and how they stay equal to the ledger.

Counting ten million demands at every dashboard view is too slow, so `DemandRollup` keeps per
(jurisdiction, week of receipt, dimension value) the number of demands and of deadlines met. A demand's
jurisdiction and receipt time never change, so each demand belongs to exactly one (jurisdiction, week)
bucket for its whole life; only the values inside the bucket move (state, unit, category, met deadlines).

Keeping it correct is an incremental refresh keyed by what changed, read from the append-only timeline:
every service that changes a demand writes a `DemandEvent`, so the events after the last one read name
the demands, hence the buckets, that may have changed. `refresh()` recomputes those whole buckets from
the demand table (one GROUP BY per dimension, restricted by the (jurisdiction, received_at) index) and
replaces their rows. Recomputing a bucket is idempotent, which gives three properties:

* the dashboard catches up before reading (`refresh_for_reading`), so what it shows is exact, not "as
  of the last job", whenever fewer than SYNC_LIMIT entries are new; with nothing new that costs one
  indexed MAX(id). When more are pending (a province at peak hours) the page does not wait for them: it
  shows the figures of the last refresh and says how many changes are still being counted;
* an event committed late by a long transaction (ids are handed out before commit, so a later id can be
  visible first) is caught because a refresh that finds a gap in the ids it read remembers the first
  missing id and reads from there next time, until the gap fills or `RECHECK_FOR` has passed (a gap
  that old is a rolled-back insert);
* the Huey job (every minute) keeps the work per dashboard view small, and a nightly `rebuild()`
  recomputes everything as the last safety net (e.g. after rows were loaded in bulk without events).

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
from django.db.models import Case, CharField, Count, DateField, F, Max, Q, Value, When
from django.db.models.functions import Cast, Coalesce, Concat, TruncWeek
from django.utils import timezone

from qinqing.accounts.models import Jurisdiction
from qinqing.demands.models import Demand, DemandEvent, Evaluation, State

from .models import DemandRollup, Dimension, RollupMark

RECHECK_FOR = dt.timedelta(minutes=15)
SYNC_LIMIT = 100  # a page catches up itself with at most this many new timeline entries
BATCH = 5000
SATISFIED = (Evaluation.SATISFIED, Evaluation.BASIC)

MEASURES = {
    "n": Count("pk"),
    "dispatch_done": Count("pk", filter=Q(dispatched_at__isnull=False)),
    "dispatch_ontime": Count("pk", filter=Q(dispatched_at__date__lte=F("dispatch_due"))),
    "contact_done": Count("pk", filter=Q(contacted_at__isnull=False)),
    "contact_ontime": Count("pk", filter=Q(contacted_at__date__lte=F("contact_due"))),
    "path_done": Count("pk", filter=Q(path_at__isnull=False)),
    "path_ontime": Count("pk", filter=Q(path_at__date__lte=F("path_due"))),
    "reply_done": Count("pk", filter=Q(replied_at__isnull=False)),
    "reply_ontime": Count("pk", filter=Q(replied_at__date__lte=F("resolve_due"))),
    "evaluated": Count("pk", filter=~Q(evaluation="")),
    "satisfied": Count("pk", filter=Q(evaluation__in=SATISFIED)),
}
MEASURE_FIELDS = list(MEASURES)


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _counted(qs):
    return qs.exclude(state=State.MERGED)


NODE = Case(When(jurisdiction__level=Jurisdiction.Level.TOWN, then=F("jurisdiction__parent_id")),
            default=F("jurisdiction_id"))


def _querysets(demands, dimension: str) -> list:
    """The GROUP BY queries of one dimension: rows of {jid, week, key, measures…}. `jid` is the leaf
    jurisdiction for the totals and the district-level node for the breakdowns. Units come in two
    queries (lead unit, then co-units), as the ledger's unit filter counts a unit on either."""
    qs = _counted(demands).annotate(week=TruncWeek("received_at", output_field=DateField()))
    if dimension == Dimension.ALL:
        return [qs.annotate(jid=F("jurisdiction_id")).values("jid", "week").annotate(**MEASURES).order_by()]
    qs = qs.annotate(jid=NODE)
    if dimension == Dimension.UNIT:
        lead = qs.annotate(key=F("lead_unit_id"))
        co = qs.filter(co_units__isnull=False).exclude(lead_unit_id=F("co_units")).annotate(key=F("co_units"))
        return [q.values("jid", "week", "key").annotate(**MEASURES).order_by() for q in (lead, co)]
    if dimension == Dimension.DUE:
        # Open demands by their current deadline and stage: "overdue today" is then the sum of the keys
        # before today's date, and stays right as the days pass without any event.
        qs = qs.filter(next_due__isnull=False)
        key = Concat(Cast("next_due", CharField()), Value("|"), "current_stage", output_field=CharField())
        return [qs.annotate(key=key).values("jid", "week", "key").annotate(**MEASURES).order_by()]
    key = {Dimension.CATEGORY: Coalesce("category__parent_id", "category_id"),
           Dimension.CHANNEL: F("channel"), Dimension.STATE: F("state")}[dimension]
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


def _mark() -> RollupMark:
    RollupMark.objects.get_or_create(pk=1)
    return RollupMark.objects.select_for_update().get(pk=1)


def rebuild() -> int:
    """Recompute every bucket from the demand table (nightly, and after bulk loads)."""
    with transaction.atomic():
        mark = _mark()
        top = DemandEvent.objects.aggregate(m=Max("id"))["m"] or 0
        DemandRollup.objects.all().delete()
        _write(Demand.objects.all())
        mark.last_event_id, mark.refreshed_at, mark.recheck_from = top, timezone.now(), None
        mark.save(update_fields=["last_event_id", "refreshed_at", "recheck_from"])
    return DemandRollup.objects.count()


@dataclass
class Freshness:
    refreshed_at: dt.datetime | None
    pending: int  # timeline entries not yet counted (0: the rollup is exact)


def refresh_for_reading(max_pending: int = SYNC_LIMIT) -> Freshness:
    """What a page does before reading: catch up when that is cheap, otherwise leave it to the worker
    (which runs every minute) and say how far behind the figures are."""
    mark = RollupMark.objects.filter(pk=1).first()
    top = DemandEvent.objects.aggregate(m=Max("id"))["m"] or 0
    if mark is not None and mark.refreshed_at is not None and top - mark.last_event_id > max_pending:
        return Freshness(mark.refreshed_at, top - mark.last_event_id)
    refresh()
    return Freshness(timezone.now(), 0)


def refresh() -> int:
    """Recompute the buckets touched by timeline entries since the last refresh; returns buckets redone."""
    with transaction.atomic():
        mark = _mark()
        if mark.refreshed_at is None:  # never built: build everything once
            rebuild()
            return 0
        top = DemandEvent.objects.aggregate(m=Max("id"))["m"] or 0
        if top <= mark.last_event_id:
            return 0
        now = timezone.now()
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
        touched = (DemandEvent.objects.filter(id__in=new_ids) if len(new_ids) < 5000 else
                   DemandEvent.objects.filter(id__gt=start, id__lte=top))
        touched = touched.values_list("demand__jurisdiction_id", "demand__received_at").distinct()
        leaf_weeks: dict[dt.date, set[int]] = defaultdict(set)
        for jurisdiction_id, received_at in touched.iterator(chunk_size=BATCH):
            leaf_weeks[week_of(timezone.localtime(received_at).date())].add(jurisdiction_id)
        # A bucket of the breakdowns is a district-level node: redo every leaf under each touched node.
        leaves = set().union(*leaf_weeks.values())
        node_of = {pk: (parent if level == Jurisdiction.Level.TOWN and parent else pk) for pk, level, parent in
                   Jurisdiction.objects.filter(pk__in=leaves).values_list("pk", "level", "parent_id")}
        nodes = set(node_of.values())
        under: dict[int, set[int]] = defaultdict(set)
        for pk, level, parent in Jurisdiction.objects.filter(Q(pk__in=nodes) | Q(parent_id__in=nodes)).values_list(
                "pk", "level", "parent_id"):
            node = parent if level == Jurisdiction.Level.TOWN and parent in nodes else pk
            under[node].add(pk)
        weeks = {week: {node_of[j] for j in js} for week, js in leaf_weeks.items()}
        for chunk in _chunks(sorted(weeks.items()), 1):
            demands_q, rollup_q = Q(pk__in=[]), Q(pk__in=[])
            for week, week_nodes in chunk:
                week_leaves = set().union(*(under[n] for n in week_nodes))
                demands_q |= Q(jurisdiction_id__in=week_leaves, received_at__gte=local_midnight(week),
                               received_at__lt=local_midnight(week + dt.timedelta(days=7)))
                rollup_q |= Q(week=week) & (Q(dimension=Dimension.ALL, jurisdiction_id__in=week_leaves)
                                            | (~Q(dimension=Dimension.ALL) & Q(jurisdiction_id__in=week_nodes)))
            DemandRollup.objects.filter(rollup_q).delete()
            _write(Demand.objects.filter(demands_q))
        mark.last_event_id, mark.refreshed_at = top, now
        mark.save(update_fields=["last_event_id", "refreshed_at", "recheck_from", "recheck_since"])
    return sum(len(n) for n in weeks.values())


def _chunks(items, size):
    for i in range(0, len(items), size):
        yield items[i:i + size]
