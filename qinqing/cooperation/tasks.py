"""Background jobs of the cooperation app."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*/10"))
def sweep_co_units() -> int:
    """Every ten minutes, like the lead units' sweep: urge the co-units whose opinion is overdue. Idempotent."""
    from .services import urge_co_units

    return urge_co_units()
