"""Background jobs of the demand loop. Jobs receive ids and are queued after commit."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from qinqing.notifications.services import notify_for_event, notify_sweep


@db_task()
def deliver_event(event_id: int) -> int:
    return notify_for_event(event_id)


@db_task()
def deliver_sweep(sweep: str) -> int:
    return notify_sweep(sweep)


@db_periodic_task(crontab(minute="*/10"))
def sweep_overdue() -> int:
    """Every ten minutes: urge what became overdue. Idempotent, so a missed run costs nothing."""
    from .services import urge_overdue

    return urge_overdue()


@db_task()
def move_deadlines_for_calendar(days: list[str]) -> int:
    """Move the open demands' deadlines after a change of these calendar days (ISO dates).

    Queued when a change touches too many demands to move inline, and once more a few minutes after
    any change: a web process may have recomputed a deadline with its cached calendar from before the
    change. Reads the calendar from the database, one transaction per chunk; idempotent.
    """
    import datetime as dt

    from qinqing.workdays.calendar import load_calendar
    from qinqing.workdays.recompute import move_deadlines

    return move_deadlines([dt.date.fromisoformat(d) for d in days], load_calendar(), own_transactions=True)
