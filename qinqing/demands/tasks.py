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
