"""The public figures are rebuilt by the worker every half hour (one GROUP BY over six months of demands)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import services


@db_periodic_task(crontab(minute="5,35"))
def rebuild_public_figures() -> int:
    return services.rebuild_public_figures()
