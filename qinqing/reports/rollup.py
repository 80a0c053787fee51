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

* the dashboard calls `refresh()` before reading, so what it shows is exact, not "as of the last job";
  with nothing new it costs one indexed MAX(id);
* an event committed late by a long transaction (ids are handed out before commit) is caught because
  each refresh re-reads a window of `OVERLAP` events below the mark;
* the Huey job (every five minutes) keeps the work per dashboard view small, and a nightly `rebuild()`
  recomputes everything as the last safety net (e.g. after rows were loaded in bulk without events).

Merged duplicates (并单) are not counted: they are the same problem as the demand they joined.
"""

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Count, DateField, F, Max, Q
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from qinqing.demands.models import Demand, DemandEvent, Evaluation, State

from .models import DemandRollup, Dimension, RollupMark

OVERLAP = 500
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


def _grouped(demands, dimension: str):
    """Rows of (jurisdiction_id, week, key, measures…) for one dimension, computed by the database."""
    qs = _counted(demands).annotate(week=TruncWeek("received_at", output_field=DateField()))
    if dimension == Dimension.ALL:
        values = qs.values("jurisdiction_id", "week")
    elif dimension == Dimension.CATEGORY:
        values = qs.annotate(key=Coalesce("category__parent_id", "category_id")).values(
            "jurisdiction_id", "week", "key")
    elif dimension == Dimension.CHANNEL:
        values = qs.annotate(key=F("channel")).values("jurisdiction_id", "week", "key")
    elif dimension == Dimension.STATE:
        values = qs.annotate(key=F("state")).values("jurisdiction_id", "week", "key")
    else:
        return _grouped_units(qs)
    return values.annotate(**MEASURES).order_by().iterator(chunk_size=BATCH)


def _grouped_units(qs):
    """Units as the ledger's unit filter sees them: the lead unit or any co-unit, each demand once."""
    lead = qs.annotate(key=F("lead_unit_id")).values("jurisdiction_id", "week", "key").annotate(**MEASURES)
    yield from lead.order_by().iterator(chunk_size=BATCH)
    co = (qs.filter(co_units__isnull=False).exclude(lead_unit_id=F("co_units"))
          .annotate(key=F("co_units")).values("jurisdiction_id", "week", "key").annotate(**MEASURES))
    yield from co.order_by().iterator(chunk_size=BATCH)


def _write(demands) -> int:
    """Insert rollup rows for `demands` (whose buckets hold no rows yet); returns rows written."""
    written = 0
    for dimension in Dimension.values:
        cells: dict[tuple, dict] = {}
        batch = []
        for row in _grouped(demands, dimension):
            key = "" if row.get("key") is None else str(row.get("key"))
            ident = (row["jurisdiction_id"], row["week"], key)
            if dimension == Dimension.UNIT:  # lead and co rows of one unit add up
                if ident in cells:
                    for f in MEASURE_FIELDS:
                        cells[ident][f] += row[f]
                else:
                    cells[ident] = {f: row[f] for f in MEASURE_FIELDS}
                continue
            batch.append(DemandRollup(jurisdiction_id=ident[0], week=ident[1], dimension=dimension, key=key,
                                      **{f: row[f] for f in MEASURE_FIELDS}))
            if len(batch) >= BATCH:
                DemandRollup.objects.bulk_create(batch)
                written += len(batch)
                batch = []
        for (jur, week, key), measures in cells.items():
            batch.append(DemandRollup(jurisdiction_id=jur, week=week, dimension=dimension, key=key, **measures))
            if len(batch) >= BATCH:
                DemandRollup.objects.bulk_create(batch)
                written += len(batch)
                batch = []
        DemandRollup.objects.bulk_create(batch)
        written += len(batch)
    return written


def _mark() -> RollupMark:
    RollupMark.objects.get_or_create(pk=1)
    return RollupMark.objects.select_for_update().get(pk=1)


def rebuild() -> int:
    """Recompute every bucket from the demand table (nightly, and after bulk loads)."""
    with transaction.atomic():
        mark = _mark()
        top = DemandEvent.objects.aggregate(m=Max("id"))["m"] or 0
        DemandRollup.objects.all().delete()
        written = _write(Demand.objects.all())
        mark.last_event_id, mark.refreshed_at = top, timezone.now()
        mark.save(update_fields=["last_event_id", "refreshed_at"])
    return written


def refresh() -> int:
    """Recompute the buckets touched by timeline entries since the last refresh; returns buckets redone."""
    with transaction.atomic():
        mark = _mark()
        top = DemandEvent.objects.aggregate(m=Max("id"))["m"] or 0
        if top <= mark.last_event_id:
            return 0
        touched = (DemandEvent.objects.filter(id__gt=max(mark.last_event_id - OVERLAP, 0), id__lte=top)
                   .values_list("demand__jurisdiction_id", "demand__received_at").distinct())
        weeks: dict[dt.date, set[int]] = defaultdict(set)
        for jurisdiction_id, received_at in touched.iterator(chunk_size=BATCH):
            weeks[week_of(timezone.localtime(received_at).date())].add(jurisdiction_id)
        for chunk in _chunks(sorted(weeks.items()), 100):
            demands_q, rollup_q = Q(pk__in=[]), Q(pk__in=[])
            for week, jurisdictions in chunk:
                demands_q |= Q(jurisdiction_id__in=jurisdictions, received_at__gte=local_midnight(week),
                               received_at__lt=local_midnight(week + dt.timedelta(days=7)))
                rollup_q |= Q(jurisdiction_id__in=jurisdictions, week=week)
            DemandRollup.objects.filter(rollup_q).delete()
            _write(Demand.objects.filter(demands_q))
        mark.last_event_id, mark.refreshed_at = top, timezone.now()
        mark.save(update_fields=["last_event_id", "refreshed_at"])
    return sum(len(j) for j in weeks.values())


def _chunks(items, size):
    for i in range(0, len(items), size):
        yield items[i:i + size]
