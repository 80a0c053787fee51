"""The worker's hot-issue jobs: every night for every district, and one month on a leader's request."""

import datetime as dt

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task


@db_periodic_task(crontab(hour="3", minute="10"))
@lock_task("qinqing-hotissues")
def compute_hot_issues_nightly() -> int:
    """Every night: this month so far for every district (and last month in the month's first days)."""
    from . import services

    return services.compute_all()


@db_task()
@lock_task("qinqing-hotissues")
def recompute_hot_issues(jurisdiction_id: int, month: str) -> int:
    """重新计算 (queued after the request's commit): one month of one jurisdiction."""
    from qinqing.accounts.models import Jurisdiction

    from . import services

    start, end = services.month_of(dt.date.fromisoformat(month))
    return len(services.compute_hot_issues(Jurisdiction.objects.get(pk=jurisdiction_id), start, end))
