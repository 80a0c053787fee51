"""Moving the stored deadlines of open demands when the working-day calendar changes.

Deadlines are columns written by the services at each transition, so a day newly marked a holiday (or
a make-up working day) changes nothing stored until this runs. Which demands can a change touch? Every
deadline is found by walking forward, day by day, from the receipt date (or the reopening date, or the
resolution date for an extension) to the deadline; a day after the deadline is never looked at. So a
change on day D can only move a deadline that is on or after D, and only deadlines still to be met
matter: a stage already completed keeps the deadline it was judged against, and closed demands keep
all of theirs. The candidates are therefore the open demands (the `state` index, never the closed
history) with a remaining deadline on or after the earliest changed day: bounded by the open set.

The new values come from the services' own function (`refresh_deadlines`, the one copy of the 1231
rules), computed in Python per candidate: the rule (months or working days, redo days, extensions)
cannot be written as SQL without a second copy. The writes are set-based: per chunk of candidates
one SELECT … FOR UPDATE, one UPDATE … FROM of the rows whose values changed, one bulk INSERT of their
timeline entries, so the statements per chunk do not grow with its size.

Idempotent: a demand is written only when a value differs, so running it again (the worker's
catch-up pass, a repeated import) writes nothing and appends no second entry.
"""

import contextlib
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q

from qinqing.demands.clock import DEADLINE_FIELDS, refresh_deadlines, rule_for
from qinqing.demands.models import OPEN_STATES, Demand, DemandEvent, Stage
from qinqing.lib import clock
from qinqing.lib.workdays import WorkCalendar

CHUNK = 500  # demands per statement: 500 × 9 values stay under SQLite's 32,766 parameters
STAGES = (Stage.DISPATCH, Stage.CONTACT, Stage.PATH, Stage.RESOLVE)  # the order a demand meets them
STAGE_LABELS = {stage.value: f"{stage.label}时限" for stage in STAGES}  # "联系企业时限"
# The timeline verb: "修改" (a system edit of the demand), the note saying what and why.
VERB = "edit"
# What the refresh reads and writes; nothing else is loaded.
_FIELDS = ["id", "state", "category", "category__sla_rule", "received_at", "reopened_at", "extension_days",
           "contacted_at", "path_at", "version", "paused_since", "pause_shift", "reopen_count", *DEADLINE_FIELDS]


def _remaining_on_or_after(since: dt.date) -> Q:
    """A deadline of the current stage or a later one falls on or after `since`."""
    q = Q()
    for i, stage in enumerate(STAGES):
        later = Q()
        for s in STAGES[i:]:
            later |= Q(**{f"{s.value}_due__gte": since})
        q |= Q(current_stage=stage) & later
    return q


def candidates(since: dt.date):
    """Open demands a change on or after `since` may move (see the module docstring)."""
    return Demand.objects.filter(state__in=OPEN_STATES).filter(_remaining_on_or_after(since))


@dataclass
class Moved:
    """One demand whose deadlines moved: the stage columns as (old, new)."""

    demand: Demand
    changes: dict[str, tuple[dt.date, dt.date]]


def _recompute(demand: Demand, cal: WorkCalendar) -> Moved | None:
    """The demand with its remaining deadlines recomputed on `cal`, or None when nothing moves.

    The completed stages before the current one keep their stored deadline: refresh_deadlines computes
    all four, and the met ones are put back.
    """
    before = {f: getattr(demand, f) for f in DEADLINE_FIELDS}
    refresh_deadlines(demand, cal, rule_for(demand.category))
    current = STAGES.index(Stage(demand.current_stage)) if demand.current_stage else len(STAGES)
    for stage in STAGES[:current]:
        setattr(demand, f"{stage.value}_due", before[f"{stage.value}_due"])
    # A paused demand (qinqing.handoffs) has no next deadline until it resumes.
    demand.next_due = demand.due_for(demand.current_stage) if demand.current_stage and not demand.paused_since else None
    demand.due_order = demand.next_due or dt.date.max
    if all(getattr(demand, f) == before[f] for f in DEADLINE_FIELDS):
        return None
    changes = {f"{s.value}_due": (before[f"{s.value}_due"], getattr(demand, f"{s.value}_due")) for s in STAGES}
    return Moved(demand, {f: pair for f, pair in changes.items() if pair[0] != pair[1]})


def _note(moved: Moved) -> str:
    parts = [f"{STAGE_LABELS[f.removesuffix('_due')]} {old.isoformat()} → {new.isoformat()}"
             for f, (old, new) in moved.changes.items()]
    return "节假日调整：" + "；".join(parts)


