"""Background jobs of the accounts app."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="17"))
def forget_expired_idempotency_keys() -> int:
    """Hourly: drop the API's idempotency keys older than a day (qinqing.api.idempotency)."""
    from qinqing.api.idempotency import forget_expired

    return forget_expired()
