"""The "1231" clock: deadlines of a demand from its receipt time and its category's rule."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from qinqing.lib.workdays import WorkCalendar, add_months

from .models import OPEN_STATES, Category, SlaRule, Stage, State

# Used when no rule is configured at all: dispatch 1, contact 2, path 3, resolve 1 month.
BUILTIN_1231 = SlaRule(name="1231", dispatch_days=1, contact_days=2, path_days=3, resolve_months=1,
                       resolve_workdays=0, redo_days=10, is_default=True)


@dataclass(frozen=True)
class Deadlines:
    dispatch: dt.date
    contact: dt.date
    path: dt.date
    resolve: dt.date


def rule_for(category: Category | None) -> SlaRule:
    """The category's own rule, else the default rule, else the built-in 1231."""
    from .taxonomy import get_taxonomy

    taxonomy = get_taxonomy()
    if category is not None and category.sla_rule_id:
        return taxonomy.rules.get(category.sla_rule_id) or category.sla_rule
    return taxonomy.default_rule or BUILTIN_1231


def compute_deadlines(received_at: dt.datetime, rule: SlaRule, cal: WorkCalendar) -> Deadlines:
    """Day 1 is the receipt date if it is a working day, else the next working day."""
    received = timezone.localtime(received_at).date()
    if rule.resolve_months:
        resolve = cal.next_workday(add_months(received, rule.resolve_months))
    else:
        resolve = cal.nth_workday(received, max(rule.resolve_workdays, 1))
    return Deadlines(
        dispatch=cal.nth_workday(received, rule.dispatch_days),
        contact=cal.nth_workday(received, rule.contact_days),
        path=cal.nth_workday(received, rule.path_days),
        resolve=resolve,
    )


def current_stage(demand) -> str:
    """The first 1231 stage the demand has not yet completed, or "" when no clock runs."""
    if demand.state not in OPEN_STATES:
        return ""
    if demand.state in (State.RECEIVED, State.RETURNED):
        return Stage.DISPATCH
    if demand.state == State.REOPENED:
        return Stage.RESOLVE
    if demand.contacted_at is None:
        return Stage.CONTACT
    if demand.path_at is None:
        return Stage.PATH
    return Stage.RESOLVE


def refresh_deadlines(demand, cal: WorkCalendar, rule: SlaRule) -> None:
    """Recompute the stored deadline columns of `demand` in place."""
    base = compute_deadlines(demand.received_at, rule, cal)
    demand.dispatch_due, demand.contact_due, demand.path_due = base.dispatch, base.contact, base.path
    if demand.reopened_at is not None:
        resolve = cal.nth_workday(timezone.localtime(demand.reopened_at).date(), rule.redo_days)
    else:
        resolve = base.resolve
    demand.resolve_due = cal.add_workdays(resolve, demand.extension_days)
    _shift_for_pauses(demand, cal)
    demand.current_stage = current_stage(demand)
    demand.next_due = demand.due_for(demand.current_stage) if demand.current_stage and not demand.paused_since else None
    demand.due_order = demand.next_due or dt.date.max


def _shift_for_pauses(demand, cal: WorkCalendar) -> None:
    """Move the stages that were still to be met when a pause (挂起) began by the working days it lasted
    (qinqing.handoffs). The resolution shift belongs to the handling round it was earned in: a reopening
    starts a fresh resolution clock, as it drops approved extensions."""
    shift = demand.pause_shift or {}
    for stage in ("contact", "path"):
        if shift.get(stage):
            setattr(demand, f"{stage}_due", cal.add_workdays(getattr(demand, f"{stage}_due"), shift[stage]))
    if shift.get("resolve") and shift.get("round", 0) == demand.reopen_count:
        demand.resolve_due = cal.add_workdays(demand.resolve_due, shift["resolve"])


DEADLINE_FIELDS = ["dispatch_due", "contact_due", "path_due", "resolve_due", "current_stage", "next_due",
                   "due_order"]