# The written columns with their PostgreSQL array types; a row is matched on (id, the version read).
_WRITTEN = [(c, "text" if Demand._meta.get_field(c).get_internal_type() == "CharField" else "date")
            for c in DEADLINE_FIELDS]


def _update(moved: list[Moved], now: dt.datetime) -> set[int]:
    """One UPDATE … FROM of the moved demands, only where the version is still the one read; their ids.

    Not bulk_update: its CASE per column and row cost 6 of 9 seconds moving 708 demands (measured on
    PostgreSQL). The version goes up: a page opened before the change is stale now.
    """
    table = Demand._meta.db_table
    rows = [(m.demand.pk, m.demand.version, *(getattr(m.demand, c) for c, _ in _WRITTEN)) for m in moved]
    sets = ", ".join(f"{c} = v.{c}" for c, _ in _WRITTEN)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{t}[]" for t in ("bigint", "integer", *(t for _, t in _WRITTEN)))
            names = ", ".join(["id", "version", *(c for c, _ in _WRITTEN)])
            cursor.execute(
                f"UPDATE {table} AS d SET {sets}, version = d.version + 1, updated_at = %s "  # noqa: S608 - our names
                f"FROM unnest({arrays}) AS v({names}) WHERE d.id = v.id AND d.version = v.version RETURNING d.id",
                [now, *(list(column) for column in zip(*rows, strict=True))])
            return {pk for (pk,) in cursor.fetchall()}
        adapt = connection.ops.adapt_datefield_value
        sets = ", ".join(f"{c} = v.column{i}" for i, (c, _) in enumerate(_WRITTEN, start=3))
        one = "(" + ", ".join(["%s"] * (2 + len(_WRITTEN))) + ")"
        cursor.execute(
            f"UPDATE {table} SET {sets}, version = {table}.version + 1, updated_at = %s "  # noqa: S608 - our names
            f"FROM (VALUES {', '.join([one] * len(rows))}) AS v "
            f"WHERE {table}.id = v.column1 AND {table}.version = v.column2 RETURNING {table}.id",
            [connection.ops.adapt_datetimefield_value(now),
             *(v if i < 2 or isinstance(v, str) else adapt(v) for row in rows for i, v in enumerate(row))])
        return {pk for (pk,) in cursor.fetchall()}


def _write(moved: list[Moved], days: Iterable[dt.date]) -> int:
    """Write the moved demands and one timeline entry each (actor: none, the system); how many."""
    if not moved:
        return 0
    now = clock.now()
    written = _update(moved, now)
    day_list = sorted({d.isoformat() for d in days})
    DemandEvent.objects.bulk_create([
        DemandEvent(demand_id=m.demand.pk, actor=None, verb=VERB, from_state=m.demand.state,
                    to_state=m.demand.state, note=_note(m), created_at=now,
                    data={"calendar": {"days": day_list,
                                       "deadlines": {f: {"old": old.isoformat(), "new": new.isoformat()}
                                                     for f, (old, new) in m.changes.items()}}})
        for m in moved if m.demand.pk in written])
    return len(written)


def _chunk(since: dt.date, after_pk: int, size: int) -> list[Demand]:
    """The next candidates by id, locked until the transaction ends: a transition waits, then reads
    the moved deadlines, rather than writing back what it read before."""
    return list(candidates(since).filter(pk__gt=after_pk).select_related("category")
                .select_for_update(of=("self",)).only(*_FIELDS).order_by("pk")[:size])


def move_deadlines(days: Iterable[dt.date], cal: WorkCalendar, *, chunk: int = CHUNK,
                   own_transactions: bool = False) -> int:
    """Recompute the remaining deadlines of the open demands that a change of `days` may touch.

    Returns how many demands moved. Inline it runs in the caller's transaction (the calendar change
    and the moved deadlines commit together); the worker passes `own_transactions`, one per chunk,
    so that a province's ledger does not hold its locks for the whole run.
    """
    days = sorted(set(days))
    if not days:
        return 0
    moved_total, last_pk = 0, 0
    while True:
        with transaction.atomic() if own_transactions else contextlib.nullcontext():
            rows = _chunk(days[0], last_pk, chunk)
            moved_total += _write([m for m in (_recompute(d, cal) for d in rows) if m is not None], days)
        if len(rows) < chunk:
            return moved_total
        last_pk = rows[-1].pk

