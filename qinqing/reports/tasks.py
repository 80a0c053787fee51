"""Scheduled statistics work: keep the rollup fresh, and issue the circulars on their days."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from qinqing.lib import clock

from . import rollup, services
from .models import CircularKind


@db_periodic_task(crontab(minute="*"))
def refresh_rollup() -> int:
    """Every minute: re-aggregate the buckets whose demands changed (one indexed MAX(id) when nothing did)."""
    return rollup.refresh()


@db_periodic_task(crontab(hour="2", minute="40"))
def rebuild_rollup() -> int:
    """Nightly: recompute every bucket, the safety net under the incremental refresh."""
    return rollup.rebuild()


@db_periodic_task(crontab(day_of_week="1", hour="6", minute="0"))
def weekly_circulars() -> list[int]:
    """Mondays: last week's summary for every district."""
    return services.issue_scheduled(CircularKind.WEEKLY, clock.today())


@db_periodic_task(crontab(day="1,16", hour="6", minute="10"))
def half_monthly_circulars() -> list[int]:
    """On the 1st and the 16th: the half month just ended."""
    return services.issue_scheduled(CircularKind.HALF_MONTHLY, clock.today())


@db_periodic_task(crontab(day="1", hour="6", minute="20"))
def monthly_circulars() -> list[int]:
    """On the 1st: last month's overdue circular."""
    return services.issue_scheduled(CircularKind.MONTHLY, clock.today())
